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
of highest total demand first). When no host overflows on the subset, the full-resolution
loads (kept up to date for every step) are scanned, and the worst step of each host over
capacity joins the subset; the search goes on until the full series fits or the budget ends.

The budget is counted in iterations, so a seed fixes the result; a wall-clock deadline,
checked every few iterations, is a safety cap only.

References
----------
.. [1] F. Glover, "Tabu Search — Part I", ORSA Journal on Computing 1(3) (1989) 190–206.
.. [2] M. Buljubašić, M. Vasquez, "Consistent neighborhood search for one-dimensional bin
   packing and two-dimensional vector packing", Computers & Operations Research 76 (2016) 12–21.
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np

#: Random swaps tried per VM of the chosen host in each iteration.
SWAPS_PER_VM = 4
#: Destination hosts sampled per iteration when there are more hosts than this.
HOST_SAMPLE = 48
#: Iterations between two looks at the wall clock.
CLOCK_EVERY = 64


@nb.njit(cache=True)
def overflow_of(load_row, steps, n_steps, load_gb, cpu_cap, mem_cap):
    """Overflow of one host on ``steps[:n_steps]``: CPU above capacity / cap + memory above / mem cap."""
    s = 0.0
    for k in range(n_steps):
        v = load_row[steps[k]] - cpu_cap
        if v > 0.0:
            s += v
    s /= cpu_cap
    if load_gb > mem_cap:
        s += (load_gb - mem_cap) / mem_cap
    return s


@nb.njit(cache=True)
def peak_on(row, steps, n_steps):
    """Largest ``row[t]`` over ``t`` in ``steps[:n_steps]``."""
    best = -np.inf
    for k in range(n_steps):
        v = row[steps[k]]
        if v > best:
            best = v
    return best


@nb.njit(cache=True)
def add_cost(cpu_ghz, mem_gb, i, g, load_ghz, load_gb, host_peak, item_peak, steps, n_steps, cpu_cap, mem_cap, stop_at):
    """Overflow VM ``i`` adds to host ``g`` on the checked steps.

    Gives up, returning a value above ``stop_at``, as soon as the sum passes it.
    """
    s = 0.0
    gb = load_gb[g] + mem_gb[i]
    if gb > mem_cap:
        s += (gb - max(load_gb[g], mem_cap)) / mem_cap
    if host_peak[g] + item_peak[i] <= cpu_cap:
        return s
    acc = 0.0
    limit = (stop_at - s) * cpu_cap
    for k in range(n_steps):
        t = steps[k]
        before = load_ghz[g, t]
        after = before + cpu_ghz[i, t]
        if after > cpu_cap:
            acc += after - max(before, cpu_cap)
            if acc > limit:
                break
    return s + acc / cpu_cap


@nb.njit(cache=True)
def exchange_over(cpu_ghz, mem_gb, out_i, in_j, h, load_ghz, load_gb, steps, n_steps, cpu_cap, mem_cap):
    """Overflow of host ``h`` on the checked steps after VM ``out_i`` leaves and VM ``in_j`` joins.

    ``in_j`` = -1 means no VM joins.
    """
    s = 0.0
    for k in range(n_steps):
        t = steps[k]
        v = load_ghz[h, t] - cpu_ghz[out_i, t] - cpu_cap
        if in_j >= 0:
            v += cpu_ghz[in_j, t]
        if v > 0.0:
            s += v
    s /= cpu_cap
    gb = load_gb[h] - mem_gb[out_i]
    if in_j >= 0:
        gb += mem_gb[in_j]
    if gb > mem_cap:
        s += (gb - mem_cap) / mem_cap
    return s


@nb.njit(cache=True)
def _refresh(h, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap):
    host_peak[h] = peak_on(load_ghz[h], steps, n_steps)
    over[h] = overflow_of(load_ghz[h], steps, n_steps, load_gb[h], cpu_cap, mem_cap)


@nb.njit(cache=True)
def _move(cpu_ghz, mem_gb, i, src, dst, load_ghz, load_gb, assignment, members, count, slot):
    for t in range(cpu_ghz.shape[1]):
        load_ghz[src, t] -= cpu_ghz[i, t]
        load_ghz[dst, t] += cpu_ghz[i, t]
    load_gb[src] -= mem_gb[i]
    load_gb[dst] += mem_gb[i]
    # Membership lists: the source's last VM fills the hole.
    last = members[src, count[src] - 1]
    members[src, slot[i]] = last
    slot[last] = slot[i]
    count[src] -= 1
    members[dst, count[dst]] = i
    slot[i] = count[dst]
    count[dst] += 1
    assignment[i] = dst


@nb.njit(cache=True)
def _join(cpu_ghz, mem_gb, i, h, load_ghz, load_gb, assignment, members, count, slot):
    for t in range(cpu_ghz.shape[1]):
        load_ghz[h, t] += cpu_ghz[i, t]
    load_gb[h] += mem_gb[i]
    members[h, count[h]] = i
    slot[i] = count[h]
    count[h] += 1
    assignment[i] = h


@nb.njit(cache=True)
def _add_violated_steps(load_ghz, cpu_cap, steps, n_steps, in_set):
    """Add each host's worst step over capacity to the checked set; returns the new size."""
    n_hosts, n_all = load_ghz.shape
    for h in range(n_hosts):
        worst = -1
        top = cpu_cap
        for t in range(n_all):
            if load_ghz[h, t] > top:
                top = load_ghz[h, t]
                worst = t
        if worst >= 0 and not in_set[worst]:
            in_set[worst] = True
            steps[n_steps] = worst
            n_steps += 1
    return n_steps


@nb.njit(cache=True)
def _now():
    with nb.objmode(now="float64"):
        now = time.perf_counter()
    return now


@nb.njit(cache=True)
def local_search(cpu_ghz, mem_gb, assignment0, order, n_hosts, cpu_cap, mem_cap, initial_steps, seed, max_iters, deadline):
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
    max_iters : iteration budget.
    deadline : ``time.perf_counter()`` value after which the search stops (safety cap).

    Returns
    -------
    (assignment, feasible, iterations, steps): the last plan (feasible on the full series when
    ``feasible``), else the plan of least overflow seen; the iterations used; the checked steps.
    """
    np.random.seed(seed)
    n, n_all = cpu_ghz.shape
    steps = np.empty(n_all, dtype=np.int64)
    in_set = np.zeros(n_all, dtype=np.bool_)
    n_steps = 0
    for t in initial_steps:
        if not in_set[t]:
            in_set[t] = True
            steps[n_steps] = t
            n_steps += 1

    load_ghz = np.zeros((n_hosts, n_all))
    load_gb = np.zeros(n_hosts)
    members = np.empty((n_hosts, max(n, 1)), dtype=np.int32)
    count = np.zeros(n_hosts, dtype=np.int64)
    slot = np.zeros(n, dtype=np.int64)
    assignment = assignment0.copy()
    for i in range(n):
        if assignment[i] >= 0:
            _join(cpu_ghz, mem_gb, i, assignment[i], load_ghz, load_gb, assignment, members, count, slot)
    item_peak = np.empty(n)
    for i in range(n):
        item_peak[i] = peak_on(cpu_ghz[i], steps, n_steps)
    host_peak = np.empty(n_hosts)
    over = np.zeros(n_hosts)
    for h in range(n_hosts):
        _refresh(h, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap)

    # Insertion: least added overflow, ties to the host left with the lowest peak and memory.
    for i in order:
        if assignment[i] >= 0:
            continue
        best_h = 0
        best_cost = np.inf
        best_tie = np.inf
        for g in range(n_hosts):
            cost = add_cost(cpu_ghz, mem_gb, i, g, load_ghz, load_gb, host_peak, item_peak, steps, n_steps, cpu_cap, mem_cap, best_cost)
            tie = (host_peak[g] + item_peak[i]) / cpu_cap + (load_gb[g] + mem_gb[i]) / mem_cap
            if cost < best_cost or (cost == best_cost and tie < best_tie):
                best_cost = cost
                best_tie = tie
                best_h = g
        _join(cpu_ghz, mem_gb, i, best_h, load_ghz, load_gb, assignment, members, count, slot)
        _refresh(best_h, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap)

    total = over.sum()
    best_total = total
    best_assignment = assignment.copy()
    tabu_host = np.full(n, -1, dtype=np.int64)
    tabu_until = np.zeros(n, dtype=np.int64)
    hot = np.empty(n_hosts, dtype=np.int64)
    hosts = np.arange(n_hosts)
    n_sample = min(n_hosts, HOST_SAMPLE)

    it = 0
    while True:
        if total <= 0.0:
            # Feasible on the checked steps: test the full series, add the steps that bind.
            before = n_steps
            n_steps = _add_violated_steps(load_ghz, cpu_cap, steps, n_steps, in_set)
            if n_steps == before:
                return assignment, True, it, steps[:n_steps].copy()
            for k in range(before, n_steps):
                t = steps[k]
                for i in range(n):
                    if cpu_ghz[i, t] > item_peak[i]:
                        item_peak[i] = cpu_ghz[i, t]
            for h in range(n_hosts):
                _refresh(h, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap)
            total = over.sum()
            best_total = total
            best_assignment[:] = assignment
        if it >= max_iters:
            break
        if it % CLOCK_EVERY == 0 and _now() > deadline:
            break
        it += 1
        n_hot = 0
        for h in range(n_hosts):
            if over[h] > 0.0:
                hot[n_hot] = h
                n_hot += 1
        h = hot[np.random.randint(n_hot)]
        # Destination hosts: all, or a random sample (partial Fisher-Yates shuffle).
        for s in range(n_sample):
            r = s + np.random.randint(n_hosts - s)
            hosts[s], hosts[r] = hosts[r], hosts[s]
        best_delta = np.inf
        best_tie = np.inf
        move_i = -1
        move_g = -1
        swap_j = -1
        for s in range(count[h]):
            i = members[h, s]
            gain = exchange_over(cpu_ghz, mem_gb, i, -1, h, load_ghz, load_gb, steps, n_steps, cpu_cap, mem_cap) - over[h]
            for q in range(n_sample):
                g = hosts[q]
                if g == h:
                    continue
                tabu = tabu_host[i] == g and tabu_until[i] > it
                stop = (min(best_delta, best_total - total) if tabu else best_delta) - gain
                add = add_cost(cpu_ghz, mem_gb, i, g, load_ghz, load_gb, host_peak, item_peak, steps, n_steps, cpu_cap, mem_cap, stop + 1e-12)
                delta = gain + add
                if tabu and total + delta >= best_total:
                    continue
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
                if g == h:
                    continue
                tabu = (tabu_host[i] == g and tabu_until[i] > it) or (tabu_host[j] == h and tabu_until[j] > it)
                delta = (
                    exchange_over(cpu_ghz, mem_gb, i, j, h, load_ghz, load_gb, steps, n_steps, cpu_cap, mem_cap)
                    + exchange_over(cpu_ghz, mem_gb, j, i, g, load_ghz, load_gb, steps, n_steps, cpu_cap, mem_cap)
                    - over[h]
                    - over[g]
                )
                if tabu and total + delta >= best_total:
                    continue
                if delta < best_delta:
                    best_delta = delta
                    best_tie = np.inf
                    move_i = i
                    move_g = g
                    swap_j = j
        if move_i < 0:
            continue
        tenure = 5 + np.random.randint(10)
        tabu_host[move_i] = h
        tabu_until[move_i] = it + tenure
        _move(cpu_ghz, mem_gb, move_i, h, move_g, load_ghz, load_gb, assignment, members, count, slot)
        if swap_j >= 0:
            tabu_host[swap_j] = move_g
            tabu_until[swap_j] = it + tenure
            _move(cpu_ghz, mem_gb, swap_j, move_g, h, load_ghz, load_gb, assignment, members, count, slot)
        _refresh(h, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap)
        _refresh(move_g, load_ghz, load_gb, host_peak, over, steps, n_steps, cpu_cap, mem_cap)
        total = over.sum()
        if total < best_total:
            best_total = total
            best_assignment[:] = assignment
    return best_assignment, False, it, steps[:n_steps].copy()
