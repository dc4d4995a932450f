"""Small builders the tests share: hosts of a given capacity and replays from plain arrays."""

from __future__ import annotations

import numpy as np

from consolidate.models.fleet import Fleet, HostCapacity
from consolidate.models.hardware import HostModel, linear_curve_w
from consolidate.models.workload import Workload
from consolidate.simulate import Replay, replay


def capacity(cpu_full_ghz: float, cpu_target: float, mem_usable_gb: float, name: str = "test-host") -> HostCapacity:
    """A host offering ``cpu_full_ghz`` (full) at ``cpu_target`` and ``mem_usable_gb``."""
    model = HostModel(name, 1, 1, float(cpu_full_ghz), float(mem_usable_gb), linear_curve_w(100.0, 200.0))
    return HostCapacity(model, float(cpu_full_ghz), float(cpu_target), float(mem_usable_gb))


def fleet(n_hosts: int, cpu_full_ghz, cpu_target: float, mem_usable_gb) -> Fleet:
    """``n_hosts`` hosts; a capacity given per host makes one model per host."""
    full = np.broadcast_to(np.asarray(cpu_full_ghz, dtype=np.float64), (n_hosts,))
    usable = np.broadcast_to(np.asarray(mem_usable_gb, dtype=np.float64), (n_hosts,))
    if np.ndim(cpu_full_ghz) == 0 and np.ndim(mem_usable_gb) == 0:
        return Fleet.uniform(capacity(float(cpu_full_ghz), cpu_target, float(mem_usable_gb)), n_hosts)
    caps = tuple(capacity(f, cpu_target, u, f"test-host-{h}") for h, (f, u) in enumerate(zip(full, usable)))
    return Fleet(caps, np.arange(n_hosts, dtype=np.int64))


def workload(cpu_ghz, mem_gb, interval_s: int = 300, mem_used_gb=None) -> Workload:
    used = None if mem_used_gb is None else np.ascontiguousarray(mem_used_gb, dtype=np.float32)
    return Workload(np.ascontiguousarray(cpu_ghz, dtype=np.float32), np.asarray(mem_gb, dtype=np.float64), int(interval_s), used)


def replay_on(cpu_ghz, assignment, n_hosts, cpu_full_ghz, cpu_target, mem_gb, mem_usable_gb, interval_s,
              mem_used_gb=None) -> Replay:
    """:func:`consolidate.simulate.replay` from plain arrays and capacities."""
    return replay(workload(cpu_ghz, mem_gb, interval_s, mem_used_gb), assignment,
                  fleet(n_hosts, cpu_full_ghz, cpu_target, mem_usable_gb))


def replay_of(load, cpu_full_ghz, cpu_target, mem_gb, mem_usable_gb, interval_s, mem_used_gb=None) -> Replay:
    """A :class:`Replay` of host load ``load`` (hosts, steps) given directly."""
    load = np.asarray(load, dtype=np.float64)
    return Replay(load, fleet(load.shape[0], cpu_full_ghz, cpu_target, mem_usable_gb), np.asarray(mem_gb, dtype=np.float64),
                  int(interval_s), mem_used_gb)
