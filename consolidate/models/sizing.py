"""Sizing policies: what each VM is packed as.

CPU policies turn a server's full-resolution demand series into the series the packer sees:

- ``timeseries``: the full-resolution series itself (a solver may pick the binding time steps,
  never bucket maxima, which loosen the bound);
- ``peak``: one value, the series' maximum;
- ``pNN`` (e.g. ``p95``): one value, the NN-th percentile of the series.

Memory policies: ``allocated`` packs each server's allocated RAM; ``used-peak`` and ``used-pNN``
pack the observed use (peak or percentile) times ``1 + mem_margin``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from consolidate.errors import InputError

CPU_POLICIES = ("timeseries", "peak", "pNN")
MEM_POLICIES = ("allocated", "used-peak", "used-pNN")
#: Head-room added to observed memory use under the ``used-*`` policies.
DEFAULT_MEM_MARGIN = 0.10

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


@dataclass(frozen=True)
class Demand:
    """What the packer packs, one row per VM.

    ``cpu_ghz`` is float32 C-contiguous (vms, steps): steps is the full resolution for
    ``timeseries`` sizing and 1 for ``peak``/``pNN``. ``mem_gb`` is float32 (vms,), hypervisor
    per-VM overhead included.
    """

    cpu_ghz: np.ndarray
    mem_gb: np.ndarray
    cpu_policy: str
    mem_policy: str


def _percentile_of(policy: str, option: str) -> float | None:
    match = _PERCENTILE.match(policy)
    if not match:
        return None
    q = float(match.group(1))
    if not 0 < q < 100:
        raise InputError(f"{option} {policy}: the percentile must lie between 0 and 100, e.g. p95")
    return q


def check_cpu_policy(policy: str) -> str:
    """Validate a ``--sizing`` value; returns it."""
    if policy in ("timeseries", "peak") or _percentile_of(policy, "--sizing") is not None:
        return policy
    raise InputError(f"--sizing {policy!r} is unknown; use timeseries, peak or pNN (e.g. p95)")


def check_mem_policy(policy: str) -> str:
    """Validate a ``--mem-sizing`` value; returns it."""
    if policy in ("allocated", "used-peak"):
        return policy
    if policy.startswith("used-") and _percentile_of(policy[5:], "--mem-sizing") is not None:
        return policy
    raise InputError(f"--mem-sizing {policy!r} is unknown; use allocated, used-peak or used-pNN (e.g. used-p95)")


def size_cpu(cpu_ghz: np.ndarray, policy: str) -> np.ndarray:
    """The CPU series (GHz) a policy packs: float32 (vms, steps or 1)."""
    check_cpu_policy(policy)
    if policy == "timeseries":
        return np.ascontiguousarray(cpu_ghz, dtype=np.float32)
    if policy == "peak":
        sized = cpu_ghz.max(axis=1, keepdims=True)
    else:
        sized = np.percentile(cpu_ghz, _percentile_of(policy, "--sizing"), axis=1, keepdims=True)
    return np.ascontiguousarray(sized, dtype=np.float32)


def daily_envelope(cpu_ghz: np.ndarray, interval_s: int, measured: np.ndarray | None = None) -> np.ndarray:
    """Each VM's daily profile envelope: at each time of day, its highest measured demand on any day.

    Step ``s`` of the result is the maximum of the steps ``s, s + d, s + 2d, ...`` of the
    window (``d`` the steps of one day, counted from the window's start; a last part-day counts
    for the times it covers), over the steps where the VM was measured: a server that started
    late or stopped early is sized from the days it ran, not from the copies of its first or
    last value that fill the rest of the grid; one measured for less than a day, at its measured
    peak at every time of day. A plan that fits the envelopes fits every measured
    day of the window, and keeps each VM's own daily peak times (its profile) while dropping the
    gaps a packer could use on one day but that another day fills. A window of a day or less,
    or a step of more than a day, is its own envelope.

    Parameters
    ----------
    cpu_ghz : (vms, steps) demand, GHz.
    interval_s : grid spacing, s.
    measured : (vms, 2) first measured step and the step after the last
        (:attr:`consolidate.models.trace.TraceSet.measured`); None: every step.

    Returns
    -------
    float32 C-contiguous (vms, min(steps, steps per day)), GHz.

    References
    ----------
    .. [1] A. Verma, G. Dasgupta, T. K. Nayak, P. De, R. Kothari, "Server workload analysis for
       power minimization using consolidation", USENIX ATC 2009 (servers' peaks recur at the
       same times of day; sizing each by one percentile ignores when they peak together).
    .. [2] benchmarks/RESULTS.md, "Month-ahead risk": plans on the envelope against percentile
       sizing, replayed on the next week and month of real traces.
    """
    cpu = np.asarray(cpu_ghz, dtype=np.float32)
    per_day = 86400 // interval_s if interval_s <= 86400 else 0
    n_steps = cpu.shape[1]
    if not per_day or n_steps <= per_day:
        return np.ascontiguousarray(cpu)
    out = np.zeros((cpu.shape[0], per_day), dtype=np.float32)
    for first in range(0, n_steps, per_day):
        day = cpu[:, first:first + per_day]
        if measured is not None:
            step = np.arange(first, first + day.shape[1])
            outside = (step < measured[:, :1]) | (step >= measured[:, 1:])
            day = np.where(outside, np.float32(0.0), day)
        np.maximum(out[:, : day.shape[1]], day, out=out[:, : day.shape[1]])
    if measured is not None:
        # Less than a day measured shows no daily profile: such a VM is sized at its peak all day.
        short = measured[:, 1] - measured[:, 0] < per_day
        out[short] = out[short].max(axis=1, keepdims=True)
    return out


def size_mem(
    allocated_gb: np.ndarray,
    used_gb: np.ndarray | None,
    policy: str,
    mem_margin: float = DEFAULT_MEM_MARGIN,
) -> np.ndarray:
    """Memory (GB) each VM is packed with before hypervisor overhead, float64 (vms,).

    Observed use never exceeds the allocation: a guest cannot use more RAM than it was given.
    """
    check_mem_policy(policy)
    allocated_gb = np.asarray(allocated_gb, dtype=np.float64)
    if policy == "allocated":
        return allocated_gb
    if used_gb is None:
        raise InputError(f"--mem-sizing {policy}: these traces carry no memory use; use --mem-sizing allocated")
    if policy == "used-peak":
        used = used_gb.max(axis=1)
    else:
        used = np.percentile(used_gb, _percentile_of(policy[5:], "--mem-sizing"), axis=1)
    return np.minimum(used.astype(np.float64) * (1.0 + mem_margin), allocated_gb)
