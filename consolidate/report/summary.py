"""Terminal output: the summary table after a plan, the data-quality report, the catalogue."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text


def _console() -> Console:
    return Console(highlight=False)


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    return table


def _before_after(summary: dict) -> Table:
    from consolidate.report.plandata import fmt_change, fmt_num

    table = Table(title="Before and after", title_justify="left")
    table.add_column("")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("change", justify="right")

    def row(label: str, before: float, after: float, digits: int, points: bool = False) -> None:
        table.add_row(label, fmt_num(before, digits), fmt_num(after, digits), fmt_change(before, after, points))

    s = summary
    cur = (s.get("business_case") or {}).get("currency")
    row("physical machines / hosts", s["hosts_before"], s["hosts_after"], 0)
    row("mean CPU utilisation, %", s["cpu_util_mean_before_pct"], s["cpu_util_mean_after_pct"], 1, points=True)
    row("energy, MWh a year (facility)", s["energy_kwh_per_year_before"] / 1000, s["energy_kwh_per_year_after"] / 1000, 1)
    row(f"electricity, {cur} a year" if cur else "electricity cost a year", s["cost_per_year_before"], s["cost_per_year_after"], 0)
    row("CO2, t a year", s["co2_t_per_year_before"], s["co2_t_per_year_after"], 1)
    return table


def _first_screen(summary: dict) -> Table:
    """The plan's answer in a few lines: the same sentences as the report's first screen."""
    from consolidate.report.plandata import first_screen

    table = Table(title="The plan in short", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    style = {"bad": "bold red", "warn": "yellow", "ok": "green"}
    for item in first_screen(summary):
        table.add_row(item["head"], Text(item["text"], style=style.get(item["tone"], "")))
    return table


def print_summary(summary: dict, out_dir: Path) -> None:
    """The plan's answer first (what the report's first screen says, and every caveat), then its
    figures and where its files are."""
    from consolidate.report.business import payback_text
    from consolidate.report.plandata import (
        BINDING_LABELS, caveats, fmt_days, fmt_money, fmt_pct, fmt_time, host_text, lower_bound_source, plural,
        proof_text,
    )

    s, a, solver = summary, summary["assumptions"], summary["solver"]
    console = _console()
    console.print(_first_screen(s))
    for caveat in caveats(s):
        console.print(f"caveat: {caveat}", markup=False)
    console.print(_before_after(s))
    binding = BINDING_LABELS.get(s.get("binding_resource"))
    console.print(
        _table(
            "Plan",
            [
                ("host model" if len(a.get("host_models", ())) < 2 else f"host mix (--objective {a['objective']})",
                 f"{host_text(a)} ({a['hypervisor']}, SMT gain {a['smt_gain']})"),
                ("sizing", f"CPU {s['sizing_note']}; memory {a['mem_sizing']}; "
                           f"CPU target {a['cpu_target']}, memory target {a['mem_target']}"),
                ("hosts", f"{s['hosts_after']}" + (f"; what binds them: {binding}" if binding else "")
                 + f"; lower bound {plural(s['lower_bound'], 'host')} ({lower_bound_source(s)})"),
                ("solver", f"{proof_text(s)}; {solver['time_s']:.1f} s ({', '.join(solver['methods'])})"),
                ("replay: host-intervals over target", fmt_pct(s["over_target_pct"])),
                ("replay: host-intervals over capacity", fmt_pct(s["over_capacity_pct"])),
                *_predicted(s),
                ("retire candidates (idle)", f"{len(s['retire_candidates'])}" + (" (left out)" if s["retired"] else " (kept in the plan)")),
                ("unplaceable", str(len(s["unplaceable"])) + (" (they stay on their own machines)" if s["unplaceable"] else "")),
                ("traces", f"{fmt_days(s['trace']['days'])} at {s['trace']['interval_s']} s, from {fmt_time(s['trace']['start'])}"),
            ],
        )
    )
    bc = s.get("business_case")
    if bc:
        cur = bc["currency"]
        n_plus_1 = bc.get("n_plus_1") or {}
        console.print(
            _table(
                "Business case",
                [
                    ("capital cost (hosts)", _money(bc["capital_cost"], cur)),
                    ("yearly saving", _money(bc["yearly_saving"], cur)),
                    ("payback", payback_text(bc)),
                    (f"NPV over 5 years at {100 * bc['inputs']['discount_rate']:.1f} %", _money(bc["npv_5y"], cur)),
                    *([(f"N+1: {plural(n_plus_1['spare_hosts'], 'spare host')}",
                        f"{fmt_money(n_plus_1.get('capital_cost'), cur)} to buy, {fmt_money(n_plus_1.get('yearly_cost'), cur)} a year")]
                      if n_plus_1.get("spare_hosts") else []),
                ],
            )
        )
    for warning in s["warnings"]:
        console.print(f"warning: {warning}", markup=False)
    console.print(f"wrote {out_dir}/report.html (and placement.csv, hosts.csv, summary.json, replay.parquet)")


def _money(value, currency: str) -> str:
    from consolidate.report.plandata import finite

    return f"{value:,.0f} {currency}" if finite(value) else "n/a (give --host-price)"


@contextmanager
def progress_step(label: str, enabled: bool):
    """A progress bar on stderr while the ``with`` block runs (nothing when not ``enabled``).

    The steps' own loops are not instrumented, so the bar pulses with the elapsed time and fills
    when the step ends.
    """
    if not enabled:
        yield
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield
        bar.update(task, total=1, completed=1)


def print_inspect(report: dict) -> None:
    """The data-quality report."""
    rows = [(k, f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in report.items() if not isinstance(v, (dict, list))]
    console = _console()
    console.print(_table("Inventory" if report.get("kind") == "inventory" else "Traces", rows))
    repairs = report.get("repairs") or report.get("counts") or {}
    if repairs:
        console.print(_table("Repairs (count)", [(k, f"{v:,}") for k, v in repairs.items()]))
    for conversion in report.get("conversions", []):
        console.print(f"conversion: {conversion}")
    for warning in report.get("warnings", []):
        console.print(f"warning: {warning}")


def print_simulation(figures: dict) -> None:
    """Figures from replaying a placement."""
    rows = [(k, f"{v:.3f}" if isinstance(v, float) else str(v)) for k, v in figures.items() if not isinstance(v, (dict, list))]
    _console().print(_table("Replay", rows))


def print_rows(rows: list[dict], title: str) -> None:
    """Rows of equal keys as a terminal table (numbers right-aligned)."""
    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else ():
        numeric = all(isinstance(r[column], (int, float)) for r in rows)
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(f"{v:g}" if isinstance(v, float) else str(v) for v in row.values()))
    _console().print(table)


def _predicted(summary: dict) -> list[tuple[str, str]]:
    """The terminal row of the predicted next-window risk, where the plan has one."""
    predicted = (summary.get("validation") or {}).get("predicted_next_window")
    if not predicted:
        return []
    from consolidate.report.plandata import fmt_pct

    low, high = predicted["over_target_pct_low"], predicted["over_target_pct_high"]
    folds = len(summary["validation"]["folds"])
    return [("next window, predicted: over target", f"{fmt_pct(low)} to {fmt_pct(high)} (rolling origin, {folds} fold(s))")]

