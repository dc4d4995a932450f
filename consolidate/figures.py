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
from consolidate.io.inventory import EXPORT_FORMATS
from consolidate.models import catalog, constants, hypervisor, power
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


def _energy(p: "Plan") -> dict:
    """Energy, cost and CO2 a year before (each source server on its curve) and after (each host on its model's)."""
    traces, settings, rep = p.traces, p.settings, p.replay
    inv = traces.inventory
    src_util = power.source_load_fraction(traces.cpu_pct, inv.cores, inv.threads, settings.smt_gain)
    src_curves, _ = catalog.source_power_curves(inv)
    it_before = energy_kwh_per_year(src_curves, src_util, traces.interval_s)
    host_curves = np.array([m.power_curve_w for m in p.host_models()], dtype=np.float64).reshape(rep.n_hosts, -1)
    host_util = power.host_load_fraction(rep.cpu_ghz, rep.cpu_capacity_ghz)
    it_after = energy_kwh_per_year(host_curves, host_util, traces.interval_s) if rep.n_hosts else 0.0
    idle = p.vms.idle
    idle_kwh = energy_kwh_per_year(src_curves[idle], src_util[idle], traces.interval_s) if idle.any() else 0.0
    out = {"retire_candidates_energy_kwh_per_year_before": idle_kwh * settings.pue}
    for when, it_kwh in (("before", it_before), ("after", it_after)):
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
        "seed": settings.seed,
        "time_limit_s": settings.time_limit_s,
    }


def _holdout(p: "Plan", inside: dict) -> dict:
    outside = held_out_replay(p).figures(p.host_ids())
    return {
        "over_target_pct_in_sample": inside["over_target_pct"],
        "over_capacity_pct_in_sample": inside["over_capacity_pct"],
        "over_target_pct_out_of_sample": outside["over_target_pct"],
        "over_capacity_pct_out_of_sample": outside["over_capacity_pct"],
        "holdout": {"train": window(p.traces), "test": window(p.held_out), "in_sample": inside, "out_of_sample": outside},
    }


def _growth(p: "Plan") -> dict:
    """The growth what-if, drawn from every replayed day (training and held-out parts alike)."""
    rep = p.replay
    if p.held_out is not None:
        held = held_out_replay(p)
        used = None if rep.mem_used_gb is None else np.concatenate([rep.mem_used_gb, held.mem_used_gb], axis=1)
        rep = Replay(np.concatenate([rep.cpu_ghz, held.cpu_ghz], axis=1), rep.fleet, rep.mem_gb, rep.interval_s, used)
    mem_total_gb = float(p.vms.workload.mem_gb[p.assignment >= 0].sum())
    s = p.settings
    return growth_what_if(rep, mem_total_gb, s.growth, s.horizon, s.risk_pct, seed=s.seed)


def summary(p: "Plan") -> dict:
    """summary.json's content for plan ``p``."""
    traces, settings, rep = p.traces, p.settings, p.replay
    res = p.result
    names = p.host_ids()
    inside = rep.figures(names)
    out = {
        "servers": traces.n_servers,
        "hosts_before": traces.n_servers,
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
    }
    solution = p.solution
    if solution.frontier is not None:
        out["frontier"] = solution.frontier
    if solution.validation is not None:
        out["validation"] = solution.validation
    if solution.n_plus_1_rounds is not None:
        out["constraints"] = {**settings.rules.summary(), "n_plus_1_rounds": solution.n_plus_1_rounds}
    if solution.mix is not None:
        out["mix"] = solution.mix
    if p.held_out is not None:
        out.update(_holdout(p, inside))
    if settings.growth is not None:
        out["growth"] = _growth(p)
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


def placement_frame(p: "Plan") -> pd.DataFrame:
    """One row per source server: where it goes and what it is packed as."""
    ids = np.array(p.host_ids() + [""], dtype=object)
    inv = p.traces.inventory
    vms = p.vms
    packed_mem = np.full(p.traces.n_servers, np.nan)
    packed_mem[p.packed] = p.sized.mem_gb
    names = np.array([m.name for m in p.host_models()] + [""], dtype=object)
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
            "inventory_defaulted": inv.defaulted,
            "measured_days": np.round(p.traces.measured_days, 3),
        }
    )


def hosts_frame(p: "Plan") -> pd.DataFrame:
    """One row per target host: capacity, planned and replayed load."""
    rep = p.replay
    s = rep.stats
    cap = rep.cpu_capacity_ghz
    members = np.bincount(p.assignment[p.assignment >= 0], minlength=p.hosts_after)
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
        }
    )
