"""Constructive packing heuristics for time-aware vector bin packing (numba kernels).

A VM is a vector: its CPU demand at each time step (GHz) and its memory (GB); a host holds a
set of VMs when, at every step, their CPU sum stays within the CPU capacity and their memory
sum within the memory capacity. Item-centric heuristics take the VMs in a sorted order and put
each one on the first (first-fit) or the fullest (best-fit) host that takes it; bin-centric
ones fill one host at a time with the VM that best matches the host's free space (dot product)
or leaves the least free space (L2 norm), ref [1].

Fit tests decide cheaply where they can: two peaks that sum within capacity always fit; then
the VM's own peak step and the host's peak step are checked before a scan over all steps that
stops at the first one over capacity.

All kernels take ``cpu_ghz`` float32 (n, T) C-contiguous, ``mem_gb`` (n,) float64, ``order``
(the VM visiting order, int64) and the effective capacities; they return an int32 assignment
(host index per VM, -1 for VMs the order leaves out). First-fit and best-fit share one kernel;
the kernels the packers call have their signature, so numba compiles each of them once.

References
----------
.. [1] R. Panigrahy, K. Talwar, L. Uyeda, U. Wieder, "Heuristics for Vector Bin Packing",
   Microsoft Research technical report, 2011.
"""

from __future__ import annotations

import numpy as np

from consolidate.jit import njit

#: A packer's host arrays: CPU load (hosts x steps), memory, peak and its step.
_HOSTS = "float64[:, ::1], float64[::1], float64[::1], int64[::1]"

SORT_KEYS = ("peak", "sum", "l2")


def sort_order(cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float, key: str) -> np.ndarray:
    """VM indices by decreasing size, int64.

    Sizes are normalised by capacity; ``peak`` is ``max(peak CPU, memory)``, ``sum`` is
    ``mean CPU + memory`` and ``l2`` is ``sqrt(mean of CPU squared + memory squared)``. Ties keep
    the input order (stable sort), so the order is deterministic.
    """
    peak, mean, mean_sq = row_stats(cpu_ghz)
    mem = np.asarray(mem_gb, dtype=np.float64) / mem_cap_gb
    if key == "peak":
        size = np.maximum(peak / cpu_cap_ghz, mem)
    elif key == "sum":
        size = mean / cpu_cap_ghz + mem
    elif key == "l2":
        size = np.sqrt(mean_sq / cpu_cap_ghz**2 + mem * mem)
    else:
        raise ValueError(f"unknown sort key {key!r}; use one of {SORT_KEYS}")
    return np.argsort(-size, kind="stable").astype(np.int64)


@njit
def row_stats(cpu_ghz):
    """Per VM: peak, mean and mean square of the demand (float64), without a float64 copy."""
    n, n_steps = cpu_ghz.shape
    peak = np.zeros(n)
    mean = np.zeros(n)
    mean_sq = np.zeros(n)
    for i in range(n):
        top = 0.0
        s = 0.0
        s2 = 0.0
        for t in range(n_steps):
            v = np.float64(cpu_ghz[i, t])
            top = max(top, v)
            s += v
            s2 += v * v
        peak[i] = top
        mean[i] = s / n_steps
        mean_sq[i] = s2 / n_steps
    return peak, mean, mean_sq


@njit("(float32[:, ::1],)")
def item_peaks(cpu_ghz: np.ndarray):
    """Peak demand (GHz, float64) and its step, per VM."""
    n, n_steps = cpu_ghz.shape
    peak = np.zeros(n)
    arg = np.zeros(n, dtype=np.int64)
    for i in range(n):
        best = -1.0
        for t in range(n_steps):
            if cpu_ghz[i, t] > best:
                best = cpu_ghz[i, t]
                arg[i] = t
        peak[i] = best
    return peak, arg


@njit(f"(float32[:, ::1], float64[::1], int64, int64, {_HOSTS}, float64[::1], int64[::1], float64, float64)")
def fits(cpu_ghz, mem_gb, i, h, load_ghz, load_gb, host_peak, host_arg, item_peak, item_arg, cpu_cap, mem_cap):
    """True when VM ``i`` fits on host ``h`` at every step and in memory."""
    if load_gb[h] + mem_gb[i] > mem_cap:
        return False
    if host_peak[h] + item_peak[i] <= cpu_cap:
        return True
    t = item_arg[i]
    if load_ghz[h, t] + cpu_ghz[i, t] > cpu_cap:
        return False
    t = host_arg[h]
    if load_ghz[h, t] + cpu_ghz[i, t] > cpu_cap:
        return False
    for t in range(cpu_ghz.shape[1]):
        if load_ghz[h, t] + cpu_ghz[i, t] > cpu_cap:
            return False
    return True


@njit(f"(float32[:, ::1], float64[::1], int64, int64, {_HOSTS})")
def place(cpu_ghz, mem_gb, i, h, load_ghz, load_gb, host_peak, host_arg):
    """Add VM ``i`` to host ``h`` and refresh the host's peak."""
    load_gb[h] += mem_gb[i]
    best = -1.0
    for t in range(cpu_ghz.shape[1]):
        v = load_ghz[h, t] + cpu_ghz[i, t]
        load_ghz[h, t] = v
        if v > best:
            best = v
            host_arg[h] = t
    host_peak[h] = best


@njit(f"({_HOSTS})")
def _grow(load_ghz, load_gb, host_peak, host_arg):
    """The host arrays with twice the rows, for a packer that opened more hosts than it had."""
    rows, n_steps = load_ghz.shape
    new_ghz = np.zeros((2 * rows, n_steps))
    new_gb = np.zeros(2 * rows)
    new_peak = np.zeros(2 * rows)
    new_arg = np.zeros(2 * rows, dtype=np.int64)
    # Element loops: an array-to-array slice assignment costs seconds of compilation.
    for h in range(rows):
        for t in range(n_steps):
            new_ghz[h, t] = load_ghz[h, t]
        new_gb[h] = load_gb[h]
        new_peak[h] = host_peak[h]
        new_arg[h] = host_arg[h]
    return new_ghz, new_gb, new_peak, new_arg


@njit
def decreasing_fit(cpu_ghz, mem_gb, order, cpu_cap, mem_cap, best):
    """Each VM in ``order`` on the lowest-numbered host that takes it (first-fit) or, with
    ``best``, on the host it leaves fullest (best-fit: mean CPU + memory, normalised)."""
    n, n_steps = cpu_ghz.shape
    item_peak, item_arg = item_peaks(cpu_ghz)
    load_ghz = np.zeros((16, n_steps))
    load_gb = np.zeros(16)
    host_peak = np.zeros(16)
    host_arg = np.zeros(16, dtype=np.int64)
    host_sum = np.zeros(n)
    item_sum = np.zeros(n)
    if best:
        for i in range(n):
            s = 0.0
            for t in range(n_steps):
                s += cpu_ghz[i, t]
            item_sum[i] = s
    assignment = np.full(n, -1, dtype=np.int32)
    n_hosts = 0
    for i in order:
        chosen = n_hosts
        top = -1.0
        for h in range(n_hosts):
            if best:
                fill = (host_sum[h] + item_sum[i]) / (cpu_cap * n_steps) + (load_gb[h] + mem_gb[i]) / mem_cap
                if fill > top and fits(
                    cpu_ghz, mem_gb, i, h, load_ghz, load_gb, host_peak, host_arg, item_peak, item_arg, cpu_cap, mem_cap
                ):
                    top = fill
                    chosen = h
            elif fits(cpu_ghz, mem_gb, i, h, load_ghz, load_gb, host_peak, host_arg, item_peak, item_arg, cpu_cap, mem_cap):
                chosen = h
                break
        if chosen == n_hosts:
            n_hosts += 1
            if n_hosts > load_gb.shape[0]:
                load_ghz, load_gb, host_peak, host_arg = _grow(load_ghz, load_gb, host_peak, host_arg)
        place(cpu_ghz, mem_gb, i, chosen, load_ghz, load_gb, host_peak, host_arg)
        host_sum[chosen] += item_sum[i]
        assignment[i] = chosen
    return assignment


def first_fit(cpu_ghz: np.ndarray, mem_gb: np.ndarray, order: np.ndarray, cpu_cap: float, mem_cap: float) -> np.ndarray:
    """First-fit: each VM in ``order`` goes on the lowest-numbered host that takes it."""
    return decreasing_fit(cpu_ghz, mem_gb, order, cpu_cap, mem_cap, False)


def best_fit(cpu_ghz: np.ndarray, mem_gb: np.ndarray, order: np.ndarray, cpu_cap: float, mem_cap: float) -> np.ndarray:
    """Best-fit: each VM goes on the host it leaves fullest (mean CPU + memory, normalised)."""
    return decreasing_fit(cpu_ghz, mem_gb, order, cpu_cap, mem_cap, True)


@njit
def bin_centric_fit(cpu_ghz, mem_gb, order, cpu_cap, mem_cap, use_l2, window):
    """Bin-centric fit, ref [1]: fill one host at a time, then open the next.

    Among the first ``window`` unplaced VMs in ``order`` that fit the open host, take the one
    with the largest dot product with the host's free space (``use_l2`` False) or the smallest
    squared L2 distance between free space and VM (``use_l2`` True). Dimensions are normalised
    by capacity; the CPU steps share a weight of one with memory.
    """
    n, n_steps = cpu_ghz.shape
    item_peak, item_arg = item_peaks(cpu_ghz)
    load_ghz = np.zeros((1, n_steps))
    load_gb = np.zeros(1)
    host_peak = np.zeros(1)
    host_arg = np.zeros(1, dtype=np.int64)
    assignment = np.full(n, -1, dtype=np.int32)
    pending = order.copy()
    n_pending = n
    w_cpu = 1.0 / n_steps
    host = 0
    placed_here = 1
    while n_pending > 0 and placed_here > 0:
        placed_here = 0
        load_ghz[0, :] = 0.0
        load_gb[0] = 0.0
        host_peak[0] = 0.0
        host_arg[0] = 0
        while True:
            best_pos = -1
            best_score = np.inf
            seen = 0
            for pos in range(n_pending):
                i = pending[pos]
                if not fits(cpu_ghz, mem_gb, i, 0, load_ghz, load_gb, host_peak, host_arg, item_peak, item_arg, cpu_cap, mem_cap):
                    continue
                free_gb = (mem_cap - load_gb[0]) / mem_cap
                v_gb = mem_gb[i] / mem_cap
                score = 0.0
                if use_l2:
                    diff = free_gb - v_gb
                    score = diff * diff
                    for t in range(n_steps):
                        diff = (cpu_cap - load_ghz[0, t] - cpu_ghz[i, t]) / cpu_cap
                        score += w_cpu * diff * diff
                else:
                    score = -free_gb * v_gb
                    for t in range(n_steps):
                        score -= w_cpu * (cpu_cap - load_ghz[0, t]) * cpu_ghz[i, t] / (cpu_cap * cpu_cap)
                if score < best_score:
                    best_score = score
                    best_pos = pos
                seen += 1
                if seen >= window:
                    break
            if best_pos < 0:
                break
            i = pending[best_pos]
            place(cpu_ghz, mem_gb, i, 0, load_ghz, load_gb, host_peak, host_arg)
            assignment[i] = host
            placed_here += 1
            # Keep the pending list in its sorted order.
            for pos in range(best_pos, n_pending - 1):
                pending[pos] = pending[pos + 1]
            n_pending -= 1
        host += 1
    return assignment
