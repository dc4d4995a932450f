"""The report's charts, as matplotlib figures (no pyplot: nothing global, any backend).

Each chart takes a :class:`~consolidate.report.plandata.PlanData` and returns a
:class:`matplotlib.figure.Figure`, or None where its data is missing; :func:`svg_data_uri` turns
a figure into the ``data:`` URI report.html embeds.
"""

from __future__ import annotations

import base64
import functools
import io
import math

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator, PercentFormatter

from consolidate.report.plandata import COST_LABELS, PlanData, by_swing, fmt_days, fmt_fraction, sensitivity_range

BEFORE = "#8a8f98"
AFTER = "#1f6fb2"
VALIDATED = "#6a3d9a"
TARGET = "#d95f02"
CAPACITY = "#b2182b"
LOW = "#4c9bd6"
HIGH = "#d9822b"
COST_COLOURS = {"energy": "#1f6fb2", "licences": "#6a3d9a", "maintenance": "#33a02c", "rack": "#e3a21a"}
COST_ITEMS = tuple((key, COST_LABELS[key], colour) for key, colour in COST_COLOURS.items())
#: Steps between the histogram's ticks, in bins: ticks stay on bin edges.
TICK_STEPS_BINS = (1, 2, 5, 10, 25, 50)
MAX_TICKS = 10
WIDTH_IN = 7.2  # fits an A4 page between 15 mm margins
HEATMAP_MAX_COLUMNS = 1200
PEAK_BARS_MAX_HOSTS = 40

STYLE = {
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "svg.fonttype": "path",  # text as outlines: the page needs no font
    "svg.hashsalt": "consolidate",  # stable ids, so the same plan gives the same file
}


def _styled(draw):
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def _money(value: float, _pos=None) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if magnitude >= 1e3:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


@_styled
def utilisation_chart(data: PlanData) -> Figure:
    """CPU utilisation before (server-intervals) and after (host-intervals): share of intervals per bin."""
    util = data.summary["utilisation"]
    width = float(util["bin_pct"])
    before = np.asarray(util["before_counts"], dtype=np.float64)
    after = np.asarray(util["after_counts"], dtype=np.float64)
    edges = np.arange(len(before)) * width  # the last bin (above 100 %) is drawn at 100-102 %
    fig = Figure(figsize=(WIDTH_IN, 2.8), layout="constrained")
    ax = fig.add_subplot()
    s = data.summary
    for counts, colour, label in (
        (before, BEFORE, f"before: {s['servers']:,} servers, mean {s['cpu_util_mean_before_pct']:.1f} %"),
        (after, AFTER, f"after: {s['hosts_after']:,} hosts, mean {s['cpu_util_mean_after_pct']:.1f} %"),
    ):
        share = 100 * counts / counts.sum() if counts.sum() else counts
        ax.bar(edges, share, width=width, align="edge", color=colour, alpha=0.55, label=label, edgecolor=colour, linewidth=0.4)
    target = util["cpu_target_pct"]
    ax.axvline(target, color=TARGET, linestyle="--", linewidth=1.2, label=f"CPU target {target:g} %")
    top_bin = max(np.flatnonzero(before + after)[-1] if (before + after).any() else 0, int(target / width))
    right = min(len(before), top_bin + 3) * width
    ax.set_xlim(0, right)
    ax.xaxis.set_major_locator(MultipleLocator(bin_edge_step(width, right)))
    if before[-1] or after[-1]:
        ax.annotate("> 100 %", (100 + width / 2, 0), xytext=(0, -22), textcoords="offset points", ha="center", fontsize=7)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("CPU utilisation (before: of the server's logical CPUs; after: of the host's capacity)")
    ax.set_ylabel("share of machine-intervals")
    ax.set_title("Utilisation before and after")
    ax.legend(loc="upper left", bbox_to_anchor=(0.3, 1.0))
    return fig


def bin_edge_step(bin_width: float, span: float) -> float:
    """The step between histogram ticks: the fewest bins (1, 2, 5, 10, 25 or 50 of them) that keep
    at most :data:`MAX_TICKS` ticks over ``span``, so every tick falls on a bin edge."""
    for bins in TICK_STEPS_BINS:
        if span / (bins * bin_width) <= MAX_TICKS:
            return bins * bin_width
    return TICK_STEPS_BINS[-1] * bin_width


def _column_max(load: np.ndarray, columns: int) -> tuple[np.ndarray, int]:
    """``load`` (hosts, steps) reduced to at most ``columns`` columns by their maxima (peaks stay visible)."""
    steps = load.shape[1]
    k = max(1, math.ceil(steps / columns))
    if k == 1:
        return load, 1
    padded = np.full((load.shape[0], math.ceil(steps / k) * k), np.nan, dtype=np.float32)
    padded[:, :steps] = load
    return np.nanmax(padded.reshape(load.shape[0], -1, k), axis=2), k


@_styled
def heatmap_chart(data: PlanData) -> Figure | None:
    """Replayed host CPU load, hosts x time, % of full capacity; None without a replay."""
    load = data.host_load_pct
    if load is None or load.size == 0:
        return None
    shown, k = _column_max(load, HEATMAP_MAX_COLUMNS)
    n_hosts = load.shape[0]
    fig = Figure(figsize=(WIDTH_IN, min(7.0, 1.5 + 0.22 * n_hosts)), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(False)
    start = mdates.date2num(data.timestamps[0])
    interval_d = (data.timestamps[1] - data.timestamps[0]).total_seconds() / 86400 if len(data.timestamps) > 1 else 1 / 288
    end = start + interval_d * load.shape[1]
    target = data.summary["utilisation"]["cpu_target_pct"]
    vmax = max(100.0, float(np.nanmax(load)))
    image = ax.imshow(
        shown, aspect="auto", interpolation="nearest", cmap="YlOrRd", vmin=0, vmax=vmax,
        extent=(start, end, n_hosts - 0.5, -0.5),
    )
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ids = list(data.hosts["host_id"])
    if n_hosts <= 30:
        ax.set_yticks(range(n_hosts), ids)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: ids[int(v)] if 0 <= int(v) < n_hosts else ""))
    bar = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04, format=PercentFormatter(decimals=0))
    bar.set_label("of capacity")
    ax.set_title(f"Host CPU load in the replay (CPU target {target:g} %)")
    every = f"; each cell is the peak of {k} intervals" if k > 1 else ""
    ax.set_xlabel(f"time, UTC{every}")
    return fig


@_styled
def energy_cost_chart(data: PlanData) -> Figure:
    """Facility energy (MWh a year) and yearly running cost by item, before and after."""
    s, bc = data.summary, data.business
    fig = Figure(figsize=(WIDTH_IN, 2.9), layout="constrained")
    energy_ax, cost_ax = fig.subplots(1, 2, width_ratios=(1, 1.5))
    labels = ("before", "after")
    mwh = (s["energy_kwh_per_year_before"] / 1000, s["energy_kwh_per_year_after"] / 1000)
    bars = energy_ax.bar(labels, mwh, color=(BEFORE, AFTER), width=0.6)
    energy_ax.bar_label(bars, labels=[f"{v:,.1f}" for v in mwh], padding=2)
    energy_ax.set_ylabel("MWh a year (facility, PUE included)")
    energy_ax.set_title("Energy")
    energy_ax.margins(y=0.15)
    bottom = np.zeros(2)
    for key, label, colour in COST_ITEMS:
        values = np.array([bc["yearly_cost_before"][key], bc["yearly_cost_after"][key]], dtype=np.float64)
        values = np.nan_to_num(values)
        if values.any():
            cost_ax.bar(labels, values, bottom=bottom, color=colour, width=0.6, label=label)
            bottom += values
    for x, total in enumerate(bottom):
        cost_ax.annotate(_money(total), (x, total), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom")
    cost_ax.yaxis.set_major_formatter(FuncFormatter(_money))
    cost_ax.set_ylabel(f"{bc['currency']} a year")
    cost_ax.set_title("Running cost")
    cost_ax.margins(y=0.15)
    cost_ax.legend(loc="upper right", fontsize=7.5)
    return fig


@_styled
def peaks_chart(data: PlanData) -> Figure | None:
    """Each host's planned peak (what the packer saw) against its replayed peak, % of capacity."""
    hosts = data.hosts
    if hosts.empty:
        return None
    planned = hosts["cpu_planned_peak_pct"].to_numpy(dtype=np.float64)
    replayed = hosts["cpu_replay_peak_pct"].to_numpy(dtype=np.float64)
    target = data.summary["utilisation"]["cpu_target_pct"]
    fig = Figure(figsize=(WIDTH_IN, 2.9), layout="constrained")
    ax = fig.add_subplot()
    if len(hosts) <= PEAK_BARS_MAX_HOSTS:
        x = np.arange(len(hosts))
        ax.bar(x - 0.2, planned, width=0.4, color=BEFORE, label="planned peak")
        ax.bar(x + 0.2, replayed, width=0.4, color=AFTER, label="replayed peak")
        ax.set_xticks(x, list(hosts["host_id"]), rotation=90 if len(hosts) > 12 else 0)
        ax.set_xlim(-0.6, len(hosts) - 0.4)
        ax.set_ylabel("CPU peak, % of capacity")
    else:
        ax.scatter(planned, replayed, s=10, color=AFTER, label="hosts")
        top = max(planned.max(), replayed.max(), target) * 1.05
        ax.plot([0, top], [0, top], color="#555555", linewidth=0.8, label="replayed = planned")
        ax.set_xlabel("planned peak, % of capacity")
        ax.set_ylabel("replayed peak, % of capacity")
    ax.axhline(target, color=TARGET, linestyle="--", linewidth=1.2, label=f"CPU target {target:g} %")
    if replayed.max() > 100:
        ax.axhline(100, color=CAPACITY, linewidth=1.0, label="full capacity")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title("Planned and replayed peak per host")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@_styled
def cashflow_chart(data: PlanData) -> Figure | None:
    """Cumulative net cash flow of the consolidation over five years; None without a capital cost."""
    bc = data.business
    capital, saving = bc["capital_cost"], bc["yearly_saving"]
    if capital is None or saving is None or not (math.isfinite(capital) and math.isfinite(saving)):
        return None
    rate = bc["inputs"]["discount_rate"]
    months = np.arange(0, 61)
    plain = -capital + saving * months / 12
    years = np.arange(0, 6)
    discounted = -capital + saving * np.concatenate(([0.0], np.cumsum((1 + rate) ** -years[1:])))
    fig = Figure(figsize=(WIDTH_IN, 2.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(months / 12, plain, color=AFTER, linewidth=1.6, label="cumulative net saving")
    ax.plot(years, discounted, color=VALIDATED, marker="o", markersize=3.5, linewidth=1.0, linestyle=":",
            label=f"discounted at {rate:.0%} a year (NPV)")
    ax.axhline(0, color="#333333", linewidth=0.8)
    payback = bc["payback_months"]
    if payback is not None and payback <= 60:
        ax.axvline(payback / 12, color=TARGET, linestyle="--", linewidth=1.0)
        ax.annotate(f"payback {payback:.1f} months", (payback / 12, 0.92), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points", color=TARGET)
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_xlabel("years from the purchase of the hosts")
    ax.set_ylabel(f"{bc['currency']}")
    ax.set_xlim(0, 5)
    ax.set_title("Cash flow: capital cost against yearly savings")
    ax.legend(loc="lower right")
    return fig


def _fold_label(summary: dict) -> str:
    """The frontier's validated series in words: held-out days where the validation's folds are whole
    days, else the length of its blocks (``held-out`` is said only of days the plan did not see)."""
    validation = summary.get("validation") or {}
    folds = validation.get("folds") or []
    if not folds:
        return "validated: the latest fold, planned on the steps before it"
    seconds = (folds[0]["stop_step"] - folds[0]["first_step"]) * summary["trace"]["interval_s"]
    if seconds % 86400 == 0:
        return f"validated: the latest {fmt_days(seconds / 86400)} held out"
    return f"validated: the latest {seconds / 3600:.3g} h, planned on the hours before"


@_styled
def frontier_chart(data: PlanData) -> Figure | None:
    """Hosts against risk (host-intervals over the CPU target) with the risk target; None when no frontier was computed."""
    s = data.summary
    frontier = s.get("frontier")
    if not frontier:
        return None
    hosts = np.array([row["hosts"] for row in frontier], dtype=np.float64)
    order = np.argsort(hosts)
    fig = Figure(figsize=(WIDTH_IN, 2.7), layout="constrained")
    ax = fig.add_subplot()
    top = 0.0
    for key, colour, label, marker in (
        ("over_target_pct_in_sample", AFTER, "in sample: planned and replayed on the same days", "o"),
        ("over_target_pct_validated", VALIDATED, _fold_label(s), "s"),
    ):
        values = np.array([_float(row.get(key)) for row in frontier])
        if np.isfinite(values).any():
            ax.plot(hosts[order], values[order], marker=marker, markersize=4, color=colour, label=label)
            top = max(top, float(np.nanmax(values)))
    low = np.array([_float(row.get("over_target_pct_predicted_low")) for row in frontier])
    high = np.array([_float(row.get("over_target_pct_predicted_high")) for row in frontier])
    if np.isfinite(high).any():
        ax.fill_between(hosts[order], low[order], high[order], color=VALIDATED, alpha=0.15, linewidth=0,
                        label="the next window, predicted (range over the folds)")
        top = max(top, float(np.nanmax(high)))
    chosen = s["hosts_after"]
    if "over_target_pct_out_of_sample" in s:
        held = float(s["over_target_pct_out_of_sample"])
        ax.plot([chosen], [held], marker="D", markersize=6, color=TARGET, linestyle="none", label="held-out days (--holdout)")
        top = max(top, held)
    risk = s["assumptions"].get("risk_pct")
    if risk is not None:
        ax.axhline(risk, color=CAPACITY, linestyle=":", linewidth=1.2, label=f"risk target {risk:g} %")
        top = max(top, float(risk))
    ax.axvline(chosen, color=TARGET, linestyle="--", linewidth=1.0, label=f"this plan: {chosen} hosts")
    # All shares zero (and no risk target) must still draw a readable axis from 0, never below it.
    ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
    left, right = min(hosts.min(), chosen), max(hosts.max(), chosen)
    ax.set_xlim(left - 0.5, right + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_xlabel("hosts")
    ax.set_ylabel("host-intervals over the CPU target")
    ax.set_title("Hosts against risk")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5)
    return fig


@_styled
def sensitivity_chart(data: PlanData) -> Figure | None:
    """Tornado chart of summary.json's sensitivity: the yearly saving and the 5-year NPV with each
    input at the low and at the high end of its range; None when the summary has none."""
    rows = data.summary.get("sensitivity")
    if not rows:
        return None
    bc = data.business
    cur = bc["currency"]
    rows = by_swing(rows)[::-1]  # drawn bottom up: the largest swing on top
    names = [f"{r['input']}\n{sensitivity_range({k: v for k, v in r.items() if k not in ('base', 'hosts_low', 'hosts_high')}, cur)}"
             for r in rows]
    fig = Figure(figsize=(WIDTH_IN, 1.2 + 0.42 * len(rows)), layout="constrained")
    saving_ax, npv_ax = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(rows))
    for ax, base, key, title in ((saving_ax, bc["yearly_saving"], "saving", f"Yearly saving, {cur}"),
                                 (npv_ax, bc["npv_5y"], "npv", f"NPV over 5 years, {cur}")):
        base = _float(base)
        low = np.array([_float(r[f"{key}_low"]) for r in rows])
        high = np.array([_float(r[f"{key}_high"]) for r in rows])
        centre = base if np.isfinite(base) else 0.0
        moves = np.nan_to_num(np.stack([low - centre, high - centre]))
        # Both ends may move the figure the same way: the longer bar first, the shorter drawn over it.
        longer = np.argmax(np.abs(moves), axis=0)
        for end, colour, name in ((0, LOW, "input at the low end"), (1, HIGH, "input at the high end")):
            ax.barh(y, np.where(longer == end, moves[end], 0.0), left=centre, color=colour, height=0.6, label=name)
        for end, colour in ((0, LOW), (1, HIGH)):
            ax.barh(y, np.where(longer != end, moves[end], 0.0), left=centre, color=colour, height=0.6, edgecolor="white", linewidth=0.6)
        if np.isfinite(base):
            ax.axvline(base, color="#333333", linewidth=0.9)
        ax.xaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
    saving_ax.set_yticks(y, names)
    saving_ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.08), ncols=2, fontsize=7.5)
    return fig


@_styled
def growth_chart(data: PlanData) -> Figure | None:
    """The growth what-if: hosts needed per quarter (median, band to the 90th percentile) against the
    plan's hosts, and the chance the unchanged plan runs over the risk target; None without ``--growth``."""
    growth = data.summary.get("growth") or {}
    quarters = growth.get("quarters") or []
    if not quarters:
        return None
    q = np.array([row["quarter"] for row in quarters], dtype=np.float64)
    p50 = np.array([row["hosts_needed_p50"] for row in quarters], dtype=np.float64)
    p90 = np.array([row["hosts_needed_p90"] for row in quarters], dtype=np.float64)
    chance = np.array([100 * row["p_overload"] for row in quarters], dtype=np.float64)
    now = growth.get("hosts_now", data.summary["hosts_after"])
    fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
    hosts_ax, chance_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    edges = np.concatenate((q - 0.5, [q[-1] + 0.5]))  # each quarter a step as wide as the quarter
    hosts_ax.stairs(p90, edges, baseline=p50, fill=True, color=AFTER, alpha=0.2, label="hosts needed: median to 90th percentile")
    hosts_ax.stairs(p50, edges, baseline=None, color=AFTER, linewidth=1.6, label="hosts needed: median")
    hosts_ax.axhline(now, color=TARGET, linestyle="--", linewidth=1.1, label=f"this plan: {now} hosts")
    runway = growth.get("runway") or {}
    if isinstance(runway.get("quarter"), int):  # the end of the last quarter the plan holds
        end = runway.get("label") or f"Q{runway['quarter']}"
        hosts_ax.axvline(runway["quarter"] + 0.5, color=CAPACITY, linestyle=":", linewidth=1.0, label=f"headroom until {end}")
    hosts_ax.set_ylim(0, max(p90.max(), now) * 1.2)
    hosts_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    hosts_ax.set_ylabel("hosts")
    hosts_ax.set_title(f"Growth at {fmt_fraction(growth['rate_per_year'])} a year: hosts needed each quarter")
    hosts_ax.legend(loc="upper left", fontsize=7.5)
    chance_ax.bar(q, chance, width=0.6, color=CAPACITY, alpha=0.7)
    chance_ax.set_ylim(0, 100)
    chance_ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    chance_ax.set_ylabel("chance over\nrisk target")
    chance_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    chance_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"Q{int(v)}" if v == int(v) and v >= 1 else ""))
    chance_ax.set_xlabel("quarters from now")
    return fig


def _float(value) -> float:
    return float("nan") if value is None else float(value)


@_styled
def comparison_chart(scenarios: list[PlanData]) -> Figure:
    """Scenarios side by side: hosts, yearly running cost and 5-year NPV."""
    names = [d.name for d in scenarios]
    fig = Figure(figsize=(WIDTH_IN, 2.8), layout="constrained")
    hosts_ax, cost_ax, npv_ax = fig.subplots(1, 3)
    colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(len(scenarios))]
    x = np.arange(len(scenarios))
    hosts = [d.summary["hosts_after"] for d in scenarios]
    bars = hosts_ax.bar(x, hosts, color=colours)
    hosts_ax.bar_label(bars, padding=2)
    hosts_ax.set_title("Hosts")
    cost = [np.nan_to_num(d.business["yearly_cost_after"]["total"]) for d in scenarios]
    bars = cost_ax.bar(x, cost, color=colours)
    cost_ax.bar_label(bars, labels=[_money(v) for v in cost], padding=2)
    # each scenario's own "before": the business-case inputs (licences, ...) may differ between plans
    before = [np.nan_to_num(d.business["yearly_cost_before"]["total"]) for d in scenarios]
    cost_ax.hlines(before, x - 0.4, x + 0.4, color="#555555", linestyle="--", linewidth=1.0, label="before")
    cost_ax.legend(loc="upper right", fontsize=7)
    cost_ax.set_title(f"Running cost, {scenarios[0].business['currency']} a year")
    cost_ax.yaxis.set_major_formatter(FuncFormatter(_money))
    npv = [np.nan_to_num(_float(d.business["npv_5y"])) for d in scenarios]
    bars = npv_ax.bar(x, npv, color=colours)
    npv_ax.bar_label(bars, labels=[_money(v) for v in npv], padding=2)
    npv_ax.axhline(0, color="#333333", linewidth=0.8)
    npv_ax.set_title("NPV over 5 years")
    npv_ax.yaxis.set_major_formatter(FuncFormatter(_money))
    for ax in (hosts_ax, cost_ax, npv_ax):
        ax.set_xticks(x, names, rotation=20 if len(scenarios) > 2 else 0, ha="right" if len(scenarios) > 2 else "center")
        ax.margins(y=0.18)
    return fig


def svg_data_uri(fig: Figure) -> str:
    """``data:image/svg+xml;base64,...`` of ``fig`` (text drawn as outlines, no date stamp)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
