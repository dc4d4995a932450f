"""Heterogeneous targets: the mix of host models that packs the VMs best by an objective.

Objectives: ``hosts`` (fewest hosts; ties go to the lower capital cost), ``cost`` (lowest
capital cost, the sum of the models' ``price_usd``) and ``energy`` (lowest IT energy a year,
each host on its own SPECpower curve at its load, the load being the packed series over the
host's full CPU capacity).

Method (greedy, by model mixes):

1. every model alone: :func:`consolidate.solvers.pipeline.solve` packs the VMs on hosts of that model
   (a model too small for some VM that another model holds is no candidate alone);
2. from each such plan and for each other model, the emptiest ``k`` hosts (``k = 1 ..
   TAIL_HOSTS``) whose VMs all fit the other model are emptied and their VMs packed on hosts
   of that model (the tail of a plan is often better served by smaller or cheaper hosts);
3. the candidate with the best objective wins; every candidate is reported.

What is optimal and what is not: each homogeneous part is packed by the full solver (at
or near its own lower bound), but the split between models is greedy, not searched: a mix
whose models share the VMs in other proportions than "bulk + tail" is not tried, so the
result is the best of the candidates, not a proven optimum of the mixed problem.
``lower_bound`` is a valid bound on the host count of any mix: the bounds of the problem on
hosts with the largest CPU and the largest memory of all the models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.errors import InputError
from consolidate.models import power
from consolidate.models.fleet import HostCapacity
from consolidate.options import OBJECTIVES
from consolidate.solvers import clock
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.feasibility import effective_caps, host_loads
from consolidate.solvers.pipeline import solve

#: Hosts of a single-model plan (the emptiest) that step 2 re-packs on other models.
TAIL_HOSTS = 2


@dataclass(frozen=True)
class HostOption:
    """One host model as the mix sees it.

    ``cpu_cap_ghz`` and ``mem_cap_gb`` are the plannable capacities (targets applied);
    ``cpu_full_ghz`` the full CPU capacity (the energy load is load / full); ``price_usd`` the
    capital cost of one host; ``power_curve_w`` the 11-point SPECpower curve, W.
    """

    name: str
    cpu_cap_ghz: float
    mem_cap_gb: float
    cpu_full_ghz: float
    price_usd: float
    power_curve_w: tuple[float, ...]

    @classmethod
    def of(cls, capacity: HostCapacity) -> "HostOption":
        m = capacity.model
        return cls(m.name, capacity.cpu_plan_ghz, capacity.mem_usable_gb, capacity.cpu_full_ghz, m.price_usd,
                   tuple(m.power_curve_w))


@dataclass(frozen=True)
class MixResult:
    """The chosen mix: ``assignment`` (vms,) host index or -1 (fits no model), ``host_model``
    (hosts,) index into the options, the objective's ``value`` (hosts, USD or kWh/yr), the
    host-count ``lower_bound`` and every ``candidates`` row tried (``models``: hosts per model
    name, and the objective's value under its name)."""

    assignment: np.ndarray
    host_model: np.ndarray
    objective: str
    value: float
    lower_bound: int
    candidates: list[dict]
    time_s: float

    @property
    def n_hosts(self) -> int:
        return int(self.host_model.size)

    def counts(self, options: list[HostOption]) -> dict[str, int]:
        """Hosts per model name (models with no host left out)."""
        names, counts = np.unique(self.host_model, return_counts=True)
        return {options[int(m)].name: int(c) for m, c in zip(names, counts)}


def energy_kwh_per_year(
    load_ghz: np.ndarray, host_model: np.ndarray, options: list[HostOption], interval_s: float
) -> float:
    """IT energy of the hosts, annualised (kWh/yr): each host on its model's curve at
    ``load_ghz`` (hosts, T) over its model's full CPU capacity."""
    if host_model.size == 0:
        return 0.0
    full = np.array([options[m].cpu_full_ghz for m in host_model])
    curves = np.array([options[m].power_curve_w for m in host_model], dtype=np.float64)
    util = power.host_load_fraction(load_ghz, full)
    energy_wh = power.energy_wh(curves, util, interval_s).sum()
    return float(power.annualise(energy_wh / 1000.0, load_ghz.shape[1] * interval_s / 3600.0))


def objective_value(
    objective: str, cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, host_model: np.ndarray,
    options: list[HostOption], interval_s: float,
) -> float:
    """The objective of a plan: hosts, capital cost (USD) or IT energy (kWh/yr)."""
    if objective == "hosts":
        return float(host_model.size)
    if objective == "cost":
        return float(sum(options[m].price_usd for m in host_model))
    load_ghz, _ = host_loads(cpu_ghz, mem_gb, assignment.astype(np.int32), host_model.size)
    return energy_kwh_per_year(load_ghz, host_model, options, interval_s)


def _check(options: list[HostOption], objective: str) -> None:
    if objective not in OBJECTIVES:
        raise InputError(f"--objective {objective!r}: use one of {', '.join(OBJECTIVES)}")
    if not options:
        raise InputError("give at least one host model")
    if objective == "cost":
        unpriced = [o.name for o in options if not np.isfinite(o.price_usd)]
        if unpriced:
            raise InputError(f"--objective cost: host model(s) {', '.join(unpriced)} have no price; give priced catalogue models")


def solve_mix(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    options: list[HostOption],
    *,
    objective: str = "hosts",
    interval_s: float = 300.0,
    seed: int = 0,
    time_limit_s: float = 60.0,
) -> MixResult:
    """Pack VMs (``cpu_ghz`` (n, T) GHz, ``mem_gb`` (n,) GB) on a mix of ``options`` (module docstring).

    ``interval_s`` is the length of one step of ``cpu_ghz`` (for the energy objective); the
    time limit is shared between the solver runs.
    """
    started = clock.now()
    _check(options, objective)
    cpu = np.ascontiguousarray(np.asarray(cpu_ghz, dtype=np.float32).reshape(len(mem_gb), -1))
    mem = np.asarray(mem_gb, dtype=np.float64)
    peak = cpu.max(axis=1, initial=0.0).astype(np.float64)
    fits = np.array([
        (peak <= effective_caps(o.cpu_cap_ghz, o.mem_cap_gb)[0]) & (mem <= effective_caps(o.cpu_cap_ghz, o.mem_cap_gb)[1])
        for o in options
    ])
    placeable = np.flatnonzero(fits.any(axis=0))
    runs = len(options) * (1 + TAIL_HOSTS * max(len(options) - 1, 0))
    budget_s = time_limit_s / max(runs, 1)
    cpu_p, mem_p = np.ascontiguousarray(cpu[placeable]), mem[placeable]
    big_cpu = max(o.cpu_cap_ghz for o in options)
    big_mem = max(o.mem_cap_gb for o in options)
    bound = lower_bounds(cpu_p, mem_p, big_cpu, big_mem).value if placeable.size else 0

    candidates: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    rows: list[dict] = []

    def consider(assignment: np.ndarray, host_model: np.ndarray) -> None:
        value = objective_value(objective, cpu_p, mem_p, assignment, host_model, options, interval_s)
        price = float(sum(options[m].price_usd for m in host_model))
        candidates.append((value, price if np.isfinite(price) else np.inf, assignment, host_model))
        counts = {options[int(m)].name: int(c) for m, c in zip(*np.unique(host_model, return_counts=True))}
        rows.append({"models": counts, objective: value})

    singles = []
    for m, option in enumerate(options):
        # The mix has its own bound: the LP bound of each part would be time spent for nothing.
        result = solve(cpu_p, mem_p, option.cpu_cap_ghz, option.mem_cap_gb, seed=seed, time_limit_s=budget_s, lp_iterations=0)
        if (result.assignment < 0).any():
            continue
        singles.append(m)
        consider(result.assignment.astype(np.int64), np.full(result.n_hosts, m, dtype=np.int64))
        load_ghz, load_gb = host_loads(cpu_p, mem_p, result.assignment, result.n_hosts)
        fill = load_ghz.mean(axis=1) / option.cpu_cap_ghz + load_gb / option.mem_cap_gb
        by_fill = np.argsort(fill, kind="stable")
        for other, alt in enumerate(options):
            if other == m:
                continue
            # Only hosts whose every VM fits the other model can move to it.
            misfits = np.bincount(result.assignment[~fits[other, placeable]], minlength=result.n_hosts)
            movable = by_fill[misfits[by_fill] == 0]
            for k in range(1, min(TAIL_HOSTS, movable.size) + 1):
                tail = np.isin(result.assignment, movable[:k])
                keep = np.full(result.n_hosts, -1, dtype=np.int64)
                kept = np.setdiff1d(np.arange(result.n_hosts), movable[:k])
                keep[kept] = np.arange(kept.size)
                part = solve(np.ascontiguousarray(cpu_p[tail]), mem_p[tail], alt.cpu_cap_ghz, alt.mem_cap_gb, seed=seed,
                             time_limit_s=budget_s, lp_iterations=0)
                if (part.assignment < 0).any():
                    continue
                assignment = keep[result.assignment]
                assignment[tail] = kept.size + part.assignment
                host_model = np.concatenate([np.full(kept.size, m), np.full(part.n_hosts, other)]).astype(np.int64)
                consider(assignment, host_model)
    if not candidates:
        raise InputError(
            "no single host model holds every VM that fits one of them; list a model large enough for every server"
        )
    value, _, best, host_model = min(candidates, key=lambda c: (c[0], c[1], c[3].size))
    assignment = np.full(cpu.shape[0], -1, dtype=np.int64)
    assignment[placeable] = best
    # Hosts listed model by model (the order of the options), each model's hosts in plan order.
    order = np.argsort(host_model, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(order.size)
    assignment = np.where(assignment >= 0, renumber[np.maximum(assignment, 0)], -1)
    return MixResult(assignment, host_model[order], objective, float(value), int(bound), rows, clock.now() - started)
