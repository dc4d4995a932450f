"""summary.json's ``sensitivity``: the yearly saving and the NPV at either end of each input's
range, against hand computations on a crafted estate (consolidate.report.sensitivity)."""

from __future__ import annotations

import json

import pytest

from consolidate.planner import plan
from consolidate.report.business import BusinessInputs, annuity_factor, business_case, plan_estate
from consolidate.report.sensitivity import REPLAN_TIME_LIMIT_S, business_figures, replans
from estates import THREE, machine, server, write_estate

RATE = 0.08
A5 = annuity_factor(RATE, 5)


def full_summary(p) -> dict:
    """The summary the report path builds: the plan's, its estate and its re-plans."""
    return {**p.summary, "estate": plan_estate(p), "sensitivity_replans": replans(p)}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    traces = write_estate(tmp_path_factory.mktemp("three"), THREE)
    return plan(traces, host="dell-r6515", pue=1.5, price_per_kwh=0.2)


@pytest.fixture(scope="module")
def figures(three):
    summary = full_summary(three)
    return summary, business_figures(summary, BusinessInputs(licence="vsphere"))


def entry(figures, name):
    return next(e for e in figures[1]["sensitivity"] if e["input"] == name)


def test_money_inputs_by_hand(figures):
    bc = figures[1]["business_case"]
    saving, capital = bc["yearly_saving"], bc["capital_cost"]
    by = bc["saving_by_category"]
    assert capital == 11000.0 and by["rack"] == 300.0 and by["maintenance"] == 200.0 and by["licences"] == -8640.0
    expected = {
        # rack at 0 and 600 USD/U: the 4 U before and 3 U after
        "rack cost": (0.0, 600.0, saving - 300.0, saving + 300.0),
        # vSphere on the host at 67.5 and 202.5 USD a core: 64 cores
        "licence price (vsphere)": (67.5, 202.5, saving + 4320.0, saving - 4320.0),
        "maintenance": (5.0, 15.0, saving - 100.0, saving + 100.0),
        "electricity price": (0.14, 0.26, saving - 0.3 * by["energy"], saving + 0.3 * by["energy"]),
        "PUE": (1.2, 2.0, saving - by["energy"] * 0.3 / 1.5, saving + by["energy"] * 0.5 / 1.5),
    }
    for name, (low, high, saving_low, saving_high) in expected.items():
        e = entry(figures, name)
        assert (e["low"], e["high"]) == pytest.approx((low, high)), name
        assert (e["saving_low"], e["saving_high"]) == pytest.approx((saving_low, saving_high)), name
        assert (e["npv_low"], e["npv_high"]) == pytest.approx(
            (-capital + saving_low * A5, -capital + saving_high * A5)), name
        assert e["range"] and e["unit"]
    # the host at 8,250 and 13,750 USD: the capital cost and its 10 % maintenance move
    e = entry(figures, "host price")
    assert (e["low"], e["high"]) == (8250.0, 13750.0)
    assert e["saving_low"] == pytest.approx(saving + 275.0) and e["saving_high"] == pytest.approx(saving - 275.0)
    assert e["npv_low"] == pytest.approx(-8250.0 + (saving + 275.0) * A5)


def test_every_entry_has_the_names_the_checks_read(figures):
    names = [e["input"] for e in figures[1]["sensitivity"]]
    assert names == ["electricity price", "PUE", "rack cost", "licence price (vsphere)", "maintenance", "host price", "CPU target"]
    for e in figures[1]["sensitivity"]:
        assert {"input", "low", "high", "saving_low", "saving_high", "npv_low", "npv_high", "unit", "range"} <= set(e)


def test_no_licence_on_either_side_moves_nothing(figures):
    summary, _ = figures
    e = entry((summary, business_figures(summary, BusinessInputs())), "licence price (none)")
    assert e["saving_low"] == e["saving_high"] == business_case(summary, BusinessInputs())["yearly_saving"]
    assert "nothing to move" in e["range"]


def test_the_report_path_recomputes_for_new_inputs(figures):
    summary, _ = figures
    stored = json.loads(json.dumps(summary))  # as read back from summary.json
    windows = business_figures(stored, BusinessInputs(licence="windows", rack_usd_per_u_year=100.0))
    assert windows == business_figures(summary, BusinessInputs(licence="windows", rack_usd_per_u_year=100.0))
    assert windows["business_case"]["licence_after"] == "windows"
    rack = next(e for e in windows["sensitivity"] if e["input"] == "rack cost")
    assert (rack["low"], rack["high"]) == (0.0, 200.0)
    assert any(e["input"] == "licence price (windows)" for e in windows["sensitivity"])


def cpu_bound_estate(tmp_path):
    """36 servers of 5.2 GHz (12.5 % of 16 cores at 2.6 GHz) and 8 GB on dell-r620 hosts (54.34 GHz
    under xen, 111.2 GB usable): 7, 8 and 9 a host at CPU targets 0.7, 0.8 and 0.9, so 6, 5 and 4 hosts."""
    box = machine("dell-r620", 16, 2.6, 8, 80, 180)
    return write_estate(tmp_path, [server(f"srv-{i:02d}", 12.5, 4.0, box) for i in range(36)])


def test_the_cpu_target_is_planned_again(tmp_path):
    traces = cpu_bound_estate(tmp_path)
    # a short search: at 0.7 the solver would spend its time proving that 5 hosts cannot do
    settings = {"host": "dell-r620", "sizing": "timeseries", "pue": 1.5, "price_per_kwh": 0.2, "time_limit_s": 1.0}
    p = plan(traces, **settings)
    summary = full_summary(p)
    out = business_figures(summary, BusinessInputs())
    e = next(e for e in out["sensitivity"] if e["input"] == "CPU target")
    assert (e["low"], e["high"], e["base"]) == (0.7, 0.9, 0.8)
    # the same plan made by hand at either end
    for end, target in (("low", 0.7), ("high", 0.9)):
        again = plan(traces, **settings, cpu_target=target)
        assert e[f"hosts_{end}"] == again.hosts_after
        by_hand = business_case({**again.summary, "estate": plan_estate(again)}, BusinessInputs())
        assert e[f"saving_{end}"] == pytest.approx(by_hand["yearly_saving"])
        assert e[f"npv_{end}"] == pytest.approx(by_hand["npv_5y"])
    assert (e["hosts_low"], p.hosts_after, e["hosts_high"]) == (6, 5, 4)
    assert "capped at 1 s" in e["range"]  # the plan's own cap, lower than REPLAN_TIME_LIMIT_S


def test_the_cpu_target_range_stays_within_bounds(three):
    again = plan(three.traces, host="dell-r6515", cpu_target=0.95)
    stored = replans(again)["cpu_target"]
    assert (stored["low"]["value"], stored["high"]["value"]) == (0.85, 0.95)
    assert stored["high"]["summary"]["hosts_after"] == again.hosts_after
    assert f"capped at {REPLAN_TIME_LIMIT_S:g} s" in stored["range"]  # the plan's 60 s cut down


def test_growth_is_there_only_when_asked(tmp_path):
    traces = cpu_bound_estate(tmp_path)
    settings = {"host": "dell-r620", "sizing": "timeseries", "time_limit_s": 1.0}
    assert "growth" not in replans(plan(traces, **settings))
    p = plan(traces, **settings, growth=0.4)
    summary = full_summary(p)
    e = next(e for e in business_figures(summary, BusinessInputs())["sensitivity"] if e["input"] == "growth")
    assert (e["low"], e["high"], e["base"]) == pytest.approx((0.2, 0.6, 0.4))
    assert e["hosts_at_rate"] == p.summary["growth"]["quarters"][-1]["hosts_needed_p50"]
    assert e["hosts_low"] <= e["hosts_at_rate"] <= e["hosts_high"]
    # more hosts bought now: each costs its price, its maintenance and rack space, and its share of the energy
    extra = e["hosts_high"] - p.hosts_after
    base = business_case(summary, BusinessInputs())
    hosts_energy = summary["cost_per_year_after"]  # no server stays
    yearly_per_host = 7000.0 * 0.1 + 300.0 + hosts_energy / p.hosts_after
    assert e["saving_high"] == pytest.approx(base["yearly_saving"] - extra * yearly_per_host)
    assert e["npv_high"] == pytest.approx(-(base["capital_cost"] + extra * 7000.0) + e["saving_high"] * A5)


def test_a_replan_keeps_the_plans_vms_and_refuses_settings_that_would_change_them(samples_dir):
    import consolidate
    from consolidate.planner import replan

    p = consolidate.plan(consolidate.read_traces(samples_dir / "traces.csv", inventory=samples_dir / "inventory.csv"))
    again = replan(p, cpu_target=0.7)
    assert again.vms is p.vms and again.settings.cpu_target == 0.7 and again.hosts_after >= p.hosts_after
    with pytest.raises(ValueError, match="smt_gain would change them"):
        replan(p, smt_gain=0.5)
