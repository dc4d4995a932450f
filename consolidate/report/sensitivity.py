"""Sensitivity of the business case: the yearly saving and the NPV with each input moved over a stated range.

summary.json's ``sensitivity`` is a list, one entry per input, each ``{input, unit, base, low,
high, range, saving_low, saving_high, npv_low, npv_high}``: the yearly saving and the NPV over
:data:`NPV_YEARS` years with the input at the low and at the high end of its range, the others as
the plan has them (a tornado chart's bars). ``saving_low`` is the saving at the input's low end,
whichever way the saving moves.

- Money inputs, recomputed from the summary alone (so that ``consolidate report DIR --licence ...``
  recomputes them): electricity price (:data:`PRICE_FACTORS`), PUE (:data:`PUE_RANGE`, widened to
  include the plan's), rack space (:data:`RACK_FACTORS`), licence price (:data:`LICENCE_FACTORS`,
  both sides' licences), maintenance (:data:`MAINTENANCE_FACTORS`), host price
  (:data:`HOST_PRICE_FACTORS`). Energy, licences, rack space and maintenance are each
  proportional to their input on both sides, so their category of the saving scales with it; the
  host price moves the capital cost and the hosts' maintenance.
- The CPU target, re-planned (:func:`replans`) at the plan's target -/+ :data:`CPU_TARGET_STEP`
  within :data:`CPU_TARGET_LIMITS`, with the same settings and a search capped at
  :data:`REPLAN_TIME_LIMIT_S`: the host count, the hosts' energy and the unplaceable servers follow.
- Growth, where the plan has ``--growth``: the rate x :data:`GROWTH_FACTORS`; the hosts the
  growth what-if needs in its last quarter (median of the draws) bought now, their energy the
  plan's hosts' scaled by the host count (each host at about today's load); "before" stays
  today's estate (its growth is not costed, which understates the saving).

The re-planned figures are stored in summary.json (``sensitivity_replans``), so that the
report recomputes every entry for new business inputs without the traces.
"""

from __future__ import annotations

import math
from dataclasses import replace

from consolidate.errors import InputError
from consolidate.report.business import (
    LICENCE_PRICE_UNIT,
    BusinessInputs,
    business_case,
    npv,
    plan_estate,
)

NPV_YEARS = 5
PRICE_FACTORS = (0.7, 1.3)
PUE_RANGE = (1.2, 2.0)
RACK_FACTORS = (0.0, 2.0)
LICENCE_FACTORS = (0.5, 1.5)
MAINTENANCE_FACTORS = (0.5, 1.5)
HOST_PRICE_FACTORS = (0.75, 1.25)
CPU_TARGET_STEP = 0.1
CPU_TARGET_LIMITS = (0.5, 0.95)
GROWTH_FACTORS = (0.5, 1.5)
#: Search cap of each re-plan, s (the plan's own cap when lower): two re-plans stay within a minute.
REPLAN_TIME_LIMIT_S = 10.0


def business_figures(summary: dict, inputs: BusinessInputs | None = None) -> dict:
    """summary.json's ``business_case`` and ``sensitivity`` for ``inputs``: what the report path
    writes whenever the business inputs change."""
    case = business_case(summary, inputs)
    return {"business_case": case, "sensitivity": sensitivity(summary, inputs or BusinessInputs(), case)}


def sensitivity(summary: dict, inputs: BusinessInputs, case: dict) -> list[dict]:
    """The entries of summary.json's ``sensitivity`` (module docstring); ``case`` is the business
    case of ``summary`` for ``inputs``."""
    a = summary.get("assumptions", {})
    entries = []
    if "price_per_kwh" in a:
        price = a["price_per_kwh"]
        entries.append(_scaled(case, "energy", "electricity price", f"{case['currency']}/kWh", price,
                               [price * f for f in PRICE_FACTORS], f"x {PRICE_FACTORS[0]:g} to x {PRICE_FACTORS[1]:g}"))
    if "pue" in a:
        pue = a["pue"]
        ends = [min(PUE_RANGE[0], pue), max(PUE_RANGE[1], pue)]
        entries.append(_scaled(case, "energy", "PUE", "ratio", pue, ends,
                               f"{PUE_RANGE[0]:g} (an efficient data centre) to {PUE_RANGE[1]:g} (an old one), and the plan's"))
    rack = inputs.rack_usd_per_u_year
    entries.append(_scaled(case, "rack", "rack cost", f"{case['currency']}/U/yr", rack,
                           [rack * f for f in RACK_FACTORS], f"x {RACK_FACTORS[0]:g} (space that costs nothing) to x {RACK_FACTORS[1]:g}"))
    entries.append(_licence(case))
    pct = inputs.maintenance_pct
    entries.append(_scaled(case, "maintenance", "maintenance", "% of the hardware price a year", pct,
                           [pct * f for f in MAINTENANCE_FACTORS], f"x {MAINTENANCE_FACTORS[0]:g} to x {MAINTENANCE_FACTORS[1]:g}"))
    entries.append(_host_price(summary, inputs, case))
    replanned = summary.get("sensitivity_replans", {})
    if "cpu_target" in replanned:
        entries.append(_replanned(summary, inputs, replanned["cpu_target"], "CPU target", "fraction"))
    if "growth" in replanned:
        entries.append(_replanned(summary, inputs, replanned["growth"], "growth", "fraction a year"))
    return entries


def _digits(value: float) -> float:
    return float(f"{value:.10g}")


def _entry(name: str, unit: str, base: float, ends: list[float], how: str, cases: list[dict]) -> dict:
    """An entry from the business cases (or their ``yearly_saving`` and NPV alone) at the low and the high end."""
    return {
        # the ends to ten digits: 0.1 x 0.7 is 0.07, not 0.06999999999999999
        "input": name, "unit": unit, "base": base, "low": _digits(ends[0]), "high": _digits(ends[1]), "range": how,
        "saving_low": cases[0]["yearly_saving"], "saving_high": cases[1]["yearly_saving"],
        "npv_low": cases[0][f"npv_{NPV_YEARS}y"], "npv_high": cases[1][f"npv_{NPV_YEARS}y"],
    }


def _scaled(case: dict, category: str, name: str, unit: str, base: float, ends: list[float], how: str) -> dict:
    """An input that one category's costs, before and after, are proportional to: that category's
    saving scales with it (an input of 0 takes the category out)."""
    part = case["saving_by_category"][category]
    savings = [case["yearly_saving"] + part * ((end / base if base else 1.0) - 1.0) for end in ends]
    rate = case["inputs"]["discount_rate"]
    cases = [{"yearly_saving": v, f"npv_{NPV_YEARS}y": npv(case["capital_cost"], v, rate, NPV_YEARS)} for v in savings]
    return _entry(name, unit, base, ends, how, cases)


def _licence(case: dict) -> dict:
    """The licence prices, both sides' moved by :data:`LICENCE_FACTORS`."""
    scheme = case["licence_after"] if case["licence_after"] != "none" else case["licence_before"]
    price = case["licence_price_after"] if case["licence_after"] != "none" else case["licence_price_before"]
    how = f"x {LICENCE_FACTORS[0]:g} to x {LICENCE_FACTORS[1]:g}, before and after"
    if scheme == "none":
        how = "no licence counted on either side (--licence, --licence-before): nothing to move"
    unit = f"{case['currency']} {LICENCE_PRICE_UNIT[scheme].removeprefix('USD ')}".strip()
    return _scaled(case, "licences", f"licence price ({scheme})", unit, price, [price * f for f in LICENCE_FACTORS], how)


def _host_price(summary: dict, inputs: BusinessInputs, case: dict) -> dict:
    """The host price moved by :data:`HOST_PRICE_FACTORS` (a mix: every host's price by the same factor)."""
    price = case["host_price_usd"]
    ends = [price * f for f in HOST_PRICE_FACTORS]
    cases = [business_case(summary, replace(inputs, host_price_usd=end)) if math.isfinite(end) else case for end in ends]
    return _entry("host price", case["currency"], price, ends, f"x {HOST_PRICE_FACTORS[0]:g} to x {HOST_PRICE_FACTORS[1]:g}", cases)


def _replanned(summary: dict, inputs: BusinessInputs, stored: dict, name: str, unit: str) -> dict:
    """An input whose ends were planned again (:func:`replans`): each end's business case from its hosts."""
    ends = ("low", "high", "at_rate") if "at_rate" in stored else ("low", "high")
    unplanned = {"yearly_saving": None, f"npv_{NPV_YEARS}y": None}
    cases = {end: business_case({**summary, **stored[end]["summary"]}, inputs) if "summary" in stored[end] else unplanned
             for end in ends}
    how = stored["range"] + "".join(f"; at {stored[end]['value']:g} no plan: {stored[end]['error']}"
                                    for end in ends if "error" in stored[end])
    entry = _entry(name, unit, stored["base"], [stored["low"]["value"], stored["high"]["value"]], how,
                   [cases["low"], cases["high"]])
    for end in ends:
        entry[f"hosts_{end}"] = stored[end]["summary"]["hosts_after"] if "summary" in stored[end] else None
    if "at_rate" in cases:
        entry.update({"saving_at_rate": cases["at_rate"]["yearly_saving"], "npv_at_rate": cases["at_rate"][f"npv_{NPV_YEARS}y"]})
    return entry


def replans(plan) -> dict:
    """summary.json's ``sensitivity_replans`` for ``plan`` (a :class:`~consolidate.planner.Plan`):
    the figures after of the plan made again at either end of the CPU target's range, and of the
    hosts the growth what-if needs at either end of the growth rate's (module docstring); each
    end's ``summary`` holds the summary figures its business case differs by."""
    out = {"cpu_target": _cpu_target(plan)}
    if plan.settings.growth is not None:
        out["growth"] = _growth(plan)
    return out


def _after(plan, hosts_kwh: float, estate: dict, unplaceable: list[str]) -> dict:
    """The summary figures a business case after reads, for hosts using ``hosts_kwh`` (IT, kWh/yr)."""
    from consolidate import figures
    from consolidate.models import power

    s = plan.settings
    it_kwh = hosts_kwh + float(figures.source_kwh_per_year(plan)[figures.staying(plan)].sum())
    kwh = power.facility_kwh(it_kwh, s.pue)
    return {"hosts_after": estate["hosts"], "energy_kwh_per_year_after": kwh,
            "cost_per_year_after": power.cost(kwh, s.price_per_kwh), "estate": estate, "unplaceable": unplaceable}


def _cpu_target(plan) -> dict:
    """The plan made again at the CPU target -/+ :data:`CPU_TARGET_STEP` (an end that is the plan's
    own target is the plan itself)."""
    from consolidate import figures
    from consolidate.planner import replan

    s = plan.settings
    base = s.cpu_target
    limit_s = min(s.time_limit_s, REPLAN_TIME_LIMIT_S)
    lows, highs = min(CPU_TARGET_LIMITS[0], base), max(CPU_TARGET_LIMITS[1], base)
    out = {"base": base, "range": (
        f"-/+ {CPU_TARGET_STEP:g} within {lows:g}-{highs:g}, planned again with the same settings on the same "
        f"traces, the search capped at {limit_s:g} s (a re-plan may keep a host more than a longer search)")}
    for end, target in (("low", max(lows, base - CPU_TARGET_STEP)), ("high", min(highs, base + CPU_TARGET_STEP))):
        target = round(target, 6)
        try:
            again = plan if target == base else replan(plan, cpu_target=target, time_limit_s=limit_s, frontier=False,
                                                       growth=None)
        except InputError as exc:  # e.g. --n-plus-1 leaves a server no host at a lower target
            out[end] = {"value": target, "error": str(exc)}
            continue
        unplaceable = [again.traces.server_ids[i] for i in figures.staying(again).nonzero()[0]]
        out[end] = {"value": target, "summary": _after(again, figures.hosts_kwh_per_year(again), plan_estate(again), unplaceable),
                    "stopped_by": again.result.stopped_by}
        del again  # the next re-plan runs without this one's arrays
    return out


def _growth(plan) -> dict:
    """The hosts the growth what-if needs in its last quarter (median), at the rate x :data:`GROWTH_FACTORS`
    and at the rate itself."""
    from consolidate import figures

    s = plan.settings
    rate = s.growth
    hosts_kwh = figures.hosts_kwh_per_year(plan)
    unplaceable = plan.summary["unplaceable"]
    out = {"base": rate, "range": (
        f"x {GROWTH_FACTORS[0]:g} to x {GROWTH_FACTORS[1]:g} the rate; the hosts the growth what-if needs in its last "
        f"quarter (median of the draws) bought now, each at about today's load; the servers' growth before not costed")}
    for end, value in (("low", rate * GROWTH_FACTORS[0]), ("at_rate", rate), ("high", rate * GROWTH_FACTORS[1])):
        quarters = (plan.summary["growth"] if end == "at_rate" else figures.growth(plan, value))["quarters"]
        hosts = quarters[-1]["hosts_needed_p50"] if quarters else plan.hosts_after
        estate = plan_estate(plan, hosts)
        scale = hosts / plan.hosts_after if plan.hosts_after else 0.0
        out[end] = {"value": value, "summary": _after(plan, hosts_kwh * scale, estate, unplaceable)}
    return out
