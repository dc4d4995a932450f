"""The figures of a finished plan, each computed once: summary.json, placement.csv, hosts.csv.

Everything here reads a :class:`~consolidate.planner.Plan` and computes; nothing changes it. The
replay's figures come from :class:`~consolidate.simulate.Replay`, the failover from
:mod:`consolidate.failover`, the growth what-if from :mod:`consolidate.growth`, energy from the
power curves (:mod:`consolidate.models.power`) at the replayed load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from consolidate.estate import workload_on
from consolidate.failover import failover
from consolidate.growth import growth_what_if
from consolidate.holdout import window
from consolidate.io.assemble import SHORT_SPAN_SHARE, short_window_text
from consolidate.io.inventory import DEFAULT_DESCRIPTION, EXPORT_FORMATS
from consolidate.models import catalog, constants, hypervisor, power
from consolidate.models.boxes import costed_by_default, host_busy_pct, source_boxes
from consolidate.models.hardware import HostModel
from consolidate.options import VALIDATED, settings_options
from consolidate.simulate import Replay, host_load_kernel, replay

if TYPE_CHECKING:
    from consolidate.planner import Plan


def energy_kwh_per_year(curves_w: np.ndarray, util: np.ndarray, interval_s: int) -> float:
    """IT energy of machines on their curves at ``util`` (fraction), annualised, kWh/yr."""
    energy_wh = power.energy_wh(curves_w, util, interval_s).sum()
    duration_h = util.shape[1] * interval_s / 3600.0
    return float(power.annualise(energy_wh / 1000.0, duration_h))


def planned_peak_ghz(p: "Plan") -> np.ndarray:
    """Each host's peak over the series the packer saw (sized demand), GHz (hosts,)."""
    load = host_load_kernel(p.sized.cpu_ghz, p.result.assignment.astype(np.int64), p.hosts_after)
    return load.max(axis=1, initial=0.0)


def held_out_replay(p: "Plan") -> Replay:
    """The plan's placement replayed on its held-out traces (same servers, same VMs)."""
    return replay(workload_on(p.held_out, p.settings.smt_gain, p.vms.workload.mem_gb), p.assignment, p.fleet)


def _host_facts(host: HostModel) -> dict:
    return {
        "cores": host.cores, "threads": host.threads, "ghz": host.ghz, "perf": host.perf, "ram_gb": host.ram_gb,
        "power_curve_w": list(host.power_curve_w), "source": host.source,
    }


def _assumptions(p: "Plan") -> dict:
    settings = p.settings
    profile = hypervisor.get_profile(settings.hypervisor)
    caps = p.fleet.capacities
    # A mix's "host_model" is its model with the most hosts (ties: the first given): what a
    # reader of one model (exports) gets; hosts_by_model and models hold the whole mix.
    main = int(np.argmax(np.bincount(p.fleet.model_index, minlength=len(caps))))
    counts = p.model_counts()
    _, origin = catalog.source_power_curves(p.traces.inventory)
    return {
        **settings.assumptions(),
        "host_model": caps[main].model.name,
        "host": _host_facts(caps[main].model),
        "host_models": [m.name for m in settings.models],
        "hosts_by_model": counts,
        "host_mix": p.fleet.label(),
        "models": {
            c.model.name: {
                **_host_facts(c.model), "cpu_capacity_ghz": c.cpu_full_ghz, "mem_usable_gb": c.mem_usable_gb,
                "price_usd": c.model.price_usd, "rack_units": c.model.rack_units,
            }
            for c in caps
        },
        "hypervisor_cpu_overhead": profile.cpu_overhead,
        "hypervisor_source": profile.source,
        "host_cpu_capacity_ghz": caps[main].cpu_full_ghz,
        "host_mem_usable_gb": caps[main].mem_usable_gb,
        "source_power_curves": {k: int(v) for k, v in pd.Series(origin).value_counts().items()},
        "units": {o.name: o.unit for o in settings_options() if o.unit},
        "option_sources": {o.name: o.source for o in settings_options() if o.source},
        "sources": constants.SOURCES,
    }


def staying(p: "Plan") -> np.ndarray:
    """(servers,) bool: the servers that stay on their own boxes after consolidation, the
    unplaceable ones (a server left out by ``--retire-idle`` is retired; every other is on a host)."""
    return p.packed & (p.assignment < 0)


def source_kwh_per_year(p: "Plan") -> np.ndarray:
    """IT energy a year each source server accounts for today, kWh/yr (servers,): a server on a box
    of its own, that box's on its curve at its traced load; a VM on a source host, its share
    (:mod:`consolidate.models.boxes`) of the host's, on the host's curve at its VMs' load."""
    traces, inv = p.traces, p.traces.inventory
    boxes = source_boxes(traces)
    util = power.source_load_fraction(traces.cpu_pct, inv.cores, inv.threads, p.settings.smt_gain)
    curves, _ = catalog.source_power_curves(inv)
    duration_h = traces.n_steps * traces.interval_s / 3600.0
    own = power.annualise(power.energy_wh(curves, util, traces.interval_s) / 1000.0, duration_h)
    if not boxes.n_hosts:
        return own
    hosts = source_hosts_kwh_per_year(p, np.ones(len(own), dtype=bool))
    return np.where(boxes.on_host, boxes.share * hosts[np.maximum(boxes.host_of, 0)], own * boxes.share)


def source_hosts_kwh_per_year(p: "Plan", servers: np.ndarray) -> np.ndarray:
    """IT energy a year of each source host running only its VMs among ``servers`` (bool
    (servers,)), on its curve, kWh/yr (hosts,); 0 for a host that runs none of them (it is off)."""
    traces, hosts = p.traces, p.traces.source_hosts
    boxes = source_boxes(traces)
    if not boxes.n_hosts:
        return np.zeros(0)
    util = power.source_load_fraction(host_busy_pct(traces, boxes, servers), hosts.cores, hosts.threads, p.settings.smt_gain)
    curves, _ = catalog.source_power_curves(hosts)
    duration_h = traces.n_steps * traces.interval_s / 3600.0
    kwh = power.annualise(power.energy_wh(curves, util, traces.interval_s) / 1000.0, duration_h)
    return np.where(boxes.hosts_of(servers), kwh, 0.0)


def hosts_kwh_per_year(p: "Plan") -> float:
    """IT energy of the plan's hosts, each on its model's curve at its replayed load, kWh/yr."""
    rep = p.replay
    if not rep.n_hosts:
        return 0.0
    curves = np.array([m.power_curve_w for m in p.host_models()], dtype=np.float64).reshape(rep.n_hosts, -1)
    return energy_kwh_per_year(curves, power.host_load_fraction(rep.cpu_ghz, rep.cpu_capacity_ghz), p.traces.interval_s)


def _energy(p: "Plan") -> dict:
    """Energy, cost and CO2 a year before (each source machine on its curve: the servers on boxes of
    their own and the hosts the VMs run on, :func:`source_kwh_per_year`) and after (each host on
    its model's, plus the servers that stay, on their own boxes or source hosts, as before).

    ``staying_energy_kwh_per_year``: the part of "after" that the staying servers use;
    ``defaulted_leaving_energy_kwh_per_year_before``: the part of "before" that servers with
    defaulted inventory use and leave (moved to a host or retired), the energy saving that rests
    on their defaulted hardware (for a VM, its host's: :func:`consolidate.models.boxes.costed_by_default`).
    """
    settings = p.settings
    per_server = source_kwh_per_year(p)
    stay = staying(p)
    boxes = source_boxes(p.traces)
    # A VM that stays keeps its host running at the staying VMs' load (the plan's share of it).
    it_staying = float(per_server[stay & boxes.own].sum() + (source_hosts_kwh_per_year(p, stay) * boxes.traced_share).sum())
    it = {"before": float(per_server.sum()), "after": hosts_kwh_per_year(p) + it_staying}
    leaving_defaulted = costed_by_default(p.traces, boxes) & ~stay
    out = {
        "retire_candidates_energy_kwh_per_year_before": power.facility_kwh(float(per_server[p.vms.idle].sum()), settings.pue),
        "staying_energy_kwh_per_year": power.facility_kwh(it_staying, settings.pue),
        "defaulted_leaving_energy_kwh_per_year_before": power.facility_kwh(float(per_server[leaving_defaulted].sum()), settings.pue),
    }
    for when, it_kwh in it.items():
        kwh = power.facility_kwh(it_kwh, settings.pue)
        out.update({
            f"energy_kwh_per_year_{when}": kwh,
            f"it_energy_kwh_per_year_{when}": it_kwh,
            f"cost_per_year_{when}": power.cost(kwh, settings.price_per_kwh),
            f"co2_t_per_year_{when}": power.co2_tonnes(kwh, settings.carbon_g_per_kwh),
        })
    return out


def _solver(p: "Plan") -> dict:
    res, settings = p.result, p.settings
    return {
        "methods": list(res.methods),
        "time_s": round(res.time_s, 3),
        "compile_s": round(p.compile_s, 3),
        "status": res.status,
        "stopped_by": res.stopped_by,
        "gap_hosts": res.gap_hosts,
        **proof(p),
        "lp_bound": _lp_bound(res.lp_bound),
        "seed": settings.seed,
        "time_limit_s": settings.time_limit_s,
    }


def _lp_bound(lp) -> dict | None:
    """The LP bound's figures (hosts: ``hosts`` certified, ``farley``, ``lp_hosts`` the last master's
    value), or None where it did not run (the plan met the volume bound, or no time was left)."""
    if lp is None:
        return None
    return {"hosts": lp.hosts, "farley": round(lp.farley, 4), "lp_hosts": round(lp.lp_hosts, 4), "steps": lp.steps,
            "columns": lp.columns, "iterations": lp.iterations, "converged": lp.converged, "seconds": round(lp.seconds, 3)}


#: A VM above this share of a host (CPU at its peak step, or memory) is large: volume bounds,
#: which ignore how VMs fit together, are weak where many are (two at 0.6 need two hosts, not 1.2).
LARGE_SHARE = 0.25

#: What each bound family proves, in words.
BOUND_METHODS = {
    "cpu": "the time-aware CPU volume bound (the busiest interval's total demand over a host's plannable CPU)",
    "memory": "the memory volume bound (the VMs' memory over a host's usable memory)",
    "cpu and memory": "the CPU and memory volume bounds (both give it)",
    "large-items": "the large-items bound (Martello-Toth L2 per resource and step, and VMs no two of which share a host)",
    "cp-sat": "CP-SAT, which proved that no plan of fewer hosts exists",
    "lp": "the LP relaxation by column generation over {steps} steps (Farley bound)",
}


def proof(p: "Plan") -> dict:
    """What the plan's bound proves: ``proven`` (``optimal (proven)`` or ``at most N hosts above the
    optimum``), ``bound_method``, ``hosts_added`` (hosts above the packing on purpose: the validated
    sizing's risk target, N+1) and, where large VMs make the volume bounds weak, ``bound_note`` (not
    where a bound that sees how VMs fit together gives the gap: large items, CP-SAT, the LP).

    The optimum is that of the packing problem as sized (the demand ``sizing_applied`` names); the
    hosts added on purpose are not a gap of the solver.
    """
    res = p.result
    validation, n_plus_1 = p.solution.validation or {}, p.solution.n_plus_1 or {}
    added = {}
    packed = res.n_hosts
    if "envelope_hosts" in validation and res.n_hosts > validation["envelope_hosts"]:
        added["validation"] = res.n_hosts - validation["envelope_hosts"]
        packed = validation["envelope_hosts"]
    method = BOUND_METHODS.get(res.bound_resource, str(res.bound_resource))
    if res.bound_resource == "lp":
        method = method.format(steps=res.lp_bound.steps)
    if n_plus_1.get("n_plus_1_rounds"):
        # The N+1 count is searched from its own bound: a plan of n hosts is one of n - 1 once a host fails.
        added["n_plus_1"] = res.n_hosts - n_plus_1["hosts_without_n_plus_1"]
        method = f"one host more than the survivors need by {method}"
    gap = max(packed - res.lower_bound, 0)
    out = {
        "proven": "optimal (proven)" if gap == 0 else f"at most {gap} host{'s' if gap != 1 else ''} above the optimum",
        "bound_method": method,
        "hosts_added": added,
    }
    share = _largest_share(p)
    if gap and share > LARGE_SHARE and res.bound_resource not in ("large-items", "cp-sat", "lp"):
        out["bound_note"] = (
            f"the largest VM takes {share:.0%} of a host; a volume bound ignores how such VMs fit together, so the "
            f"optimum may lie above it: the {gap}-host gap is a limit, not the distance to the optimum"
        )
    return out


def _largest_share(p: "Plan") -> float:
    """The largest share of one host (the first model's plannable CPU at the VM's peak, or usable memory) a packed VM takes."""
    if p.sized.cpu_ghz.size == 0 or not p.fleet.capacities:
        return 0.0
    capacity = p.fleet.capacities[0]
    cpu = float(p.sized.cpu_ghz.max(axis=1).max()) / capacity.cpu_plan_ghz
    mem = float(p.sized.mem_gb.max()) / capacity.mem_usable_gb
    return max(cpu, mem)


def _holdout(p: "Plan", inside: dict) -> dict:
    outside = held_out_replay(p).figures(p.host_ids())
    return {
        "over_target_pct_in_sample": inside["over_target_pct"],
        "over_capacity_pct_in_sample": inside["over_capacity_pct"],
        "over_target_pct_out_of_sample": outside["over_target_pct"],
        "over_capacity_pct_out_of_sample": outside["over_capacity_pct"],
        "holdout": {"train": window(p.traces), "test": window(p.held_out), "in_sample": inside, "out_of_sample": outside},
    }


def growth(p: "Plan", rate_per_year: float) -> dict:
    """The growth what-if at ``rate_per_year`` (fraction), drawn from every replayed day (training
    and held-out parts alike)."""
    rep = p.replay
    if p.held_out is not None:
        held = held_out_replay(p)
        used = None if rep.mem_used_gb is None else np.concatenate([rep.mem_used_gb, held.mem_used_gb], axis=1)
        rep = Replay(np.concatenate([rep.cpu_ghz, held.cpu_ghz], axis=1), rep.fleet, rep.mem_gb, rep.interval_s, used)
    mem_total_gb = float(p.vms.workload.mem_gb[p.assignment >= 0].sum())
    s = p.settings
    start = (p.held_out if p.held_out is not None else p.traces).end
    return growth_what_if(rep, mem_total_gb, rate_per_year, s.horizon, s.risk_pct, seed=s.seed, start=start)


def summary(p: "Plan") -> dict:
    """summary.json's content for plan ``p``."""
    traces, settings, rep = p.traces, p.settings, p.replay
    res = p.result
    names = p.host_ids()
    inside = rep.figures(names)
    out = {
        "servers": traces.n_servers,
        "hosts_before": source_boxes(traces).machines,
        "hosts_after": p.hosts_after,
        "lower_bound": res.lower_bound,
        "lower_bound_resource": res.bound_resource,
        **_sizing_applied(p),
        "solver": _solver(p),
        "placed": int((p.assignment >= 0).sum()),
        "unplaceable": [traces.server_ids[i] for i in np.flatnonzero(p.status == "unplaceable")],
        "retire_candidates": [traces.server_ids[i] for i in np.flatnonzero(p.vms.idle)],
        "retired": bool(settings.retire_idle),
        "cpu_util_mean_before_pct": float(np.clip(traces.cpu_pct, 0, 100).mean()),
        "cpu_util_mean_after_pct": inside["cpu_util_mean_pct"],
        "cpu_util_peak_after_pct": inside["cpu_util_peak_pct"],
        "over_target_pct": inside["over_target_pct"],
        "over_capacity_pct": inside["over_capacity_pct"],
        "unmet_cpu_ghz_h": inside["unmet_cpu_ghz_h"],
        **_energy(p),
        "trace": {**window(traces), "interval_s": traces.interval_s, "source": traces.source},
        "data_quality": {"missing_pct": traces.quality.missing_pct, **traces.quality.counts},
        "warnings": list(traces.quality.warnings),
        "assumptions": _assumptions(p),
        "replay": inside,
        "failover": failover(p.vms.workload, p.assignment, rep, names),
        **_binding_overall(p),
        "unplaceable_reasons": unplaceable_reasons(p),
    }
    solution = p.solution
    if solution.frontier is not None:
        out["frontier"] = solution.frontier
    if solution.validation is not None:
        out["validation"] = solution.validation
    if solution.n_plus_1 is not None:
        out["constraints"] = {**settings.rules.summary(), **solution.n_plus_1}
    if solution.mix is not None:
        out["mix"] = solution.mix
    if p.held_out is not None:
        out.update(_holdout(p, inside))
    if settings.growth is not None:
        out["growth"] = growth(p, settings.growth)
    out["caveats"] = caveats(p, out)
    return out


def _sizing_applied(p: "Plan") -> dict:
    """The CPU sizing the plan was made with, as it happened (the ``sizing`` setting may not
    have run as named: validation skipped, an inventory without traces): ``sizing_applied``, a
    name (``validated``, ``envelope``, ``timeseries``, ``peak``, ``pNN``, ``inventory``), and
    ``sizing_note``, the sentence the terminal and the report print."""
    kind = p.traces.source.partition(":")[0]
    counts = p.traces.quality.counts
    if kind in EXPORT_FORMATS:
        return {"sizing_applied": "inventory",
                "sizing_note": f"inventory alone, not time-aware: {counts.get('servers_one_figure', 0)} server(s) by "
                               f"their one utilisation figure, {counts.get('servers_by_allocation', 0)} by allocation"}
    validation = p.solution.validation
    if validation is None:
        return {"sizing_applied": p.settings.sizing, "sizing_note": p.settings.sizing}
    if "skipped" in validation:
        # a window of a day or less is its own daily envelope: the time series
        envelope = "envelope_hosts" in validation and p.traces.n_steps * p.traces.interval_s > 86400
        name = "envelope" if envelope else "timeseries"
        what = "daily envelopes" if envelope else "time series"
        return {"sizing_applied": name, "sizing_note": f"{what}, validation skipped: {validation['skipped']}"}
    return {"sizing_applied": VALIDATED,
            "sizing_note": f"validated: daily envelopes, the count checked on {len(validation['folds'])} rolling-origin "
                           f"fold(s) within {validation['risk_pct']:g} % risk"}


#: Azure Migrate's confidence rating, from the share of the data points an assessment needs that
#: were available: up to 20 % 1 star, 21-40 % 2, 41-60 % 3, 61-80 % 4, 81-100 % 5 (Microsoft, "Discover
#: and assess on-premises VMware VMs for migration to Azure", azure-docs articles/migrate/
#: tutorial-assessment-vmware.md, 2019; the same table in "Confidence ratings", learn.microsoft.com).
CONFIDENCE_STEP_PCT = 20.0


def measured_pct(p: "Plan") -> np.ndarray:
    """Each server's share of the window between its first and its last real sample, % (servers,).

    The trace set keeps each server's measured span, not its gaps: filled cells inside the span
    count as measured. An inventory planned alone has no sample: 0 % for every server.
    """
    if p.traces.source.partition(":")[0] in EXPORT_FORMATS or not p.traces.n_steps:
        return np.zeros(p.traces.n_servers)
    return 100.0 * p.traces.measured_days / p.traces.duration_days


def confidence_stars(pct: np.ndarray) -> np.ndarray:
    """Azure Migrate's 1-5 star rating of a data coverage ``pct`` (%, :data:`CONFIDENCE_STEP_PCT`), int64."""
    return np.clip(np.ceil(np.round(np.asarray(pct, dtype=np.float64), 9) / CONFIDENCE_STEP_PCT), 1, 5).astype(np.int64)


def binding_shares(p: "Plan") -> tuple[np.ndarray, np.ndarray]:
    """Each host's replayed CPU peak as a share of its CPU target, and its planned memory as a share
    of its usable memory (both fractions, (hosts,)): the larger one binds the host."""
    rep = p.replay
    return rep.stats.peak_ghz / rep.cpu_target_ghz, rep.mem_gb / rep.mem_usable_gb


def binding_resource(p: "Plan") -> np.ndarray:
    """Each host's binding resource, ``cpu`` or ``memory`` (the larger of :func:`binding_shares`; cpu on a tie)."""
    cpu, mem = binding_shares(p)
    return np.where(mem > cpu, "memory", "cpu").astype(object)


def _binding_overall(p: "Plan") -> dict:
    """``binding_resource``: ``cpu`` or ``memory`` when every host is bound by it, ``cpu and memory``
    when the hosts differ (``binding_resource_hosts`` counts the hosts of each), None without hosts."""
    per_host = binding_resource(p)
    counts = {name: int((per_host == name).sum()) for name in ("cpu", "memory")}
    named = [name for name, n in counts.items() if n]
    return {"binding_resource": " and ".join(named) if named else None, "binding_resource_hosts": counts}


def unplaceable_reasons(p: "Plan") -> list[dict]:
    """Why each unplaceable server fits no host: what it needs (planned memory, GB; peak of the
    sized CPU demand, GHz) against the most a host of the plan's models offers (usable memory;
    CPU at the target), and a sentence saying which does not fit."""
    caps = p.fleet.capacities
    roomiest = max(caps, key=lambda c: c.mem_usable_gb)
    fastest = max(caps, key=lambda c: c.cpu_plan_ghz)
    row_of = np.full(p.traces.n_servers, -1)
    row_of[p.packed] = np.arange(int(p.packed.sum()))
    used = " or --mem-sizing used-p95" if p.settings.mem_sizing == "allocated" else ""
    hints = {"memory": f"a host with more memory{used}", "CPU": "a larger host or a higher --cpu-target"}
    out = []
    for i in np.flatnonzero(staying(p)):
        mem_gb = float(p.sized.mem_gb[row_of[i]])
        cpu_ghz = float(p.sized.cpu_ghz[row_of[i]].max())
        short = [what for what, over in (("memory", mem_gb > roomiest.mem_usable_gb), ("CPU", cpu_ghz > fastest.cpu_plan_ghz)) if over]
        offers = f"a {roomiest.model.name} offers {roomiest.mem_usable_gb:,.1f} GB usable (after the {p.settings.hypervisor} reserve)"
        offers += " and" if fastest is roomiest else f", a {fastest.model.name}"
        offers += f" {fastest.cpu_plan_ghz:,.1f} GHz at the CPU target {p.fleet.cpu_target:g}"
        if short:
            why = (f"needs {mem_gb:,.1f} GB of memory and {cpu_ghz:,.1f} GHz at its peak; {offers}: choose "
                   + " and ".join(hints[k] for k in short))
        else:
            why = "fits a host by size, but the placement rules leave it none"
        out.append({"server_id": p.traces.server_ids[i], "mem_gb": mem_gb, "cpu_peak_ghz": cpu_ghz,
                    "host_mem_usable_gb": float(roomiest.mem_usable_gb), "host_cpu_target_ghz": float(fastest.cpu_plan_ghz),
                    "short_of": short, "why": why})
    return out


#: Unplaceable servers a caveat names (the others are counted).
CAVEAT_SERVERS_NAMED = 3


def caveats(p: "Plan", summary: dict) -> list[str]:
    """The short sentences of everything that changes the plan's answer (summary.json's ``caveats``):
    defaulted inventory, a short window, skipped validation, unplaceable servers, a plan from an
    inventory alone, retired idle servers, servers with a short measured history. The money's own
    caveats are in the business case (:func:`consolidate.report.business.business_case`)."""
    out = []
    n = p.traces.n_servers
    defaulted = int(p.traces.inventory.defaulted.sum())
    if defaulted:
        out.append(f"{defaulted:,} of {n:,} servers ({100 * defaulted / n:.0f} %) lack inventory values and were given "
                   f"the default server's ({DEFAULT_DESCRIPTION}): their size and their cost today are assumptions")
    days = p.traces.duration_days
    inventory_alone = summary["sizing_applied"] == "inventory"
    if inventory_alone:
        out.append("planned from an inventory alone, each server by one utilisation figure or its allocation: no time "
                   "series, so no peaks, no overlap of peaks and no validation")
    elif short_window_text(days):
        out.append(short_window_text(days))
    skipped = summary.get("validation", {}).get("skipped")
    if skipped and not inventory_alone:
        out.append(f"validation skipped: {skipped}")
    reasons = summary["unplaceable_reasons"]
    if reasons:
        named = "; ".join(f"{r['server_id']} {r['why']}" for r in reasons[:CAVEAT_SERVERS_NAMED])
        more = f"; and {len(reasons) - CAVEAT_SERVERS_NAMED:,} more" if len(reasons) > CAVEAT_SERVERS_NAMED else ""
        out.append(f"{len(reasons):,} server(s) fit no host and stay on their own boxes (counted in the costs after): "
                   f"{named}{more}")
    retired = int((~p.packed).sum())
    if retired:
        out.append(f"{retired:,} idle server(s) are retired (--retire-idle), not moved: their costs today count as saved; "
                   "check with their owners that they can be switched off")
    short = 0 if inventory_alone else int((measured_pct(p) < 100 * SHORT_SPAN_SHARE).sum())
    if short:
        out.append(f"{short:,} of {n:,} servers have real samples over less than {SHORT_SPAN_SHARE:.0%} of the window "
                   "(the rest is filled from their first or last value): their peaks may be missed")
    return out


def placement_frame(p: "Plan") -> pd.DataFrame:
    """One row per source server: where it goes and what it is packed as."""
    ids = np.array(p.host_ids() + [""], dtype=object)
    inv = p.traces.inventory
    vms = p.vms
    packed_mem = np.full(p.traces.n_servers, np.nan)
    packed_mem[p.packed] = p.sized.mem_gb
    names = np.array([m.name for m in p.host_models()] + [""], dtype=object)
    coverage = measured_pct(p)
    return pd.DataFrame(
        {
            "server_id": list(p.traces.server_ids),
            "host_id": ids[p.assignment],
            "host_model": names[p.assignment],
            "status": p.status,
            "vcpus": vms.vcpus,
            "ram_gb": np.round(vms.ram_gb, 3),
            "mem_packed_gb": np.round(packed_mem, 3),
            "cpu_peak_ghz": np.round(vms.cpu_peak_ghz, 4),
            "cpu_mean_ghz": np.round(vms.cpu_mean_ghz, 4),
            "source_cores": inv.cores,
            "source_threads": inv.threads,
            "source_ghz": inv.ghz,
            "source_ram_gb": inv.ram_gb,
            "source_host": inv.host,
            "inventory_defaulted": inv.defaulted,
            "measured_days": np.round(p.traces.measured_days, 3),
            "measured_pct": np.round(coverage, 1),
            "confidence": confidence_stars(coverage),
        }
    )


def hosts_frame(p: "Plan") -> pd.DataFrame:
    """One row per target host: capacity, planned and replayed load, the binding resource and the
    headroom (``headroom_pct``: what is left of the binding resource, % of its target: 100 less the
    larger of the replayed CPU peak / CPU target and the planned memory / usable memory)."""
    rep = p.replay
    s = rep.stats
    cap = rep.cpu_capacity_ghz
    members = np.bincount(p.assignment[p.assignment >= 0], minlength=p.hosts_after)
    cpu_share, mem_share = binding_shares(p)
    return pd.DataFrame(
        {
            "host_id": p.host_ids(),
            "host_model": [m.name for m in p.host_models()],
            "vms": members,
            "cpu_capacity_ghz": np.round(cap, 4),
            "cpu_target_ghz": np.round(rep.cpu_target_ghz, 4),
            "mem_usable_gb": np.round(rep.mem_usable_gb, 3),
            "cpu_planned_peak_pct": np.round(100 * planned_peak_ghz(p) / cap, 2),
            "cpu_replay_peak_pct": np.round(100 * s.peak_ghz / cap, 2),
            "cpu_replay_mean_pct": np.round(100 * s.total_ghz_intervals / cap / max(rep.n_steps, 1), 2),
            "cpu_over_target_pct": np.round(100 * s.over_target / max(rep.n_steps, 1), 3),
            "mem_planned_gb": np.round(rep.mem_gb, 3),
            "mem_planned_pct": np.round(100 * rep.mem_gb / rep.mem_usable_gb * p.settings.mem_target, 2),
            "binding_resource": binding_resource(p),
            "headroom_pct": np.round(100 * (1 - np.maximum(cpu_share, mem_share)), 2),
        }
    )
