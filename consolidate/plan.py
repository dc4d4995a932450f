"""The orchestrator: traces -> demand -> placement -> replay -> figures.

``plan()`` chains the stages the way pvlib's ``ModelChain`` chains its models; the CLI and a
notebook user get the same :class:`Plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate import validation
from consolidate.errors import InputError
from consolidate.failover import failover
from consolidate.growth import DEFAULT_HORIZON, growth_what_if, parse_growth, parse_horizon
from consolidate.models import catalog, constants, hypervisor, power, rightsizing
from consolidate.models.hardware import DEFAULT_SMT_GAIN, HostModel, cpu_demand_ghz, host_cpu_ghz
from consolidate.models.sizing import DEFAULT_MEM_MARGIN, Demand, check_cpu_policy, check_mem_policy, size_cpu
from consolidate.models.trace import TraceSet
from consolidate.simulate import Replay, host_load_kernel, replay
from consolidate.solvers import SolveResult, solve
from consolidate.solvers.constraints import Constraints, check_servers, read_constraints, solve_constrained
from consolidate.solvers.mix import OBJECTIVES, HostOption, MixResult, solve_mix
from consolidate.validation import DEFAULT_RISK_PCT, VALIDATED

DEFAULT_CPU_TARGET = 0.8
DEFAULT_MEM_TARGET = 0.9
DEFAULT_HYPERVISOR = "xen"
#: The validated sizing: the host count that holds on held-out days within --risk (consolidate.validation).
DEFAULT_SIZING = VALIDATED
DEFAULT_TIME_LIMIT_S = 60.0
#: What picks a mix of host models (consolidate.solvers.mix): fewest hosts, then the lower capital cost.
DEFAULT_OBJECTIVE = "hosts"
#: Most re-plans the N+1 rule may take, each with less capacity per host, before it gives up.
N_PLUS_1_ROUNDS = 12


@dataclass(frozen=True)
class Settings:
    """Every assumption a plan is made under (reported in summary.json).

    ``host`` is the target model; ``hosts`` the models of a mix (two or more, ``host`` being the
    first; empty for one model) and ``objective`` what picks the mix (hosts, cost or energy).
    """

    host: HostModel
    hypervisor: str = DEFAULT_HYPERVISOR
    smt_gain: float = DEFAULT_SMT_GAIN
    cpu_target: float = DEFAULT_CPU_TARGET
    mem_target: float = DEFAULT_MEM_TARGET
    sizing: str = DEFAULT_SIZING
    mem_sizing: str = "allocated"
    mem_margin: float = DEFAULT_MEM_MARGIN
    retire_idle: bool = False
    pue: float = constants.DEFAULT_PUE
    price_per_kwh: float = constants.DEFAULT_PRICE_PER_KWH
    carbon_g_per_kwh: float = constants.DEFAULT_CARBON_G_PER_KWH
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    seed: int = 0
    risk_pct: float = DEFAULT_RISK_PCT
    constraints: Constraints = field(default_factory=Constraints)
    hosts: tuple[HostModel, ...] = ()
    objective: str = DEFAULT_OBJECTIVE

    @property
    def models(self) -> tuple[HostModel, ...]:
        """The host models the plan may use, in the order given."""
        return self.hosts or (self.host,)

    @property
    def is_mix(self) -> bool:
        return len(self.hosts) > 1

    def __post_init__(self) -> None:
        for name in ("cpu_target", "mem_target"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise InputError(f"--{name.replace('_', '-')} {value} is outside (0, 1]; give a fraction such as 0.8")
        if not 0.0 <= self.smt_gain <= 1.0:
            raise InputError(f"--smt-gain {self.smt_gain} is outside [0, 1]; the usual figure is 0.15-0.30")
        if self.mem_margin < 0:
            raise InputError(f"--mem-margin {self.mem_margin} is negative; give a fraction such as 0.1")
        if self.pue < 1.0:
            raise InputError(f"--pue {self.pue} is below 1; a data centre's PUE is 1 or more (average 1.56)")
        if self.price_per_kwh < 0 or self.carbon_g_per_kwh < 0:
            raise InputError("--price and --carbon must not be negative")
        if self.time_limit_s <= 0:
            raise InputError(f"--time-limit {self.time_limit_s} must be a positive number of seconds")
        if self.sizing != VALIDATED:
            check_cpu_policy(self.sizing)
        validation.check_risk(self.risk_pct)
        check_mem_policy(self.mem_sizing)
        hypervisor.get_profile(self.hypervisor)
        self._check_mix()

    def _check_mix(self) -> None:
        if self.objective not in OBJECTIVES:
            raise InputError(f"--objective {self.objective!r}: use one of {', '.join(OBJECTIVES)}")
        if not self.hosts:
            return
        names = [m.name for m in self.hosts]
        if len(set(names)) < len(names):
            raise InputError(f"--host {','.join(names)}: a model is named twice; name each model once")
        if self.hosts[0] != self.host:
            raise ValueError("Settings.hosts must start with Settings.host")
        if self.is_mix and self.constraints.active:
            raise InputError(
                "placement rules (--constraints, --max-vms-per-host, --vcpu-ratio, --n-plus-1) need a single --host "
                "model; give one model or drop the rules"
            )
        if self.is_mix and self.objective == "cost":
            unpriced = [m.name for m in self.hosts if not np.isfinite(m.price_usd)]
            if unpriced:
                raise InputError(f"--objective cost: host model(s) {', '.join(unpriced)} have no price; give priced catalogue models")


@dataclass(frozen=True)
class Plan:
    """A consolidation plan and its replay: the tables and figures every report is made from."""

    traces: TraceSet
    settings: Settings
    demand: Demand
    packed: np.ndarray
    status: np.ndarray
    vcpus: np.ndarray
    vm_ram_gb: np.ndarray
    assignment: np.ndarray
    result: SolveResult
    replay: Replay
    figures: dict = field(default_factory=dict)
    #: (hosts,) index of each host's model in ``settings.models``; None: every host of ``settings.host``.
    host_model: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.host_model is None:
            object.__setattr__(self, "host_model", np.zeros(self.result.n_hosts, dtype=np.int64))
        elif self.host_model.shape != (self.result.n_hosts,):
            raise ValueError(f"host_model must be ({self.result.n_hosts},), got shape {self.host_model.shape}")

    @property
    def hosts_after(self) -> int:
        return self.result.n_hosts

    def host_models(self) -> list[HostModel]:
        """Each target host's model, in host order."""
        models = self.settings.models
        return [models[m] for m in self.host_model]

    def model_counts(self) -> dict[str, int]:
        """Hosts per model name, in the order the models were given (models with no host left out)."""
        counts = np.bincount(self.host_model, minlength=len(self.settings.models))
        return {m.name: int(c) for m, c in zip(self.settings.models, counts) if c}

    def host_ids(self) -> list[str]:
        width = max(3, len(str(self.hosts_after)))
        return [f"host-{i + 1:0{width}d}" for i in range(self.hosts_after)]

    def placement_frame(self) -> pd.DataFrame:
        """One row per source server: where it goes and what it is packed as."""
        ids = np.array(self.host_ids() + [""], dtype=object)
        inv = self.traces.inventory
        packed_mem = np.full(self.traces.n_servers, np.nan)
        packed_mem[self.packed] = self.demand.mem_gb
        names = np.array([m.name for m in self.host_models()] + [""], dtype=object)
        return pd.DataFrame(
            {
                "server_id": list(self.traces.server_ids),
                "host_id": ids[self.assignment],
                "host_model": names[self.assignment],
                "status": self.status,
                "vcpus": self.vcpus,
                "ram_gb": np.round(self.vm_ram_gb, 3),
                "mem_packed_gb": np.round(packed_mem, 3),
                "cpu_peak_ghz": np.round(self.figures["server_cpu_peak_ghz"], 4),
                "cpu_mean_ghz": np.round(self.figures["server_cpu_mean_ghz"], 4),
                "source_cores": inv.cores,
                "source_threads": inv.threads,
                "source_ghz": inv.ghz,
                "source_ram_gb": inv.ram_gb,
                "inventory_defaulted": inv.defaulted,
            }
        )

    def hosts_frame(self) -> pd.DataFrame:
        """One row per target host: capacity, planned and replayed load."""
        rep = self.replay
        util = rep.cpu_util
        members = np.bincount(self.assignment[self.assignment >= 0], minlength=self.hosts_after)
        models = self.host_models()
        return pd.DataFrame(
            {
                "host_id": self.host_ids(),
                "host_model": [m.name for m in models],
                "vms": members,
                "cpu_capacity_ghz": np.round(rep.cpu_capacity_ghz, 4),
                "cpu_target_ghz": np.round(rep.cpu_target_ghz, 4),
                "mem_usable_gb": np.round(rep.mem_usable_gb, 3),
                "cpu_planned_peak_pct": np.round(100 * self.result.host_peak_ghz / rep.cpu_capacity_ghz, 2),
                "cpu_replay_peak_pct": np.round(100 * util.max(axis=1, initial=0.0), 2),
                "cpu_replay_mean_pct": np.round(100 * util.mean(axis=1), 2),
                "cpu_over_target_pct": np.round(100 * (util > rep.cpu_target).mean(axis=1), 3),
                "mem_planned_gb": np.round(rep.mem_gb, 3),
                "mem_planned_pct": np.round(100 * rep.mem_gb / rep.mem_usable_gb * self.settings.mem_target, 2),
            }
        )

    @property
    def summary(self) -> dict:
        """The headline figures (the content of summary.json)."""
        return self.figures["summary"]

    # The report's view of the plan (consolidate.report): summary.json's full content, the
    # charts as matplotlib figures and the HTML summary Jupyter shows.
    def report_data(self, business=None, name: str | None = None):
        """The plan as report.html sees it: a :class:`consolidate.report.plandata.PlanData` with the
        business case for ``business`` (a :class:`~consolidate.report.business.BusinessInputs`, None = defaults)."""
        from consolidate.report.plandata import from_plan

        return from_plan(self, business, name)

    def report_summary(self, business=None) -> dict:
        """summary.json's content: :attr:`summary`, utilisation histograms, the estate's facts, the business case."""
        return self.report_data(business).summary

    def business_case(self, **inputs) -> dict:
        """The business case (capital cost, yearly costs, payback, TCO, NPV) for ``inputs``, fields of
        :class:`~consolidate.report.business.BusinessInputs` such as ``licence="windows"``, ``discount_rate=0.1``."""
        from consolidate.report.business import BusinessInputs

        return self.report_data(BusinessInputs(**inputs)).business

    def _chart(self, name: str, inputs: dict):
        from consolidate.report import plots
        from consolidate.report.business import BusinessInputs

        return getattr(plots, name)(self.report_data(BusinessInputs(**inputs)))

    def utilisation_chart(self):
        """CPU utilisation before and after (matplotlib Figure)."""
        return self._chart("utilisation_chart", {})

    def heatmap_chart(self):
        """Replayed host CPU load, hosts x time (matplotlib Figure)."""
        return self._chart("heatmap_chart", {})

    def peaks_chart(self):
        """Planned against replayed peak per host (matplotlib Figure)."""
        return self._chart("peaks_chart", {})

    def energy_cost_chart(self, **inputs):
        """Energy and yearly running cost before and after, for business-case ``inputs`` (matplotlib Figure)."""
        return self._chart("energy_cost_chart", inputs)

    def cashflow_chart(self, **inputs):
        """Cumulative net cash flow over five years, for business-case ``inputs`` (Figure, None without a host price)."""
        return self._chart("cashflow_chart", inputs)

    def frontier_chart(self):
        """Hosts against risk (Figure), None when the summary has no frontier."""
        return self._chart("frontier_chart", {})

    def _repr_html_(self) -> str:
        from consolidate.report.html import plan_summary_html

        return plan_summary_html(self.report_data())


def _energy_kwh_per_year(curves_w: np.ndarray, util: np.ndarray, interval_s: int) -> float:
    """IT energy of machines on their curves at ``util`` (fraction), annualised, kWh/yr."""
    energy_wh = power.energy_wh(curves_w, util, interval_s).sum()
    duration_h = util.shape[1] * interval_s / 3600.0
    return float(power.annualise(energy_wh / 1000.0, duration_h))


def make_settings(
    *,
    host: HostModel | str | Sequence[HostModel | str] | None = None,
    hypervisor_name: str = DEFAULT_HYPERVISOR,
    smt_gain: float = DEFAULT_SMT_GAIN,
    cpu_target: float = DEFAULT_CPU_TARGET,
    mem_target: float = DEFAULT_MEM_TARGET,
    sizing: str = DEFAULT_SIZING,
    mem_sizing: str = "allocated",
    mem_margin: float = DEFAULT_MEM_MARGIN,
    retire_idle: bool = False,
    pue: float = constants.DEFAULT_PUE,
    price_per_kwh: float = constants.DEFAULT_PRICE_PER_KWH,
    carbon_g_per_kwh: float = constants.DEFAULT_CARBON_G_PER_KWH,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    seed: int = 0,
    risk_pct: float = DEFAULT_RISK_PCT,
    constraints: Constraints | str | None = None,
    max_vms_per_host: int | None = None,
    vcpu_ratio: float | None = None,
    n_plus_1: bool = False,
    objective: str = DEFAULT_OBJECTIVE,
) -> Settings:
    """The :class:`Settings` of a plan, every option checked (an :class:`InputError` for a bad one)
    before any trace is read.

    Parameters
    ----------
    host : a catalogue name, a :class:`HostModel`, or None for the default model; several
        models (a list, or catalogue names separated by commas) make a mix (README "Host mix").
    hypervisor_name : none, xen, kvm, esxi or hyperv (memory reserve, per-VM overhead, CPU overhead).
    smt_gain : throughput an extra hardware thread adds, share of a core.
    cpu_target, mem_target : share of host CPU and memory a plan may use, (0, 1].
    sizing : validated (default), timeseries, peak or pNN (CPU); mem_sizing : allocated, used-peak or used-pNN.
    mem_margin : head-room on observed memory use (used-* policies), fraction.
    retire_idle : leave idle servers (retire candidates) out of the plan.
    pue, price_per_kwh, carbon_g_per_kwh : facility overhead, electricity price, grid intensity.
    time_limit_s : wall-clock cap on the solver; seed : makes the plan reproducible.
    risk_pct : the validated sizing's risk target: most share of host-intervals over the CPU
        target (percent), in sample and on held-out days (:mod:`consolidate.validation`).
    constraints : placement rules, a :class:`~consolidate.solvers.constraints.Constraints` or the
        path of a YAML/CSV file (anti-affinity, affinity, pins; README "Constraints").
    max_vms_per_host, vcpu_ratio : at most that many VMs per host; at most that many vCPUs (source
        threads) per physical core of a host.
    n_plus_1 : re-plan with less capacity per host until the failover replay shows that any single
        host's VMs fit on the others. With any of these rules the validated sizing keeps the
        constrained time-series plan (summary: ``validation.skipped``, ``constraints``).
    objective : what picks a mix of several host models: hosts (fewest, then cheapest), cost
        (lowest capital cost) or energy (lowest IT energy); a mix is planned by
        :func:`consolidate.solvers.mix.solve_mix` at the time-series level (the validated
        sizing's count search is skipped, summary ``validation.skipped``).
    """
    models = _host_models(host)
    rules = read_constraints(constraints) if isinstance(constraints, (str, Path)) else (constraints or Constraints())
    rules = replace(
        rules, max_vms_per_host=max_vms_per_host or rules.max_vms_per_host, vcpu_ratio=vcpu_ratio or rules.vcpu_ratio,
        n_plus_1=n_plus_1 or rules.n_plus_1,
    )
    return Settings(
        host=models[0], hypervisor=hypervisor_name, smt_gain=smt_gain, cpu_target=cpu_target,
        mem_target=mem_target, sizing=sizing, mem_sizing=mem_sizing, mem_margin=mem_margin,
        retire_idle=retire_idle, pue=pue, price_per_kwh=price_per_kwh, carbon_g_per_kwh=carbon_g_per_kwh,
        time_limit_s=time_limit_s, seed=seed, risk_pct=risk_pct, constraints=rules,
        hosts=tuple(models) if len(models) > 1 else (), objective=objective,
    )


def _host_models(host: HostModel | str | Sequence[HostModel | str] | None) -> list[HostModel]:
    """The models ``host`` names: None (the default), a model, a catalogue name, several comma-separated, or a list."""
    if host is None:
        host = catalog.DEFAULT_HOST
    items = host.split(",") if isinstance(host, str) else [host] if isinstance(host, HostModel) else list(host)
    models = [catalog.get_host(h.strip()) if isinstance(h, str) else h for h in items]
    if not models:
        raise InputError("--host names no model; give a catalogue name (see `consolidate catalog`)")
    return models


def check_plan_options(settings: Settings, *, frontier: bool = False, growth: str | None = None,
                       horizon: str = DEFAULT_HORIZON) -> None:
    """Check the options of :func:`plan` that are not settings (before the traces are read)."""
    if growth is not None:
        parse_growth(growth)
    parse_horizon(horizon)
    if frontier and settings.is_mix:
        raise InputError("--frontier needs a single --host model (the hosts-against-risk table is per model); drop one or the other")


def plan(
    traces: TraceSet,
    settings: Settings | None = None,
    *,
    holdout: str | None = None,
    train_until: str | None = None,
    frontier: bool = False,
    growth: str | None = None,
    horizon: str = DEFAULT_HORIZON,
    **options,
) -> Plan:
    """Right-size, pack and replay ``traces`` on hosts of one model, or of a mix of models.

    Parameters
    ----------
    traces : the estate, from :func:`consolidate.read_traces`.
    settings : ready :class:`Settings`; without it, ``options`` (the keyword arguments of
        :func:`make_settings`: ``host``, ``sizing``, ``cpu_target``, ...) make them.
    holdout, train_until : plan on the earlier part only (``"7d"`` held out, or training up to a
        date) and replay the later part too (summary: ``*_out_of_sample``, ``holdout``).
    frontier : add the hosts-against-risk table (summary: ``frontier``).
    growth, horizon : growth what-if, e.g. ``"20%/yr"`` over ``"3y"`` (summary: ``growth``).
    """
    if settings is None:
        settings = make_settings(**options)
    elif options:
        raise TypeError(f"plan() takes settings or their options, not both: {', '.join(sorted(options))}")
    check_plan_options(settings, frontier=frontier, growth=growth, horizon=horizon)
    rate = parse_growth(growth) if growth is not None else None
    quarters = parse_horizon(horizon)
    held_out = None
    if holdout is not None or train_until is not None:
        traces, held_out = validation.split_holdout(traces, holdout, train_until)
    result = _plan(traces, settings, frontier=frontier)
    if held_out is not None:
        result.summary.update(validation.holdout_figures(result, held_out))
    if rate is not None:
        whole = result.replay if held_out is None else validation.replay_plan_on(result, _joined(traces, held_out))
        result.summary["growth"] = growth_what_if(
            whole, float(result.demand.mem_gb[result.assignment[result.packed] >= 0].sum()), rate, quarters,
            settings.risk_pct, seed=settings.seed,
        )
    return result


def _joined(train: TraceSet, held_out: TraceSet) -> TraceSet:
    """Training and held-out parts back as one trace set (the growth what-if draws from every day)."""
    mem = None if train.mem_gb is None else np.concatenate([train.mem_gb, held_out.mem_gb], axis=1)
    return replace(train, cpu_pct=np.concatenate([train.cpu_pct, held_out.cpu_pct], axis=1), mem_gb=mem)


def _plan(traces: TraceSet, settings: Settings, frontier: bool = False) -> Plan:
    inv = traces.inventory
    host = settings.host
    profile = hypervisor.get_profile(settings.hypervisor)
    demand_ghz = cpu_demand_ghz(traces.cpu_pct, inv.cores, inv.threads, inv.ghz, inv.perf, settings.smt_gain)
    demand32 = np.ascontiguousarray(demand_ghz, dtype=np.float32)

    idle = rightsizing.idle_mask(traces.cpu_pct, _mem_pct(traces))
    packed = ~idle if settings.retire_idle else np.ones(traces.n_servers, dtype=bool)
    status = np.where(idle, "retire-candidate", "placed").astype(object)

    core_ghz = host.ghz * host.perf
    vcpus, vm_ram_gb = rightsizing.right_size(
        demand_ghz, core_ghz, inv.threads, inv.ram_gb, traces.mem_gb,
        mem_sizing=settings.mem_sizing, mem_margin=settings.mem_margin,
    )
    mem_gb = vm_ram_gb + profile.vm_overhead_gb(vcpus, vm_ram_gb)

    capacities = [host_capacity(m, profile, settings.smt_gain, settings.mem_target) for m in settings.models]
    cpu_full_ghz, mem_usable_gb = capacities[0]
    validated = settings.sizing == VALIDATED
    sized = Demand(
        cpu_ghz=size_cpu(demand32[packed], "timeseries" if validated else settings.sizing),
        mem_gb=mem_gb[packed].astype(np.float32),
        cpu_policy=settings.sizing,
        mem_policy=settings.mem_sizing,
    )
    checked: dict = {}
    rules = settings.constraints
    n_plus_1_rounds = 0
    host_model = None
    if settings.is_mix:
        result, host_model, checked = _mix_solve(traces, settings, sized, capacities)
    elif validated and not rules.active:
        result, checked = validation.validated_solve(
            sized.cpu_ghz, sized.mem_gb, cpu_full_ghz, settings.cpu_target, mem_usable_gb, traces.interval_s,
            risk_pct=settings.risk_pct, with_frontier=frontier, seed=settings.seed, time_limit_s=settings.time_limit_s,
        )
    else:
        if rules.active:
            check_servers(rules, traces.server_ids)
            result, n_plus_1_rounds = _constrained_solve(
                traces, settings, sized, packed, demand32, mem_gb, inv.threads, cpu_full_ghz, mem_usable_gb,
            )
        else:
            result = solve(
                sized.cpu_ghz, sized.mem_gb, cpu_full_ghz * settings.cpu_target, mem_usable_gb,
                seed=settings.seed, time_limit_s=settings.time_limit_s,
            )
        if validated:
            checked.update({
                "risk_pct": settings.risk_pct,
                "timeseries_hosts": result.n_hosts,
                "hosts": result.n_hosts,
                "skipped": "placement rules are given (--constraints, --max-vms-per-host, --vcpu-ratio or --n-plus-1): "
                           "the plan is the constrained time-series plan",
            })
        if frontier:
            checked["frontier"] = validation.risk_frontier(
                demand32[packed], sized.mem_gb, cpu_full_ghz, settings.cpu_target, mem_usable_gb, traces.interval_s,
                result.n_hosts,
            )
    assignment = np.full(traces.n_servers, -1, dtype=np.int64)
    assignment[packed] = result.assignment
    status[packed & (assignment < 0)] = "unplaceable"
    if host_model is None:
        host_model = np.zeros(result.n_hosts, dtype=np.int64)
    # Each host's full CPU and usable memory, from its model.
    per_host = np.array(capacities, dtype=np.float64).reshape(-1, 2)[host_model]

    rep = replay(
        demand32, assignment, result.n_hosts, per_host[:, 0], settings.cpu_target, mem_gb, per_host[:, 1],
        traces.interval_s, traces.mem_gb,
    )
    figures = {
        "server_cpu_peak_ghz": demand_ghz.max(axis=1),
        "server_cpu_mean_ghz": demand_ghz.mean(axis=1),
    }
    draft = Plan(traces, settings, sized, packed, status, vcpus, vm_ram_gb, assignment, result, rep, figures, host_model)
    figures["summary"] = _summary(draft, profile, idle)
    figures["summary"].update(_risk_summary(draft, demand32, mem_gb, checked))
    if rules.active:
        figures["summary"]["constraints"] = {**rules.summary(), "n_plus_1_rounds": n_plus_1_rounds}
    if settings.is_mix:
        figures["summary"]["mix"] = checked.pop("mix")
    return draft


def _mix_solve(
    traces: TraceSet, settings: Settings, sized: Demand, capacities: list[tuple[float, float]],
) -> tuple[SolveResult, np.ndarray, dict]:
    """A plan on a mix of host models (:func:`consolidate.solvers.mix.solve_mix`) at the time-series level.

    Returns the plan as a :class:`SolveResult` (its lower bound: on hosts of the largest CPU and
    memory of the models), each host's model index, and the validation entry (the validated
    sizing's count search is made for one model and is skipped) with the mix's candidates.
    """
    options = [
        HostOption(m.name, full * settings.cpu_target, usable, full, m.price_usd, tuple(m.power_curve_w))
        for m, (full, usable) in zip(settings.models, capacities)
    ]
    mix: MixResult = solve_mix(
        sized.cpu_ghz, sized.mem_gb, options, objective=settings.objective, interval_s=traces.interval_s,
        seed=settings.seed, time_limit_s=settings.time_limit_s,
    )
    n_hosts = mix.n_hosts
    assignment = mix.assignment.astype(np.int64)
    cpu = np.ascontiguousarray(sized.cpu_ghz, dtype=np.float32)
    peak = host_load_kernel(cpu, assignment, n_hosts).max(axis=1, initial=0.0)
    result = SolveResult(
        assignment=assignment, n_hosts=n_hosts, lower_bound=mix.lower_bound, bound_resource="largest models",
        status="optimal" if n_hosts == mix.lower_bound else "feasible", gap_hosts=n_hosts - mix.lower_bound,
        methods=[f"mix:{settings.objective}"], time_s=mix.time_s, host_peak_ghz=peak,
    )
    checked: dict = {
        "mix": {
            "objective": settings.objective, "value": mix.value, "models": mix.counts(options),
            "candidates": mix.candidates,
        },
    }
    if settings.sizing == VALIDATED:
        checked.update({
            "risk_pct": settings.risk_pct,
            "timeseries_hosts": n_hosts,
            "hosts": n_hosts,
            "skipped": "several host models (--host A,B): the plan is the mix solver's time-series plan "
                       "(the validated count search is made for one model)",
        })
    return result, mix.host_model.astype(np.int64), checked


def _constrained_solve(
    traces: TraceSet, settings: Settings, sized: Demand, packed: np.ndarray, demand32: np.ndarray, mem_gb: np.ndarray,
    threads: np.ndarray, cpu_full_ghz: float, mem_usable_gb: float,
) -> tuple[SolveResult, int]:
    """The plan under the placement rules, and how many re-plans N+1 took (0 without it).

    N+1: the plan is replayed at full resolution and every single-host failure is simulated
    (:func:`consolidate.failover.failover`); while one overloads a survivor, the plan is made
    again with each host's plannable CPU and memory cut by the share one host of the plan
    represents (``(n - 1) / n``, between 5 % and 50 % a round). The lower bound reported is
    that of the rules at full capacity (a bound for any plan, N+1 or not). A round that would leave a
    server without any host, or ``N_PLUS_1_ROUNDS`` rounds without success, is an error.
    """
    ids = [traces.server_ids[i] for i in np.flatnonzero(packed)]
    rules = settings.constraints.restricted(ids)
    factor, first_unplaced, spent_s = 1.0, None, 0.0
    for rounds in range(N_PLUS_1_ROUNDS):
        result = solve_constrained(
            sized.cpu_ghz, sized.mem_gb, cpu_full_ghz * settings.cpu_target * factor, mem_usable_gb * factor, rules,
            ids, threads[packed], settings.host.cores, seed=settings.seed,
            time_limit_s=max(settings.time_limit_s - spent_s, 0.05 * settings.time_limit_s),
        )
        spent_s += result.time_s
        unplaced = result.assignment < 0
        if first_unplaced is None:
            first, first_unplaced = result, unplaced
        elif (unplaced & ~first_unplaced).any():
            server = ids[int(np.flatnonzero(unplaced & ~first_unplaced)[0])]
            raise InputError(
                f"--n-plus-1: keeping room for a failed host leaves server {server} no host of model "
                f"{settings.host.name}; choose a larger host or drop --n-plus-1"
            )
        if not rules.n_plus_1 or result.n_hosts == 0:
            return result, 0
        assignment = np.full(traces.n_servers, -1, dtype=np.int64)
        assignment[packed] = result.assignment
        rep = replay(
            demand32, assignment, result.n_hosts, cpu_full_ghz, settings.cpu_target, mem_gb, mem_usable_gb,
            traces.interval_s,
        )
        if result.n_hosts > 1 and not failover(demand32, mem_gb, assignment, rep)["failures_overloading"]:
            # The bound of a round with cut capacity bounds nothing: keep the full-capacity one.
            bound, resource = first.lower_bound, first.bound_resource
            status = "optimal" if result.n_hosts == bound else "feasible"
            return replace(result, lower_bound=bound, bound_resource=resource, status=status,
                           gap_hosts=result.n_hosts - bound, time_s=spent_s), rounds
        factor *= float(np.clip((result.n_hosts - 1) / max(result.n_hosts, 1), 0.5, 0.95))
    raise InputError(
        f"--n-plus-1: no plan survives every single-host failure after {N_PLUS_1_ROUNDS} re-plans; "
        "choose a larger host or drop --n-plus-1"
    )


def _risk_summary(p: Plan, demand32: np.ndarray, mem_gb: np.ndarray, checked: dict) -> dict:
    """summary.json's replay figures, failover, validation and frontier (consolidate.validation)."""
    names = p.host_ids()
    out = {
        "replay": p.replay.figures(names),
        "failover": failover(demand32, mem_gb, p.assignment, p.replay, names),
    }
    if "frontier" in checked:
        out["frontier"] = checked["frontier"]
    if p.settings.sizing == VALIDATED:
        out["validation"] = {k: v for k, v in checked.items() if k not in ("frontier", "mix")}
    p.summary["assumptions"]["risk_pct"] = p.settings.risk_pct
    return out


def host_capacity(host: HostModel, profile, smt_gain: float, mem_target: float) -> tuple[float, float]:
    """A host's full effective CPU (GHz, before the CPU target) and usable memory (GB, at the target)."""
    cpu_full_ghz = host_cpu_ghz(host, smt_gain, profile.cpu_overhead)
    mem_usable_gb = host.ram_gb * mem_target - profile.host_reserve_gb(host.ram_gb)
    if mem_usable_gb <= 0:
        raise InputError(
            f"host {host.name}: {host.ram_gb} GB x mem target {mem_target} leaves nothing after the "
            f"{profile.name} reserve; choose a larger host or a higher --mem-target"
        )
    return cpu_full_ghz, mem_usable_gb


def simulate_placement(
    traces: TraceSet,
    placement: pd.DataFrame | str,
    *,
    host: HostModel | str | None = None,
    hypervisor_name: str = DEFAULT_HYPERVISOR,
    smt_gain: float = DEFAULT_SMT_GAIN,
    cpu_target: float = DEFAULT_CPU_TARGET,
    mem_target: float = DEFAULT_MEM_TARGET,
) -> dict:
    """Replay any placement (``server_id,host_id``; empty host = not placed) on ``traces``.

    Every host is of model ``host``, unless the placement's ``host_model`` column names several
    models (a mixed plan): then each host is of the catalogue model it names. Memory is each
    server's allocated RAM plus the hypervisor's per-VM overhead. Returns the
    replay's figures (:meth:`consolidate.simulate.Replay.figures`): over-target and over-capacity
    shares (%), unmet CPU (GHz·h), utilisation mean, peak and percentiles, the worst host, planned
    memory against the usable amount (over-commit) and, where the traces carry it, memory in use.
    """
    host_model = catalog.get_host(host or catalog.DEFAULT_HOST) if not isinstance(host, HostModel) else host
    Settings(host=host_model, hypervisor=hypervisor_name, smt_gain=smt_gain, cpu_target=cpu_target, mem_target=mem_target)
    frame = read_placement(placement)
    index = pd.Index(traces.server_ids)
    missing = index.difference(frame["server_id"])
    extra = pd.Index(frame["server_id"]).difference(index)
    if len(missing) or len(extra):
        raise InputError(
            f"placement and traces name different servers ({len(missing)} only in the traces, e.g. "
            f"{list(missing[:3])}; {len(extra)} only in the placement, e.g. {list(extra[:3])}); use the traces the plan was made from"
        )
    frame = frame.set_index("server_id").loc[index].reset_index()
    host_ids = frame["host_id"].fillna("").astype(str).to_numpy()
    names, assignment = np.unique(host_ids, return_inverse=True)
    if names[0] == "":
        assignment = assignment - 1
        names = names[1:]
    per_host = _placement_models(frame, placement, names)
    if per_host is not None:
        host_model = per_host[0]
    inv = traces.inventory
    profile = hypervisor.get_profile(hypervisor_name)
    demand = np.ascontiguousarray(
        cpu_demand_ghz(traces.cpu_pct, inv.cores, inv.threads, inv.ghz, inv.perf, smt_gain), dtype=np.float32
    )
    vcpus, _ = rightsizing.right_size(demand, host_model.ghz * host_model.perf, inv.threads, inv.ram_gb, traces.mem_gb)
    mem_gb = inv.ram_gb + profile.vm_overhead_gb(vcpus, inv.ram_gb)
    models = per_host if per_host is not None else [host_model] * len(names)
    capacity = {m.name: host_capacity(m, profile, smt_gain, mem_target) for m in models}
    caps = np.array([capacity[m.name] for m in models], dtype=np.float64).reshape(-1, 2)
    rep = replay(
        demand, assignment, len(names), caps[:, 0], cpu_target, mem_gb, caps[:, 1], traces.interval_s, traces.mem_gb,
    )
    counts = pd.Series([m.name for m in models], dtype=object).value_counts(sort=False)
    return {
        "servers": traces.n_servers,
        "placed": int((assignment >= 0).sum()),
        "host_model": host_model.name if per_host is None else mix_label(dict(counts.items())),
        **rep.figures([str(n) for n in names]),
    }


def _placement_models(frame: pd.DataFrame, placement, host_ids: np.ndarray) -> list[HostModel] | None:
    """Each host's catalogue model when the placement's ``host_model`` column names several; None otherwise."""
    if "host_model" not in frame.columns:
        return None
    named = frame.loc[frame["host_id"].fillna("").astype(str) != "", ["host_id", "host_model"]].astype(str)
    if named["host_model"].nunique() < 2:
        return None
    by_host = named.drop_duplicates()
    clash = by_host["host_id"][by_host["host_id"].duplicated()]
    if len(clash):
        raise InputError(f"{_where(placement)}: host {clash.iloc[0]} is given two host_model values; each host has one model")
    model_of = dict(zip(by_host["host_id"], by_host["host_model"]))
    known: dict[str, HostModel] = {}
    for name in sorted(set(model_of.values())):
        try:
            known[name] = catalog.get_host(name)
        except InputError:
            raise InputError(
                f"{_where(placement)}: host_model {name!r} is not in the catalogue; a placement of several models "
                "is replayed on the catalogue's models (`consolidate catalog` lists them)"
            ) from None
    return [known[model_of[str(h)]] for h in host_ids]


def _where(placement) -> str:
    return "placement" if isinstance(placement, pd.DataFrame) else str(placement)


def read_placement(placement: pd.DataFrame | str) -> pd.DataFrame:
    """A placement table with ``server_id``, ``host_id`` and, when given, ``host_model`` (from a DataFrame or a CSV path)."""
    if isinstance(placement, pd.DataFrame):
        frame = placement
    else:
        try:
            frame = pd.read_csv(placement, dtype={"server_id": str, "host_id": str, "host_model": str}, keep_default_na=False)
        except FileNotFoundError:
            raise InputError(f"{placement}: no such placement file; give the placement.csv a plan wrote") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{placement}: not a readable CSV ({exc}); give the placement.csv a plan wrote") from None
    missing = {"server_id", "host_id"} - set(frame.columns)
    if missing:
        raise InputError(f"{placement}: missing column(s) {', '.join(sorted(missing))}; a placement needs server_id,host_id")
    if frame["server_id"].duplicated().any():
        dup = frame["server_id"][frame["server_id"].duplicated()].iloc[0]
        raise InputError(f"{placement}: server {dup} appears more than once; each server goes to one host")
    return frame[["server_id", "host_id"] + (["host_model"] if "host_model" in frame.columns else [])]


def _mem_pct(traces: TraceSet) -> np.ndarray | None:
    if traces.mem_gb is None:
        return None
    return 100.0 * traces.mem_gb / traces.inventory.ram_gb[:, None]


def mix_label(counts: dict[str, int]) -> str:
    """Hosts per model as text, e.g. ``3 x dell-r6515 + 2 x hpe-dl380-gen10plus``."""
    return " + ".join(f"{n} x {name}" for name, n in counts.items())


def _host_facts(host: HostModel) -> dict:
    return {
        "cores": host.cores, "threads": host.threads, "ghz": host.ghz, "perf": host.perf, "ram_gb": host.ram_gb,
        "power_curve_w": list(host.power_curve_w), "source": host.source,
    }


def _summary(p: Plan, profile, idle: np.ndarray) -> dict:
    traces, settings, rep = p.traces, p.settings, p.replay
    capacities = [host_capacity(m, profile, settings.smt_gain, settings.mem_target) for m in settings.models]
    # A mix's "host_model" is its model with the most hosts (ties: the first given): what a
    # reader of one model (exports) gets; hosts_by_model and models hold the whole mix.
    main_index = int(np.argmax(np.bincount(p.host_model, minlength=len(settings.models))))
    main = settings.models[main_index]
    inv = traces.inventory
    src_util = power.source_load_fraction(traces.cpu_pct, inv.cores, inv.threads, settings.smt_gain)
    src_curves, origin = catalog.source_power_curves(inv)
    host_util = power.host_load_fraction(rep.cpu_ghz, rep.cpu_capacity_ghz)
    it_before = _energy_kwh_per_year(src_curves, src_util, traces.interval_s)
    # Each host on its own model's curve, at its load over its own capacity.
    host_curves = np.array([m.power_curve_w for m in p.host_models()], dtype=np.float64).reshape(rep.n_hosts, -1)
    it_after = _energy_kwh_per_year(host_curves, host_util, traces.interval_s) if rep.n_hosts else 0.0
    idle_kwh = _energy_kwh_per_year(src_curves[idle], src_util[idle], traces.interval_s) if idle.any() else 0.0

    def money(kwh_it: float) -> dict:
        kwh = power.facility_kwh(kwh_it, settings.pue)
        return {
            "kwh": kwh,
            "cost": power.cost(kwh, settings.price_per_kwh),
            "co2_t": power.co2_tonnes(kwh, settings.carbon_g_per_kwh),
        }

    before, after = money(it_before), money(it_after)
    res = p.result
    placed = p.assignment >= 0
    return {
        "servers": traces.n_servers,
        "hosts_before": traces.n_servers,
        "hosts_after": res.n_hosts,
        "lower_bound": res.lower_bound,
        "lower_bound_resource": res.bound_resource,
        "solver": {
            "methods": list(res.methods),
            "time_s": round(res.time_s, 3),
            "status": res.status,
            "gap_hosts": res.gap_hosts,
            "seed": settings.seed,
            "time_limit_s": settings.time_limit_s,
        },
        "placed": int(placed.sum()),
        "unplaceable": [traces.server_ids[i] for i in np.flatnonzero(p.status == "unplaceable")],
        "retire_candidates": [traces.server_ids[i] for i in np.flatnonzero(idle)],
        "retired": bool(settings.retire_idle),
        "retire_candidates_energy_kwh_per_year_before": idle_kwh * settings.pue,
        "cpu_util_mean_before_pct": float(np.clip(traces.cpu_pct, 0, 100).mean()),
        "cpu_util_mean_after_pct": float(100 * rep.cpu_util.mean()) if rep.n_hosts else 0.0,
        "cpu_util_peak_after_pct": float(100 * rep.cpu_util.max()) if rep.n_hosts else 0.0,
        "over_target_pct": rep.over_target_pct(),
        "over_capacity_pct": rep.over_capacity_pct(),
        "unmet_cpu_ghz_h": rep.unmet_cpu_ghz_h(),
        "energy_kwh_per_year_before": before["kwh"],
        "energy_kwh_per_year_after": after["kwh"],
        "it_energy_kwh_per_year_before": it_before,
        "it_energy_kwh_per_year_after": it_after,
        "cost_per_year_before": before["cost"],
        "cost_per_year_after": after["cost"],
        "co2_t_per_year_before": before["co2_t"],
        "co2_t_per_year_after": after["co2_t"],
        "trace": {
            "start": traces.start.isoformat(),
            "end": traces.end.isoformat(),
            "interval_s": traces.interval_s,
            "days": round(traces.duration_days, 3),
            "source": traces.source,
        },
        "data_quality": {"missing_pct": traces.quality.missing_pct, **traces.quality.counts},
        "warnings": list(traces.quality.warnings),
        "assumptions": {
            "host_model": main.name,
            "host": _host_facts(main),
            "host_models": [m.name for m in settings.models],
            "hosts_by_model": p.model_counts(),
            "host_mix": mix_label(p.model_counts()),
            "objective": settings.objective,
            "models": {
                m.name: {
                    **_host_facts(m), "cpu_capacity_ghz": full, "mem_usable_gb": usable, "price_usd": m.price_usd,
                    "rack_units": m.rack_units,
                }
                for m, (full, usable) in zip(settings.models, capacities)
            },
            "hypervisor": settings.hypervisor,
            "hypervisor_cpu_overhead": profile.cpu_overhead,
            "hypervisor_source": profile.source,
            "smt_gain": settings.smt_gain,
            "cpu_target": settings.cpu_target,
            "mem_target": settings.mem_target,
            "sizing": settings.sizing,
            "mem_sizing": settings.mem_sizing,
            "mem_margin": settings.mem_margin,
            "host_cpu_capacity_ghz": capacities[main_index][0],
            "host_mem_usable_gb": capacities[main_index][1],
            "pue": settings.pue,
            "price_per_kwh": settings.price_per_kwh,
            "carbon_g_per_kwh": settings.carbon_g_per_kwh,
            "source_power_curves": {k: int(v) for k, v in pd.Series(origin).value_counts().items()},
            "sources": constants.SOURCES,
        },
    }
