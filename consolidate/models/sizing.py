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
