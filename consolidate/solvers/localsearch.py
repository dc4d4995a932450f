"""Local search at a fixed host count (numba kernel).

With the number of hosts fixed (at the lower bound first), the search minimises the total
overflow: for each host, the CPU load above capacity summed over the checked steps (as a
share of the capacity) plus the memory above capacity (as a share of it). A plan without
overflow on the checked steps is then tested on the full series.

VMs not yet placed are inserted, largest first, where they add the least overflow. Then a
tabu search repeatedly takes a host that overflows and applies the best move of one of its
VMs to another host, or swap of one of its VMs with a random VM elsewhere, even when that
worsens the total; a moved VM may not return to the host it left for a few iterations,
unless that gives the best total so far (refs [1], [2]).

Constraint generation over the steps: the search checks a subset of the time steps (those
of highest total demand first), kept as compact columns so that the hot loops read
contiguous memory. When no host overflows on the subset, the full-resolution loads (kept
up to date for every step) are scanned, and the worst step of each host over capacity joins
the subset; the search goes on until the full series fits or the budget ends.

The budget is counted in work (step evaluations), so a seed fixes the result on any machine;
a wall-clock deadline, checked every few iterations, is a safety cap only.

References
----------
.. [1] F. Glover, "Tabu Search — Part I", ORSA Journal on Computing 1(3) (1989) 190–206.
.. [2] M. Buljubašić, M. Vasquez, "Consistent neighborhood search for one-dimensional bin
   packing and two-dimensional vector packing", Computers & Operations Research 76 (2016) 12–21.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from consolidate.jit import njit
from consolidate.ranking import lowest
from consolidate.solvers import clock

#: Random swaps tried per VM of the chosen host in each iteration.
SWAPS_PER_VM = 4
#: Destination hosts sampled per iteration when there are more hosts than this.
HOST_SAMPLE = 48
#: VMs of the chosen host whose moves are tried: those whose leaving relieves it most.
MOVERS = 8
#: Fixed cost of evaluating one move, in step evaluations, for the work budget.
EVAL_OVERHEAD = 48
#: Iterations between two looks at the wall clock.
CLOCK_EVERY = 64

# The kernels local_search calls have their signature, so that numba compiles each once rather
# than again for the literal -1 or 0, or the int32 index, of some call site.
#: Per-host arrays of the checked columns: load (hosts x columns), memory, weights, memory weights.
_LOADS = "float64[:, ::1], float64[::1], float64[:, ::1], float64[::1]"


@njit("(float64[::1], float64[::1], int64, float64, float64, float64, float64)")
def overflow_of(load_row, weight_row, n_steps, load_gb, weight_gb, cpu_cap, mem_cap):
    """Weighted overflow of one host on its first ``n_steps`` (checked) columns.

    CPU above capacity / cap, each step times its weight, plus memory above / mem cap times
    its weight.
    """
    s = 0.0
    for k in range(n_steps):
        v = load_row[k] - cpu_cap
        if v > 0.0:
            s += weight_row[k] * v
    s /= cpu_cap
    if load_gb > mem_cap:
        s += weight_gb * (load_gb - mem_cap) / mem_cap
    return s


@njit("(float64[::1], int64)")
def peak_on(row, n_steps):
    """Largest of ``row[:n_steps]``."""
    best = -np.inf
    for k in range(n_steps):
        if row[k] > best:
            best = row[k]
    return best


@njit(f"(float32[:, ::1], float64[::1], int64, int64, {_LOADS}, float64[::1], float64[::1], int64, float64, float64, float64)")
def add_cost(sub_ghz, mem_gb, i, g, load, load_gb, weight, weight_gb, host_peak, item_peak, n_steps, cpu_cap, mem_cap, stop_at):
    """Weighted overflow VM ``i`` adds to host ``g`` on the checked columns.

    ``sub_ghz`` (VMs x columns) and ``load`` (hosts x columns) hold the checked steps. Gives
    up, returning a value above ``stop_at``, as soon as the sum passes it.
    """
    s = 0.0
    gb = load_gb[g] + mem_gb[i]
    if gb > mem_cap:
        s += weight_gb[g] * (gb - max(load_gb[g], mem_cap)) / mem_cap
    if host_peak[g] + item_peak[i] <= cpu_cap:
        return s
    acc = 0.0
    limit = (stop_at - s) * cpu_cap
    row = load[g]
    item = sub_ghz[i]
    w = weight[g]
    for k in range(n_steps):
        after = row[k] + item[k]
        if after > cpu_cap:
            acc += w[k] * (after - max(row[k], cpu_cap))
            if acc > limit:
                break
    return s + acc / cpu_cap


@njit(f"(float32[:, ::1], float64[::1], int64, int64, int64, {_LOADS}, int64, float64, float64)")
def exchange_over(sub_ghz, mem_gb, out_i, in_j, h, load, load_gb, weight, weight_gb, n_steps, cpu_cap, mem_cap):
    """Weighted overflow of host ``h`` on the checked columns after VM ``out_i`` leaves and ``in_j`` joins.

    ``in_j`` = -1 means no VM joins.
    """
    s = 0.0
    row = load[h]
    out = sub_ghz[out_i]
    w = weight[h]
    if in_j >= 0:
        into = sub_ghz[in_j]
        for k in range(n_steps):
            v = row[k] - out[k] + into[k] - cpu_cap
            if v > 0.0:
                s += w[k] * v
    else:
        for k in range(n_steps):
            v = row[k] - out[k] - cpu_cap
            if v > 0.0:
                s += w[k] * v
    s /= cpu_cap
    gb = load_gb[h] - mem_gb[out_i]
    if in_j >= 0:
        gb += mem_gb[in_j]
    if gb > mem_cap:
        s += weight_gb[h] * (gb - mem_cap) / mem_cap
    return s


@njit(f"(int64, {_LOADS}, float64[::1], float64[::1], float64[::1], float64[::1], int64, float64, float64)")
def _refresh(h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap):
    """Recompute host ``h``'s peak, weighted overflow and unweighted overflow on the checked columns."""
    host_peak[h] = peak_on(load[h], n_steps)
    over[h] = overflow_of(load[h], weight[h], n_steps, load_gb[h], weight_gb[h], cpu_cap, mem_cap)
    raw[h] = overflow_of(load[h], ones, n_steps, load_gb[h], 1.0, cpu_cap, mem_cap)


@njit("(float32[:, ::1], float64[::1], int64, int64, int64, float64[:, ::1], float64[::1], int64)")
def move_checked(sub_ghz, mem_gb, i, src, dst, load, load_gb, n_steps):
    """VM ``i``'s checked columns and memory from host ``src`` to ``dst`` (-1: nowhere)."""
    for k in range(n_steps):
        if src >= 0:
            load[src, k] -= sub_ghz[i, k]
        if dst >= 0:
            load[dst, k] += sub_ghz[i, k]
    if src >= 0:
        load_gb[src] -= mem_gb[i]
    if dst >= 0:
        load_gb[dst] += mem_gb[i]


@njit("(float32[:, ::1], float32[:, ::1], float64[::1], int64, int64, int64, float64[:, ::1], float64[:, ::1], float64[::1], int64)")
def _shift(cpu_ghz, sub_ghz, mem_gb, i, src, dst, load_ghz, load, load_gb, n_steps):
    """Move VM ``i``'s demand from host ``src`` to host ``dst`` (-1: nowhere) in every load."""
    for t in range(cpu_ghz.shape[1]):
        if src >= 0:
            load_ghz[src, t] -= cpu_ghz[i, t]
        if dst >= 0:
            load_ghz[dst, t] += cpu_ghz[i, t]
    move_checked(sub_ghz, mem_gb, i, src, dst, load, load_gb, n_steps)


@njit("(int64, int64, int64, int32[::1], int32[:, ::1], int64[::1], int64[::1])")
def _relist(i, src, dst, assignment, members, count, slot):
    """Membership lists: VM ``i`` leaves ``src`` (-1: none; its last VM fills the hole), joins ``dst``."""
    if src >= 0:
        last = members[src, count[src] - 1]
        members[src, slot[i]] = last
        slot[last] = slot[i]
        count[src] -= 1
    members[dst, count[dst]] = i
    slot[i] = count[dst]
    count[dst] += 1
    assignment[i] = dst


@njit("(float64[:, ::1], float64, boolean[::1])")
def _violated_steps(load_ghz, cpu_cap, in_set):
    """Each host's worst step over capacity that is not checked yet (distinct, int64)."""
    n_hosts, n_all = load_ghz.shape
    found = np.empty(n_hosts, dtype=np.int64)
    n_found = 0
    for h in range(n_hosts):
        worst = -1
        top = cpu_cap
        for t in range(n_all):
            if load_ghz[h, t] > top:
                top = load_ghz[h, t]
                worst = t
        if worst >= 0 and not in_set[worst]:
            in_set[worst] = True
            found[n_found] = worst
            n_found += 1
    return found[:n_found]


@njit(["(float32[:, ::1], int64)", "(float64[:, ::1], int64)"])
def _grow_columns(a, n_cols):
    """``a`` with room for at least ``n_cols`` columns (doubling), contents kept."""
    rows, cols = a.shape
    if cols >= n_cols:
        return a
    out = np.empty((rows, max(n_cols, 2 * cols)), dtype=a.dtype)
    # Element loops: an array-to-array slice assignment costs seconds of compilation.
    for r in range(rows):
        for c in range(cols):
            out[r, c] = a[r, c]
    return out


@njit
def checked_steps(cpu_ghz, initial_steps):
    """The steps a search checks first, ``initial_steps`` each once: a mask over the series, the
    steps in order (room for all) and their count, and the VMs' demand at them (float32 (VMs,
    room): room for twice as many, as constraint generation adds steps)."""
    n, n_all = cpu_ghz.shape
    in_set = np.zeros(n_all, dtype=np.bool_)
    steps = np.empty(n_all, dtype=np.int64)
    n_steps = 0
    for t in initial_steps:
        if not in_set[t]:
            in_set[t] = True
            steps[n_steps] = t
            n_steps += 1
    sub_ghz = np.empty((n, max(2 * n_steps, 16)), dtype=np.float32)
    for i in range(n):
        for k in range(n_steps):
            sub_ghz[i, k] = cpu_ghz[i, steps[k]]
    return in_set, steps, n_steps, sub_ghz


@njit("()")
def _now():
    with nb.objmode(now="float64"):
        now = clock.now()
    return now


@njit
def local_search(cpu_ghz, mem_gb, assignment0, order, n_hosts, cpu_cap, mem_cap, initial_steps, seed, max_work, deadline):
    """Look for a plan on ``n_hosts`` hosts with no overflow at any step, by tabu search.

    Parameters
    ----------
    cpu_ghz : float32 (n, T) CPU demand (GHz), the full series.
    mem_gb : float64 (n,) memory (GB).
    assignment0 : int32 (n,) starting hosts (< n_hosts); VMs at -1 are inserted first.
    order : int64 insertion order of the unplaced VMs (the others in it are skipped).
    n_hosts : hosts available.
    cpu_cap, mem_cap : effective capacities (GHz, GB).
    initial_steps : int64 steps checked from the start (constraint generation adds more).
    seed : seed of the random choices.
    max_work : budget in step evaluations (VM-host pairs tried x (checked steps +
        ``EVAL_OVERHEAD``)), a machine-independent measure of the search's effort.
    deadline : :func:`consolidate.solvers.clock.now` value after which the search stops (safety cap).

    Returns
    -------
    (assignment, feasible, work, steps): the last plan (feasible on the full series when
    ``feasible``), else the plan of least overflow seen; the work spent; the checked steps.
    """
    np.random.seed(seed)
    n, n_all = cpu_ghz.shape
    in_set, steps, n_steps, sub_ghz = checked_steps(cpu_ghz, initial_steps)
    room = sub_ghz.shape[1]

    load_ghz = np.zeros((n_hosts, n_all))
    load = np.zeros((n_hosts, room))
    load_gb = np.zeros(n_hosts)
    weight = np.ones((n_hosts, room))
    weight_gb = np.ones(n_hosts)
    ones = np.ones(room)
    members = np.empty((n_hosts, max(n, 1)), dtype=np.int32)
    count = np.zeros(n_hosts, dtype=np.int64)
    slot = np.zeros(n, dtype=np.int64)
    assignment = np.full(n, -1, dtype=np.int32)
    for i in range(n):
        h = assignment0[i]
        if h >= 0:
            _shift(cpu_ghz, sub_ghz, mem_gb, i, -1, h, load_ghz, load, load_gb, n_steps)
            _relist(i, -1, h, assignment, members, count, slot)
    item_peak = np.empty(n)
    for i in range(n):
        top = -np.inf
        for k in range(n_steps):
            if sub_ghz[i, k] > top:
                top = sub_ghz[i, k]
        item_peak[i] = top
    host_peak = np.empty(n_hosts)
    over = np.zeros(n_hosts)
    raw = np.zeros(n_hosts)
    for h in range(n_hosts):
        _refresh(h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)

    # Insertion: least added overflow, ties to the host left with the lowest peak and memory.
    work = 0.0
    for i in order:
        if assignment[i] >= 0:
            continue
        work += n_hosts * (n_steps + EVAL_OVERHEAD)
        best_h = 0
        best_cost = np.inf
        best_tie = np.inf
        for g in range(n_hosts):
            cost = add_cost(sub_ghz, mem_gb, i, g, load, load_gb, weight, weight_gb, host_peak, item_peak, n_steps, cpu_cap, mem_cap, best_cost)
            tie = (host_peak[g] + item_peak[i]) / cpu_cap + (load_gb[g] + mem_gb[i]) / mem_cap
            if cost < best_cost or (cost == best_cost and tie < best_tie):
                best_cost = cost
                best_tie = tie
                best_h = g
        _shift(cpu_ghz, sub_ghz, mem_gb, i, -1, best_h, load_ghz, load, load_gb, n_steps)
        _relist(i, -1, best_h, assignment, members, count, slot)
        _refresh(best_h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)

    best_raw = raw.sum()
    best_assignment = assignment.copy()
    tabu_host = np.full(n, -1, dtype=np.int64)
    tabu_until = np.zeros(n, dtype=np.int64)
    hot = np.empty(n_hosts, dtype=np.int64)
    hosts = np.empty(n_hosts, dtype=np.int64)
    for g in range(n_hosts):
        hosts[g] = g
    n_sample = min(n_hosts, HOST_SAMPLE)

    it = 0
    while True:
        if raw.sum() <= 0.0:
            # Feasible on the checked steps: test the full series, add the steps that bind.
            fresh = _violated_steps(load_ghz, cpu_cap, in_set)
            if fresh.size == 0:
                return assignment, True, work, steps[:n_steps].copy()
            new_n = n_steps + fresh.size
            if new_n > sub_ghz.shape[1]:
                sub_ghz = _grow_columns(sub_ghz, new_n)
                load = _grow_columns(load, new_n)
                weight = _grow_columns(weight, new_n)
                ones = np.ones(sub_ghz.shape[1])
            for q in range(fresh.size):
                t = fresh[q]
                k = n_steps + q
                steps[k] = t
                for i in range(n):
                    v = cpu_ghz[i, t]
                    sub_ghz[i, k] = v
                    if v > item_peak[i]:
                        item_peak[i] = v
                for h in range(n_hosts):
                    load[h, k] = load_ghz[h, t]
                    weight[h, k] = 1.0
            n_steps = new_n
            for h in range(n_hosts):
                _refresh(h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)
            best_raw = raw.sum()
            best_assignment = assignment.copy()
        if work >= max_work:
            break
        if it % CLOCK_EVERY == 0 and _now() > deadline:
            break
        it += 1
        n_hot = 0
        for h in range(n_hosts):
            if raw[h] > 0.0:
                hot[n_hot] = h
                n_hot += 1
        h = hot[np.random.randint(n_hot)]
        # Rank the host's VMs by the overflow their leaving removes; try the best few.
        n_members = count[h]
        gains = np.empty(n_members)
        for q in range(n_members):
            gains[q] = exchange_over(sub_ghz, mem_gb, members[h, q], -1, h, load, load_gb, weight, weight_gb, n_steps, cpu_cap, mem_cap)
        ranked = lowest(gains, MOVERS)
        n_movers = ranked.size
        movers = np.empty(n_movers, dtype=np.int64)
        mover_gain = np.empty(n_movers)
        for q in range(n_movers):
            movers[q] = members[h, ranked[q]]
            mover_gain[q] = gains[ranked[q]] - over[h]
        # Each evaluation also costs a fixed overhead (about EVAL_OVERHEAD steps' worth), which
        # dominates on short series (T = 1 for peak sizing); a move rewrites the full series.
        evaluations = n_members + n_movers * (n_sample + 2 * SWAPS_PER_VM)
        work += float(evaluations) * (n_steps + EVAL_OVERHEAD) + n_hosts + 2 * n_all
        # Destination hosts: all, or a random sample (partial Fisher-Yates shuffle).
        for q in range(n_sample):
            r = q + np.random.randint(n_hosts - q)
            hosts[q], hosts[r] = hosts[r], hosts[q]
        best_delta = np.inf
        best_tie = np.inf
        move_i = -1
        move_g = -1
        swap_j = -1
        for q in range(n_movers):
            i = movers[q]
            gain = mover_gain[q]
            for r in range(n_sample):
                g = hosts[r]
                if g == h or (tabu_host[i] == g and tabu_until[i] > it):
                    continue
                add = add_cost(
                    sub_ghz, mem_gb, i, g, load, load_gb, weight, weight_gb, host_peak, item_peak, n_steps, cpu_cap,
                    mem_cap, best_delta - gain + 1e-12,
                )
                delta = gain + add
                tie = (host_peak[g] + item_peak[i]) / cpu_cap
                if delta < best_delta or (delta == best_delta and tie < best_tie):
                    best_delta = delta
                    best_tie = tie
                    move_i = i
                    move_g = g
                    swap_j = -1
            for _ in range(SWAPS_PER_VM):
                j = np.random.randint(n)
                g = assignment[j]
                if g == h or (tabu_host[i] == g and tabu_until[i] > it) or (tabu_host[j] == h and tabu_until[j] > it):
                    continue
                delta = (
                    exchange_over(sub_ghz, mem_gb, i, j, h, load, load_gb, weight, weight_gb, n_steps, cpu_cap, mem_cap)
                    + exchange_over(sub_ghz, mem_gb, j, i, g, load, load_gb, weight, weight_gb, n_steps, cpu_cap, mem_cap)
                    - over[h]
                    - over[g]
                )
                if delta < best_delta:
                    best_delta = delta
                    best_tie = np.inf
                    move_i = i
                    move_g = g
                    swap_j = j
        if move_i < 0 or best_delta >= 0.0:
            # A local minimum of the weighted overflow: make this host's violations dearer
            # (breakout), so that the search moves on instead of cycling.
            for k in range(n_steps):
                if load[h, k] > cpu_cap:
                    weight[h, k] += 1.0
            if load_gb[h] > mem_cap:
                weight_gb[h] += 1.0
            _refresh(h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)
            if move_i < 0:
                continue
        tenure = 5 + np.random.randint(10)
        tabu_host[move_i] = h
        tabu_until[move_i] = it + tenure
        _shift(cpu_ghz, sub_ghz, mem_gb, move_i, h, move_g, load_ghz, load, load_gb, n_steps)
        _relist(move_i, h, move_g, assignment, members, count, slot)
        if swap_j >= 0:
            tabu_host[swap_j] = move_g
            tabu_until[swap_j] = it + tenure
            _shift(cpu_ghz, sub_ghz, mem_gb, swap_j, move_g, h, load_ghz, load, load_gb, n_steps)
            _relist(swap_j, move_g, h, assignment, members, count, slot)
        _refresh(h, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)
        _refresh(move_g, load, load_gb, weight, weight_gb, ones, host_peak, over, raw, n_steps, cpu_cap, mem_cap)
        total_raw = raw.sum()
        if total_raw < best_raw:
            best_raw = total_raw
            best_assignment = assignment.copy()
    return best_assignment, False, work, steps[:n_steps].copy()
