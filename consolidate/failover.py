"""Single-host failures: where a failed host's VMs would go, and what that costs the survivors.

For each host in turn, its VMs are re-placed on the surviving hosts by best fit on the
replayed (full-resolution) load: largest VM first, each to the survivor left fullest whose CPU
stays within the target at every interval and whose memory fits; when none takes it, to the
survivor left with the lowest CPU peak. The survivors' load is then replayed. A failure
*overloads* when it puts a survivor over its full CPU capacity in an interval where it was not
before, or over its usable memory. The spare capacity an N+1 plan needs is the largest CPU
excess over capacity (summed over the survivors, at the worst interval) and memory shortfall
any single failure leaves.

Only the ``FAILOVER_CANDIDATES`` survivors with the lowest peak take a failed host's VMs, so
the cost stays (VMs x candidates x steps) on large estates.

References
----------
.. [1] Microsoft, Azure VMware Solution / VMware vSphere HA admission control: reserve the
   capacity of one host (N+1) so that any single host failure can be absorbed.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from consolidate.jit import njit
from consolidate.models.workload import Workload
from consolidate.ranking import first_min, lowest
from consolidate.simulate import Replay

#: Survivors (lowest peak first) that may take a failed host's VMs.
FAILOVER_CANDIDATES = 32


@njit
def failover_kernel(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    assignment: np.ndarray,
    order: np.ndarray,
    load: np.ndarray,
    load_gb: np.ndarray,
    target_ghz: np.ndarray,
    capacity_ghz: np.ndarray,
    mem_usable_gb: np.ndarray,
    n_candidates: int,
):
    """Re-place each host's VMs on survivors in turn (see the module docstring).

    Parameters
    ----------
    cpu_ghz : float32 (vms, steps) demand; mem_gb : float64 (vms,) planned memory.
    assignment : int64 (vms,) host of each VM (-1 unplaced).
    order : int64 VMs, largest first (the re-placement order).
    load : float64 (hosts, steps) replayed CPU load; load_gb : float64 (hosts,) planned memory.
    target_ghz, capacity_ghz : float64 (hosts,) each host's CPU target and full capacity;
    mem_usable_gb : float64 (hosts,) each host's usable memory (hosts of any model take VMs).
    n_candidates : survivors considered for each failure.

    Returns
    -------
    Per failed host, (hosts,) arrays: extra survivor intervals over the target and over the
    capacity (int64), extra unmet demand (GHz x intervals), the worst interval's CPU excess over
    capacity summed over the survivors (GHz), and the memory shortfall (GB).
    """
    n_hosts, n_steps = load.shape
    extra_target = np.zeros(n_hosts, dtype=np.int64)
    extra_capacity = np.zeros(n_hosts, dtype=np.int64)
    extra_unmet = np.zeros(n_hosts)
    excess_ghz = np.zeros(n_hosts)
    short_gb = np.zeros(n_hosts)
    peak = np.zeros(n_hosts)
    for h in range(n_hosts):
        for t in range(n_steps):
            if load[h, t] > peak[h]:
                peak[h] = load[h, t]
    k = min(n_candidates, n_hosts - 1)
    # The k survivors of lowest peak are among the k + 1 lowest hosts, whichever host fails.
    by_peak = lowest(peak, k + 1)
    cand = np.empty(k, dtype=np.int64)
    rows = np.empty((k, n_steps))
    rows_gb = np.empty(k)
    for f in range(n_hosts):
        c = 0
        for h in by_peak:
            if c == k:
                break
            if h != f:
                cand[c] = h
                c += 1
        for j in range(k):
            # Element loops: an array-to-array slice assignment costs seconds of compilation.
            for t in range(n_steps):
                rows[j, t] = load[cand[j], t]
            rows_gb[j] = load_gb[cand[j]]
        for i in order:
            if assignment[i] != f:
                continue
            best_fit = -1
            best_fit_peak = -1.0
            best_low = -1
            best_low_peak = np.inf
            for j in range(k):
                if rows_gb[j] + mem_gb[i] > mem_usable_gb[cand[j]]:
                    continue
                p = 0.0
                for t in range(n_steps):
                    x = rows[j, t] + cpu_ghz[i, t]
                    if x > p:
                        p = x
                if p <= target_ghz[cand[j]] and p > best_fit_peak:
                    best_fit_peak = p
                    best_fit = j
                if p < best_low_peak:
                    best_low_peak = p
                    best_low = j
            dest = best_fit if best_fit >= 0 else best_low
            if dest < 0:
                dest = first_min(rows_gb)
            rows_gb[dest] += mem_gb[i]
            for t in range(n_steps):
                rows[dest, t] += cpu_ghz[i, t]
        for j in range(k):
            h = cand[j]
            if rows_gb[j] > mem_usable_gb[h]:
                short_gb[f] += rows_gb[j] - max(load_gb[h], mem_usable_gb[h])
            for t in range(n_steps):
                before = load[h, t]
                after = rows[j, t]
                if after > target_ghz[h] and not before > target_ghz[h]:
                    extra_target[f] += 1
                if after > capacity_ghz[h]:
                    if not before > capacity_ghz[h]:
                        extra_capacity[f] += 1
                    extra_unmet[f] += after - max(before, capacity_ghz[h])
        for t in range(n_steps):
            total = 0.0
            for j in range(k):
                cap = capacity_ghz[cand[j]]
                if rows[j, t] > cap:
                    total += rows[j, t] - cap
            if total > excess_ghz[f]:
                excess_ghz[f] = total
    return extra_target, extra_capacity, extra_unmet, excess_ghz, short_gb


def failover(workload: Workload, assignment: np.ndarray, rep: Replay, host_names: Sequence[str] | None = None) -> dict:
    """Every single-host failure of a plan, replayed: summary.json's ``failover``.

    Parameters
    ----------
    workload : the VMs the plan was replayed with (CPU demand, planned memory).
    assignment : (vms,) host of each VM, -1 unplaced.
    rep : the plan's :class:`~consolidate.simulate.Replay` on the same steps.
    host_names : names of the hosts (default ``host-1`` ...).

    Returns
    -------
    ``hosts``, ``failures_overloading`` (names), ``spare_cpu_ghz`` and ``spare_mem_gb`` (the
    capacity N+1 needs beyond the plan), ``spare_hosts_n_plus_1`` (hosts of the model that
    cover it; the plan's largest model for a mix), ``worst_failure``, and ``per_host`` rows: the failed host, its VMs, the extra
    share of survivor host-intervals over the target and over capacity (%), the extra unmet CPU
    (GHz·h), the memory shortfall (GB) and ``overloads``.
    """
    n_hosts = rep.n_hosts
    names = list(host_names) if host_names is not None else [f"host-{h + 1}" for h in range(n_hosts)]
    empty = {"hosts": n_hosts, "failures_overloading": [], "spare_cpu_ghz": 0.0, "spare_mem_gb": 0.0,
             "spare_hosts_n_plus_1": 0, "worst_failure": "", "per_host": []}
    if n_hosts == 1:  # no survivor: the spare is a whole second host
        return {**empty, "failures_overloading": names[:1], "spare_cpu_ghz": float(rep.stats.peak_ghz[0]),
                "spare_mem_gb": float(rep.mem_gb[0]), "spare_hosts_n_plus_1": 1, "worst_failure": names[0]}
    if n_hosts == 0:
        return empty
    cpu, mem = workload.cpu_ghz, workload.mem_gb
    assignment = np.ascontiguousarray(assignment, dtype=np.int64)
    order = np.argsort(-cpu.max(axis=1, initial=0.0), kind="stable").astype(np.int64)
    extra_t, extra_c, unmet, excess, short = failover_kernel(
        cpu, mem, assignment, order, np.ascontiguousarray(rep.cpu_ghz), np.asarray(rep.mem_gb, dtype=np.float64),
        rep.cpu_target_ghz, rep.cpu_capacity_ghz, rep.mem_usable_gb, FAILOVER_CANDIDATES,
    )
    survivor_intervals = (n_hosts - 1) * rep.n_steps
    overloads = (extra_c > 0) | (short > 0)
    vms = np.bincount(assignment[assignment >= 0], minlength=n_hosts)
    per_host = [
        {
            "host_id": names[h],
            "vms": int(vms[h]),
            "over_target_pct": float(100.0 * extra_t[h] / survivor_intervals),
            "over_capacity_pct": float(100.0 * extra_c[h] / survivor_intervals),
            "unmet_cpu_ghz_h": float(unmet[h] * rep.interval_s / 3600.0),
            "mem_short_gb": float(short[h]),
            "overloads": bool(overloads[h]),
        }
        for h in range(n_hosts)
    ]
    spare_cpu = float(excess.max())
    spare_mem = float(short.max())
    worst = int(np.lexsort((-excess, -extra_c, -short))[0])
    # With a mix of models, the spare is counted in hosts of the largest model of the plan.
    spare_hosts = max(
        math.ceil(spare_cpu / rep.cpu_capacity_ghz.max() - 1e-9), math.ceil(spare_mem / rep.mem_usable_gb.max() - 1e-9), 0
    )
    return {
        "hosts": n_hosts,
        "failures_overloading": [names[h] for h in np.flatnonzero(overloads)],
        "spare_cpu_ghz": spare_cpu,
        "spare_mem_gb": spare_mem,
        "spare_hosts_n_plus_1": int(spare_hosts),
        "worst_failure": names[worst] if overloads.any() else "",
        "per_host": per_host,
    }
