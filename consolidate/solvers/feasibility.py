"""Host-load accumulation and the capacity check every plan passes before it is returned.

Loads are summed in float64 from the float32 demand series, and a host is over capacity when
any step exceeds ``cap * (1 - rel_margin)``: the margin absorbs the float32 rounding of the
demand and any other summation order, so an independent float64 replay of the plan on the raw
traces never finds a host above the real capacity.
"""

from __future__ import annotations

import numpy as np

from consolidate.simulate import host_load_kernel

#: Relative safety margin on every capacity the packers use.
REL_MARGIN = 1e-6


def effective_caps(cpu_cap_ghz: float, mem_cap_gb: float, rel_margin: float = REL_MARGIN) -> tuple[float, float]:
    """The capacities (GHz, GB) the packers test against: the real ones shaved by ``rel_margin``."""
    return float(cpu_cap_ghz) * (1.0 - rel_margin), float(mem_cap_gb) * (1.0 - rel_margin)


def host_loads(cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int) -> tuple[np.ndarray, np.ndarray]:
    """CPU load (n_hosts, T) GHz and memory (n_hosts,) GB of each host, float64; -1 is skipped.

    The replay's kernel sums the CPU (one kernel fewer to compile); ``np.bincount`` adds the
    memory in VM order, as the loop did.
    """
    assignment = np.ascontiguousarray(assignment, dtype=np.int64)
    placed = assignment >= 0
    load_gb = np.bincount(assignment[placed], weights=np.asarray(mem_gb, dtype=np.float64)[placed], minlength=n_hosts)
    return host_load_kernel(cpu_ghz, assignment, n_hosts), load_gb


def worst_steps(load_ghz: np.ndarray, cpu_cap_ghz: float) -> np.ndarray:
    """Per host, the step of the largest load if it exceeds ``cpu_cap_ghz``, else -1 (int64)."""
    if load_ghz.shape[1] == 0:
        return np.full(load_ghz.shape[0], -1, dtype=np.int64)
    return np.where(load_ghz.max(axis=1) > cpu_cap_ghz, load_ghz.argmax(axis=1), -1).astype(np.int64)


def violations(
    cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int, cpu_cap_ghz: float, mem_cap_gb: float
) -> tuple[np.ndarray, np.ndarray]:
    """Hosts over capacity and the steps to add to a constraint-generation set.

    Returns ``(bad_hosts, steps)``: the hosts whose CPU exceeds ``cpu_cap_ghz`` at some step or
    whose memory exceeds ``mem_cap_gb``, and the distinct worst steps of the CPU-violating hosts.
    The capacities are used as given (pass the effective ones).
    """
    load_ghz, load_gb = host_loads(cpu_ghz, mem_gb, assignment, n_hosts)
    worst = worst_steps(load_ghz, cpu_cap_ghz)
    bad = np.flatnonzero((worst >= 0) | (load_gb > mem_cap_gb))
    return bad, np.unique(worst[worst >= 0])
