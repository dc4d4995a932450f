"""A plan as the report and the exports see it, from a :class:`~consolidate.planner.Plan` in memory
or from the folder ``consolidate plan`` wrote.

A plan folder holds everything the report needs, so that ``consolidate report PLAN_DIR`` redraws
it without the traces:

- ``summary.json``: the plan's summary plus ``utilisation`` (histograms of CPU utilisation before
  and after, in :data:`UTIL_BIN_PCT` bins), ``estate`` (rack units, hardware price and licensed
  cores before and after, see :func:`consolidate.report.business.estate_facts`) and
  ``business_case``;
- ``placement.csv`` and ``hosts.csv``;
- ``replay.parquet``: the replayed host CPU load, % of each host's full capacity, float32, one
  column per host (named by ``host_id``) and one row per time step, with a ``timestamp`` column (UTC).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs, payback_text, plan_estate
from consolidate.report.sensitivity import business_figures

REPLAY_FILE = "replay.parquet"
PLAN_FILES = ("summary.json", "placement.csv", "hosts.csv")
#: The last file a plan write puts in place: every file's name, size and SHA-256, and the plan's settings.
MANIFEST_FILE = "manifest.json"
#: Prefix of the hidden folders writers stage files in, ``.consolidate-<pid>-<random>``.
STAGING_PREFIX = ".consolidate-"
UTIL_BIN_PCT = 2.0
UTIL_BINS = int(round(100 / UTIL_BIN_PCT))


@dataclass(frozen=True)
class PlanData:
    """One plan's tables and figures.

    ``summary`` is summary.json's content; ``host_load_pct`` float32 (hosts, steps) the replayed
    host CPU load in % of full capacity, with ``timestamps`` its UTC grid (both None when a plan
    folder has no replay.parquet).
    """

    name: str
    summary: dict
    placement: pd.DataFrame
    hosts: pd.DataFrame
    host_load_pct: np.ndarray | None = None
    timestamps: pd.DatetimeIndex | None = None

    def with_business(self, inputs: BusinessInputs) -> "PlanData":
        """The same plan with its business case and its sensitivity worked out again for ``inputs``."""
        return replace(self, summary={**self.summary, **business_figures(self.summary, inputs)})

    @property
    def business(self) -> dict:
        return self.summary["business_case"]


#: Values counted at a time by :func:`histogram_pct`.
HISTOGRAM_SLICE = 1 << 22


def histogram_pct(values_pct: np.ndarray, bin_pct: float = UTIL_BIN_PCT) -> list[int]:
    """Counts of ``values_pct`` in bins of ``bin_pct`` from 0 to 100 %, then one bin above 100 %.

    Values below 0 count in the first bin, exactly 100 % in the last bin under 100; NaN is skipped.
    """
    flat = np.asarray(values_pct).ravel()
    bins = int(round(100 / bin_pct))
    counts = np.zeros(bins + 1, dtype=np.int64)
    # a slice at a time: the temporaries of a whole estate's server-intervals would be the plan's peak memory
    for start in range(0, flat.size, HISTOGRAM_SLICE):
        values = flat[start : start + HISTOGRAM_SLICE]
        values = values[np.isfinite(values)]
        above = values > 100.0
        index = np.clip(np.floor(values[~above] / bin_pct), 0, bins - 1).astype(np.int64)
        counts[:bins] += np.bincount(index, minlength=bins)
        counts[bins] += int(above.sum())
    return [int(c) for c in counts]


def utilisation(cpu_pct_before: np.ndarray, host_load_pct: np.ndarray, cpu_target: float, after: dict) -> dict:
    """summary.json's ``utilisation``: CPU utilisation before (per server-interval) and after
    (per host-interval), as histograms and percentiles, in %.

    ``after`` holds the replay's own ``after_p95_pct``, ``after_peak_pct`` and
    ``after_median_host_peak_pct``, so that the report quotes the replay's figures, not copies.
    """
    before = np.asarray(cpu_pct_before)
    stats_before = {"before_p95_pct": 0.0, "before_peak_pct": 0.0, "before_median_server_peak_pct": 0.0}
    if before.size:
        stats_before = {
            "before_p95_pct": float(np.nanpercentile(before, 95)),
            "before_peak_pct": float(np.nanmax(before)),
            "before_median_server_peak_pct": float(np.median(np.nanmax(before, axis=1))),
        }
    return {
        "bin_pct": UTIL_BIN_PCT,
        "before_counts": histogram_pct(before),
        "after_counts": histogram_pct(host_load_pct),
        "before_what": "server-intervals: CPU busy, % of the server's logical CPUs",
        "after_what": "host-intervals: CPU load, % of the host's full capacity (after hypervisor overhead)",
        **stats_before,
        **after,
        "cpu_target_pct": 100.0 * cpu_target,
    }


def host_text(assumptions: dict) -> str:
    """The plan's target hosts in words: the model, or for a mix the hosts per model
    (``3 x dell-r6515 + 2 x hpe-dl380-gen10plus``)."""
    if len(assumptions.get("host_models", ())) > 1:
        return assumptions["host_mix"]
    return assumptions["host_model"]


def hosts_text(summary: dict) -> str:
    """``5 dell-r6515 hosts``, or for a mix ``5 hosts (3 x dell-r6515 + 2 x hpe-dl380-gen10plus)``."""
    a = summary["assumptions"]
    if len(a.get("host_models", ())) > 1:
        return f"{summary['hosts_after']:,} hosts ({a['host_mix']})"
    return plural(summary["hosts_after"], f"{a['host_model']} host")


# --- Words: the figures as the report and the terminal print them -------------------------------
# One formatter per kind of figure, so that the page and the terminal say the same thing.

#: The yearly cost items of the business case, as the page names them.
COST_LABELS = {"energy": "energy", "licences": "licences", "maintenance": "maintenance", "rack": "rack space"}
BINDING_LABELS = {"cpu": "CPU", "memory": "memory", "cpu and memory": "CPU and memory"}
#: Most host or server names a sentence lists before "and N more".
NAMES_IN_A_SENTENCE = 5


def finite(value) -> bool:
    """A real number (not a bool, None, NaN or infinite)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and bool(np.isfinite(value))


def fmt_num(value, digits: int = 0) -> str:
    """``1,234.5``-style number; ``n/a`` for a missing or non-finite value."""
    return f"{value:,.{digits}f}" if finite(value) else "n/a"


def fmt_money(value, currency: str) -> str:
    """Whole currency units with a thousands separator, e.g. ``36,318 USD``."""
    return f"{value:,.0f} {currency}" if finite(value) else "n/a"


def fmt_pct(value, digits: int = 2) -> str:
    """A share in percent, ``0.42 %``; a share above zero too small to show is ``< 0.01 %``, never ``0.00 %``."""
    if not finite(value):
        return "n/a"
    smallest = 10.0 ** -digits
    if 0 < value < smallest / 2:
        return f"< {smallest:.{digits}f} %"
    return f"{value:,.{digits}f} %"


def fmt_change(before, after, points: bool = False) -> str:
    """Relative change (``-86 %``) or, for percentages, the change in points (``+12.4 pts``).

    A change is shown with as many decimals (up to 3) as it takes not to read as a total loss
    (``-100 %``) or as no change (``+0 %``) when it is neither: 1,052 -> 5 is ``-99.5 %``.
    """
    if not (finite(before) and finite(after)):
        return ""
    if points:
        return f"{after - before:+.1f} pts"
    if not before:
        return ""
    change = (after - before) / before * 100
    digits = 0
    while digits < 3 and (
        (after != 0 and round(change, digits) == -100) or (after != before and round(change, digits) == 0)
    ):
        digits += 1
    return f"{change:+.{digits}f} %"


def fmt_days(days) -> str:
    """``1 day``, ``14 days``, ``0.5 days``."""
    if not finite(days):
        return "n/a"
    shown = f"{round(float(days), 2):g}"
    return f"{shown} day" if shown == "1" else f"{shown} days"


def fmt_time(iso: str) -> str:
    """An ISO timestamp as ``2024-01-01 00:00 UTC``."""
    try:
        stamp = pd.Timestamp(iso)
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def fmt_mwh(kwh) -> str:
    """Energy in MWh, the one energy unit of the page and the terminal (``43.4 MWh``)."""
    return f"{kwh / 1000:,.1f} MWh" if finite(kwh) else "n/a"


def fmt_fraction(value) -> str:
    """A fraction as a percentage the way the page writes them, ``0.8`` -> ``80 %``."""
    return f"{100 * value:.4g} %" if finite(value) else "n/a"


def by_swing(entries: list[dict]) -> list[dict]:
    """summary.json's sensitivity entries, the one that moves the yearly saving most first."""
    def swing(entry: dict) -> float:
        low, high = entry.get("saving_low"), entry.get("saving_high")
        return abs(high - low) if finite(low) and finite(high) else 0.0

    return sorted(entries, key=swing, reverse=True)


def _figure(value) -> str:
    """A value of any size, four significant digits, never in exponent form (``0.07``, ``21,000``)."""
    if not finite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def sensitivity_range(entry: dict, currency: str) -> str:
    """An entry of summary.json's ``sensitivity`` as the range its input was moved over, in the
    input's unit (``0.07 to 0.13 USD/kWh``, ``70 % to 90 %``), with the plan's own value."""
    unit = str(entry.get("unit", "")).replace("USD", currency)
    if unit.startswith("fraction"):
        show, unit = fmt_fraction, unit.removeprefix("fraction").strip()
    else:
        show, unit = _figure, ("" if unit == "ratio" else unit)
    text = f"{show(entry['low'])} to {show(entry['high'])} {unit}".strip()
    if "base" in entry:
        text += f" (the plan: {show(entry['base'])})"
    if "hosts_low" in entry and "hosts_high" in entry:
        text += f"; {entry['hosts_low']:,} and {entry['hosts_high']:,} hosts"
    return text


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 host``, ``2 hosts``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def names_text(names: list[str], limit: int = NAMES_IN_A_SENTENCE) -> str:
    """``a, b and c``; past ``limit`` names, ``a, b, c and 12 more``."""
    names = [str(n) for n in names]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit:,} more"
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


#: The bounds that are not a resource's total, in words.
BOUND_SOURCES = {"large-items": "set by the large VMs", "cp-sat": "proven by CP-SAT",
                 "lp": "set by the LP relaxation (column generation)"}


def lower_bound_source(summary: dict) -> str:
    """What sets the plan's lower bound on hosts, in words (``set by the CPU total``)."""
    resource = summary["lower_bound_resource"]
    if resource in BOUND_SOURCES:
        return BOUND_SOURCES[resource]
    named = BINDING_LABELS.get(resource, str(resource))
    return f"set by the {named} total" + ("s" if " and " in named else "")


#: Why hosts above the packing were added on purpose, in words.
HOSTS_ADDED_LABELS = {"validation": "for the risk target on held-out days", "n_plus_1": "for N+1"}


def proof_text(summary: dict) -> str:
    """What the plan's bound proves, in words: ``optimal (proven)`` or ``at most 2 hosts above the
    optimum``, the hosts added on purpose and, where large VMs make the bound weak, why (a plan folder
    written before these figures: its solver status)."""
    solver = summary["solver"]
    if "proven" not in solver:
        return str(solver["status"])
    added = [f"{plural(n, 'host')} added {HOSTS_ADDED_LABELS.get(k, k)}" for k, n in solver.get("hosts_added", {}).items() if n]
    bound = "the LP bound" if summary.get("lower_bound_resource") == "lp" else "the bound"
    parts = [solver["proven"] + (f" by {bound}" if solver["proven"].startswith("at most") else ""), *added]
    if solver.get("bound_note"):
        parts.append(solver["bound_note"])
    return "; ".join(parts)


def n_plus_1_status(summary: dict) -> bool | None:
    """Whether the plan survives any single-host failure: ``failover.n_plus_1_holds``; for a plan folder
    written before that figure, False where a failure overloaded a survivor, else None (not known)."""
    failover = summary.get("failover") or {}
    if "n_plus_1_holds" in failover:
        return bool(failover["n_plus_1_holds"])
    return False if failover.get("failures_overloading") else None


def spare_hosts(summary: dict) -> int:
    """The hosts N+1 needs beyond the plan (the business case's count where it has one)."""
    n_plus_1 = (summary.get("business_case") or {}).get("n_plus_1") or {}
    return int(n_plus_1.get("spare_hosts", (summary.get("failover") or {}).get("spare_hosts_n_plus_1", 0)) or 0)


def _item(key: str, head: str, label: str, value: str, text: str, tone: str = "") -> dict:
    return {"key": key, "head": head, "label": label, "value": value, "text": text, "tone": tone}


def _hosts_item(s: dict) -> dict:
    binding = BINDING_LABELS.get(s.get("binding_resource"))
    today = f" (on {plural(s['hosts_before'], 'machine')} today)" if s["hosts_before"] != s["servers"] else ""
    text = f"{plural(s['servers'], 'server')}{today} onto {hosts_text(s)}"
    per_host = s.get("binding_resource_hosts") or {}
    if binding and all(per_host.get(k) for k in ("cpu", "memory")):
        text += f"; what binds them: CPU on {plural(per_host['cpu'], 'host')}, memory on {plural(per_host['memory'], 'host')}"
    elif binding:
        text += f"; what binds them: {binding}"
    unplaced = len(s.get("unplaceable", ()))
    if unplaced == 1:
        text += "; 1 server fits no host and stays on its own machine"
    elif unplaced:
        text += f"; {unplaced:,} servers fit no host and stay on their own machines"
    label = ("servers" if s["hosts_before"] == s["servers"] else "machines") + " → hosts" + (f", {binding} binds" if binding else "")
    return _item("hosts", "Hosts", label, f"{s['hosts_before']:,} → {s['hosts_after']:,}", text)


def _risk_item(s: dict) -> dict:
    a = s["assumptions"]
    risk_pct = a.get("risk_pct")
    text = (f"{fmt_pct(s['over_target_pct'])} of host-intervals over the CPU target ({fmt_fraction(a['cpu_target'])} of capacity) "
            f"when the traces are replayed on the plan, {fmt_pct(s['over_capacity_pct'])} over capacity")
    worst = s["over_target_pct"]
    predicted = (s.get("validation") or {}).get("predicted_next_window")
    if predicted:
        low, high = predicted["over_target_pct_low"], predicted["over_target_pct_high"]
        text += f"; the next window, predicted: {fmt_pct(low)} to {fmt_pct(high)}"
        worst = max(worst, high)
    if "over_target_pct_out_of_sample" in s:
        text += f"; on the held-out days: {fmt_pct(s['over_target_pct_out_of_sample'])}"
        worst = max(worst, s["over_target_pct_out_of_sample"])
    if finite(risk_pct):
        text += f" (risk target {fmt_pct(risk_pct)})"
    tone = "bad" if s["over_capacity_pct"] > 0 else "warn" if finite(risk_pct) and worst > risk_pct else "ok"
    return _item("risk", "Risk", "replayed over the CPU target", fmt_pct(s["over_target_pct"]), text, tone)


def _n_plus_1_item(s: dict) -> dict:
    holds = n_plus_1_status(s)
    failover = s.get("failover") or {}
    planned = bool((s.get("constraints") or {}).get("n_plus_1") or s["assumptions"].get("n_plus_1"))
    label = "N+1: any one host down"
    if holds is None:
        text = ("not known — this plan folder predates the check of failures against the CPU target; plan again"
                if failover.get("hosts") else "not checked — the plan has no host to fail")
        return _item("n_plus_1", "N+1", label, "not known", text, "warn")
    if holds:
        text = "holds — any one host can fail and the others take its VMs within their CPU target and memory"
        return _item("n_plus_1", "N+1", label, "holds", text + (" (planned with --n-plus-1)" if planned else ""), "ok")
    failing = list(failover.get("failures_overloading") or [])
    n_hosts = s["hosts_after"]
    if n_hosts == 1:
        text = "fails — the one host leaves no other host to move its VMs to"
    elif failing and len(failing) == n_hosts:
        text = "fails — " + ("losing either host" if n_hosts == 2 else f"losing any one of the {n_hosts:,} hosts") + \
            " takes a survivor over its CPU target or out of memory"
    else:
        which = f"losing {names_text(failing)} ({len(failing):,} of {n_hosts:,} hosts)" if failing else "a single-host failure"
        text = f"fails — {which} takes a survivor over its CPU target or out of memory"
    spare = spare_hosts(s)
    value = "fails"
    if spare:
        bc = s.get("business_case") or {}
        cost = bc.get("n_plus_1") or {}
        cur = bc.get("currency", "")
        text += f"; N+1 needs {plural(spare, 'more host')}"
        value = f"fails: +{plural(spare, 'host')}"
        if finite(cost.get("capital_cost")):
            text += f", {fmt_money(cost['capital_cost'], cur)} to buy"
            if finite(cost.get("yearly_cost")):
                text += f" and {fmt_money(cost['yearly_cost'], cur)} a year to run"
    return _item("n_plus_1", "N+1", label, value, text, "bad")


def _growth_item(s: dict) -> dict | None:
    growth = s.get("growth")
    if not growth:
        return None
    quarters = growth.get("quarters") or []
    rate = fmt_fraction(growth["rate_per_year"])
    runway = growth.get("runway") or {}
    parts = [runway["text"]] if runway.get("text") else []
    if quarters:
        last = quarters[-1]
        low, high = last["hosts_needed_p50"], last["hosts_needed_p90"]
        needed = f"{plural(low, 'host')} (median and 90th percentile of the draws alike)" if low == high else \
            f"{low:,} to {high:,} hosts (median to 90th percentile of the draws)"
        parts.append(f"by quarter {last['quarter']} at {rate} a year the estate needs {needed}, against {plural(growth.get('hosts_now', s['hosts_after']), 'host')} now")
    value, tone = _runway_value(runway, quarters, growth.get("hosts_now", s["hosts_after"]))
    return _item("growth", "Growth", f"headroom at {rate} a year growth", value, "; ".join(parts), tone)


def _runway_value(runway: dict, quarters: list[dict], hosts_now: int) -> tuple[str, str]:
    """The growth card: how long the headroom lasts (``quarter`` None: the whole horizon; 0: not a quarter), and its tone."""
    if "quarter" in runway:
        quarter, label = runway["quarter"], runway.get("label")
        if quarter is None:
            return (f"beyond {label}" if label else f"beyond {plural(len(quarters), 'quarter')}"), "ok"
        if quarter == 0:
            return "none", "bad"
        return (f"until {label}" if label else plural(quarter, "quarter")), "warn"
    if not quarters:
        return "n/a", ""
    over = any(q["hosts_needed_p50"] > hosts_now for q in quarters)
    return f"{plural(quarters[-1]['hosts_needed_p50'], 'host')} by Q{quarters[-1]['quarter']}", "warn" if over else "ok"


def _driver_amount(driver: dict):
    return driver.get("amount", driver.get("saving"))


def _signed(value: float) -> str:
    return f"{value:+,.0f}"


def _money_item(s: dict) -> dict:
    bc = s["business_case"]
    cur = bc["currency"]
    saving = bc["yearly_saving"]
    text = f"{fmt_money(saving, cur)} saved a year"
    drivers = [d for d in bc.get("largest_drivers") or [] if finite(_driver_amount(d))][:3]
    if drivers:
        # a driver may cost more after than before (licences on new hypervisor hosts): signed, not "saved by"
        text += "; the largest parts of it: " + ", ".join(
            f"{COST_LABELS.get(d['category'], d['category'])} {_signed(_driver_amount(d))} {cur}" for d in drivers)
    text += (f"; the hosts cost {fmt_money(bc['capital_cost'], cur)}, paid back in {payback_text(bc)}; "
             f"net present value over 5 years {fmt_money(bc['npv_5y'], cur)}")
    defaulted = bc.get("defaulted") or {}
    if defaulted.get("servers"):
        share = defaulted.get("share_of_servers")
        one = defaulted["servers"] == 1
        text += (f"; {plural(defaulted['servers'], 'server')}" + (f" ({fmt_fraction(share)} of them)" if finite(share) else "")
                 + (" runs on a machine the inventory does not describe and is" if one
                    else " run on machines the inventory does not describe and are")
                 + " costed as a " + str(defaulted.get("default_model") or s.get("estate", {}).get("default_source_model", "default model")))
        if finite(defaulted.get("saving_from_defaulted")):
            text += f": {fmt_money(defaulted['saving_from_defaulted'], cur)} of the yearly saving rests on them"
    tone = "bad" if not (finite(saving) and saving > 0) else ""
    return _item("money", "Money", "saved a year", fmt_money(saving, cur), text, tone)


def _energy_item(s: dict) -> dict:
    before, after = s["energy_kwh_per_year_before"], s["energy_kwh_per_year_after"]
    co2 = s["co2_t_per_year_before"] - s["co2_t_per_year_after"]
    change = fmt_change(before, after)
    text = f"facility energy {fmt_mwh(before)} → {fmt_mwh(after)} a year" + (f" ({change})" if change else "") + \
        f"; {fmt_num(co2, 1)} t CO₂ less a year"
    return _item("energy", "Energy", "energy a year", change or "n/a", text)


def first_screen(summary: dict) -> list[dict]:
    """What a plan's first screen answers, in the report and the terminal alike: the hosts and what
    binds them, the replayed risk, N+1 and what it costs, the growth runway (when asked), the money
    and its largest drivers, the energy. Each item is ``{key, head, label, value, text, tone}``:
    ``value`` the figure a card shows under ``label``, ``text`` the whole sentence after ``head``,
    ``tone`` ``ok``, ``warn``, ``bad`` or empty."""
    items = [_hosts_item(summary), _risk_item(summary), _n_plus_1_item(summary), _growth_item(summary),
             _money_item(summary), _energy_item(summary)]
    return [item for item in items if item is not None]


def caveats(summary: dict) -> list[str]:
    """Every caveat of the plan (summary.json's ``caveats``) and of its money (``business_case.caveats``), each once."""
    found: list[str] = []
    for text in [*summary.get("caveats", []), *(summary.get("business_case") or {}).get("caveats", [])]:
        if text not in found:
            found.append(text)
    return found


def estate_differences(scenarios: list[PlanData]) -> list[str]:
    """How the plans' estates differ (server ids, trace windows), against the first: empty when all are one estate."""
    first = scenarios[0]
    ids = set(first.placement["server_id"].astype(str))
    window = _window(first.summary)
    found = []
    for data in scenarios[1:]:
        other = set(data.placement["server_id"].astype(str))
        if other != ids:
            parts = []
            if ids - other:
                parts.append(f"lacks {plural(len(ids - other), 'server')} of {first.name} ({names_text(sorted(ids - other), 3)})")
            if other - ids:
                parts.append(f"has {plural(len(other - ids), 'server')} {first.name} has not ({names_text(sorted(other - ids), 3)})")
            found.append(f"{data.name} " + " and ".join(parts))
        if _window(data.summary) != window:
            found.append(f"{data.name}'s traces cover {_window_text(data.summary)}, {first.name}'s {_window_text(first.summary)}")
    return found


def _window(summary: dict) -> tuple:
    trace = summary.get("trace") or {}
    return trace.get("start"), trace.get("end"), trace.get("interval_s")


def _window_text(summary: dict) -> str:
    trace = summary.get("trace") or {}
    return f"{fmt_time(trace.get('start'))} to {fmt_time(trace.get('end'))} at {trace.get('interval_s')} s intervals"


def check_same_estate(scenarios: list[PlanData], force: bool) -> list[str]:
    """The estates' differences (:func:`estate_differences`); raises :class:`InputError` when there are
    any and ``force`` is not given: plans of different estates are not alternatives of one decision."""
    found = estate_differences(scenarios)
    if found and not force:
        raise InputError(f"these plans are not of one estate: {found[0]}" + (f" (and {len(found) - 1} more difference(s))" if len(found) > 1 else "")
                         + "; compare plans of the same traces, or give --force to compare them anyway")
    return found


def report_facts(plan) -> dict:
    """The report's figures of ``plan`` (a :class:`~consolidate.planner.Plan`) that do not depend on the business case."""
    rep = plan.replay
    load_pct = (100.0 * rep.cpu_util).astype(np.float32)
    figures = plan.summary["replay"]
    peaks_pct = 100.0 * rep.stats.peak_ghz / rep.cpu_capacity_ghz
    after = {
        "after_p95_pct": figures["cpu_util_p95_pct"],
        "after_peak_pct": figures["cpu_util_peak_pct"],
        "after_median_host_peak_pct": float(np.median(peaks_pct)) if peaks_pct.size else 0.0,
    }
    return {
        "utilisation": utilisation(plan.traces.cpu_pct, load_pct, plan.settings.cpu_target, after),
        "estate": plan_estate(plan),
        "host_load_pct": load_pct,
    }


def from_plan(plan, business: BusinessInputs | None = None, name: str | None = None) -> PlanData:
    """The report's view of ``plan`` (a :class:`~consolidate.planner.Plan`): its business case and the
    sensitivity of it (the re-planned ends stored, so that a plan folder recomputes it alone)."""
    facts = plan.report_facts
    summary = {**plan.summary, "utilisation": facts["utilisation"], "estate": facts["estate"],
               "sensitivity_replans": plan.sensitivity_replans}
    summary.update(business_figures(summary, business))
    return PlanData(
        name=name or (plan.summary["assumptions"]["host_mix"] if plan.settings.is_mix else plan.settings.host_model.name),
        summary=summary,
        placement=plan.placement_frame(),
        hosts=plan.hosts_frame(),
        host_load_pct=facts["host_load_pct"],
        timestamps=plan.traces.timestamps(),
    )


def replay_frame(data: PlanData) -> pd.DataFrame:
    """replay.parquet's table: ``timestamp`` then one float32 column of load % per host."""
    load = data.host_load_pct if data.host_load_pct is not None else np.zeros((0, 0), np.float32)
    columns = {"timestamp": data.timestamps}
    columns.update({str(h): load[i] for i, h in enumerate(data.hosts["host_id"])})
    return pd.DataFrame(columns)


def file_digest(path: str | Path) -> dict:
    """A file's entry in a manifest: its size in bytes and its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def staging_folders(folder: Path) -> list[Path]:
    """The hidden ``.consolidate-*`` folders a writer stages its files in (see :func:`~consolidate.report.outputs.write_files`)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX) and p.is_dir())
    except OSError:
        return []


def read_manifest(path: Path) -> dict | None:
    """The manifest at ``path``, None when there is none; raises InputError when it cannot be read."""
    if not path.exists():
        return None
    again = f"run `consolidate plan --out {path.parent}` again"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable manifest ({exc}); {again}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("bytes"), int) and isinstance(e.get("sha256"), str) for e in files.values()
    ):
        raise InputError(f"{path}: not a consolidate manifest (no file list with sizes and hashes); {again}")
    return manifest


def check_manifest(folder: Path, required: tuple[str, ...] = PLAN_FILES) -> dict | None:
    """Check that ``folder`` holds one complete write: every file of its manifest.json, of the size and
    SHA-256 the manifest gives.

    Returns the manifest, or None for a folder that has none and no unfinished write (a plan folder put
    together by hand, or written before manifests). Raises :class:`InputError` naming the first file
    that does not match.
    """
    again = f"run `consolidate plan --out {folder}` again to rewrite it"
    manifest = read_manifest(folder / MANIFEST_FILE)
    if manifest is None:
        staged = staging_folders(folder)
        if staged:
            raise InputError(
                f"{folder} has no {MANIFEST_FILE} and holds an unfinished write ({staged[0].name}/): a run was stopped "
                f"while writing it or is writing it now, so its files may be of two plans; {again}"
            )
        return None
    if manifest.get("complete") is not True:
        raise InputError(
            f"{folder / MANIFEST_FILE} says a write into {folder} was under way (process {manifest.get('writer_pid', '?')}) "
            f"and did not finish: its files may be of two plans; {again}"
        )
    missing = [name for name in required if name not in manifest["files"]]
    if missing:
        raise InputError(f"{folder / MANIFEST_FILE} does not list {', '.join(missing)}: it is not a plan's manifest; {again}")
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"{path} is missing, but {MANIFEST_FILE} lists it; {again}")
        if path.stat().st_size != entry["bytes"] or file_digest(path)["sha256"] != entry["sha256"]:
            raise InputError(
                f"{path} is not the file {MANIFEST_FILE} lists (size or SHA-256 differ): it was changed after the plan "
                f"was written, or a write was stopped halfway; {again}"
            )
    return manifest


def manifest_name(kind: str) -> str:
    """The manifest's file name for writes of ``kind``: manifest.json for a plan, ``manifest-KIND.json`` else,
    so that a sample, a plan and its exports can share a folder (an estate's is ``manifest-estate.json``)."""
    return MANIFEST_FILE if kind == "plan" else f"manifest-{kind}.json"


def _refuse_estate(folder: Path, missing: list[str]) -> None:
    """An estate's folder holds its sites' plans, not one plan: say where they are."""
    estate = folder / manifest_name("estate")
    if not missing or not estate.is_file():
        return
    try:
        sites = list((read_manifest(estate) or {}).get("about", {}).get("sites") or [])
    except InputError:
        sites = []
    example = folder / "sites" / (sites[0] if sites else "SITE")
    raise InputError(f"{folder} is an estate of {len(sites)} sites (written by `consolidate plan --by`), not one plan; "
                     f"give one site's folder, e.g. {example}")


def read_plan_dir(path: str | Path, business: dict | None = None) -> PlanData:
    """A plan folder written by ``consolidate plan``.

    The folder's files are first checked against its manifest.json (:func:`check_manifest`), so
    that a folder holding parts of two plans (a write stopped halfway, a file changed by hand) is
    refused rather than read. ``business`` overrides the business-case inputs stored in
    summary.json (keys of :class:`BusinessInputs`; None values keep the stored ones). Raises
    :class:`InputError` when ``path`` is not a plan folder, or not one consistent plan.
    """
    folder = Path(path)
    hint = "give a folder that `consolidate plan --out` wrote"
    again = f"run `consolidate plan --out {folder}` again to rewrite it"
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; {hint}")
    missing = [name for name in PLAN_FILES if not (folder / name).is_file()]
    _refuse_estate(folder, missing)
    if missing and not (folder / MANIFEST_FILE).exists() and not staging_folders(folder):
        raise InputError(f"{folder} is not a plan folder (no {', '.join(missing)}); {hint}")
    check_manifest(folder)
    if missing:
        raise InputError(f"{folder} is not a plan folder (no {', '.join(missing)}); {hint}")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / 'summary.json'}: not valid JSON ({exc}); {hint}") from None
    needed = ("hosts_after", "assumptions", "estate", "utilisation", "cost_per_year_before")
    if not isinstance(summary, dict) or any(key not in summary for key in needed):
        raise InputError(f"{folder / 'summary.json'} lacks the report's figures; {again}")
    _check_summary(folder / "summary.json", summary, again)
    try:
        placement = pd.read_csv(folder / "placement.csv", dtype={"server_id": str, "host_id": str}, keep_default_na=False)
        hosts = pd.read_csv(folder / "hosts.csv", dtype={"host_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder}: placement.csv or hosts.csv is not a readable CSV ({exc}); {hint}") from None
    for name, frame, columns in (("placement.csv", placement, ("server_id", "host_id", "vcpus", "ram_gb")), ("hosts.csv", hosts, ("host_id",))):
        lacking = [c for c in columns if c not in frame.columns]
        if lacking:
            raise InputError(f"{folder / name}: missing column(s) {', '.join(lacking)}; {hint}")
    placement = _checked_placement(folder, placement, hosts, again)
    load, timestamps = _read_replay(folder / REPLAY_FILE, hosts["host_id"])
    data = PlanData(folder.resolve().name, summary, placement, hosts, load, timestamps)
    try:
        inputs = BusinessInputs.from_dict(summary.get("business_case", {}).get("inputs"), **(business or {}))
        return data.with_business(inputs)
    except InputError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError) as exc:
        raise InputError(f"{folder / 'summary.json'}: its figures are not what `consolidate plan` writes ({_describe(exc)}); {again}") from None


def _describe(exc: BaseException) -> str:
    """An exception in a few words: ``no key 'host'``, or the message."""
    if isinstance(exc, KeyError):
        return f"no key {exc.args[0]!r}" if exc.args else "a key is missing"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


#: summary.json's figures and the types the report reads them as.
_SUMMARY_TYPES = {
    "hosts_after": int, "hosts_before": int, "servers": int, "assumptions": dict, "estate": dict,
    "utilisation": dict, "cost_per_year_before": float, "cost_per_year_after": float,
    "energy_kwh_per_year_before": float, "energy_kwh_per_year_after": float, "trace": dict,
}
_ASSUMPTION_TYPES = {"host_model": str, "host": dict, "hypervisor": str}
_HOST_TYPES = {"cores": int, "threads": int, "ghz": float, "perf": float, "ram_gb": float}
_UTILISATION_TYPES = {
    "bin_pct": float, "before_counts": list, "after_counts": list, "before_p95_pct": float, "before_peak_pct": float,
    "before_median_server_peak_pct": float, "after_p95_pct": float, "after_peak_pct": float,
    "after_median_host_peak_pct": float, "cpu_target_pct": float,
}


def _check_summary(path: Path, summary: dict, again: str) -> None:
    """summary.json's main figures have the types the report and the exports read them as."""
    def check(where: str, table: dict, types: dict) -> None:
        for key, kind in types.items():
            if key not in table:
                if where == "":
                    continue
                raise InputError(f"{path}: no {where}{key}; {again}")
            value = table[key]
            if kind is float:
                ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
            elif kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            else:
                ok = isinstance(value, kind)
            if not ok:
                what = {int: "a whole number of at least 0", float: "a number", dict: "an object", str: "a text",
                        list: "a list"}[kind]
                raise InputError(f"{path}: {where}{key} is {json.dumps(value)[:60]}, not {what}; {again}")

    check("", summary, _SUMMARY_TYPES)
    check("assumptions.", summary["assumptions"], _ASSUMPTION_TYPES)
    check("assumptions.host.", summary["assumptions"]["host"], _HOST_TYPES)
    check("utilisation.", summary["utilisation"], _UTILISATION_TYPES)


def _bad_row(path: Path, frame: pd.DataFrame, mask, column: str, rule: str, again: str) -> InputError:
    row = int(np.flatnonzero(np.asarray(mask))[0])
    value = frame[column].iloc[row]
    return InputError(f"{path} line {row + 2}, column {column}: {str(value)[:60]!r} {rule}; fix that row or {again}")


def _checked_placement(folder: Path, placement: pd.DataFrame, hosts: pd.DataFrame, again: str) -> pd.DataFrame:
    """placement.csv with vcpus and ram_gb as numbers, each checked, and every host_id one of hosts.csv's.

    A row is refused (InputError naming its line and column) when vcpus is not a whole number of at
    least 1, ram_gb not a finite number above 0, or host_id neither empty (not placed) nor a host of
    hosts.csv; a host_id of hosts.csv must be a non-empty name without "/" or "\\", once.
    """
    path, hosts_path = folder / "placement.csv", folder / "hosts.csv"
    host_ids = hosts["host_id"].fillna("").astype(str)
    bad = (host_ids == "") | host_ids.str.contains(r"[/\\\x00-\x1f]", regex=True) | host_ids.isin({".", ".."})
    if bad.any():
        raise _bad_row(hosts_path, hosts, bad, "host_id", 'is not a host name (empty, or holds "/", "\\" or a control character)', again)
    dup = host_ids.duplicated()
    if dup.any():
        raise _bad_row(hosts_path, hosts, dup, "host_id", "is there twice", again)
    server_ids = placement["server_id"].astype(str)
    if (server_ids == "").any():
        raise _bad_row(path, placement, server_ids == "", "server_id", "is empty: every row needs a server id", again)
    unknown = (placement["host_id"] != "") & ~placement["host_id"].isin(set(host_ids))
    if unknown.any():
        raise _bad_row(path, placement, unknown, "host_id", f"is not a host of {hosts_path.name} (nor empty, for a server not placed)", again)
    vcpus = pd.to_numeric(placement["vcpus"], errors="coerce")
    bad = ~np.isfinite(vcpus.to_numpy(dtype=float)) | (vcpus < 1) | (vcpus != np.round(vcpus))
    if bad.any():
        raise _bad_row(path, placement, bad, "vcpus", "is not a whole number of at least 1", again)
    ram = pd.to_numeric(placement["ram_gb"], errors="coerce")
    bad = ~np.isfinite(ram.to_numpy(dtype=float)) | ~(ram > 0)
    if bad.any():
        raise _bad_row(path, placement, bad, "ram_gb", "is not a number of GB above 0", again)
    return placement.assign(vcpus=vcpus.astype(np.int64), ram_gb=ram.astype(float))


def _read_replay(path: Path, host_ids: pd.Series) -> tuple[np.ndarray | None, pd.DatetimeIndex | None]:
    if not path.is_file():
        return None, None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}); run `consolidate plan` again") from None
    lacking = [h for h in host_ids if h not in frame.columns]
    if "timestamp" not in frame.columns or lacking:
        raise InputError(f"{path} does not match hosts.csv (no column for {lacking[:3] or 'timestamp'}); run `consolidate plan` again")
    load = np.ascontiguousarray(frame[list(host_ids)].to_numpy(dtype=np.float32).T)
    return load, pd.DatetimeIndex(frame["timestamp"])
