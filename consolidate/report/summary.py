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
    table = Table(title="Before and after", title_justify="left")
    table.add_column("")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("change", justify="right")

    def row(label: str, before: float, after: float, fmt: str, points: bool = False) -> None:
        if points:
            change = f"{after - before:+.1f} pts"
        else:
            change = f"{(after - before) / before * 100:+.0f} %" if before else ""
        table.add_row(label, format(before, fmt), format(after, fmt), change)

    s = summary
    row("physical servers / hosts", s["hosts_before"], s["hosts_after"], ",d")
    row("mean CPU utilisation, %", s["cpu_util_mean_before_pct"], s["cpu_util_mean_after_pct"], ".1f", points=True)
    row("energy, kWh/yr (facility)", s["energy_kwh_per_year_before"], s["energy_kwh_per_year_after"], ",.0f")
    row("electricity cost per year", s["cost_per_year_before"], s["cost_per_year_after"], ",.0f")
    row("CO2, t/yr", s["co2_t_per_year_before"], s["co2_t_per_year_after"], ",.1f")
    return table


def print_summary(summary: dict, out_dir: Path) -> None:
    """The plan's headline figures and where its files are."""
    from consolidate.report.business import payback_text
    from consolidate.report.plandata import host_text

    s, a, solver = summary, summary["assumptions"], summary["solver"]
    console = _console()
    console.print(_before_after(s))
    console.print(
        _table(
            "Plan",
            [
                ("host model" if len(a.get("host_models", ())) < 2 else f"host mix (--objective {a['objective']})",
                 f"{host_text(a)} ({a['hypervisor']}, SMT gain {a['smt_gain']})"),
                ("sizing", f"CPU {s['sizing_note']}; memory {a['mem_sizing']}; targets {a['cpu_target']} / {a['mem_target']}"),
                ("hosts", f"{s['hosts_after']} (lower bound {s['lower_bound']}, {s['lower_bound_resource']})"),
                ("solver", f"{solver['status']} in {solver['time_s']:.1f} s ({', '.join(solver['methods'])})"),
                ("replay: host-intervals over target", f"{s['over_target_pct']:.2f} %"),
                ("replay: host-intervals over capacity", f"{s['over_capacity_pct']:.2f} %"),
                *_predicted(s),
                ("retire candidates (idle)", f"{len(s['retire_candidates'])}" + (" (left out)" if s["retired"] else " (kept in the plan)")),
                ("unplaceable", str(len(s["unplaceable"]))),
                ("traces", f"{s['trace']['days']:g} days at {s['trace']['interval_s']} s, from {s['trace']['start']}"),
            ],
        )
    )
    bc = s.get("business_case")
    if bc:
        cur = bc["currency"]
        console.print(
            _table(
                "Business case",
                [
                    ("capital cost (hosts)", _money(bc["capital_cost"], cur)),
                    ("yearly saving", _money(bc["yearly_saving"], cur)),
                    ("payback", payback_text(bc)),
                    (f"NPV over 5 years at {bc['inputs']['discount_rate']:.1%}", _money(bc["npv_5y"], cur)),
                ],
            )
        )
    for warning in s["warnings"]:
        console.print(f"warning: {warning}")
    console.print(f"wrote {out_dir}/report.html (and placement.csv, hosts.csv, summary.json, replay.parquet)")


def _money(value, currency: str) -> str:
    return f"{value:,.0f} {currency}" if isinstance(value, (int, float)) and value == value else "n/a (give --host-price)"


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
    low, high = predicted["over_target_pct_low"], predicted["over_target_pct_high"]
    folds = len(summary["validation"]["folds"])
    return [("next window, predicted: over target", f"{low:.2f}-{high:.2f} % (rolling origin, {folds} fold(s))")]

