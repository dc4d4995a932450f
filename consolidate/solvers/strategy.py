"""Which solver a plan takes, and the loop around it: the plan's packing stage.

:func:`solve_plan` picks by the settings: a mix of host models (:mod:`~consolidate.solvers.mix`),
the validated sizing (:mod:`~consolidate.solvers.validated`), placement rules with the N+1
search (:mod:`~consolidate.solvers.constraints`, :func:`_n_plus_1`), or the plain time-series / percentile solve
(:func:`~consolidate.solvers.pipeline.solve`). Each returns a :class:`Solution`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from consolidate.errors import InputError
from consolidate.failover import n_plus_1_holds
from consolidate.models.fleet import Fleet, HostCapacity
from consolidate.models.sizing import Demand
from consolidate.models.workload import Workload
from consolidate.simulate import replay
from consolidate.solvers import clock
from consolidate.solvers.budget import Budget
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.constraints import Constraints, Packing, packing_problem, solve_constrained, vm_assignment
from consolidate.solvers.feasibility import effective_caps, violations
from consolidate.solvers.mix import HostOption, solve_mix
from consolidate.solvers.pipeline import SolveResult, solve
from consolidate.solvers.validated import lower_peaks, risk_frontier, spread, validated_solve

#: Most host counts the N+1 search may try before it gives up (the bound, the plan without N+1
#: plus one, a doubling step from there and a bisection reach a count 100 hosts away in about 15).
N_PLUS_1_ROUNDS = 16


@dataclass(frozen=True)
class Problem:
    """What a plan packs: the sized VMs, the same VMs at full resolution, their ids and threads
    (the vCPUs of the rules), and each host model's capacity (in the settings' order)."""

    sized: Demand
    workload: Workload
    server_ids: list[str]
    threads: np.ndarray
    capacities: tuple[HostCapacity, ...]


@dataclass(frozen=True)
class Solution:
    """A packing of the problem's VMs and how it was found.

    ``result``: the placement (over the problem's VMs) with its bound and solver status;
    ``fleet``: the hosts it uses; ``validation``: summary.json's ``validation`` (validated sizing
    only); ``frontier``: the hosts-against-risk rows; ``mix``: the mix's candidates;
    ``n_plus_1``: summary.json's N+1 figures under ``constraints`` (None without rules;
    ``n_plus_1_rounds`` 0 without N+1; see :func:`_n_plus_1`).
    """

    result: SolveResult
    fleet: Fleet
    validation: dict | None = None
    frontier: list | None = None
    mix: dict | None = None
    n_plus_1: dict | None = None


def solve_plan(problem: Problem, settings, budget: Budget) -> Solution:
    """Pack ``problem`` the way ``settings`` ask (module docstring), within ``budget``."""
    if settings.is_mix:
        return _mix(problem, settings, budget)
    if settings.validated and not settings.rules.active:
        result, validation = validated_solve(
            problem.workload, problem.capacities[0], settings.risk_pct, budget, with_frontier=settings.frontier,
        )
        return Solution(result, Fleet.uniform(problem.capacities[0], result.n_hosts), validation,
                        frontier=validation.pop("frontier", None))
    if settings.rules.active:
        result, n_plus_1 = _constrained(problem, settings, budget)
    else:
        capacity = problem.capacities[0]
        result = solve(problem.sized.cpu_ghz, problem.sized.mem_gb, capacity.cpu_plan_ghz, capacity.mem_usable_gb,
                       seed=budget.seed, time_limit_s=budget.remaining_s())
        n_plus_1 = None
    frontier = risk_frontier(problem.workload, problem.capacities[0], result.n_hosts) if settings.frontier else None
    validation = _skipped(
        settings, result.n_hosts, "placement rules are given (--constraints, --max-vms-per-host, --vcpu-ratio or "
        "--n-plus-1): the plan is the constrained time-series plan",
    )
    return Solution(result, Fleet.uniform(problem.capacities[0], result.n_hosts), validation, frontier,
                    n_plus_1=n_plus_1)


def _skipped(settings, n_hosts: int, why: str) -> dict | None:
    """The validation entry of a validated plan whose count search was skipped."""
    if not settings.validated:
        return None
    return {"risk_pct": settings.risk_pct, "timeseries_hosts": n_hosts, "hosts": n_hosts, "skipped": why}


def _mix(problem: Problem, settings, budget: Budget) -> Solution:
    """A plan on a mix of host models at the time-series level; its lower bound is on hosts of
    the largest CPU and memory of the models."""
    options = [HostOption.of(c) for c in problem.capacities]
    mix = solve_mix(
        problem.sized.cpu_ghz, problem.sized.mem_gb, options, objective=settings.objective,
        interval_s=problem.workload.interval_s, seed=budget.seed, time_limit_s=budget.remaining_s(),
    )
    n_hosts = mix.n_hosts
    result = SolveResult(
        assignment=mix.assignment.astype(np.int64), n_hosts=n_hosts, lower_bound=mix.lower_bound,
        bound_resource="largest models", status="optimal" if n_hosts == mix.lower_bound else "feasible",
        gap_hosts=n_hosts - mix.lower_bound, methods=[f"mix:{settings.objective}"], time_s=mix.time_s,
        stopped_by="bound" if n_hosts == mix.lower_bound else "work budget",
    )
    summary = {"objective": settings.objective, "value": mix.value, "models": mix.counts(options),
               "candidates": mix.candidates}
    validation = _skipped(
        settings, n_hosts, "several host models (--host A,B): the plan is the mix solver's time-series plan "
        "(the validated count search is made for one model)",
    )
    return Solution(result, Fleet(problem.capacities, mix.host_model.astype(np.int64)), validation, mix=summary)


def _constrained(problem: Problem, settings, budget: Budget) -> tuple[SolveResult, dict]:
    """The plan under the placement rules, and summary.json's N+1 figures (``n_plus_1_rounds``
    0 without N+1; :func:`_n_plus_1` with it)."""
    rules = settings.rules.restricted(problem.server_ids)
    capacity = problem.capacities[0]
    first = solve_constrained(
        problem.sized.cpu_ghz, problem.sized.mem_gb, capacity.cpu_plan_ghz, capacity.mem_usable_gb, rules,
        problem.server_ids, problem.threads, capacity.model.cores, seed=budget.seed, time_limit_s=settings.time_limit_s,
    )
    if not rules.n_plus_1 or first.n_hosts == 0:
        return first, {"n_plus_1_rounds": 0}
    return _n_plus_1(problem, rules, first)


@dataclass(frozen=True)
class _Layouts:
    """What the N+1 search lays out: the placeable items of the rules' packing problem, the first
    (plain) plan's host of each, and the effective capacities (GHz, GB) a layout must keep."""

    problem: Problem
    rules: Constraints
    packing: Packing
    placeable: np.ndarray
    first_items: np.ndarray
    first_hosts: int
    caps: tuple[float, float]

    def layouts(self, n_hosts: int):
        """Item placements on ``n_hosts`` hosts that keep every rule and capacity, best first, each
        as (name, item hosts): ``spread``, the items spread (each to the host left with the lowest
        peak, then the highest peaks lowered), which leaves head-room on every host; with more hosts
        than the first plan, ``lowered``, the first plan with its highest peaks moved onto the added
        hosts, and ``standby``, the first plan with the added hosts left empty (vSphere HA's dedicated
        failover hosts: a failed host's VMs, within the target on it, are within it on an empty one)."""
        items, items_gb = self.packing.items[self.placeable], self.packing.items_gb[self.placeable]
        cpu_cap, mem_cap = self.caps
        first = self.first_items[self.placeable]
        candidates = [("spread", lambda: lower_peaks(items, items_gb, spread(items, items_gb, n_hosts, cpu_cap, mem_cap),
                                                      n_hosts, mem_cap))]
        if n_hosts > self.first_hosts:
            candidates += [("lowered", lambda: lower_peaks(items, items_gb, first, n_hosts, mem_cap)), ("standby", lambda: first)]
        if self.packing.compiled.item_pin.max(initial=-1) >= n_hosts:
            return
        for name, make in candidates:
            placed = make()
            if violations(items, items_gb, placed, n_hosts, cpu_cap, mem_cap)[0].size:
                continue
            out = np.full(self.packing.compiled.n_items, -1, dtype=np.int64)
            out[self.placeable] = placed
            yield name, out

    def holding(self, n_hosts: int) -> tuple[str, np.ndarray] | None:
        """The first layout on ``n_hosts`` hosts whose every single-host failure holds, as (name, VM
        hosts); None when none does."""
        p, capacity = self.problem, self.problem.capacities[0]
        for name, items in self.layouts(n_hosts):
            assignment = vm_assignment(self.packing, items, n_hosts, self.rules, p.server_ids, p.threads,
                                       capacity.model.cores)
            fleet = Fleet.uniform(capacity, n_hosts)
            if n_plus_1_holds(p.workload, assignment, replay(p.workload, assignment, fleet)):
                return name, assignment
        return None


def n_plus_1_bound(problem: Problem, placed: np.ndarray, rules_bound: int, rules_resource: str) -> tuple[int, str]:
    """A lower bound on the hosts of any plan that holds every single-host failure, and what sets it.

    After any one failure the other ``n - 1`` hosts hold every VM within their CPU target and
    memory: a packing of the VMs on ``n - 1`` hosts, so ``n >= 1 +`` its lower bound
    (:func:`~consolidate.solvers.bounds.lower_bounds`: ``max_t`` total CPU over a host's target,
    total memory over its usable memory, the large VMs). The CPU part holds where the plan is made
    on the full series (a plan sized by one figure per VM may be over its target before any
    failure, and the failover replay counts only the intervals a failure adds); the bound of the
    rules (``rules_bound``) holds for any plan. ``placed`` (vms,) bool: the VMs the plan places.
    """
    sized = problem.sized
    full_series = sized.cpu_ghz.shape[1] == problem.workload.cpu_ghz.shape[1]
    cpu = sized.cpu_ghz[placed] if full_series else np.zeros((int(placed.sum()), 1), dtype=np.float32)
    capacity = problem.capacities[0]
    survivors = lower_bounds(np.ascontiguousarray(cpu), sized.mem_gb[placed], capacity.cpu_plan_ghz, capacity.mem_usable_gb)
    if rules_bound > 1 + survivors.value:
        return rules_bound, rules_resource
    return 1 + survivors.value, survivors.resource


def _n_plus_1(problem: Problem, rules: Constraints, first: SolveResult) -> tuple[SolveResult, dict]:
    """The fewest hosts found whose every single-host failure holds (:func:`consolidate.failover.n_plus_1_holds`),
    and summary.json's N+1 figures.

    Counts are tried from the N+1 lower bound (:func:`n_plus_1_bound`) up: the bound, then one host
    more than the plan without N+1, then doubling the step from the bound, then bisecting between
    the highest count that failed and the lowest that held. At each count the layouts of
    :meth:`_Layouts.layouts` are replayed at full resolution and every failure simulated; the
    first that holds is the plan (the failover replay restarts a failed host's VMs wherever they
    fit, as vSphere HA does, not held to the placement rules). A count is one round; ``N_PLUS_1_ROUNDS`` rounds, or a count
    past one host per VM, without success is an error. The figures: ``n_plus_1_rounds``,
    ``n_plus_1_hosts``, ``n_plus_1_lower_bound``, ``n_plus_1_bound_resource``,
    ``n_plus_1_gap_hosts``, ``hosts_without_n_plus_1`` and ``lower_bound_without_n_plus_1`` (the
    rules' plan before N+1 and its bound: an N+1 plan of ``n`` hosts is a plan of ``n - 1`` once a
    host fails, so most of a gap can be that plan's), ``n_plus_1_counts_tried`` (each count and
    whether it held) and ``n_plus_1_layout``.
    """
    started = clock.now()
    p, capacity = problem, problem.capacities[0]
    packing = packing_problem(p.sized.cpu_ghz, p.sized.mem_gb, capacity.cpu_plan_ghz, capacity.mem_usable_gb, rules,
                              p.server_ids, p.threads, capacity.model.cores)
    item_of = packing.compiled.item_of
    first_items = np.full(packing.compiled.n_items, -1, dtype=np.int32)
    first_items[item_of] = first.assignment
    placeable = np.flatnonzero(first_items >= 0)
    layouts = _Layouts(p, rules, packing, placeable, first_items, first.n_hosts,
                       effective_caps(capacity.cpu_plan_ghz, capacity.mem_usable_gb))
    bound, resource = n_plus_1_bound(p, first.assignment >= 0, first.lower_bound, first.bound_resource)
    tried: dict[int, tuple[str, np.ndarray] | None] = {}

    def holds(n_hosts: int) -> bool:
        if len(tried) == N_PLUS_1_ROUNDS or n_hosts > placeable.size + 1:
            # Sized by one figure, a VM may exceed a host's target on its own at its peak: no count helps.
            hint = "" if p.sized.cpu_ghz.shape[1] == p.workload.cpu_ghz.shape[1] else ", size by --sizing timeseries"
            raise InputError(
                f"--n-plus-1: no plan of {capacity.model.name} hosts survives every single-host failure after "
                f"{len(tried)} host counts (up to {max(tried)}); choose a larger host{hint} or drop --n-plus-1"
            )
        tried[n_hosts] = layouts.holding(n_hosts)
        return tried[n_hosts] is not None

    failed, held = bound - 1, None
    for n_hosts in (bound, max(first.n_hosts + 1, bound + 1)):
        if holds(n_hosts):
            held = n_hosts
            break
        failed = n_hosts
    step = max(1, failed - bound + 1)
    while held is None:
        n_hosts = failed + step
        if holds(n_hosts):
            held = n_hosts
        else:
            failed, step = n_hosts, 2 * step
    while held - failed > 1:
        middle = (failed + held) // 2
        if holds(middle):
            held = middle
        else:
            failed = middle
    layout, assignment = tried[held]
    result = replace(
        first, assignment=assignment, n_hosts=held, lower_bound=bound, bound_resource=resource,
        status="optimal" if held == bound else "feasible", gap_hosts=held - bound,
        methods=list(first.methods) + [f"n+1@{n}" + ("+" if tried[n] else "") for n in sorted(tried)] + [f"n+1:{layout}"],
        stopped_by="bound" if held == bound else "work budget", time_s=first.time_s + clock.now() - started,
    )
    figures = {
        "n_plus_1_rounds": len(tried), "n_plus_1_hosts": held, "n_plus_1_lower_bound": bound,
        "n_plus_1_bound_resource": resource, "n_plus_1_gap_hosts": held - bound,
        "hosts_without_n_plus_1": first.n_hosts, "lower_bound_without_n_plus_1": first.lower_bound,
        "n_plus_1_layout": layout,
        "n_plus_1_counts_tried": [{"hosts": n, "holds": tried[n] is not None} for n in sorted(tried)],
    }
    return result, figures
