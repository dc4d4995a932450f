"""Single-host failures: where a failed host's VMs would go, and what that costs the survivors.

For each host in turn, its VMs are re-placed on the surviving hosts by best fit on the
replayed (full-resolution) load: largest VM first, each to the survivor left fullest whose CPU
stays within the target at every interval and whose memory fits; when none takes it, to the
survivor left with the lowest CPU peak. The survivors' load is then replayed.

A failure *overloads* when it takes a survivor over its CPU target in an interval where it was
not over before, or over its usable memory (the N+1 rule of vSphere HA admission control [1]:
the others absorb the failed host within the capacity a plan may use). Over the full CPU
capacity, where demand goes unmet, is counted apart (``over_capacity_pct``,
``failures_over_capacity``): it is the worse case of the same overload. The plan *holds N+1*
when no failure overloads. The spare hosts it needs otherwise are found by the same replay:
the fewest empty hosts (of the plan's largest model) that, added to the plan as survivors, make
every failure hold.

Only the ``FAILOVER_CANDIDATES`` survivors with the lowest peak take a failed host's VMs, so
the cost stays (VMs x candidates x steps) on large estates.

References
----------
.. [1] VMware, "vSphere Availability", admission control (host failures cluster tolerates: 1):
   enough capacity is reserved that the VMs of any one failed host restart on the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from consolidate.jit import njit
from consolidate.models.workload import Workload
from consolidate.ranking import first_min, lowest
from consolidate.simulate import Replay

#: Survivors (lowest peak first) that may take a failed host's VMs.
FAILOVER_CANDIDATES = 32

#: What summary.json's ``failover`` counts as an overload, for the reader of the file.
DEFINITION = (
    "each host fails in turn and its VMs restart on the others (best fit on the replayed load); a failure "
    "overloads when a survivor goes over its CPU target in an interval where it was within it, or over its "
    "usable memory; over full CPU capacity is counted apart"
)


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
    capacity (int64), extra unmet demand (GHz x intervals), the worst interval's CPU above the
    survivors' targets (over what each already had above it), summed over the survivors (GHz),
    and the memory shortfall (GB).
    """
    n_hosts, n_steps = load.shape
    extra_target = np.zeros(n_hosts, dtype=np.int64)
    extra_capacity = np.zeros(n_hosts, dtype=np.int64)
    extra_unmet = np.zeros(n_hosts)
    short_ghz = np.zeros(n_hosts)
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
                h = cand[j]
                above = rows[j, t] - max(load[h, t], target_ghz[h])
                if above > 0.0:
                    total += above
            if total > short_ghz[f]:
                short_ghz[f] = total
    return extra_target, extra_capacity, extra_unmet, short_ghz, short_gb


@dataclass(frozen=True)
class Failures:
    """What each single-host failure does (arrays over the failed host, see :func:`failover_kernel`)."""

    extra_target: np.ndarray
    extra_capacity: np.ndarray
    extra_unmet: np.ndarray
    short_ghz: np.ndarray
    short_gb: np.ndarray

    @property
    def overloads(self) -> np.ndarray:
        """(hosts,) bool: the failure takes a survivor over its CPU target (or capacity) or its memory."""
        return (self.extra_target > 0) | (self.extra_capacity > 0) | (self.short_gb > 0)


def _replace_all(workload: Workload, assignment: np.ndarray, load: np.ndarray, load_gb: np.ndarray,
                 target_ghz: np.ndarray, capacity_ghz: np.ndarray, mem_usable_gb: np.ndarray) -> Failures:
    """Every single-host failure of hosts with the given load and capacities (the kernel's inputs)."""
    cpu = workload.cpu_ghz
    order = np.argsort(-cpu.max(axis=1, initial=0.0), kind="stable").astype(np.int64)
    return Failures(*failover_kernel(
        cpu, workload.mem_gb, np.ascontiguousarray(assignment, dtype=np.int64), order, np.ascontiguousarray(load),
        np.asarray(load_gb, dtype=np.float64), np.ascontiguousarray(target_ghz, dtype=np.float64),
        np.ascontiguousarray(capacity_ghz, dtype=np.float64), np.ascontiguousarray(mem_usable_gb, dtype=np.float64),
        FAILOVER_CANDIDATES,
    ))


def failures(workload: Workload, assignment: np.ndarray, rep: Replay) -> Failures:
    """Every single-host failure of the plan replayed as ``rep`` (two hosts or more)."""
    return _replace_all(workload, assignment, rep.cpu_ghz, rep.mem_gb, rep.cpu_target_ghz, rep.cpu_capacity_ghz,
                        rep.mem_usable_gb)


def n_plus_1_holds(workload: Workload, assignment: np.ndarray, rep: Replay) -> bool:
    """True when no single-host failure takes a survivor over its CPU target or its usable memory."""
    if rep.n_hosts < 2:
        return rep.n_hosts == 0
    return not failures(workload, assignment, rep).overloads.any()


def _spare_model(rep: Replay) -> int:
    """Index in ``rep.fleet.capacities`` of the plan's largest model (CPU first, then memory)."""
    used = np.unique(rep.fleet.model_index)
    caps = rep.fleet.capacities
    return int(max(used, key=lambda m: (caps[m].cpu_full_ghz, caps[m].mem_usable_gb)))


def _holds_with_spares(workload: Workload, assignment: np.ndarray, rep: Replay, model: int, spares: int) -> bool:
    """Whether every failure holds once ``spares`` empty hosts of model ``model`` join the survivors."""
    cap = rep.fleet.capacities[model]
    pad = np.zeros((spares, rep.n_steps))
    return not _replace_all(
        workload, assignment, np.vstack([rep.cpu_ghz, pad]), np.r_[rep.mem_gb, np.zeros(spares)],
        np.r_[rep.cpu_target_ghz, np.full(spares, cap.cpu_full_ghz * cap.cpu_target)],
        np.r_[rep.cpu_capacity_ghz, np.full(spares, cap.cpu_full_ghz)],
        np.r_[rep.mem_usable_gb, np.full(spares, cap.mem_usable_gb)],
    ).overloads.any()


def spare_hosts(workload: Workload, assignment: np.ndarray, rep: Replay, model: int) -> tuple[int, bool]:
    """The fewest empty hosts of ``model`` after which every single failure holds, and whether
    that many are enough.

    Doubling from one, then bisecting: a failure's VMs fill a spare before the next one opens
    (best fit), so the need is a few hosts. At most one spare per VM of the fullest host is
    tried: when even that does not hold, a VM alone exceeds a host's CPU target (or memory),
    no spare helps, and the count returned comes with False.
    """
    most = int(np.bincount(assignment[assignment >= 0], minlength=rep.n_hosts).max(initial=1))
    failing, k = 0, 1
    while not _holds_with_spares(workload, assignment, rep, model, k):
        if k >= most:
            return most, False
        failing, k = k, min(2 * k, most)
    while k - failing > 1:
        middle = (failing + k) // 2
        if _holds_with_spares(workload, assignment, rep, model, middle):
            k = middle
        else:
            failing = middle
    return k, True


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
    ``hosts``; ``n_plus_1_holds`` (no failure overloads: module docstring); ``failures_overloading``
    (names of the failed hosts whose failure takes a survivor over its CPU target or memory) and
    ``failures_over_capacity`` (those over full CPU capacity, the worse part of them);
    ``spare_cpu_ghz`` (the worst failure's CPU above the survivors' targets at its worst interval,
    GHz) and ``spare_mem_gb`` (its memory shortfall, GB); ``spare_hosts_n_plus_1`` (the fewest
    extra hosts of ``spare_host_model``, the plan's largest model, after which every failure
    holds; 0 when N+1 holds) and ``spare_hosts_enough`` (False when no count of spares makes
    every failure hold: a VM alone exceeds a host's target); ``worst_failure``; ``definition``; and
    ``per_host`` rows: the failed host, its VMs, the extra share of survivor host-intervals over
    the target and over capacity (%), the extra unmet CPU (GHz·h), the CPU above the survivors'
    targets at the worst interval (GHz), the memory shortfall (GB) and ``overloads``.
    """
    n_hosts = rep.n_hosts
    names = list(host_names) if host_names is not None else [f"host-{h + 1}" for h in range(n_hosts)]
    out = {"hosts": n_hosts, "n_plus_1_holds": True, "failures_overloading": [], "failures_over_capacity": [],
           "spare_cpu_ghz": 0.0, "spare_mem_gb": 0.0, "spare_hosts_n_plus_1": 0, "spare_host_model": "",
           "spare_hosts_enough": True, "worst_failure": "", "definition": DEFINITION, "per_host": []}
    if n_hosts == 0:
        return out
    model = _spare_model(rep)
    out["spare_host_model"] = rep.fleet.capacities[model].model.name
    if n_hosts == 1:
        return {**out, **_lone_host(workload, assignment, rep, names[0], model)}
    fail = failures(workload, assignment, rep)
    overloads = fail.overloads
    survivor_intervals = (n_hosts - 1) * rep.n_steps
    vms = np.bincount(assignment[assignment >= 0], minlength=n_hosts)
    out["per_host"] = [
        {
            "host_id": names[h],
            "vms": int(vms[h]),
            "over_target_pct": float(100.0 * fail.extra_target[h] / survivor_intervals),
            "over_capacity_pct": float(100.0 * fail.extra_capacity[h] / survivor_intervals),
            "unmet_cpu_ghz_h": float(fail.extra_unmet[h] * rep.interval_s / 3600.0),
            "cpu_short_ghz": float(fail.short_ghz[h]),
            "mem_short_gb": float(fail.short_gb[h]),
            "overloads": bool(overloads[h]),
        }
        for h in range(n_hosts)
    ]
    if not overloads.any():
        return out
    # The worst failure: over capacity first, then out of memory, then over the target.
    worst = int(np.lexsort((-fail.short_ghz, -fail.extra_target, -fail.short_gb, -fail.extra_capacity))[0])
    spares, enough = spare_hosts(workload, assignment, rep, model)
    return {
        **out,
        "n_plus_1_holds": False,
        "failures_overloading": [names[h] for h in np.flatnonzero(overloads)],
        "failures_over_capacity": [names[h] for h in np.flatnonzero(fail.extra_capacity > 0)],
        "spare_cpu_ghz": float(fail.short_ghz.max()),
        "spare_mem_gb": float(fail.short_gb.max()),
        "spare_hosts_n_plus_1": spares,
        "spare_hosts_enough": enough,
        "worst_failure": names[worst],
    }


def _lone_host(workload: Workload, assignment: np.ndarray, rep: Replay, name: str, model: int) -> dict:
    """A plan of one host: its failure leaves no survivor, every VM is down (all its demand unmet)
    and the spare is a second host, enough when its VMs fit one host within the target."""
    enough = _holds_with_spares(workload, assignment, rep, model, 1)
    row = {"host_id": name, "vms": int((assignment == 0).sum()), "over_target_pct": 100.0, "over_capacity_pct": 100.0,
           "unmet_cpu_ghz_h": float(rep.stats.total_ghz_intervals[0] * rep.interval_s / 3600.0),
           "cpu_short_ghz": float(rep.stats.peak_ghz[0]), "mem_short_gb": float(rep.mem_gb[0]), "overloads": True}
    return {"n_plus_1_holds": False, "failures_overloading": [name], "failures_over_capacity": [name],
            "spare_cpu_ghz": row["cpu_short_ghz"], "spare_mem_gb": row["mem_short_gb"], "spare_hosts_n_plus_1": 1,
            "spare_hosts_enough": enough, "worst_failure": name, "per_host": [row]}
