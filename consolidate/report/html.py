"""report.html: one self-contained page (charts as embedded SVG, inline CSS, nothing fetched).

:func:`render_report` lays out one plan, or several side by side (scenarios: two host models,
two risk targets, ...), from :class:`~consolidate.report.plandata.PlanData`. Every figure on the
page is read from the plan's summary.json and tables; this module only words and arranges them.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import jinja2
import markupsafe
import pandas as pd

from consolidate.report import plots
from consolidate.report.business import payback_text
from consolidate.report.plandata import (
    BINDING_LABELS,
    COST_LABELS,
    PlanData,
    by_swing,
    caveats,
    estate_differences,
    finite,
    first_screen,
    fmt_change,
    fmt_days,
    fmt_fraction,
    fmt_money,
    fmt_mwh,
    fmt_num,
    fmt_pct,
    fmt_time,
    host_text,
    hosts_text,
    lower_bound_source,
    n_plus_1_status,
    plural,
    proof_text,
    sensitivity_range,
    spare_hosts,
)

HOSTS_TABLE_MAX_ROWS = 60
SERVERS_TABLE_MAX_ROWS = 100
FAILOVER_TABLE_MAX_ROWS = 30
NAMES_SHOWN = 20

#: The sourced defaults of summary.json["assumptions"]["sources"] as the page names them.
SOURCE_LABELS = {
    "pue": "PUE (facility power over IT power)",
    "price_per_kwh": "electricity price",
    "carbon_g_per_kwh": "grid carbon intensity",
    "hours_per_year": "hours a year",
    "source_default_model": "model of a source server the inventory does not describe",
    "source_default_curve_w": "that model's power curve",
    "idle_cpu_pct": "idle server: CPU under",
    "idle_mem_pct": "idle server: memory under",
    "idle_net_pct": "idle server: network under",
    "idle_percentile": "idle server: percentile of its series",
    "xen_min_guest_gb": "smallest Xen guest",
    "hypervisor_cpu_overhead": "hypervisor CPU overhead",
    "rightsize_cpu_percentile": "right-sizing: CPU percentile",
    "rightsize_headroom": "right-sizing: headroom factor",
    "ram_step_gb": "memory rounded up to steps of",
    "perf_reference": "CPU performance reference",
    "vsphere_usd_per_core_year": "vSphere subscription",
    "vsphere_min_cores_per_cpu": "vSphere: fewest cores licensed per CPU",
    "windows_dc_usd_per_16_cores": "Windows Server Datacenter, 16-core pack",
    "windows_min_cores_per_server": "Windows Server: fewest cores licensed per server",
    "licence_years": "a perpetual licence spread over",
    "maintenance_pct": "maintenance",
    "rack_usd_per_u_year": "rack space",
    "discount_rate": "discount rate",
}

#: summary.json["data_quality"]'s counts as the page names them.
QUALITY_LABELS = {
    "cpu_empty_values": "CPU values empty",
    "cpu_infinite_as_missing": "CPU values infinite, read as missing",
    "cpu_below_0_clipped": "CPU values below 0 %, clipped",
    "cpu_above_100_clipped": "CPU values above 100 %, clipped",
    "mem_empty_values": "memory values empty",
    "mem_infinite_as_missing": "memory values infinite, read as missing",
    "mem_implausible_as_missing": "memory values implausible, read as missing",
    "mem_below_0_clipped": "memory values below 0, clipped",
    "servers_dropped_no_samples": "servers dropped: no samples",
    "inventory_defaulted": "servers whose hardware was defaulted",
    "inventory_unused": "inventory rows with no traces",
    "duplicates_merged": "duplicate samples merged",
    "gaps_filled": "gaps filled",
    "late_start_filled": "late starts filled",
    "early_stop_filled": "early stops filled",
    "mem_filled": "memory samples filled",
    "mem_servers_without_values": "servers without memory values",
}

#: summary.json["business_case"]["inputs"] as the page names them.
INPUT_LABELS = {
    "licence": "licence after", "licence_before": "licence before", "currency": "currency",
    "licence_price_usd": "licence price", "licence_years": "licence spread over (years)",
    "maintenance_pct": "maintenance, % of the hardware price a year", "rack_usd_per_u_year": "rack space per U a year",
    "discount_rate": "discount rate", "host_price_usd": "host price",
}


def key_label(key: str, labels: dict[str, str]) -> str:
    """The page's name of a summary.json key: from ``labels``, else the key in words."""
    return labels.get(key, key.replace("_", " "))


_BACKTICKS = re.compile(r"`([^`]+)`")


def prose(text) -> markupsafe.Markup:
    """A sentence of the plan (a warning, a caveat) for the page: escaped, and a command quoted in
    backticks set as code rather than shown with its backticks."""
    escaped = str(markupsafe.escape(str(text)))
    return markupsafe.Markup(_BACKTICKS.sub(r"<code>\1</code>", escaped))


def environment() -> jinja2.Environment:
    """The report templates' environment: autoescaped, strict, with the report's number filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("consolidate.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_num, money=fmt_money, pct=fmt_pct, fraction=fmt_fraction, days=fmt_days, mwh=fmt_mwh,
                       time=fmt_time, payback=payback_text, prose=prose)
    return env


def before_after_rows(data: PlanData) -> list[tuple[str, str, str, str]]:
    """The before/after table: (what, before, after, change)."""
    s, u, bc = data.summary, data.summary["utilisation"], data.business
    cur = bc["currency"]

    def mwh(kwh):
        return kwh / 1000 if finite(kwh) else None

    rows = [
        ("physical machines → hosts", s["hosts_before"], s["hosts_after"], fmt_num, False),
        ("CPU utilisation, mean %", s["cpu_util_mean_before_pct"], s["cpu_util_mean_after_pct"], lambda v: fmt_num(v, 1), True),
        ("CPU utilisation, 95th percentile %", u["before_p95_pct"], u["after_p95_pct"], lambda v: fmt_num(v, 1), True),
        ("CPU utilisation, peak %", u["before_peak_pct"], u["after_peak_pct"], lambda v: fmt_num(v, 1), True),
        ("energy, MWh a year (facility)", mwh(s["energy_kwh_per_year_before"]), mwh(s["energy_kwh_per_year_after"]),
         lambda v: fmt_num(v, 1), False),
        (f"electricity, {cur} a year", s["cost_per_year_before"], s["cost_per_year_after"], fmt_num, False),
        (f"running cost, {cur} a year", bc["yearly_cost_before"]["total"], bc["yearly_cost_after"]["total"], fmt_num, False),
        ("CO₂, t a year", s["co2_t_per_year_before"], s["co2_t_per_year_after"], lambda v: fmt_num(v, 1), False),
        ("rack units", bc["rack_units_before"], bc["rack_units_after"], fmt_num, False),
        (_cores_label(bc), bc["licensed_cores_before"], bc["licensed_cores_after"], fmt_num, False),
    ]
    return [(what, f(b), f(a), fmt_change(b, a, points)) for what, b, a, f, points in rows]


def _licences(bc: dict) -> tuple[str, str]:
    """The licence each side runs: (before, after)."""
    after = bc.get("licence_after", bc["inputs"]["licence"])
    before = bc.get("licence_before", bc["inputs"].get("licence_before", after))
    return str(before), str(after)


def _cores_label(bc: dict) -> str:
    before, after = _licences(bc)
    if before == after == "none":
        return "physical cores (no per-core licence counted)"
    return f"licensed cores ({before} before, {after} after)"


def cost_rows(data: PlanData) -> list[tuple[str, str, str, str]]:
    """Yearly running cost by item: (item, before, after, saving), the total last."""
    bc = data.business
    before, after = bc["yearly_cost_before"], bc["yearly_cost_after"]
    keys = [k for k in COST_LABELS if k in before or k in after]
    keys += [k for k in {**before, **after} if k not in keys and k != "total"]
    rows = []
    for key in keys + ["total"]:
        b, a = before.get(key, 0.0), after.get(key, 0.0)
        rows.append((key_label(key, COST_LABELS), fmt_num(b), fmt_num(a), fmt_num(_sub(b, a))))
    return rows


def _sub(a, b):
    return a - b if finite(a) and finite(b) else None


def assumption_rows(data: PlanData) -> list[tuple[str, str, str]]:
    """Every setting the plan and its business case were made under: (name, value, source)."""
    a, bc, est = data.summary["assumptions"], data.business, data.summary["estate"]
    host = a["host"]
    inputs = bc["inputs"]
    cur = bc["currency"]
    curve_origin = ", ".join(f"{n} × {what}" for what, n in a.get("source_power_curves", {}).items())
    mix = len(a.get("host_models", ())) > 1
    rows = [
        ("target host model", f"{a['host_model']}: {host['cores']} cores / {host['threads']} threads at {host['ghz']} GHz "
         f"(perf {host['perf']}), {fmt_num(host['ram_gb'])} GB", host.get("source", "")),
    ] if not mix else [
        ("target host mix", f"{a['host_mix']}, picked by --objective {a['objective']}", "the host mix search (README, Host mix)"),
        *[
            (f"host model {name}", f"{m['cores']} cores / {m['threads']} threads at {m['ghz']} GHz (perf {m['perf']}), "
             f"{fmt_num(m['ram_gb'])} GB; {fmt_num(m['cpu_capacity_ghz'], 1)} GHz effective CPU, "
             f"{fmt_num(m['mem_usable_gb'], 1)} GB usable; {fmt_money(m['price_usd'], cur)} each", m.get("source", ""))
            for name, m in a["models"].items()
        ],
    ]
    rows += [
        ("hypervisor", f"{a['hypervisor']}, CPU overhead {fmt_fraction(a['hypervisor_cpu_overhead'])}", a.get("hypervisor_source", "")),
        ("SMT gain", f"{a['smt_gain']}", "VMware vSphere Resource Management; Ruan et al., SIGMETRICS 2005 (15-30 %)"),
        ("CPU and memory targets", f"CPU target {a['cpu_target']}, memory target {a['mem_target']}", "--cpu-target, --mem-target"),
        ("risk target", f"{fmt_pct(a['risk_pct'])} of host-intervals over the CPU target", "--risk") if "risk_pct" in a else None,
        ("sizing", f"CPU {data.summary.get('sizing_note', a['sizing'])}; memory {a['mem_sizing']} (margin {a['mem_margin']})",
         "--sizing, --mem-sizing, --mem-margin"),
        ("placement rules", _rules_text(data.summary), "--constraints, --max-vms-per-host, --vcpu-ratio, --n-plus-1"),
        ("host capacity", f"{fmt_num(a['host_cpu_capacity_ghz'], 1)} GHz effective CPU, {fmt_num(a['host_mem_usable_gb'], 1)} GB usable memory",
         "after hypervisor overhead and the memory target") if not mix else None,
        ("PUE", f"{a['pue']}", _source(a, "pue")),
        ("electricity price", f"{a['price_per_kwh']} {cur} per kWh", _source(a, "price_per_kwh")),
        ("grid carbon intensity", f"{a['carbon_g_per_kwh']} g CO₂/kWh", _source(a, "carbon_g_per_kwh")),
        ("source servers' power", curve_origin, "inventory watts, else the catalogue model the inventory names, else the default model"),
        ("source servers' rack units, sockets, price",
         f"{est['servers_with_catalogue_model']} of {est['servers']} from their catalogue model; the others as {est['default_source_model']}",
         "consolidate catalog (rack units and prices assumed, unverified)"),
        ("host price", f"{fmt_money(bc['host_price_usd'], cur)} each ({bc['host_price_from']})"
         if not mix or bc["host_price_from"] == "--host-price"
         else f"each host at its model's catalogue price: {fmt_money(bc['capital_cost'], cur)} in all",
         "--host-price; catalogue prices are rough and unverified"),
        ("licence before", _licence_name(_licences(bc)[0]), "--licence-before (auto: what the inventory says, else none)"),
        ("licence after", _licence_text(bc), _licence_source(a, inputs["licence"])),
        ("maintenance", f"{inputs['maintenance_pct']:g} % of the hardware price a year", _source(a, "maintenance_pct")),
        ("rack space", f"{fmt_money(inputs['rack_usd_per_u_year'], cur)} per U a year", _source(a, "rack_usd_per_u_year")),
        ("discount rate", f"{100 * inputs['discount_rate']:.1f} % a year", _source(a, "discount_rate")),
        ("currency", f"{cur} (prices are not converted)", "--currency"),
    ]
    return [row for row in rows if row is not None]


def _rules_text(summary: dict) -> str:
    """The placement rules a plan was made under, in words."""
    rules = summary.get("constraints") or {}
    a = summary["assumptions"]
    parts = []
    if rules.get("file") or a.get("constraints"):
        parts.append(f"rules from {rules.get('file') or a.get('constraints')}: {rules.get('anti_affinity_groups', 0)} anti-affinity "
                     f"and {rules.get('affinity_groups', 0)} affinity group(s), {rules.get('pins', 0)} pin(s)")
    if rules.get("max_vms_per_host") or a.get("max_vms_per_host"):
        parts.append(f"at most {rules.get('max_vms_per_host') or a.get('max_vms_per_host')} VMs per host")
    if rules.get("vcpu_ratio") or a.get("vcpu_ratio"):
        parts.append(f"at most {rules.get('vcpu_ratio') or a.get('vcpu_ratio')} vCPUs per core")
    if rules.get("n_plus_1") or a.get("n_plus_1"):
        rounds = rules.get("n_plus_1_rounds")
        parts.append("N+1 (room for any one failed host's VMs)" + (f", reached in {plural(rounds, 'round')}" if rounds else ""))
    return "; ".join(parts) or "none"


def _source(assumptions: dict, key: str) -> str:
    return assumptions.get("sources", {}).get(key, {}).get("source", "")


def _licence_name(licence: str) -> str:
    return {"none": "none counted", "vsphere": "vSphere, per core", "windows": "Windows Server Datacenter, per core"}.get(licence, licence)


def _licence_text(bc: dict) -> str:
    inputs = bc["inputs"]
    if inputs["licence"] == "none":
        return "none counted (--licence none)"
    unit = str(bc["licence_price_unit"]).replace("USD", bc["currency"])
    text = f"{_licence_name(inputs['licence'])}: {fmt_num(bc['licence_price_usd'])} {unit}"
    if inputs["licence"] == "windows":
        text += f", spread over {inputs['licence_years']:g} years"
    return text + f" = {fmt_num(bc['licence_usd_per_core_year'], 2)} {bc['currency']} per licensed core a year"


def _licence_source(assumptions: dict, licence: str) -> str:
    if licence == "vsphere":
        return _source(assumptions, "vsphere_usd_per_core_year") + "; " + _source(assumptions, "vsphere_min_cores_per_cpu")
    if licence == "windows":
        return "; ".join(_source(assumptions, k) for k in ("windows_dc_usd_per_16_cores", "windows_min_cores_per_server", "licence_years"))
    return "--licence vsphere or windows counts per-core licences on the hosts"


def source_rows(data: PlanData) -> list[tuple[str, str, str, bool]]:
    """The sourced defaults: (name, value with unit, source, is an assumption)."""
    cur = data.business["currency"]
    rows = []
    for name, figure in data.summary["assumptions"].get("sources", {}).items():
        value = figure["value"]
        shown = ", ".join(f"{v:g}" for v in value) if isinstance(value, (list, tuple)) else (f"{value:g}" if isinstance(value, float) else str(value))
        source = figure["source"]
        unit = str(figure["unit"]).replace("USD", cur)
        rows.append((key_label(name, SOURCE_LABELS), f"{shown} {unit}".strip(), source, source.lower().startswith("assumption")))
    return rows


def quality_rows(data: PlanData) -> tuple[list[tuple[str, str]], list[str]]:
    """The data-quality report: (rows: the trace span, then every non-zero count), the rules that repaired nothing."""
    s = data.summary
    trace = s["trace"]
    rows = [
        ("traces", f"{fmt_days(trace['days'])} at {trace['interval_s']} s intervals, {fmt_time(trace['start'])} to {fmt_time(trace['end'])}"),
        ("read from", str(trace.get("source", ""))),
    ]
    untouched = []
    for key, value in s.get("data_quality", {}).items():
        if key == "missing_pct":
            rows.append(("grid cells filled, %", fmt_num(value, 2)))
        elif value:
            rows.append((key_label(key, QUALITY_LABELS), fmt_num(value)))
        else:
            untouched.append(key_label(key, QUALITY_LABELS))
    return rows, untouched


def notes(data: PlanData) -> list[str]:
    """What the page itself lacks (beyond the plan's caveats and the reader's warnings)."""
    s, bc = data.summary, data.business
    found = []
    if s.get("unplaceable") and "caveats" not in s:  # a plan folder written before summary.json had caveats
        found.append(
            f"{len(s['unplaceable'])} server(s) fit no host and stay on their own machines: "
            + ", ".join(s["unplaceable"][:NAMES_SHOWN]) + (" ..." if len(s["unplaceable"]) > NAMES_SHOWN else "")
        )
    if not finite(bc["host_price_usd"]):
        found.append("the host model has no catalogue price: give --host-price to work out the capital cost, payback and NPV")
    if data.host_load_pct is None:
        found.append("this plan folder has no replay.parquet, so the heat map cannot be drawn; run `consolidate plan` again")
    return found


def read_first(data: PlanData) -> list[str]:
    """Every caveat of the plan, the page's own notes and the reader's warnings, each once."""
    found: list[str] = []
    for text in [*caveats(data.summary), *notes(data), *data.summary.get("warnings", [])]:
        if text not in found:
            found.append(text)
    return found


def _charts(data: PlanData) -> dict[str, dict]:
    s = data.summary
    specs = [
        ("utilisation", plots.utilisation_chart, "How busy the machines are: before, the share of server-intervals at each CPU utilisation; "
         "after, the share of host-intervals, from the replay of the full-resolution traces. Each bar is one bin of "
         f"{s['utilisation']['bin_pct']:g} %.", ""),
        ("energy-cost", plots.energy_cost_chart, "Facility energy (IT energy × PUE) and the yearly running cost by item.", ""),
        ("cashflow", plots.cashflow_chart, "Cumulative saving after paying for the hosts; the dotted line discounts each year's saving.",
         "No capital cost: the host price is unknown (give --host-price)."),
        ("sensitivity", plots.sensitivity_chart, "How the yearly saving and the net present value over 5 years move when one "
         "input at a time is moved across its range (the others at their values in this plan); the longest bars are the "
         "inputs the case depends on most.", ""),
        ("heatmap", plots.heatmap_chart, "Replayed CPU load of every host over the trace period.",
         "No replayed load to draw: the plan has no hosts, or its folder no replay.parquet."),
        ("peaks", plots.peaks_chart, "The peak the packer planned for against the peak in the replay; a replayed peak above the "
         "target shows where the sizing policy under-estimated the load.", "No hosts in this plan."),
        ("frontier", plots.frontier_chart, "Fewer hosts buy more risk: the share of host-intervals over the CPU target for each "
         "number of hosts, against the risk target.",
         "The hosts-against-risk frontier was not computed for this plan (give --frontier to consolidate plan)."),
        ("growth", plots.growth_chart, "Hosts the estate needs each quarter as it grows (the line: the median of the draws; the "
         "band: up to the 90th percentile), against the plan's hosts; below, the share of draws in which the plan, unchanged, "
         "runs over the risk target.", ""),
    ]
    charts = {}
    for key, draw, caption, missing in specs:
        fig = draw(data)
        charts[key] = {"uri": plots.svg_data_uri(fig) if fig is not None else None, "caption": caption, "missing": missing}
    return charts


def host_table(data: PlanData) -> tuple[list[str], list[list[str]]]:
    """The hosts as the page shows them: (column headings, rows), at most :data:`HOSTS_TABLE_MAX_ROWS` rows:
    each host's binding resource and headroom (what is left of it, % of its target), its CPU peak
    (replayed, and planned), mean and time over the target, its memory planned of usable."""
    hosts = data.hosts.head(HOSTS_TABLE_MAX_ROWS)
    mix = hosts["host_model"].nunique() > 1 if "host_model" in hosts else False
    binds, headroom = "binding_resource" in hosts, "headroom_pct" in hosts
    heads = ["host", *(["model"] if mix else []), "VMs", *(["binds"] if binds else []), *(["headroom %"] if headroom else []),
             "CPU peak %, replayed (planned)", "CPU mean %", "time over the CPU target", "memory GB, planned of usable"]
    rows = []
    for h in hosts.to_dict("records"):
        rows.append([
            str(h["host_id"]), *([str(h["host_model"])] if mix else []), fmt_num(h["vms"]),
            *([BINDING_LABELS.get(str(h["binding_resource"]), str(h["binding_resource"]))] if binds else []),
            *([fmt_num(h["headroom_pct"], 1)] if headroom else []),
            f"{fmt_num(h['cpu_replay_peak_pct'], 1)} ({fmt_num(h['cpu_planned_peak_pct'], 1)})",
            fmt_num(h["cpu_replay_mean_pct"], 1), fmt_pct(h["cpu_over_target_pct"]),
            f"{fmt_num(h['mem_planned_gb'], 1)} of {fmt_num(h['mem_usable_gb'], 1)}",
        ])
    return heads, rows


def _stars(confidence) -> str:
    if not finite(confidence):
        return ""
    n = max(0, min(5, int(round(float(confidence)))))
    return "★" * n + "☆" * (5 - n)


def server_table(data: PlanData) -> tuple[list[str], list[dict], int]:
    """The servers as the page shows them, the unplaceable first: (headings, rows, servers left out).

    Each row: ``cells`` (size, peak and mean, the share of real samples and its confidence class,
    host), ``note`` (why it is not placed, idle, defaulted hardware) and ``tone``.
    """
    p = data.placement
    s = data.summary
    measured = "measured_pct" in p
    heads = ["server", "host", "vCPUs", "RAM GB", "planned GB", "CPU peak GHz", "CPU mean GHz",
             "measured %" if measured else "measured days", *(["confidence"] if "confidence" in p else [])]
    unplaced = p["status"].astype(str) == "unplaceable" if "status" in p else pd.Series(False, index=p.index)
    ordered = pd.concat([p[unplaced], p[~unplaced]]).head(SERVERS_TABLE_MAX_ROWS)
    default_model = s.get("estate", {}).get("default_source_model", "the default model")
    why = {str(r["server_id"]): r["why"] for r in s.get("unplaceable_reasons", [])}
    rows = []
    for r in ordered.to_dict("records"):
        status = str(r.get("status", ""))
        note, tone = "", ""
        if status == "unplaceable":
            note, tone = "not placed, stays on its own machine: " + why.get(str(r["server_id"]), "it fits no host"), "bad"
        elif status == "retire-candidate":
            note = "idle: a retire candidate" + ("" if r.get("host_id") else ", left out of the plan")
        if str(r.get("inventory_defaulted", "")).lower() == "true":
            note += ("; " if note else "") + f"no hardware in the inventory: costed as {default_model}"
            tone = tone or "warn"
        cells = [
            str(r["server_id"]), str(r.get("host_id") or "—"), fmt_num(r["vcpus"]), fmt_num(r["ram_gb"], 1),
            fmt_num(r.get("mem_packed_gb"), 1), fmt_num(r.get("cpu_peak_ghz"), 2), fmt_num(r.get("cpu_mean_ghz"), 2),
            fmt_num(r["measured_pct"], 0) if measured else fmt_num(r.get("measured_days"), 1),
        ]
        if "confidence" in p:
            cells.append(_stars(r["confidence"]))
        rows.append({"cells": cells, "note": note, "tone": tone})
    return heads, rows, len(p) - len(ordered)


def failover_rows(data: PlanData) -> list[list[str]]:
    """Each single-host failure: (failed host, its VMs, survivors over the target, over capacity, memory short, verdict)."""
    rows = []
    for f in (data.summary.get("failover") or {}).get("per_host", [])[:FAILOVER_TABLE_MAX_ROWS]:
        rows.append([str(f["host_id"]), fmt_num(f["vms"]), fmt_pct(f["over_target_pct"]), fmt_pct(f["over_capacity_pct"]),
                     fmt_num(f["mem_short_gb"], 1), "overloads" if f.get("overloads") else "survives"])
    return rows


def sensitivity_rows(data: PlanData) -> list[dict]:
    """summary.json's sensitivity as a table: each input, the range it was moved over and how, the
    yearly saving and the 5-year NPV at either end."""
    cur = data.business["currency"]
    return [{"input": str(r["input"]), "range": sensitivity_range(r, cur), "how": str(r.get("range", "")),
             "figures": [fmt_num(r[k]) for k in ("saving_low", "saving_high", "npv_low", "npv_high")]}
            for r in by_swing(data.summary.get("sensitivity") or [])]


def growth_rows(data: PlanData) -> list[list[str]]:
    """The growth what-if by quarter: (quarter, growth, hosts needed p50 and p90, chance of overload, over target p50-p90)."""
    rows = []
    for q in (data.summary.get("growth") or {}).get("quarters", []):
        rows.append([f"Q{q['quarter']}" + (f" ({q['label']})" if q.get("label") else ""), f"×{q['growth_factor']:.2f}", fmt_num(q["hosts_needed_p50"]), fmt_num(q["hosts_needed_p90"]),
                     fmt_pct(100 * q["p_overload"], 0), f"{fmt_pct(q['over_target_pct_p50'])} to {fmt_pct(q['over_target_pct_p90'])}"])
    return rows


def risk_rows(data: PlanData) -> list[tuple[str, str]]:
    """The replay's risk figures: (what, value)."""
    s = data.summary
    rows = [
        ("hosts", f"{s['hosts_after']:,}; the lower bound is {plural(s['lower_bound'], 'host')} ({lower_bound_source(s)})"),
        ("solver", f"{proof_text(s)}; {fmt_num(s['solver']['time_s'], 1)} s ({', '.join(s['solver']['methods'])}), seed {s['solver']['seed']}"),
        ("host-intervals over the CPU target, replayed", fmt_pct(s["over_target_pct"], 3)),
        ("host-intervals over capacity, replayed", fmt_pct(s["over_capacity_pct"], 3)),
    ]
    predicted = (s.get("validation") or {}).get("predicted_next_window")
    if predicted:
        rows.append(("the next window, predicted: over the CPU target",
                     f"{fmt_pct(predicted['over_target_pct_low'])} to {fmt_pct(predicted['over_target_pct_high'])} ({predicted.get('method', '')})"))
    if "over_target_pct_out_of_sample" in s:
        rows.append(("on the held-out days: over the CPU target / over capacity",
                     f"{fmt_pct(s['over_target_pct_out_of_sample'], 3)} / {fmt_pct(s['over_capacity_pct_out_of_sample'], 3)}"))
    rows += [
        ("CPU demand unmet (above capacity)", f"{fmt_num(s['unmet_cpu_ghz_h'], 2)} GHz·h"),
        ("retire candidates (idle: CPU and memory under 5 %)",
         f"{len(s['retire_candidates'])}" + (", left out of the plan" if s["retired"] else ", kept in the plan")),
        ("unplaceable servers", f"{len(s['unplaceable'])}" + (" (they stay on their own machines)" if s["unplaceable"] else "")),
    ]
    return rows


def n_plus_1_sentence(data: PlanData) -> str:
    """The N+1 verdict as the first screen states it."""
    return next(i["text"] for i in first_screen(data.summary) if i["key"] == "n_plus_1")


def _scenario(data: PlanData, index: int) -> dict:
    s = data.summary
    quality, untouched = quality_rows(data)
    host_heads, host_rows = host_table(data)
    server_heads, server_rows, servers_more = server_table(data)
    return {
        "id": f"s{index}",
        "name": data.name,
        "s": s,
        "bc": data.business,
        "first": first_screen(s),
        "read_first": read_first(data),
        "before_after": before_after_rows(data),
        "costs": cost_rows(data),
        "charts": _charts(data),
        "host_heads": host_heads,
        "host_rows": host_rows,
        "hosts_more": len(data.hosts) - len(host_rows),
        "host_mix": len(s["assumptions"].get("host_models", ())) > 1,
        "server_heads": server_heads,
        "server_rows": server_rows,
        "servers_more": servers_more,
        "risk": risk_rows(data),
        "failover": failover_rows(data),
        "failover_more": max(0, len((s.get("failover") or {}).get("per_host", [])) - FAILOVER_TABLE_MAX_ROWS),
        "n_plus_1": n_plus_1_status(s),
        "n_plus_1_text": n_plus_1_sentence(data),
        "growth": growth_rows(data),
        "sensitivity": sensitivity_rows(data),
        "assumptions": assumption_rows(data),
        "sources": source_rows(data),
        "quality": quality,
        "untouched": untouched,
        "warnings": list(s.get("warnings", [])),
        "retire": s.get("retire_candidates", [])[:NAMES_SHOWN],
        "retire_more": max(0, len(s.get("retire_candidates", [])) - NAMES_SHOWN),
        "licences": _licences(data.business),
    }


def _delta(value, base, fmt) -> str:
    """``value`` and, unless it is the baseline's, its change against ``base`` (``3 (+1)``)."""
    text = fmt(value)
    if finite(value) and finite(base) and text != fmt(base):
        return f"{text} ({'+' if value > base else '-'}{fmt(abs(value - base))})"
    return text


def comparison_rows(scenarios: list[PlanData]) -> list[tuple[str, list[str]]]:
    """Scenarios side by side, the figures that decide between them, each against the first plan: (what, one value per scenario)."""
    base = scenarios[0]

    def row(what, get):
        return (what, [get(d) for d in scenarios])

    def money(get):
        return lambda d: _delta(get(d), get(base), lambda v: fmt_money(v, d.business["currency"]))

    return [
        row("target hosts", lambda d: host_text(d.summary["assumptions"])),
        row("machines → hosts", lambda d: f"{d.summary['hosts_before']:,} → " + _delta(d.summary["hosts_after"], base.summary["hosts_after"], fmt_num)),
        row("what binds", lambda d: BINDING_LABELS.get(d.summary.get("binding_resource"), "not stated")),
        row("N+1 (any one host down)", _n_plus_1_text),
        row("host-intervals over the CPU target, replayed", lambda d: fmt_pct(d.summary["over_target_pct"])),
        row("the next window, predicted", _predicted_text),
        *([row("growth", lambda d: next((i["value"] for i in first_screen(d.summary) if i["key"] == "growth"), "not asked"))]
          if any(d.summary.get("growth") for d in scenarios) else []),
        row("host-intervals over capacity, replayed", lambda d: fmt_pct(d.summary["over_capacity_pct"])),
        row("CPU sizing", lambda d: str(d.summary.get("sizing_applied", d.summary["assumptions"]["sizing"]))),
        row("CPU and memory targets", lambda d: f"CPU {d.summary['assumptions']['cpu_target']}, memory {d.summary['assumptions']['mem_target']}"),
        row("memory sizing", lambda d: str(d.summary["assumptions"]["mem_sizing"])),
        row("placement rules", lambda d: _rules_text(d.summary)),
        row("unplaceable servers", lambda d: fmt_num(len(d.summary["unplaceable"]))),
        row("energy after, MWh a year", lambda d: _delta(d.summary["energy_kwh_per_year_after"] / 1000, base.summary["energy_kwh_per_year_after"] / 1000, lambda v: fmt_num(v, 1))),
        row("running cost after, a year", money(lambda d: d.business["yearly_cost_after"]["total"])),
        row("capital cost", money(lambda d: d.business["capital_cost"])),
        row("yearly saving", money(lambda d: d.business["yearly_saving"])),
        row("payback", lambda d: payback_text(d.business)),
        row("NPV over 5 years", money(lambda d: d.business["npv_5y"])),
    ]


def _n_plus_1_text(data: PlanData) -> str:
    """A scenario's N+1 status, and for a failing plan the spare hosts and their price."""
    status = n_plus_1_status(data.summary)
    text = {True: "holds", False: "fails", None: "not known"}[status]
    spare = spare_hosts(data.summary)
    if status is False and spare:
        text += f", needs {plural(spare, 'more host')}"
        price = (data.business.get("n_plus_1") or {}).get("capital_cost")
        if finite(price):
            text += f" ({fmt_money(price, data.business['currency'])})"
    return text


def _predicted_text(data: PlanData) -> str:
    predicted = (data.summary.get("validation") or {}).get("predicted_next_window")
    if not predicted:
        return "not predicted"
    return f"{fmt_pct(predicted['over_target_pct_low'])} to {fmt_pct(predicted['over_target_pct_high'])}"


def shared_assumptions(scenarios: list[PlanData]) -> tuple[list[tuple[str, str, str]], list[tuple[str, list[str]]]]:
    """The scenarios' assumptions, once: (rows all the plans share, rows that differ with each plan's value)."""
    tables = [assumption_rows(d) for d in scenarios]
    names = [r[0] for r in tables[0]]
    by_plan = [{what: (value, source) for what, value, source in t} for t in tables]
    shared, differing = [], []
    for what in names + [w for t in by_plan[1:] for w in t if w not in names]:
        values = [t.get(what, ("—", ""))[0] for t in by_plan]
        if all(v == values[0] for v in values):
            shared.append((what, values[0], by_plan[0][what][1]))
        else:
            differing.append((what, values))
    return shared, differing


_SUMMARY_HTML = """\
<div>
<strong>Plan</strong>: {{ s.servers|num }} servers{% if s.hosts_before != s.servers %} on {{ s.hosts_before|num }} machines{% endif %} → {{ hosts_text }}
(lower bound {{ s.lower_bound }}; {{ s.over_target_pct|pct }} of host-intervals over the CPU target in the replay).
<ul>
{% for item in first %}<li><strong>{{ item.head }}:</strong> {{ item.text }}.</li>
{% endfor %}
</ul>
<table>
<thead><tr><th></th><th>before</th><th>after</th><th>change</th></tr></thead>
<tbody>
{% for label, before, after, change in rows %}<tr><td style="text-align:left">{{ label }}</td><td>{{ before }}</td><td>{{ after }}</td><td>{{ change }}</td></tr>
{% endfor %}
</tbody>
</table>
Capital cost {{ bc.capital_cost|money(bc.currency) }}, yearly saving {{ bc.yearly_saving|money(bc.currency) }},
payback {{ bc|payback }},
NPV over 5 years {{ bc.npv_5y|money(bc.currency) }}.
</div>
"""


def plan_summary_html(data: PlanData) -> str:
    """A short HTML summary of a plan (what Jupyter shows for a :class:`~consolidate.planner.Plan`)."""
    template = environment().from_string(_SUMMARY_HTML)
    return template.render(s=data.summary, bc=data.business, rows=before_after_rows(data), hosts_text=hosts_text(data.summary),
                           first=first_screen(data.summary))


def differing_inputs(scenarios: list[PlanData]) -> list[str]:
    """Business-case inputs that differ between scenarios: their costs are then not like for like."""
    found = []
    for key in scenarios[0].business["inputs"]:
        values = [d.business["inputs"].get(key) for d in scenarios]
        if any(v != values[0] for v in values[1:]):
            found.append(f"{key_label(key, INPUT_LABELS)}: " + ", ".join(f"{d.name} {_input_value(v)}" for d, v in zip(scenarios, values)))
    return found


def _input_value(value) -> str:
    return "default" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def render_report(scenarios: list[PlanData]) -> str:
    """report.html for one plan, or for several compared side by side.

    Plans of different estates (server ids, trace windows) are drawn with the differences stated
    at the top: ``consolidate report`` refuses them unless ``--force``.
    """
    from consolidate import __version__

    if not scenarios:
        raise ValueError("render_report needs at least one plan")
    comparison = None
    if len(scenarios) > 1:
        shared, differing = shared_assumptions(scenarios)
        comparison = {
            "names": [d.name for d in scenarios],
            "rows": comparison_rows(scenarios),
            "estates": estate_differences(scenarios),
            "differing": differing_inputs(scenarios),
            "shared_assumptions": shared,
            "differing_assumptions": differing,
            "chart": plots.svg_data_uri(plots.comparison_chart(scenarios)),
            "base": scenarios[0].name,
        }
    template = environment().get_template("report.html.j2")
    return template.render(
        title="Server consolidation: the business case" if len(scenarios) == 1 else "Server consolidation: scenarios compared",
        scenarios=[_scenario(d, i) for i, d in enumerate(scenarios)],
        comparison=comparison,
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
