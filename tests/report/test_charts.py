"""The report's charts drawn from hand-made figures: what each axis, bar and line shows."""

import numpy as np
import pytest

from consolidate.report import plots
from consolidate.report.plots import bin_edge_step


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def shown_ticks(axis, low: float, high: float) -> np.ndarray:
    ticks = np.asarray(axis.get_majorticklocs())
    return ticks[(ticks >= low - 1e-9) & (ticks <= high + 1e-9)]


def test_histogram_ticks_fall_on_bin_edges(crafted_plan):
    assert bin_edge_step(2.0, 30.0) == 4.0  # 30 / 2 = 15 ticks is too many, 30 / 4 = 7.5 is not
    assert bin_edge_step(2.0, 102.0) == 20.0  # 51, 25.5 and 10.2 ticks are too many
    assert bin_edge_step(2.0, 16.0) == 2.0
    fig = plots.utilisation_chart(crafted_plan())
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = shown_ticks(ax.xaxis, low, high)
    assert len(ticks) >= 3
    assert np.allclose(ticks % 2.0, 0.0)  # bins of 2 %: every tick on an edge


FRONTIER_ZERO = [{"hosts": n, "over_target_pct_in_sample": 0.0, "over_target_pct_validated": 0.0,
                  "over_capacity_pct_validated": 0.0, "over_target_pct_predicted_low": 0.0, "over_target_pct_predicted_high": 0.0}
                 for n in (2, 3)]


def test_frontier_of_zeros_is_drawn_from_zero_with_the_risk_target(crafted_plan):
    fig = plots.frontier_chart(crafted_plan(frontier=FRONTIER_ZERO))
    ax = fig.axes[0]
    bottom, top = ax.get_ylim()
    assert bottom == 0.0 and top == pytest.approx(0.5 * 1.25)  # the 0.5 % risk target is the highest thing drawn
    risk = [line for line in ax.get_lines() if line.get_label().startswith("risk target")]
    assert len(risk) == 1 and np.allclose(risk[0].get_ydata(), 0.5)
    assert "risk target 0.5 %" in legend_texts(ax)
    ticks = shown_ticks(ax.xaxis, *ax.get_xlim())
    assert np.allclose(ticks, np.round(ticks)) and set(ticks) >= {2.0, 3.0}


def test_frontier_says_held_out_only_of_days_held_out(crafted_plan):
    # the hand-made plan's validation block is 72 steps of 300 s: 6 hours, not days
    labels = legend_texts(plots.frontier_chart(crafted_plan(frontier=FRONTIER_ZERO)).axes[0])
    assert "validated: the latest 6 h, planned on the hours before" in labels
    assert not any("held" in label for label in labels)
    day = {"predicted_next_window": {"over_target_pct_low": 0.0, "over_target_pct_high": 0.0},
           "folds": [{"first_step": 288, "stop_step": 576}]}
    labels = legend_texts(plots.frontier_chart(crafted_plan(frontier=FRONTIER_ZERO, validation=day,
                                                            over_target_pct_out_of_sample=0.3)).axes[0])
    assert "validated: the latest 1 day held out" in labels and "held-out days (--holdout)" in labels


def test_frontier_with_all_zeros_and_no_risk_target_still_has_an_axis(crafted_plan):
    plan = crafted_plan(frontier=FRONTIER_ZERO[:1])
    del plan.summary["assumptions"]["risk_pct"]
    ax = plots.frontier_chart(plan).axes[0]
    assert ax.get_ylim() == (0.0, 1.0)


SENSITIVITY = [
    {"input": "electricity price", "unit": "USD/kWh", "base": 0.1, "low": 0.07, "high": 0.13, "range": "x 0.7 to x 1.3",
     "saving_low": 3300.0, "saving_high": 3700.0, "npv_low": -6800.0, "npv_high": -5200.0},
    {"input": "rack cost", "unit": "USD/U/yr", "base": 300.0, "low": 0.0, "high": 600.0, "range": "x 0 to x 2",
     "saving_low": 2000.0, "saving_high": 5000.0, "npv_low": -12000.0, "npv_high": 0.0},
    {"input": "growth", "unit": "fraction a year", "base": 0.2, "low": 0.1, "high": 0.3, "range": "x 0.5 to x 1.5",
     "saving_low": 3000.0, "saving_high": 2500.0, "npv_low": -8000.0, "npv_high": -10000.0},
]


def test_tornado_bars_run_from_the_plans_figures_to_each_end(crafted_plan):
    fig = plots.sensitivity_chart(crafted_plan(sensitivity=SENSITIVITY))
    saving_ax, npv_ax = fig.axes
    labels = [t.get_text().split("\n")[0] for t in saving_ax.get_yticklabels()]
    assert labels == ["electricity price", "growth", "rack cost"]  # bottom to top: swings 400, 500, 3,000
    # each row: a bar from the plan's saving (3,500) to the saving at either end of the input's range
    spans = {}
    for bar in saving_ax.patches:
        if bar.get_width():
            row = labels[int(round(bar.get_y() + bar.get_height() / 2))]
            spans.setdefault(row, set()).add((bar.get_x(), round(bar.get_x() + bar.get_width(), 6)))
    assert spans == {"rack cost": {(3500.0, 2000.0), (3500.0, 5000.0)},
                     "electricity price": {(3500.0, 3300.0), (3500.0, 3700.0)},
                     "growth": {(3500.0, 3000.0), (3500.0, 2500.0)}}
    assert [line.get_xdata()[0] for line in saving_ax.get_lines()] == [3500.0]
    assert [line.get_xdata()[0] for line in npv_ax.get_lines()] == [-6025.0]
    assert saving_ax.get_yticklabels()[-1].get_text() == "rack cost\n0 to 600 EUR/U/yr"
    assert plots.sensitivity_chart(crafted_plan()) is None


def test_growth_chart_draws_hosts_per_quarter_and_the_chance_of_overload(crafted_plan):
    growth = {"rate_per_year": 0.2, "hosts_now": 2, "runway": {"quarter": 2, "text": "until Q2"},
              "quarters": [{"quarter": q, "hosts_needed_p50": p50, "hosts_needed_p90": p90, "p_overload": p}
                           for q, p50, p90, p in ((1, 2, 2, 0.0), (2, 2, 3, 0.4), (3, 3, 4, 0.9))]}
    hosts_ax, chance_ax = plots.growth_chart(crafted_plan(growth=growth)).axes
    median, band = [a for a in hosts_ax.patches if not a.get_fill()], [a for a in hosts_ax.patches if a.get_fill()]
    assert len(median) == 1 and len(band) == 1
    assert np.array_equal(median[0].get_data().values, [2, 2, 3]) and np.array_equal(band[0].get_data().values, [2, 3, 4])
    assert np.array_equal(band[0].get_data().edges, [0.5, 1.5, 2.5, 3.5])
    assert np.array_equal(band[0].get_data().baseline, [2, 2, 3])
    now = [line for line in hosts_ax.get_lines() if line.get_label() == "this plan: 2 hosts"]
    assert len(now) == 1 and np.allclose(now[0].get_ydata(), 2)
    runway = [line for line in hosts_ax.get_lines() if line.get_label() == "headroom until Q2"]
    assert len(runway) == 1 and np.allclose(runway[0].get_xdata(), 2.5)  # the end of quarter 2
    assert [round(b.get_height(), 6) for b in chance_ax.patches] == [0.0, 40.0, 90.0]
    assert plots.growth_chart(crafted_plan()) is None


def test_every_chart_renders_as_svg(crafted_plan):
    plan = crafted_plan(frontier=FRONTIER_ZERO, sensitivity=SENSITIVITY)
    for draw in (plots.utilisation_chart, plots.energy_cost_chart, plots.cashflow_chart, plots.peaks_chart,
                 plots.frontier_chart, plots.sensitivity_chart):
        assert plots.svg_data_uri(draw(plan)).startswith("data:image/svg+xml;base64,")
