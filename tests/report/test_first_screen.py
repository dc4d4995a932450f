"""The first screen, in words: what the report and the terminal answer first, and the formatting
every figure goes through (hand-made summaries, figures worked by hand)."""

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from consolidate.report.plandata import (
    caveats,
    first_screen,
    fmt_change,
    fmt_days,
    fmt_pct,
    names_text,
    sensitivity_range,
)
from consolidate.report.summary import print_summary


def items(summary: dict) -> dict:
    return {item["key"]: item for item in first_screen(summary)}


def test_a_change_that_is_not_total_never_reads_as_minus_100():
    assert fmt_change(1052, 5) == "-99.5 %"  # 5 / 1052 - 1 = -0.99525
    assert fmt_change(10, 0) == "-100 %"
    assert fmt_change(43398, 6212) == "-86 %"
    assert fmt_change(100, 99.9) == "-0.1 %"
    assert fmt_change(1000, 999.99) == "-0.001 %"
    assert fmt_change(100, 100) == "+0 %"
    assert fmt_change(8.3, 20.7, points=True) == "+12.4 pts"
    assert fmt_change(0, 5) == ""


@given(st.floats(1.0, 1e7), st.floats(1e-3, 0.99))
def test_a_fall_short_of_total_keeps_a_figure_above_minus_100(before, kept):
    shown = fmt_change(before, before * kept)
    assert shown.endswith(" %") and float(shown[:-2]) > -100


def test_days_and_small_shares():
    assert fmt_days(1.0) == "1 day"
    assert fmt_days(14.0) == "14 days"
    assert fmt_days(0.5) == "0.5 days"
    assert fmt_pct(0.0) == "0.00 %"
    assert fmt_pct(0.001) == "< 0.01 %"  # above zero is never shown as zero
    assert fmt_pct(12.3) == "12.30 %"
    assert names_text(["a", "b", "c"]) == "a, b and c"
    assert names_text([f"h{i}" for i in range(8)], 3) == "h0, h1, h2 and 5 more"


def test_hosts_say_what_binds_them_and_who_stays(crafted_plan):
    hosts = items(crafted_plan().summary)["hosts"]
    assert hosts["value"] == "4 → 2"
    assert hosts["text"] == ("4 servers onto 2 big-host hosts; what binds them: memory; "
                             "1 server fits no host and stays on its own machine")


def test_risk_gives_the_replay_the_prediction_and_the_target(crafted_plan):
    risk = items(crafted_plan().summary)["risk"]
    assert risk["value"] == "0.25 %"
    assert "0.25 % of host-intervals over the CPU target (80 % of capacity)" in risk["text"]
    assert "the next window, predicted: 0.10 % to 0.90 % (risk target 0.50 %)" in risk["text"]
    assert risk["tone"] == "warn"  # the predicted 0.9 % is above the 0.5 % target


def test_n_plus_1_that_fails_gives_the_spare_hosts_and_their_price(crafted_plan):
    n1 = items(crafted_plan().summary)["n_plus_1"]
    assert n1["value"] == "fails: +1 host" and n1["tone"] == "bad"
    assert n1["text"] == ("fails — losing either host takes a survivor over its CPU target or out of memory; "
                          "N+1 needs 1 more host, 10,000 EUR to buy and 1,800 EUR a year to run")


def test_n_plus_1_that_holds(crafted_plan):
    plan = crafted_plan(failover={"hosts": 2, "failures_overloading": [], "spare_hosts_n_plus_1": 0, "n_plus_1_holds": True})
    plan.summary["assumptions"]["n_plus_1"] = True
    n1 = items(plan.summary)["n_plus_1"]
    assert n1["value"] == "holds" and n1["tone"] == "ok"
    assert n1["text"].startswith("holds — any one host can fail") and n1["text"].endswith("(planned with --n-plus-1)")


def test_n_plus_1_of_an_old_plan_folder_is_not_claimed(crafted_plan):
    # written before n_plus_1_holds: no failure overloaded capacity, but the CPU target was not checked
    old = crafted_plan(failover={"hosts": 2, "failures_overloading": [], "spare_hosts_n_plus_1": 0})
    assert items(old.summary)["n_plus_1"]["value"] == "not known"
    failing = crafted_plan(failover={"hosts": 3, "failures_overloading": ["host-2"], "spare_hosts_n_plus_1": 1})
    n1 = items(failing.summary)["n_plus_1"]
    assert n1["value"] == "fails: +1 host" and "losing host-2 (1 of 2 hosts)" in n1["text"]


def test_money_names_its_largest_drivers_and_what_rests_on_defaults(crafted_plan):
    money = items(crafted_plan().summary)["money"]
    assert money["value"] == "3,500 EUR"
    assert money["text"] == (
        "3,500 EUR saved a year; the largest parts of it: maintenance +1,700 EUR, energy +900 EUR, rack space +900 EUR; "
        "the hosts cost 20,000 EUR, paid back in 68.6 months; net present value over 5 years -6,025 EUR; "
        "1 server (25 % of them) runs on a machine the inventory does not describe and is costed as a dell-r710: "
        "1,000 EUR of the yearly saving rests on them")


def test_energy_is_in_mwh(crafted_plan):
    energy = items(crafted_plan().summary)["energy"]
    assert energy["text"] == "facility energy 12.0 MWh → 3.0 MWh a year (-75 %); 3.0 t CO₂ less a year"


def test_growth_runway_only_when_asked(crafted_plan):
    assert "growth" not in items(crafted_plan().summary)
    growth = {"rate_per_year": 0.2, "hosts_now": 2, "runway": {"quarter": 3, "text": "headroom lasts until Q3 at 20 %/yr"},
              "quarters": [{"quarter": q, "hosts_needed_p50": 2 + q // 3, "hosts_needed_p90": 3 + q // 3, "p_overload": 0.1 * q}
                           for q in (1, 2, 3, 4)]}
    item = items(crafted_plan(growth=growth).summary)["growth"]
    assert item["value"] == "3 quarters" and item["tone"] == "warn"
    assert item["text"] == ("headroom lasts until Q3 at 20 %/yr; by quarter 4 at 20 % a year the estate needs 3 to 4 hosts "
                            "(median to 90th percentile of the draws), against 2 hosts now")


def test_a_driver_that_costs_more_after_is_signed(crafted_plan):
    plan = crafted_plan()
    plan.summary["business_case"]["largest_drivers"] = [{"category": "licences", "saving": -21600.0}, {"category": "rack", "saving": 20100.0}]
    assert "; the largest parts of it: licences -21,600 EUR, rack space +20,100 EUR;" in items(plan.summary)["money"]["text"]


@pytest.mark.parametrize("runway, value, tone", [
    ({"quarter": 4, "label": "Q1 2012", "text": "t"}, "until Q1 2012", "warn"),
    ({"quarter": None, "label": "Q4 2013", "text": "t"}, "beyond Q4 2013", "ok"),
    ({"quarter": None, "label": None, "text": "t"}, "beyond 1 quarter", "ok"),
    ({"quarter": 0, "label": None, "text": "t"}, "none", "bad"),
])
def test_the_runway_card(crafted_plan, runway, value, tone):
    growth = {"rate_per_year": 0.2, "hosts_now": 2, "runway": runway,
              "quarters": [{"quarter": 1, "hosts_needed_p50": 2, "hosts_needed_p90": 2, "p_overload": 0.0}]}
    item = items(crafted_plan(growth=growth).summary)["growth"]
    assert (item["value"], item["tone"]) == (value, tone)


def test_every_caveat_once(crafted_plan):
    plan = crafted_plan()
    plan.summary["business_case"]["caveats"].append(plan.summary["caveats"][0])
    assert caveats(plan.summary) == [*plan.summary["caveats"], plan.summary["business_case"]["caveats"][0]]


def test_sensitivity_ranges_in_their_units():
    assert sensitivity_range({"low": 0.07, "high": 0.13, "base": 0.1, "unit": "USD/kWh"}, "EUR") == "0.07 to 0.13 EUR/kWh (the plan: 0.1)"
    assert sensitivity_range({"low": 0.7, "high": 0.9, "unit": "fraction", "hosts_low": 3, "hosts_high": 2}, "EUR") == \
        "70 % to 90 %; 3 and 2 hosts"
    assert sensitivity_range({"low": 21000.0, "high": 35000.0, "unit": "USD"}, "USD") == "21,000 to 35,000 USD"
    assert sensitivity_range({"low": 1.2, "high": 2.0, "unit": "ratio"}, "USD") == "1.2 to 2"


def test_the_terminal_answers_first(crafted_plan, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps table cells at the console width
    print_summary(crafted_plan().summary, Path("/plans/x"))
    out = capsys.readouterr().out
    first = out[: out.index("Before and after")]
    for said in ("what binds them: memory", "fails — losing either host", "10,000 EUR to buy", "0.10 % to 0.90 %",
                 "3,500 EUR saved a year", "caveat: the traces cover 1 day", "caveat: 29 % of the yearly saving"):
        assert said in first, said
    assert "CPU target 0.8, memory target 0.9" in out
    assert "energy, MWh a year" in out and "kWh" not in out
    assert "electricity, EUR a year" in out and "USD" not in out
    assert "1 day at 300 s" in out and "1 days" not in out
    assert "N+1: 1 spare host" in out


@pytest.mark.parametrize("binding", ["cpu", "memory", "cpu and memory"])
def test_each_binding_resource_is_named(crafted_plan, binding):
    named = {"cpu": "CPU", "memory": "memory", "cpu and memory": "CPU and memory"}[binding]
    assert f"what binds them: {named};" in items(crafted_plan(binding_resource=binding).summary)["hosts"]["text"]


def test_hosts_bound_by_different_resources_are_counted(crafted_plan):
    plan = crafted_plan(binding_resource="cpu and memory", binding_resource_hosts={"cpu": 1, "memory": 1})
    assert "; what binds them: CPU on 1 host, memory on 1 host;" in items(plan.summary)["hosts"]["text"]
