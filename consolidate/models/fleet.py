"""The target hosts of a plan: each host's model and what it offers.

:class:`HostCapacity` is one model's capacity under a plan's settings, computed once;
:class:`Fleet` is the plan's hosts, each of one model. The replay, the failover replay, the
growth what-if and the solvers take a ``Fleet`` (or one ``HostCapacity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from consolidate.errors import InputError
from consolidate.models.hardware import HostModel, host_cpu_ghz
from consolidate.models.hypervisor import HypervisorProfile


@dataclass(frozen=True)
class HostCapacity:
    """What one host of ``model`` offers a plan.

    ``cpu_full_ghz``: effective GHz after the hypervisor's CPU overhead, before the target;
    ``cpu_target``: the share a plan may use (0-1); ``mem_usable_gb``: RAM x memory target less
    the hypervisor's host reserve, GB.
    """

    model: HostModel
    cpu_full_ghz: float
    cpu_target: float
    mem_usable_gb: float

    @property
    def cpu_plan_ghz(self) -> float:
        """The CPU a plan may fill, GHz (full capacity x target)."""
        return self.cpu_full_ghz * self.cpu_target


def host_capacity(
    model: HostModel, profile: HypervisorProfile, smt_gain: float, cpu_target: float, mem_target: float,
) -> HostCapacity:
    """The capacity of a host of ``model`` under ``profile``; an :class:`InputError` if no memory is left."""
    mem_usable_gb = model.ram_gb * mem_target - profile.host_reserve_gb(model.ram_gb)
    if mem_usable_gb <= 0:
        raise InputError(
            f"host {model.name}: {model.ram_gb} GB x mem target {mem_target} leaves nothing after the "
            f"{profile.name} reserve; choose a larger host or a higher --mem-target"
        )
    return HostCapacity(model, host_cpu_ghz(model, smt_gain, profile.cpu_overhead), cpu_target, mem_usable_gb)


@dataclass(frozen=True)
class Fleet:
    """A plan's hosts: ``model_index`` (hosts,) picks each host's entry of ``capacities`` (one per model)."""

    capacities: tuple[HostCapacity, ...]
    model_index: np.ndarray

    @classmethod
    def uniform(cls, capacity: HostCapacity, n_hosts: int) -> "Fleet":
        """``n_hosts`` hosts of one model."""
        return cls((capacity,), np.zeros(n_hosts, dtype=np.int64))

    @property
    def n_hosts(self) -> int:
        return len(self.model_index)

    @property
    def cpu_target(self) -> float:
        return self.capacities[0].cpu_target

    def _per_host(self, name: str) -> np.ndarray:
        values = np.array([getattr(c, name) for c in self.capacities], dtype=np.float64)
        return np.ascontiguousarray(values[self.model_index])

    @cached_property
    def cpu_full_ghz(self) -> np.ndarray:
        """Each host's full effective CPU, GHz (hosts,)."""
        return self._per_host("cpu_full_ghz")

    @cached_property
    def cpu_target_ghz(self) -> np.ndarray:
        """Each host's CPU at the target, GHz (hosts,)."""
        return self._per_host("cpu_plan_ghz")

    @cached_property
    def mem_usable_gb(self) -> np.ndarray:
        """Each host's usable memory, GB (hosts,)."""
        return self._per_host("mem_usable_gb")

    def models(self) -> list[HostModel]:
        """Each host's model, in host order."""
        return [self.capacities[m].model for m in self.model_index]

    def counts(self) -> dict[str, int]:
        """Hosts per model name, in the order of ``capacities`` (models with no host left out)."""
        counts = np.bincount(self.model_index, minlength=len(self.capacities))
        return {c.model.name: int(n) for c, n in zip(self.capacities, counts) if n}

    def label(self) -> str:
        """Hosts per model as text, e.g. ``3 x dell-r6515 + 2 x hpe-dl380-gen10plus``."""
        return " + ".join(f"{n} x {name}" for name, n in self.counts().items())

    def host_ids(self) -> list[str]:
        """``host-001``, ``host-002``, ... (at least three digits)."""
        width = max(3, len(str(self.n_hosts)))
        return [f"host-{i + 1:0{width}d}" for i in range(self.n_hosts)]
