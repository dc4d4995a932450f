"""Lower bounds on the number of identical hosts a set of VMs needs.

Every bound here holds for the *real* capacities (no safety margin), so it is a valid lower
bound for the packing the solvers build under the slightly tighter, margin-reduced capacity.

* ``cpu``: time-aware volume bound, ``max_t ceil(sum_i cpu_i[t] / cap)``. On a series it is at
  least the bound of any single step and never uses bucket maxima (which would loosen it).
* ``mem``: ``ceil(sum_i mem_i / mem_cap)``.
* ``large-items``: items that cannot share a host. Two families:
  the Martello–Toth ``L2`` bound applied to each single dimension (memory, and each time step
  in which some VM takes more than half a host), and a greedy clique of pairwise conflicting VMs
  (two VMs conflict when their memory or, at some step, their CPU sum exceeds a host).

References
----------
.. [1] S. Martello, P. Toth, "Lower bounds and reduction procedures for the bin packing
   problem", Discrete Applied Mathematics 28 (1990) 59–70.
.. [2] F. Clautiaux, C. Alves, J. Valério de Carvalho, "A survey of dual-feasible and
   superadditive functions", Annals of Operations Research 179 (2010) 317–342.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.jit import njit

# A bound is a ceiling of a float ratio; shave a relative hair so that float noise on an exact
# integer ratio (e.g. 7.000000000001) cannot raise the bound above the truth.
_CEIL_SLACK = 1e-9


@dataclass(frozen=True)
class Bounds:
    """Lower bounds in hosts, per family; ``value`` is the largest, ``resource`` names it."""

    cpu: int
    mem: int
    large_items: int

    @property
    def value(self) -> int:
        return max(self.cpu, self.mem, self.large_items)

    @property
    def resource(self) -> str:
        """What sets the largest bound: ``cpu``, ``memory``, ``cpu and memory`` (their volume bounds
        tie at the largest) or ``large-items`` (only the large-items bound reaches it)."""
        best = self.value
        named = [name for name, bound in (("cpu", self.cpu), ("memory", self.mem)) if bound == best]
        return " and ".join(named) if named else "large-items"


def _ceil_ratio(total: float, cap: float) -> int:
    return int(np.ceil(total / cap * (1.0 - _CEIL_SLACK))) if total > 0 else 0


def cpu_bound(cpu_ghz: np.ndarray, cpu_cap_ghz: float) -> int:
    """Time-aware CPU bound: ``max_t ceil(sum_i cpu_ghz[i, t] / cpu_cap_ghz)`` hosts.

    ``cpu_ghz`` is (n_vms, T) in GHz; the sum is accumulated in float64.
    """
    if cpu_ghz.shape[0] == 0:
        return 0
    total_ghz = cpu_ghz.sum(axis=0, dtype=np.float64)
    return _ceil_ratio(float(total_ghz.max()), cpu_cap_ghz)


def mem_bound(mem_gb: np.ndarray, mem_cap_gb: float) -> int:
    """Memory bound: ``ceil(sum_i mem_gb[i] / mem_cap_gb)`` hosts."""
    return _ceil_ratio(float(np.sum(mem_gb, dtype=np.float64)), mem_cap_gb)


@njit
def _l2_bound_1d(sizes_desc: np.ndarray, cap: float) -> int:
    """Martello–Toth L2 of one dimension; ``sizes_desc`` sorted in decreasing order.

    For each threshold ``k`` in (0, cap/2] taken from the item sizes:
    ``|J1| + |J2| + max(0, ceil((sum J3 - (|J2| cap - sum J2)) / cap))`` with
    J1 = {w > cap - k}, J2 = {cap/2 < w <= cap - k}, J3 = {k <= w <= cap/2}.
    """
    n = sizes_desc.shape[0]
    n_big = 0  # items > cap/2, they are J1 u J2 and each needs its own host
    while n_big < n and sizes_desc[n_big] > cap * 0.5:
        n_big += 1
    if n_big == 0:
        return 0
    best = n_big
    # Items of J1 ∪ J2 in increasing order, so the J2 prefix for a threshold k is a suffix walk.
    sum_j3 = 0.0
    j = n_big
    while j < n:
        k = sizes_desc[j]
        if k <= 0.0:
            break
        # Extend J3 with every item of the same size k.
        while j < n and sizes_desc[j] >= k:
            sum_j3 += sizes_desc[j]
            j += 1
        # J2 = big items with size <= cap - k (they leave room >= k).
        n_j2 = 0
        sum_j2 = 0.0
        for b in range(n_big):
            if sizes_desc[b] <= cap - k:
                n_j2 += 1
                sum_j2 += sizes_desc[b]
        free = n_j2 * cap - sum_j2
        extra = (sum_j3 - free) / cap
        value = n_big
        if extra > 0.0:
            value += int(np.ceil(extra * (1.0 - _CEIL_SLACK)))
        if value > best:
            best = value
    return best


def l2_bound(sizes: np.ndarray, cap: float) -> int:
    """Martello–Toth ``L2`` bound of a one-dimensional instance (hosts), ref [1]."""
    sizes_desc = np.sort(np.asarray(sizes, dtype=np.float64))[::-1].copy()
    return int(_l2_bound_1d(sizes_desc, float(cap)))


def _conflict_clique(cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float) -> int:
    """Size of a greedy clique of VMs no two of which fit one host together.

    A conflicting pair needs one member above half a host in memory or at some step; a clique
    therefore holds such "large" VMs plus at most one other, so the greedy scan covers the
    large VMs (by decreasing peak) and then tries one more VM.
    """
    peak_ghz = cpu_ghz.max(axis=1).astype(np.float64)
    large = np.flatnonzero((peak_ghz > cpu_cap_ghz * 0.5) | (mem_gb > mem_cap_gb * 0.5))
    if large.size < 2:
        return int(large.size)
    large = large[np.argsort(-(peak_ghz[large] / cpu_cap_ghz + mem_gb[large] / mem_cap_gb), kind="stable")]
    clique: list[int] = []
    for i in large:
        if _conflicts_all(cpu_ghz, mem_gb, i, clique, cpu_cap_ghz, mem_cap_gb):
            clique.append(int(i))
    others = np.setdiff1d(np.arange(cpu_ghz.shape[0]), clique)
    order = others[np.argsort(-peak_ghz[others], kind="stable")][:64]
    for i in order:
        if _conflicts_all(cpu_ghz, mem_gb, i, clique, cpu_cap_ghz, mem_cap_gb):
            clique.append(int(i))
            break
    return len(clique)


def _conflicts_all(cpu_ghz, mem_gb, i, clique, cpu_cap_ghz, mem_cap_gb) -> bool:
    if not clique:
        return True
    rows = np.asarray(clique)
    mem_over = mem_gb[rows].astype(np.float64) + float(mem_gb[i]) > mem_cap_gb
    cpu_over = (cpu_ghz[rows].astype(np.float64) + cpu_ghz[i].astype(np.float64)).max(axis=1) > cpu_cap_ghz
    return bool(np.all(mem_over | cpu_over))


def large_items_bound(cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float) -> int:
    """Bound from VMs too large to share a host: max of per-dimension ``L2`` and a conflict clique.

    ``L2`` runs on memory and on each time step where some VM exceeds half a host (elsewhere
    it cannot beat the volume bound).
    """
    best = l2_bound(mem_gb, mem_cap_gb)
    big_steps = np.flatnonzero((cpu_ghz > cpu_cap_ghz * 0.5).any(axis=0))
    for t in big_steps:
        best = max(best, l2_bound(cpu_ghz[:, t], cpu_cap_ghz))
    return max(best, _conflict_clique(cpu_ghz, mem_gb, cpu_cap_ghz, mem_cap_gb))


def lower_bounds(cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float) -> Bounds:
    """All lower bounds (hosts) for VMs ``cpu_ghz`` (n, T) GHz and ``mem_gb`` (n,) GB."""
    return Bounds(
        cpu=cpu_bound(cpu_ghz, cpu_cap_ghz),
        mem=mem_bound(mem_gb, mem_cap_gb),
        large_items=large_items_bound(cpu_ghz, mem_gb, cpu_cap_ghz, mem_cap_gb),
    )
