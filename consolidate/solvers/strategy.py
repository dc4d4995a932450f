"""Which solver a plan takes, and the loop around it: the plan's packing stage.

:func:`solve_plan` picks by the settings: a mix of host models (:mod:`~consolidate.solvers.mix`),
the validated sizing (:mod:`~consolidate.solvers.validated`), placement rules with the N+1
re-plans (:mod:`~consolidate.solvers.constraints`), or the plain time-series / percentile solve
(:func:`~consolidate.solvers.pipeline.solve`). Each returns a :class:`Solution`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from consolidate.errors import InputError
from consolidate.failover import failover
from consolidate.models.fleet import Fleet, HostCapacity
from consolidate.models.sizing import Demand
from consolidate.models.workload import Workload
from consolidate.simulate import replay
from consolidate.solvers.budget import Budget
from consolidate.solvers.constraints import solve_constrained
from consolidate.solvers.mix import HostOption, solve_mix
from consolidate.solvers.pipeline import SolveResult, solve
from consolidate.solvers.validated import risk_frontier, validated_solve

#: Most re-plans the N+1 rule may take, each with less capacity per host, before it gives up.
N_PLUS_1_ROUNDS = 12


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
    ``n_plus_1_rounds``: the re-plans the N+1 rule took (None without rules).
    """

    result: SolveResult
    fleet: Fleet
    validation: dict | None = None
    frontier: list | None = None
    mix: dict | None = None
    n_plus_1_rounds: int | None = None


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
        result, rounds = _constrained(problem, settings, budget)
    else:
        capacity = problem.capacities[0]
        result = solve(problem.sized.cpu_ghz, problem.sized.mem_gb, capacity.cpu_plan_ghz, capacity.mem_usable_gb,
                       seed=budget.seed, time_limit_s=budget.remaining_s())
        rounds = None
    frontier = risk_frontier(problem.workload, problem.capacities[0], result.n_hosts) if settings.frontier else None
    validation = _skipped(
        settings, result.n_hosts, "placement rules are given (--constraints, --max-vms-per-host, --vcpu-ratio or "
        "--n-plus-1): the plan is the constrained time-series plan",
    )
    return Solution(result, Fleet.uniform(problem.capacities[0], result.n_hosts), validation, frontier,
                    n_plus_1_rounds=rounds)


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


def _constrained(problem: Problem, settings, budget: Budget) -> tuple[SolveResult, int]:
    """The plan under the placement rules, and how many re-plans N+1 took (0 without it).

    N+1: the plan is replayed at full resolution and every single-host failure is simulated
    (:func:`consolidate.failover.failover`); while one overloads a survivor, the plan is made
    again with each host's plannable CPU and memory cut by the share one host of the plan
    represents (``(n - 1) / n``, between 5 % and 50 % a round). The lower bound reported is
    that of the rules at full capacity (a bound for any plan, N+1 or not). A round that would leave a
    server without any host, or ``N_PLUS_1_ROUNDS`` rounds without success, is an error.
    """
    rules = settings.rules.restricted(problem.server_ids)
    capacity = problem.capacities[0]
    sized = problem.sized
    factor, first, first_unplaced, spent_s = 1.0, None, None, 0.0
    for rounds in range(N_PLUS_1_ROUNDS):
        result = solve_constrained(
            sized.cpu_ghz, sized.mem_gb, capacity.cpu_plan_ghz * factor, capacity.mem_usable_gb * factor, rules,
            problem.server_ids, problem.threads, capacity.model.cores, seed=budget.seed,
            time_limit_s=max(settings.time_limit_s - spent_s, 0.05 * settings.time_limit_s),
        )
        spent_s += result.time_s
        unplaced = result.assignment < 0
        if first_unplaced is None:
            first, first_unplaced = result, unplaced
        elif (unplaced & ~first_unplaced).any():
            server = problem.server_ids[int(np.flatnonzero(unplaced & ~first_unplaced)[0])]
            raise InputError(
                f"--n-plus-1: keeping room for a failed host leaves server {server} no host of model "
                f"{capacity.model.name}; choose a larger host or drop --n-plus-1"
            )
        if not rules.n_plus_1 or result.n_hosts == 0:
            return result, 0
        fleet = Fleet.uniform(capacity, result.n_hosts)
        rep = replay(problem.workload, result.assignment, fleet)
        if result.n_hosts > 1 and not failover(problem.workload, result.assignment, rep)["failures_overloading"]:
            # The bound of a round with cut capacity bounds nothing: keep the full-capacity one.
            bound = first.lower_bound
            return replace(result, lower_bound=bound, bound_resource=first.bound_resource,
                           status="optimal" if result.n_hosts == bound else "feasible",
                           gap_hosts=result.n_hosts - bound, time_s=spent_s), rounds
        factor *= float(np.clip((result.n_hosts - 1) / max(result.n_hosts, 1), 0.5, 0.95))
    raise InputError(
        f"--n-plus-1: no plan survives every single-host failure after {N_PLUS_1_ROUNDS} re-plans; "
        "choose a larger host or drop --n-plus-1"
    )
