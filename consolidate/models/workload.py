"""Every source server as a VM: its full-resolution CPU demand and the memory it is planned with.

A :class:`Workload` is what the replay, the failover replay and the validated sizing take; the
packer takes its sized form (:class:`consolidate.models.sizing.Demand`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.models.trace import shift_spans


@dataclass(frozen=True)
class Workload:
    """VMs x time.

    ``cpu_ghz``: float32 C-contiguous (vms, steps) CPU demand, effective GHz; ``mem_gb``: float64
    (vms,) planned memory, hypervisor overhead included, GB; ``interval_s``: grid spacing, s;
    ``mem_used_gb``: float32 (vms, steps) memory in use, GB, where the traces carry it;
    ``measured``: int64 (vms, 2) the steps from each VM's first to after its last measured sample
    (:attr:`consolidate.models.trace.TraceSet.measured`), None when all are measured.
    """

    cpu_ghz: np.ndarray
    mem_gb: np.ndarray
    interval_s: int
    mem_used_gb: np.ndarray | None = None
    measured: np.ndarray | None = None

    @property
    def n_vms(self) -> int:
        return self.cpu_ghz.shape[0]

    @property
    def n_steps(self) -> int:
        return self.cpu_ghz.shape[1]

    def rows(self, index: np.ndarray) -> "Workload":
        """The VMs ``index`` selects (indices or a mask), in that order."""
        index = np.asarray(index)
        every = index.all() if index.dtype == bool else np.array_equal(index, np.arange(self.n_vms))
        if every:
            return self  # every VM, in order: no copy of the whole matrix
        used = None if self.mem_used_gb is None else np.ascontiguousarray(self.mem_used_gb[index])
        measured = None if self.measured is None else self.measured[index]
        return Workload(np.ascontiguousarray(self.cpu_ghz[index]), self.mem_gb[index], self.interval_s, used, measured)

    def steps(self, start: int, stop: int | None = None) -> "Workload":
        """The time steps ``start`` to ``stop`` (exclusive)."""
        used = None if self.mem_used_gb is None else np.ascontiguousarray(self.mem_used_gb[:, start:stop])
        cpu = np.ascontiguousarray(self.cpu_ghz[:, start:stop])
        first, end, _ = slice(start, stop).indices(self.n_steps)
        measured = shift_spans(self.measured, first, end)
        return Workload(cpu, self.mem_gb, self.interval_s, used, measured)
