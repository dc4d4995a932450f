"""Replay a placement on full-resolution traces: host load, overload and utilisation.

Every figure a plan reports comes from here, never from the sized demand the packer saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def host_load_kernel(demand: np.ndarray, assignment: np.ndarray, n_hosts: int) -> np.ndarray:
    """Sum each VM's series onto its host: float64 (hosts, steps); VMs with host -1 are skipped.

    Accumulates in float64 so that an independent float64 replay agrees to rounding.
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


@dataclass(frozen=True)
class Replay:
    """Host load from a replay.

    ``cpu_ghz`` float64 (hosts, steps) effective GHz; ``cpu_capacity_ghz`` the full host capacity
    (after hypervisor overhead, before the target); ``cpu_target`` the planning target (0–1);
    ``mem_gb`` (hosts,) planned memory, ``mem_usable_gb`` what each host offers at its target.
    """

    cpu_ghz: np.ndarray
    cpu_capacity_ghz: float
    cpu_target: float
    mem_gb: np.ndarray
    mem_usable_gb: float
    interval_s: int

    @property
    def n_hosts(self) -> int:
        return self.cpu_ghz.shape[0]

    @property
    def cpu_util(self) -> np.ndarray:
        """Host CPU utilisation as a fraction of full capacity, (hosts, steps)."""
        return self.cpu_ghz / self.cpu_capacity_ghz

    def over_target_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the target, in percent."""
        return _share_pct(self.cpu_ghz > self.cpu_target * self.cpu_capacity_ghz)

    def over_capacity_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the full capacity, in percent."""
        return _share_pct(self.cpu_ghz > self.cpu_capacity_ghz)

    def unmet_cpu_ghz_h(self) -> float:
        """CPU demand above full capacity, integrated over time, GHz·h."""
        excess = np.maximum(self.cpu_ghz - self.cpu_capacity_ghz, 0.0)
        return float(excess.sum() * self.interval_s / 3600.0)


def _share_pct(mask: np.ndarray) -> float:
    return float(100.0 * mask.mean()) if mask.size else 0.0


def replay(
    cpu_ghz: np.ndarray,
    assignment: np.ndarray,
    n_hosts: int,
    cpu_capacity_ghz: float,
    cpu_target: float,
    mem_gb: np.ndarray,
    mem_usable_gb: float,
    interval_s: int,
) -> Replay:
    """Replay full-resolution demand ``cpu_ghz`` (vms, steps) on the hosts of ``assignment``.

    Parameters
    ----------
    cpu_ghz : float32 (vms, steps) demand in effective GHz.
    assignment : int (vms,) host index, -1 for a VM that is not placed.
    n_hosts : number of hosts.
    cpu_capacity_ghz : full effective capacity of one host, GHz.
    cpu_target : planning target, fraction of capacity.
    mem_gb : (vms,) memory each VM is planned with, GB.
    mem_usable_gb : memory one host offers at its target, GB.
    interval_s : grid spacing, s.
    """
    assignment = np.ascontiguousarray(assignment, dtype=np.int64)
    load = host_load_kernel(np.ascontiguousarray(cpu_ghz, dtype=np.float32), assignment, n_hosts)
    placed = assignment >= 0
    mem = np.bincount(assignment[placed], weights=np.asarray(mem_gb, dtype=np.float64)[placed], minlength=n_hosts)
    return Replay(load, float(cpu_capacity_ghz), float(cpu_target), mem, float(mem_usable_gb), int(interval_s))
