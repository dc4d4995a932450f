"""report.html: one self-contained page (charts as embedded SVG, inline CSS, nothing fetched).

:func:`render_report` lays out one plan, or several side by side (scenarios: two host models,
two risk targets, ...), from :class:`~consolidate.report.plandata.PlanData`.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import jinja2
import pandas as pd

from consolidate.report import plots
from consolidate.report.business import payback_text
from consolidate.report.plandata import PlanData, host_text, hosts_text

HOSTS_TABLE_MAX_ROWS = 60
NAMES_SHOWN = 20


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fmt_num(value, digits: int = 0) -> str:
    """``1,234.5``-style number; ``n/a`` for a missing or non-finite value."""
    return f"{value:,.{digits}f}" if _finite(value) else "n/a"


def fmt_money(value, currency: str = "USD") -> str:
    """Whole currency units with a thousands separator, e.g. ``36,318 USD``."""
    return f"{value:,.0f} {currency}" if _finite(value) else "n/a"


def fmt_change(before, after, points: bool = False) -> str:
    """Relative change (``-86 %``) or, for percentages, the change in points (``+12.4 pts``)."""
    if not (_finite(before) and _finite(after)):
        return ""
    if points:
        return f"{after - before:+.1f} pts"
    return f"{(after - before) / before * 100:+.0f} %" if before else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("consolidate.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_num, money=fmt_money, time=fmt_time, payback=payback_text)
    return env


def before_after_rows(data: PlanData) -> list[tuple[str, str, str, str]]:
    """The before/after table: (what, before, after, change)."""
    s, u, bc = data.summary, data.summary["utilisation"], data.business
    cur = bc["currency"]
    licence = bc["inputs"]["licence"]
    cores_label = "physical cores (licences count these)" if licence == "none" else f"licensed cores ({licence})"
    rows = [
        ("physical servers → hosts", s["hosts_before"], s["hosts_after"], fmt_num, False),
        ("CPU utilisation, mean %", s["cpu_util_mean_before_pct"], s["cpu_util_mean_after_pct"], lambda v: fmt_num(v, 1), True),
        ("CPU utilisation, 95th percentile %", u["before_p95_pct"], u["after_p95_pct"], lambda v: fmt_num(v, 1), True),
        ("CPU utilisation, peak %", u["before_peak_pct"], u["after_peak_pct"], lambda v: fmt_num(v, 1), True),
        ("energy, kWh/yr (facility)", s["energy_kwh_per_year_before"], s["energy_kwh_per_year_after"], fmt_num, False),
        (f"electricity, {cur}/yr", s["cost_per_year_before"], s["cost_per_year_after"], fmt_num, False),
        (f"running cost, {cur}/yr", bc["yearly_cost_before"]["total"], bc["yearly_cost_after"]["total"], fmt_num, False),
        ("CO₂, t/yr", s["co2_t_per_year_before"], s["co2_t_per_year_after"], lambda v: fmt_num(v, 1), False),
        ("rack units", bc["rack_units_before"], bc["rack_units_after"], fmt_num, False),
        (cores_label, bc["licensed_cores_before"], bc["licensed_cores_after"], fmt_num, False),
    ]
    return [(label, f(b), f(a), fmt_change(b, a, points)) for label, b, a, f, points in rows]


def cost_rows(data: PlanData) -> list[tuple[str, str, str, str]]:
    """Yearly running cost by item: (item, before, after, saving)."""
    bc = data.business
    before, after = bc["yearly_cost_before"], bc["yearly_cost_after"]
    items = [(key, label) for key, label, _ in plots.COST_ITEMS] + [("total", "total")]
    return [(label, fmt_num(before[key]), fmt_num(after[key]), fmt_num(_sub(before[key], after[key]))) for key, label in items]


def _sub(a, b):
    return a - b if _finite(a) and _finite(b) else None


def assumption_rows(data: PlanData) -> list[tuple[str, str, str]]:
    """Every setting the plan and its business case were made under: (name, value, source)."""
    a, bc, est = data.summary["assumptions"], data.business, data.summary["estate"]
    host = a["host"]
    inputs = bc["inputs"]
    cur = bc["currency"]
    curve_origin = ", ".join(f"{n} × {what}" for what, n in a.get("source_power_curves", {}).items())
    rows = [
        ("target host model", f"{a['host_model']}: {host['cores']} cores / {host['threads']} threads at {host['ghz']} GHz "
         f"(perf {host['perf']}), {fmt_num(host['ram_gb'])} GB", host.get("source", "")),
    ] if len(a.get("host_models", ())) < 2 else [
        ("target host mix", f"{a['host_mix']}, picked by --objective {a['objective']}", "consolidate.solvers.mix (README, Host mix)"),
        *[
            (f"host model {name}", f"{m['cores']} cores / {m['threads']} threads at {m['ghz']} GHz (perf {m['perf']}), "
             f"{fmt_num(m['ram_gb'])} GB; {fmt_num(m['cpu_capacity_ghz'], 1)} GHz effective CPU, "
             f"{fmt_num(m['mem_usable_gb'], 1)} GB usable; {fmt_money(m['price_usd'], cur)} each", m.get("source", ""))
            for name, m in a["models"].items()
        ],
    ]
    rows += [
        ("hypervisor", f"{a['hypervisor']}, CPU overhead {a['hypervisor_cpu_overhead']:.0%}", a.get("hypervisor_source", "")),
        ("SMT gain", f"{a['smt_gain']}", "VMware vSphere Resource Management; Ruan et al., SIGMETRICS 2005 (15-30 %)"),
        ("CPU / memory target", f"{a['cpu_target']} / {a['mem_target']}", "--cpu-target, --mem-target"),
        ("sizing", f"CPU {data.summary.get('sizing_note', a['sizing'])}; memory {a['mem_sizing']} (margin {a['mem_margin']})", "--sizing, --mem-sizing, --mem-margin"),
        *([("host capacity", f"{fmt_num(a['host_cpu_capacity_ghz'], 1)} GHz effective CPU, {fmt_num(a['host_mem_usable_gb'], 1)} GB usable memory",
            "after hypervisor overhead and the memory target")] if len(a.get("host_models", ())) < 2 else []),
        ("PUE", f"{a['pue']}", _source(a, "pue")),
        ("electricity price", f"{a['price_per_kwh']} per kWh", _source(a, "price_per_kwh")),
        ("grid carbon intensity", f"{a['carbon_g_per_kwh']} g CO₂/kWh", _source(a, "carbon_g_per_kwh")),
        ("source servers' power", curve_origin, "inventory watts, else the catalogue model the inventory names, else the default model"),
        ("source servers' rack units, sockets, price",
         f"{est['servers_with_catalogue_model']} of {est['servers']} from their catalogue model; the others as {est['default_source_model']}",
         "consolidate catalog (rack units and prices assumed, unverified)"),
        ("host price", f"{fmt_money(bc['host_price_usd'], cur)} each ({bc['host_price_from']})"
         if len(a.get("host_models", ())) < 2 or bc["host_price_from"] == "--host-price"
         else f"each host at its model's catalogue price: {fmt_money(bc['capital_cost'], cur)} in all",
         "--host-price; catalogue prices are rough and unverified"),
        ("licence", _licence_text(bc), _licence_source(a, inputs["licence"])),
        ("maintenance", f"{inputs['maintenance_pct']:g} % of the hardware price a year", _source(a, "maintenance_pct")),
        ("rack space", f"{fmt_money(inputs['rack_usd_per_u_year'], cur)} per U a year", _source(a, "rack_usd_per_u_year")),
        ("discount rate", f"{inputs['discount_rate']:.1%} a year", _source(a, "discount_rate")),
    ]
    return rows


def _source(assumptions: dict, key: str) -> str:
    return assumptions.get("sources", {}).get(key, {}).get("source", "")


def _licence_text(bc: dict) -> str:
    inputs = bc["inputs"]
    if inputs["licence"] == "none":
        return "none counted (--licence none)"
    text = f"{inputs['licence']}: {fmt_num(bc['licence_price_usd'])} {bc['licence_price_unit']}"
    if inputs["licence"] == "windows":
        text += f", spread over {inputs['licence_years']:g} years"
    return text + f" = {fmt_num(bc['licence_usd_per_core_year'], 2)} {bc['currency']} per licensed core a year"


def _licence_source(assumptions: dict, licence: str) -> str:
    if licence == "vsphere":
        return _source(assumptions, "vsphere_usd_per_core_year") + "; " + _source(assumptions, "vsphere_min_cores_per_cpu")
    if licence == "windows":
        return "; ".join(_source(assumptions, k) for k in ("windows_dc_usd_per_16_cores", "windows_min_cores_per_server", "licence_years"))
    return "--licence vsphere or windows counts per-core licences before and after"


def source_rows(data: PlanData) -> list[tuple[str, str, str, bool]]:
    """The sourced defaults: (name, value with unit, source, is an assumption)."""
    rows = []
    for name, figure in data.summary["assumptions"].get("sources", {}).items():
        value = figure["value"]
        shown = ", ".join(f"{v:g}" for v in value) if isinstance(value, (list, tuple)) else (f"{value:g}" if isinstance(value, float) else str(value))
        source = figure["source"]
        rows.append((name.replace("_", " "), f"{shown} {figure['unit']}".strip(), source, source.lower().startswith("assumption")))
    return rows


def fmt_time(iso: str) -> str:
    """An ISO timestamp as ``2024-01-01 00:00 UTC``."""
    try:
        stamp = pd.Timestamp(iso)
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def quality_rows(data: PlanData) -> tuple[list[tuple[str, str]], list[str]]:
    """The data-quality report: (rows: the trace span, then every non-zero count), the rules that repaired nothing."""
    s = data.summary
    trace = s["trace"]
    rows = [
        ("traces", f"{trace['days']:g} days at {trace['interval_s']} s intervals, {fmt_time(trace['start'])} to {fmt_time(trace['end'])}"),
        ("read from", str(trace.get("source", ""))),
    ]
    untouched = []
    for key, value in s.get("data_quality", {}).items():
        label = key.replace("_", " ")
        if key == "missing_pct":
            rows.append(("grid cells filled, %", fmt_num(value, 2)))
        elif value:
            rows.append((label, fmt_num(value)))
        else:
            untouched.append(label)
    return rows, untouched


def notes(data: PlanData) -> list[str]:
    """What a reader must know before trusting the figures (beyond the reader's warnings)."""
    s, bc = data.summary, data.business
    found = []
    if s.get("unplaceable"):
        found.append(
            f"{len(s['unplaceable'])} server(s) fit no host and are left out of the 'after' figures: "
            + ", ".join(s["unplaceable"][:NAMES_SHOWN]) + (" ..." if len(s["unplaceable"]) > NAMES_SHOWN else "")
        )
    if not _finite(bc["host_price_usd"]):
        found.append("the host model has no catalogue price: give --host-price to work out the capital cost, payback and NPV")
    if data.host_load_pct is None:
        found.append("this plan folder has no replay.parquet, so the heat map cannot be drawn; run `consolidate plan` again")
    return found


def _charts(data: PlanData) -> dict[str, dict]:
    specs = [
        ("utilisation", plots.utilisation_chart, "How busy the machines are: before, the share of server-intervals at each CPU utilisation; "
         "after, the share of host-intervals, from the replay of the full-resolution traces.", ""),
        ("energy-cost", plots.energy_cost_chart, "Facility energy (IT energy × PUE) and the yearly running cost by item.", ""),
        ("cashflow", plots.cashflow_chart, "Cumulative saving after paying for the hosts; the dotted line discounts each year's saving.",
         "No capital cost: the host price is unknown (give --host-price)."),
        ("heatmap", plots.heatmap_chart, "Replayed CPU load of every host over the trace period.",
         "No replayed load to draw: the plan has no hosts, or its folder no replay.parquet."),
        ("peaks", plots.peaks_chart, "The peak the packer planned for against the peak in the replay; a replayed peak above the "
         "target shows where the sizing policy under-estimated the load.", "No hosts in this plan."),
        ("frontier", plots.frontier_chart, "Fewer hosts buy more risk: the share of host-intervals over the CPU target for each number of hosts.",
         "The hosts-vs-risk frontier was not computed for this plan (`consolidate plan --frontier`)."),
    ]
    charts = {}
    for key, draw, caption, missing in specs:
        fig = draw(data)
        charts[key] = {"uri": plots.svg_data_uri(fig) if fig is not None else None, "caption": caption, "missing": missing}
    return charts


def _scenario(data: PlanData, index: int) -> dict:
    s = data.summary
    hosts = data.hosts.head(HOSTS_TABLE_MAX_ROWS)
    quality, untouched = quality_rows(data)
    return {
        "id": f"s{index}",
        "name": data.name,
        "s": s,
        "bc": data.business,
        "before_after": before_after_rows(data),
        "costs": cost_rows(data),
        "charts": _charts(data),
        "hosts_columns": list(hosts.columns),
        "hosts_rows": [[_cell(v) for v in row] for row in hosts.itertuples(index=False)],
        "hosts_more": len(data.hosts) - len(hosts),
        "assumptions": assumption_rows(data),
        "sources": source_rows(data),
        "quality": quality,
        "untouched": untouched,
        "warnings": list(s.get("warnings", [])),
        "notes": notes(data),
        "retire": s.get("retire_candidates", [])[:NAMES_SHOWN],
        "retire_more": max(0, len(s.get("retire_candidates", [])) - NAMES_SHOWN),
        "energy_change": fmt_change(s["energy_kwh_per_year_before"], s["energy_kwh_per_year_after"]),
        "co2_saved": _sub(s["co2_t_per_year_before"], s["co2_t_per_year_after"]),
    }


def _cell(value) -> str:
    if isinstance(value, float):
        return fmt_num(value, 2)
    return str(value)


def comparison_rows(scenarios: list[PlanData]) -> list[tuple[str, list[str]]]:
    """Scenarios side by side: (what, one value per scenario)."""

    def row(label, get):
        return (label, [get(d) for d in scenarios])

    return [
        row("target host model", lambda d: host_text(d.summary["assumptions"])),
        row("hypervisor", lambda d: d.summary["assumptions"]["hypervisor"]),
        row("sizing, CPU target", lambda d: f"{d.summary['assumptions']['sizing']}, {d.summary['assumptions']['cpu_target']}"),
        row("servers → hosts", lambda d: f"{d.summary['hosts_before']:,} → {d.summary['hosts_after']:,}"),
        row("lower bound", lambda d: fmt_num(d.summary["lower_bound"])),
        row("mean CPU after, %", lambda d: fmt_num(d.summary["cpu_util_mean_after_pct"], 1)),
        row("host-intervals over target, %", lambda d: fmt_num(d.summary["over_target_pct"], 2)),
        row("host-intervals over capacity, %", lambda d: fmt_num(d.summary["over_capacity_pct"], 2)),
        row("energy after, kWh/yr", lambda d: fmt_num(d.summary["energy_kwh_per_year_after"])),
        row("running cost before, per yr", lambda d: fmt_money(d.business["yearly_cost_before"]["total"], d.business["currency"])),
        row("running cost after, per yr", lambda d: fmt_money(d.business["yearly_cost_after"]["total"], d.business["currency"])),
        row("capital cost", lambda d: fmt_money(d.business["capital_cost"], d.business["currency"])),
        row("yearly saving", lambda d: fmt_money(d.business["yearly_saving"], d.business["currency"])),
        row("payback", lambda d: payback_text(d.business)),
        row("NPV over 5 years", lambda d: fmt_money(d.business["npv_5y"], d.business["currency"])),
    ]


_SUMMARY_HTML = """\
<div>
<strong>Plan</strong>: {{ s.hosts_before|num }} servers → {{ hosts_text }}
(lower bound {{ s.lower_bound }}; {{ s.over_target_pct|num(2) }} % of host-intervals over the CPU target in the replay).
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
    template = _environment().from_string(_SUMMARY_HTML)
    return template.render(s=data.summary, bc=data.business, rows=before_after_rows(data), hosts_text=hosts_text(data.summary))


def differing_inputs(scenarios: list[PlanData]) -> list[str]:
    """Business-case inputs that differ between scenarios: their costs are then not like for like."""
    found = []
    for key in scenarios[0].business["inputs"]:
        values = [d.business["inputs"][key] for d in scenarios]
        if any(v != values[0] for v in values[1:]):
            found.append(f"{key.replace('_', ' ')}: " + ", ".join(f"{d.name} {v}" for d, v in zip(scenarios, values)))
    return found


def render_report(scenarios: list[PlanData]) -> str:
    """report.html for one plan, or for several compared side by side."""
    from consolidate import __version__

    if not scenarios:
        raise ValueError("render_report needs at least one plan")
    comparison = None
    if len(scenarios) > 1:
        comparison = {
            "names": [d.name for d in scenarios],
            "rows": comparison_rows(scenarios),
            "differing": differing_inputs(scenarios),
            "chart": plots.svg_data_uri(plots.comparison_chart(scenarios)),
        }
    template = _environment().get_template("report.html.j2")
    return template.render(
        title="Server consolidation: the business case" if len(scenarios) == 1 else "Server consolidation: scenarios compared",
        scenarios=[_scenario(d, i) for i, d in enumerate(scenarios)],
        comparison=comparison,
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
