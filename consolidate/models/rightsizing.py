"""Right-sized VMs and idle (zombie) servers.

Each source server becomes a VM of its own size:

- vCPUs = ``ceil(q(demand) x headroom / host core GHz)``, where ``q`` is the
  :data:`~consolidate.models.constants.RIGHTSIZE_CPU_PERCENTILE`-th percentile of the server's
  CPU demand (effective GHz; the default is its peak) and a host core is worth
  ``host.ghz x host.perf``; at least 1, at most the source's hardware threads (a VM never gets
  more vCPUs than the server it replaces had logical CPUs).
- RAM = the server's allocated RAM (``mem_sizing="allocated"``, the default), or its observed
  use (peak or percentile) x ``1 + mem_margin`` rounded up to a quarter GB and capped at the
  allocation (``used-peak`` / ``used-pNN``); never below Xen's minimum guest memory.

A server is idle, a retire candidate, by Azure Migrate's rule: CPU and memory under 5 % and
network under 2 %, each where known. "Under" means the series' 95th percentile is under the
threshold (:data:`~consolidate.models.constants.IDLE_PERCENTILE`).

References
----------
.. [1] Microsoft, "Azure Migrate business case overview", 2024: idle servers (CPU and memory
   utilisation < 5 %, network < 2 %); performance-based sizing by percentile and comfort factor.
.. [2] J. Koomey, J. Taylor, "Zombie/comatose servers redux", Anthesis, 2017: about 30 % of
   physical servers did no useful work for six months or more.
"""

from __future__ import annotations

import warnings

import numpy as np

from consolidate.models.constants import (
    IDLE_CPU_PCT,
    IDLE_MEM_PCT,
    IDLE_NET_PCT,
    IDLE_PERCENTILE,
    RAM_STEP_GB,
    RIGHTSIZE_CPU_PERCENTILE,
    RIGHTSIZE_HEADROOM,
    XEN_MIN_GUEST_GB,
)
from consolidate.models.sizing import DEFAULT_MEM_MARGIN, size_mem

# A demand of exactly k cores must give k vCPUs, not k + 1 through rounding (float32 traces
# carry about 1e-7 relative error).
_CEIL_TOLERANCE = 1e-6


def right_size(
    cpu_demand_ghz: np.ndarray,
    host_core_ghz: float,
    source_threads: np.ndarray,
    ram_gb: np.ndarray,
    mem_gb: np.ndarray | None = None,
    *,
    cpu_percentile: float = float(RIGHTSIZE_CPU_PERCENTILE.value),
    headroom: float = float(RIGHTSIZE_HEADROOM.value),
    mem_sizing: str = "allocated",
    mem_margin: float = DEFAULT_MEM_MARGIN,
) -> tuple[np.ndarray, np.ndarray]:
    """Each server's VM: vCPUs and RAM.

    Parameters
    ----------
    cpu_demand_ghz : (servers, steps) CPU demand, effective GHz.
    host_core_ghz : one target core, effective GHz (``host.ghz * host.perf``).
    source_threads : (servers,) hardware threads of each source server (the vCPU cap).
    ram_gb : (servers,) allocated RAM, GB.
    mem_gb : (servers, steps) memory in use, GB, or None; needed by the ``used-*`` policies.
    cpu_percentile : percentile of the demand the vCPUs must carry (100 = peak).
    headroom : factor on that demand (Azure Migrate's comfort factor is 1.3 on the 95th percentile).
    mem_sizing, mem_margin : ``allocated``, ``used-peak`` or ``used-pNN`` and its head-room.

    Returns
    -------
    vcpus : int64 (servers,), at least 1.
    vm_ram_gb : float64 (servers,), at least the Xen minimum guest memory.
    """
    demand = np.asarray(cpu_demand_ghz)
    if cpu_percentile >= 100.0:
        need_ghz = demand.max(axis=1, initial=0.0)
    else:
        need_ghz = np.percentile(demand, cpu_percentile, axis=1)
    cores_needed = np.ceil(need_ghz.astype(np.float64) * headroom / host_core_ghz - _CEIL_TOLERANCE)
    threads = np.asarray(source_threads, dtype=np.float64)
    cap = np.where(np.isfinite(threads) & (threads >= 1), threads, np.inf)
    vcpus = np.clip(np.minimum(cores_needed, cap), 1, None).astype(np.int64)

    allocated = np.asarray(ram_gb, dtype=np.float64)
    vm_ram = size_mem(allocated, mem_gb, mem_sizing, mem_margin)
    if mem_sizing != "allocated":
        step = float(RAM_STEP_GB.value)
        vm_ram = np.minimum(np.ceil(vm_ram / step - _CEIL_TOLERANCE) * step, allocated)
    return vcpus, np.maximum(vm_ram, float(XEN_MIN_GUEST_GB.value))


def idle_mask(
    cpu_pct: np.ndarray,
    mem_pct: np.ndarray | None = None,
    net_pct: np.ndarray | None = None,
    *,
    percentile: float = float(IDLE_PERCENTILE.value),
) -> np.ndarray:
    """Servers that are idle by Azure Migrate's rule, ref [1]: bool (servers,).

    Idle = the ``percentile``-th percentile of CPU is under 5 %, of memory (percent of allocated)
    under 5 % and of network (percent of link capacity) under 2 %. A metric that is None, or all
    NaN for a server, is unknown and does not count against it.
    """
    idle = _under(cpu_pct, float(IDLE_CPU_PCT.value), percentile)
    if mem_pct is not None:
        idle &= _under(mem_pct, float(IDLE_MEM_PCT.value), percentile)
    if net_pct is not None:
        idle &= _under(net_pct, float(IDLE_NET_PCT.value), percentile)
    return idle


def _under(series_pct: np.ndarray, threshold_pct: float, percentile: float) -> np.ndarray:
    """Per row: the series' percentile is under the threshold, or the row has no values."""
    values = np.asarray(series_pct)  # float32 traces stay float32: no (servers, steps) float64 copy
    if np.isnan(values).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: unknown, handled below
            level = np.nanpercentile(values, percentile, axis=1)
        return np.isnan(level) | (level < threshold_pct)
    return np.percentile(values, percentile, axis=1) < threshold_pct
