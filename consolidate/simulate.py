"""Replay a placement on full-resolution traces: host load, overload and utilisation.

Every figure a plan reports comes from here, never from the sized demand the packer saw.
A host-interval is one host during one grid interval; the overload shares are counted over
all host-intervals of the replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
from numba import njit

#: Host-interval utilisation percentiles every replay reports.
UTIL_PERCENTILES = (50, 95, 99)


@njit(cache=True)
def host_load_kernel(demand: np.ndarray, assignment: np.ndarray, n_hosts: int) -> np.ndarray:
    """Sum each VM's series onto its host: float64 (hosts, steps); VMs with host -1 are skipped.

    Used for CPU (GHz) and memory in use (GB) alike. Accumulates in float64 so that an
    independent float64 replay agrees to rounding.
    """
    n_vms, n_steps = demand.shape
    load = np.zeros((n_hosts, n_steps), dtype=np.float64)
    for vm in range(n_vms):
        host = assignment[vm]
        if host < 0:
            continue
        for t in range(n_steps):
            load[host, t] += demand[vm, t]
    return load


@njit(cache=True)
def host_stats_kernel(load: np.ndarray, target_ghz: np.ndarray, capacity_ghz: np.ndarray):
    """One pass over a host-load array (hosts, steps), per host.

    ``target_ghz`` and ``capacity_ghz`` are float64 (hosts,): each host's own CPU target and
    full capacity. Returns ``(over_target, over_capacity, unmet, peak, total)``: intervals above
    the target and above the capacity (int64), demand above the capacity summed over
    the intervals (GHz x intervals), the peak and the sum of the load (GHz, GHz x intervals).
    """
    n_hosts, n_steps = load.shape
    over_target = np.zeros(n_hosts, dtype=np.int64)
    over_capacity = np.zeros(n_hosts, dtype=np.int64)
    unmet = np.zeros(n_hosts)
    peak = np.zeros(n_hosts)
    total = np.zeros(n_hosts)
    for h in range(n_hosts):
        for t in range(n_steps):
            x = load[h, t]
            total[h] += x
            if x > peak[h]:
                peak[h] = x
            if x > target_ghz[h]:
                over_target[h] += 1
            if x > capacity_ghz[h]:
                over_capacity[h] += 1
                unmet[h] += x - capacity_ghz[h]
    return over_target, over_capacity, unmet, peak, total


@dataclass(frozen=True)
class HostStats:
    """Per-host results of :func:`host_stats_kernel`: interval counts and GHz sums, each (hosts,)."""

    over_target: np.ndarray
    over_capacity: np.ndarray
    unmet_ghz_intervals: np.ndarray
    peak_ghz: np.ndarray
    total_ghz_intervals: np.ndarray


@dataclass(frozen=True)
class Replay:
    """Host load from a replay.

    ``cpu_ghz`` float64 (hosts, steps) effective GHz; ``cpu_capacity_ghz`` float64 (hosts,) each
    host's full capacity (after hypervisor overhead, before the target); ``cpu_target`` the
    planning target (0–1); ``mem_gb`` (hosts,) planned memory, ``mem_usable_gb`` float64 (hosts,)
    what each host offers at its target; ``mem_used_gb`` float64 (hosts, steps) memory in use,
    GB, when the traces carry it. A scalar capacity is taken for every host (one model).
    """

    cpu_ghz: np.ndarray
    cpu_capacity_ghz: np.ndarray
    cpu_target: float
    mem_gb: np.ndarray
    mem_usable_gb: np.ndarray
    interval_s: int
    mem_used_gb: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_hosts = self.cpu_ghz.shape[0]
        for name in ("cpu_capacity_ghz", "mem_usable_gb"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.ndim == 0:
                value = np.full(n_hosts, float(value))
            if value.shape != (n_hosts,):
                raise ValueError(f"{name} must be a scalar or ({n_hosts},), got shape {value.shape}")
            object.__setattr__(self, name, np.ascontiguousarray(value))

    @property
    def n_hosts(self) -> int:
        return self.cpu_ghz.shape[0]

    @property
    def n_steps(self) -> int:
        return self.cpu_ghz.shape[1]

    @property
    def cpu_util(self) -> np.ndarray:
        """Host CPU utilisation as a fraction of full capacity, (hosts, steps)."""
        return self.cpu_ghz / self.cpu_capacity_ghz[:, None]

    @cached_property
    def stats(self) -> HostStats:
        """Per-host overload counts, unmet demand, peak and total load (one kernel pass)."""
        target = self.cpu_target * self.cpu_capacity_ghz
        return HostStats(*host_stats_kernel(np.ascontiguousarray(self.cpu_ghz), target, self.cpu_capacity_ghz))

    @property
    def cpu_target_ghz(self) -> np.ndarray:
        """Each host's CPU target, GHz (hosts,)."""
        return self.cpu_target * self.cpu_capacity_ghz

    @property
    def host_intervals(self) -> int:
        return self.cpu_ghz.size

    def over_target_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the target, in percent."""
        return _share_pct(self.stats.over_target.sum(), self.host_intervals)

    def over_capacity_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the full capacity, in percent."""
        return _share_pct(self.stats.over_capacity.sum(), self.host_intervals)

    def unmet_cpu_ghz_h(self) -> float:
        """CPU demand above full capacity, integrated over time, GHz·h."""
        return float(self.stats.unmet_ghz_intervals.sum() * self.interval_s / 3600.0)

    def worst_host(self) -> int:
        """Index of the host with the most intervals over the target (ties: the highest peak); -1 without hosts."""
        if not self.n_hosts:
            return -1
        s = self.stats
        return int(np.lexsort((-s.peak_ghz, -s.over_target))[0])

    def util_percentiles_pct(self, percentiles: Sequence[float] = UTIL_PERCENTILES) -> dict[str, float]:
        """Percentiles of the host-interval CPU utilisation, % of full capacity, keyed ``cpu_util_pNN_pct``."""
        if not self.n_hosts:
            return {f"cpu_util_p{q:g}_pct": 0.0 for q in percentiles}
        values = np.percentile(self.cpu_util, percentiles)
        return {f"cpu_util_p{q:g}_pct": float(100.0 * v) for q, v in zip(percentiles, values)}

    def figures(self, host_names: Sequence[str] | None = None) -> dict:
        """The replay's headline figures, JSON-ready.

        ``host_names`` names the hosts (default ``host-1`` ...). Shares are % of host-intervals;
        utilisation is % of a host's full CPU capacity; memory is % of its usable memory, and a
        planned memory above 100 % is an over-commit.
        """
        names = list(host_names) if host_names is not None else [f"host-{h + 1}" for h in range(self.n_hosts)]
        s = self.stats
        worst = self.worst_host()
        cap = self.cpu_capacity_ghz
        steps = max(self.n_steps, 1)
        mem_pct = 100.0 * self.mem_gb / self.mem_usable_gb if self.n_hosts else np.zeros(0)
        out = {
            "hosts": self.n_hosts,
            "host_intervals": self.host_intervals,
            "over_target_pct": self.over_target_pct(),
            "over_capacity_pct": self.over_capacity_pct(),
            "unmet_cpu_ghz_h": self.unmet_cpu_ghz_h(),
            "hosts_over_target": int((s.over_target > 0).sum()),
            "hosts_over_capacity": int((s.over_capacity > 0).sum()),
            "cpu_util_mean_pct": float((100.0 * s.total_ghz_intervals / cap).sum() / max(self.host_intervals, 1)),
            "cpu_util_peak_pct": float((100.0 * s.peak_ghz / cap).max(initial=0.0)),
            **self.util_percentiles_pct(),
            "worst_host": names[worst] if worst >= 0 else "",
            "worst_host_over_target_pct": float(100.0 * s.over_target[worst] / steps) if worst >= 0 else 0.0,
            "worst_host_over_capacity_pct": float(100.0 * s.over_capacity[worst] / steps) if worst >= 0 else 0.0,
            "worst_host_peak_pct": float(100.0 * s.peak_ghz[worst] / cap[worst]) if worst >= 0 else 0.0,
            "mem_planned_max_pct": float(mem_pct.max(initial=0.0)),
            "hosts_over_memory": [names[h] for h in np.flatnonzero(self.mem_gb > self.mem_usable_gb)],
        }
        if self.mem_used_gb is not None:
            used = self.mem_used_gb
            usable = self.mem_usable_gb[:, None]
            out["mem_used_peak_pct"] = float(100.0 * (used / usable).max(initial=0.0))
            out["over_memory_pct"] = _share_pct(int((used > usable).sum()), used.size)
        return out


def _share_pct(count: int, total: int) -> float:
    return float(100.0 * count / total) if total else 0.0


def replay(
    cpu_ghz: np.ndarray,
    assignment: np.ndarray,
    n_hosts: int,
    cpu_capacity_ghz: float | np.ndarray,
    cpu_target: float,
    mem_gb: np.ndarray,
    mem_usable_gb: float | np.ndarray,
    interval_s: int,
    mem_used_gb: np.ndarray | None = None,
) -> Replay:
    """Replay full-resolution demand ``cpu_ghz`` (vms, steps) on the hosts of ``assignment``.

    Parameters
    ----------
    cpu_ghz : float32 (vms, steps) demand in effective GHz.
    assignment : int (vms,) host index, -1 for a VM that is not placed.
    n_hosts : number of hosts.
    cpu_capacity_ghz : full effective capacity of each host (hosts,), or one for all, GHz.
    cpu_target : planning target, fraction of capacity.
    mem_gb : (vms,) memory each VM is planned with, GB.
    mem_usable_gb : memory each host (hosts,), or every host, offers at its target, GB.
    interval_s : grid spacing, s.
    mem_used_gb : optional float32 (vms, steps) memory in use, GB, replayed like the CPU.
    """
    assignment = np.ascontiguousarray(assignment, dtype=np.int64)
    load = host_load_kernel(np.ascontiguousarray(cpu_ghz, dtype=np.float32), assignment, n_hosts)
    used = None
    if mem_used_gb is not None:
        used = host_load_kernel(np.ascontiguousarray(mem_used_gb, dtype=np.float32), assignment, n_hosts)
    placed = assignment >= 0
    mem = np.bincount(assignment[placed], weights=np.asarray(mem_gb, dtype=np.float64)[placed], minlength=n_hosts)
    return Replay(load, cpu_capacity_ghz, float(cpu_target), mem, mem_usable_gb, int(interval_s), used)
