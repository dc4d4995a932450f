"""Host-load accumulation and the capacity check every plan passes before it is returned.

Loads are summed in float64 from the float32 demand series, and a host is over capacity when
any step exceeds ``cap * (1 - rel_margin)``: the margin absorbs the float32 rounding of the
demand and any other summation order, so an independent float64 replay of the plan on the raw
traces never finds a host above the real capacity.
"""

from __future__ import annotations

import numpy as np

from consolidate.jit import njit

#: Relative safety margin on every capacity the packers use.
REL_MARGIN = 1e-6


def effective_caps(cpu_cap_ghz: float, mem_cap_gb: float, rel_margin: float = REL_MARGIN) -> tuple[float, float]:
    """The capacities (GHz, GB) the packers test against: the real ones shaved by ``rel_margin``."""
    return float(cpu_cap_ghz) * (1.0 - rel_margin), float(mem_cap_gb) * (1.0 - rel_margin)


@njit
def host_loads(cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int):
    """CPU load (n_hosts, T) GHz and memory (n_hosts,) GB of each host, float64; -1 is skipped."""
    n, n_steps = cpu_ghz.shape
    load_ghz = np.zeros((n_hosts, n_steps))
    load_gb = np.zeros(n_hosts)
    for i in range(n):
        h = assignment[i]
        if h < 0:
            continue
        load_gb[h] += mem_gb[i]
        for t in range(n_steps):
            load_ghz[h, t] += cpu_ghz[i, t]
    return load_ghz, load_gb


@njit
def worst_steps(load_ghz: np.ndarray, cpu_cap_ghz: float) -> np.ndarray:
    """Per host, the step of the largest load if it exceeds ``cpu_cap_ghz``, else -1."""
    n_hosts, n_steps = load_ghz.shape
    out = np.full(n_hosts, -1, dtype=np.int64)
    for h in range(n_hosts):
        best = cpu_cap_ghz
        for t in range(n_steps):
            if load_ghz[h, t] > best:
                best = load_ghz[h, t]
                out[h] = t
    return out


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
