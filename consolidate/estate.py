"""The demand stage: every source server of a trace set as a VM under a plan's settings.

CPU demand in effective GHz (:func:`consolidate.models.hardware.cpu_demand_ghz`), the VM's vCPUs
and RAM (:func:`consolidate.models.rightsizing.right_size`), its planned memory with the
hypervisor's per-VM overhead, and the idle rule. ``plan`` and ``simulate`` both start here, so a
placement replayed by ``consolidate simulate`` sees the VMs the plan packed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.models import hypervisor, rightsizing
from consolidate.models.hardware import HostModel, cpu_demand_ghz
from consolidate.models.trace import TraceSet
from consolidate.models.workload import Workload


@dataclass(frozen=True)
class VMs:
    """The estate as VMs, one row per source server (in the trace set's order).

    ``workload``: full-resolution CPU demand and planned memory; ``vcpus`` (servers,) int64;
    ``ram_gb`` (servers,) the VM's RAM, GB (before the hypervisor's overhead); ``cpu_peak_ghz``
    and ``cpu_mean_ghz`` (servers,) of the demand, GHz; ``idle`` (servers,) bool, idle by Azure
    Migrate's rule (a retire candidate).
    """

    workload: Workload
    vcpus: np.ndarray
    ram_gb: np.ndarray
    cpu_peak_ghz: np.ndarray
    cpu_mean_ghz: np.ndarray
    idle: np.ndarray


def demand_ghz(traces: TraceSet, smt_gain: float) -> np.ndarray:
    """Each server's CPU demand, effective GHz, float64 (servers, steps)."""
    inv = traces.inventory
    return cpu_demand_ghz(traces.cpu_pct, inv.cores, inv.threads, inv.ghz, inv.perf, smt_gain)


def workload_on(traces: TraceSet, smt_gain: float, mem_gb: np.ndarray) -> Workload:
    """VMs planned with ``mem_gb`` (servers,) running the demand of ``traces`` (e.g. a plan's VMs on held-out days)."""
    return _workload(traces, demand_ghz(traces, smt_gain), mem_gb)


def _workload(traces: TraceSet, cpu_ghz: np.ndarray, mem_gb: np.ndarray) -> Workload:
    mem_used = None if traces.mem_gb is None else np.ascontiguousarray(traces.mem_gb, dtype=np.float32)
    return Workload(np.ascontiguousarray(cpu_ghz, dtype=np.float32), mem_gb, traces.interval_s, mem_used, traces.measured)


def estate_vms(traces: TraceSet, settings, host: HostModel) -> VMs:
    """Every server of ``traces`` as a VM sized for a core of ``host`` under ``settings``
    (``smt_gain``, ``hypervisor``, ``mem_sizing``, ``mem_margin``)."""
    inv = traces.inventory
    cpu_ghz = demand_ghz(traces, settings.smt_gain)
    vcpus, vm_ram_gb = rightsizing.right_size(
        cpu_ghz, host.ghz * host.perf, inv.threads, inv.ram_gb, traces.mem_gb,
        mem_sizing=settings.mem_sizing, mem_margin=settings.mem_margin,
    )
    profile = hypervisor.get_profile(settings.hypervisor)
    # The packer works in float32; the replay takes the same rounded memory so that both agree.
    mem_gb = (vm_ram_gb + profile.vm_overhead_gb(vcpus, vm_ram_gb)).astype(np.float32).astype(np.float64)
    peak_ghz, mean_ghz = cpu_ghz.max(axis=1), cpu_ghz.mean(axis=1)
    workload = _workload(traces, cpu_ghz, mem_gb)
    del cpu_ghz  # the float64 demand (servers x steps): its float32 copy is what is kept
    # float32 like the traces: a float64 (servers x steps) share would double the plan's peak memory
    mem_pct = None if traces.mem_gb is None else np.multiply(
        traces.mem_gb, (100.0 / inv.ram_gb).astype(np.float32)[:, None], dtype=np.float32)
    return VMs(workload, vcpus, vm_ram_gb, peak_ghz, mean_ghz, rightsizing.idle_mask(traces.cpu_pct, mem_pct))
