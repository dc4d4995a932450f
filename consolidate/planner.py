"""The orchestrator: traces -> VMs -> packing -> replay -> figures.

``plan()`` calls the stages in turn, the way pvlib's ``ModelChain.run_model`` calls its models;
the CLI and a notebook user get the same :class:`Plan`. Each stage lives in a module of its own:

1. demand: :func:`consolidate.estate.estate_vms` (every server as a VM) and
   :func:`consolidate.models.sizing.size_cpu` (what the packer packs);
2. packing: :func:`consolidate.solvers.strategy.solve_plan` (which solver, within a budget);
3. replay: :func:`consolidate.simulate.replay` on the full-resolution traces;
4. figures: :func:`consolidate.figures.summary`, computed once from the finished plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from consolidate import figures
from consolidate.estate import VMs, estate_vms
from consolidate.holdout import split_holdout
from consolidate.models import hypervisor
from consolidate.models.fleet import Fleet, HostCapacity, host_capacity
from consolidate.models.hardware import HostModel
from consolidate.models.sizing import Demand, size_cpu
from consolidate.models.trace import TraceSet
from consolidate.report.views import PlanViews
from consolidate.settings import Settings, make_settings
from consolidate.simulate import Replay, replay
from consolidate.solvers import clock
from consolidate.solvers.budget import Budget
from consolidate.solvers.constraints import check_servers
from consolidate.solvers.pipeline import SolveResult
from consolidate.solvers.strategy import Problem, Solution, solve_plan


@dataclass(frozen=True)
class Plan(PlanViews):
    """A consolidation plan and its replay: the tables and figures every report is made from.

    ``traces``: the window planned on (the training part with a hold-out); ``held_out``: the
    held-out part, or None; ``vms``: every server as a VM; ``packed``: (servers,) bool, the
    servers the plan places (all but retired idle ones); ``sized``: the packed VMs as the packer
    saw them; ``solution``: the packing; ``assignment``: (servers,) host index, -1 unplaced;
    ``replay``: the plan replayed on ``traces``; ``compile_s``: seconds numba spent compiling
    (or loading) kernels while the plan was made, which the search's time limit does not count.
    """

    traces: TraceSet
    settings: Settings
    vms: VMs
    packed: np.ndarray
    sized: Demand
    solution: Solution
    assignment: np.ndarray
    replay: Replay
    held_out: TraceSet | None
    compile_s: float

    @property
    def result(self) -> SolveResult:
        return self.solution.result

    @property
    def fleet(self) -> Fleet:
        return self.solution.fleet

    @property
    def hosts_after(self) -> int:
        return self.fleet.n_hosts

    @property
    def status(self) -> np.ndarray:
        """(servers,) ``placed``, ``retire-candidate`` or ``unplaceable``."""
        status = np.where(self.vms.idle, "retire-candidate", "placed").astype(object)
        status[self.packed & (self.assignment < 0)] = "unplaceable"
        return status

    def host_ids(self) -> list[str]:
        return self.fleet.host_ids()

    def host_models(self) -> list[HostModel]:
        """Each target host's model, in host order."""
        return self.fleet.models()

    def model_counts(self) -> dict[str, int]:
        """Hosts per model name, in the order the models were given (models with no host left out)."""
        return self.fleet.counts()

    @cached_property
    def summary(self) -> dict:
        """The headline figures (the content of summary.json), computed once."""
        return figures.summary(self)

    def placement_frame(self) -> pd.DataFrame:
        """One row per source server: where it goes and what it is packed as."""
        return figures.placement_frame(self)

    def hosts_frame(self) -> pd.DataFrame:
        """One row per target host: capacity, planned and replayed load."""
        return figures.hosts_frame(self)


def capacities(settings: Settings) -> tuple[HostCapacity, ...]:
    """What a host of each of the settings' models offers."""
    profile = hypervisor.get_profile(settings.hypervisor)
    return tuple(
        host_capacity(m, profile, settings.smt_gain, settings.cpu_target, settings.mem_target) for m in settings.models
    )


def plan(traces: TraceSet, settings: Settings | None = None, **options) -> Plan:
    """Right-size, pack and replay ``traces`` on hosts of one model, or of a mix of models.

    ``settings`` are ready :class:`Settings`; without them, ``options`` (the keywords of
    :func:`consolidate.make_settings`: ``host``, ``sizing``, ``cpu_target``, ``holdout``,
    ``growth``, ...) make them.
    """
    if settings is None:
        settings = make_settings(**options)
    elif options:
        raise TypeError(f"plan() takes settings or their options, not both: {', '.join(sorted(options))}")
    if settings.rules.active:
        check_servers(settings.rules, traces.server_ids)
    traces, held_out = split_holdout(traces, settings)
    return _pack(traces, held_out, estate_vms(traces, settings, settings.host_model), settings)


#: The settings that make the VMs (demand, right-sizing, memory): a re-plan keeps them.
VM_SETTINGS = ("host", "smt_gain", "hypervisor", "mem_sizing", "mem_margin")


def replan(p: Plan, **changes) -> Plan:
    """``p`` planned again on its traces and its VMs with ``changes`` to its settings (the CPU
    target, the search's budget, ...), without a hold-out; the VMs are ``p``'s, not made again."""
    kept = sorted(set(changes) & set(VM_SETTINGS))
    if kept:
        raise ValueError(f"replan() keeps the plan's VMs; {', '.join(kept)} would change them: call plan()")
    return _pack(p.traces, None, p.vms, replace(p.settings, holdout=None, train_until=None, **changes))


def _pack(traces: TraceSet, held_out: TraceSet | None, vms: VMs, settings: Settings) -> Plan:
    """Size, pack and replay the VMs ``vms`` of ``traces``."""
    packed = ~vms.idle if settings.retire_idle else np.ones(traces.n_servers, dtype=bool)
    workload = vms.workload.rows(packed)
    sized = Demand(
        cpu_ghz=size_cpu(workload.cpu_ghz, "timeseries" if settings.validated else settings.sizing),
        mem_gb=workload.mem_gb.astype(np.float32), cpu_policy=settings.sizing, mem_policy=settings.mem_sizing,
    )
    problem = Problem(sized, workload, [traces.server_ids[i] for i in np.flatnonzero(packed)],
                      traces.inventory.threads[packed], capacities(settings))
    compiled_before_s = clock.compile_s()
    solution = solve_plan(problem, settings, Budget(settings.seed, settings.time_limit_s))
    assignment = np.full(traces.n_servers, -1, dtype=np.int64)
    assignment[packed] = solution.result.assignment
    rep = replay(vms.workload, assignment, solution.fleet)
    return Plan(traces, settings, vms, packed, sized, solution, assignment, rep, held_out,
                clock.compile_s() - compiled_before_s)
