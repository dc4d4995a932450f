"""Growth what-if: the bootstrap kernel against numpy, and known outcomes."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.errors import InputError
from consolidate.growth import WINDOW_DAYS, bootstrap_sum_kernel, growth_what_if
from helpers import replay_of


@settings(max_examples=40, deadline=None)
@given(days=st.integers(1, 10), k=st.integers(1, 12), samples=st.integers(1, 20), picks=st.integers(1, 30),
       seed=st.integers(0, 2**31))
def test_bootstrap_kernel_matches_numpy(days, k, samples, picks, seed):
    rng = np.random.default_rng(seed)
    per_day = rng.integers(0, 100, (days, k)).astype(np.int64)
    draws = rng.integers(0, days, (samples, picks)).astype(np.int64)
    np.testing.assert_array_equal(bootstrap_sum_kernel(per_day, draws), per_day[draws].sum(axis=1))


def two_day_replay(quiet=0.5, busy=0.9, mem_gb=1.0):
    """One host, hourly: a day at ``quiet`` then a day at ``busy`` times the 8 GHz target."""
    load = np.r_[np.full(24, quiet), np.full(24, busy)][None, :] * 8.0
    return replay_of(load, 10.0, 0.8, np.array([mem_gb]), 100.0, 3600)


def days_replay(levels, n_hosts=1, mem_gb=1.0):
    """``n_hosts`` hosts, hourly, day ``d`` at ``levels[d]`` times the 8 GHz target all day."""
    load = np.repeat(np.asarray(levels, dtype=np.float64), 24)[None, :] * 8.0
    return replay_of(np.repeat(load, n_hosts, axis=0), 10.0, 0.8, np.full(n_hosts, mem_gb), 100.0, 3600)


def test_no_growth_keeps_the_plan():
    out = growth_what_if(two_day_replay(), 1.0, 0.0, 4, 0.5)
    assert [q["hosts_needed_p90"] for q in out["quarters"]] == [1, 1, 1, 1]
    assert all(q["p_overload"] == 0.0 and q["over_target_pct_p90"] == 0.0 and q["holds"] for q in out["quarters"])
    assert out["source_days"] == 2 and out["window_days"] == WINDOW_DAYS == 7
    assert out["method"].startswith("day bootstrap") and out["runway"]["quarter"] is None


def test_a_constant_load_at_half_the_target_crosses_it_after_3_8_years():
    # 0.5 x 1.2 ** t = 1 at t = log 2 / log 1.2 = 3.80 years, inside quarter 16 (3.75 to 4 years):
    # quarter 15 grows demand 1.2 ** 3.75 = 1.98 (0.99 of the target), quarter 16 1.2 ** 4 = 2.07.
    assert math.log(2) / math.log(1.2) == pytest.approx(3.80, abs=0.005)
    out = growth_what_if(days_replay([0.5] * 14, n_hosts=2, mem_gb=1.0), 2.0, 0.2, 20, 0.5, start="2024-01-01")
    q15, q16 = out["quarters"][14], out["quarters"][15]
    assert q15["p_overload"] == 0.0 and q15["hosts_needed_p90"] == 2 and q15["holds"]
    assert q16["p_overload"] == 1.0 and q16["over_target_pct_p50"] == 100.0 and not q16["holds"]
    assert q16["hosts_needed_p50"] == q16["hosts_needed_p90"] == 3  # 0.5 x 2.07 x 2 hosts = 2.07 of a host's target
    runway = out["runway"]
    # quarter 15 ends 45 months after 2024-01-01: 2027-10-01, in Q4 2027
    assert runway["quarter"] == 15 and runway["ends"] == "2027-10-01" and runway["label"] == "Q4 2027"
    assert runway["binding"] == "cpu"
    assert runway["text"].startswith("headroom lasts until Q4 2027 at 20 %/yr: from Q1 2028 (quarter 16) 100 % of the drawn weeks")
    assert out["method"].startswith("moving-block bootstrap") and "one of 8 weeks" in out["method"]


def test_within_the_horizon_the_runway_lasts_beyond_it():
    out = growth_what_if(days_replay([0.5] * 14), 1.0, 0.2, 12, 0.5, start="2024-01-01")
    assert out["runway"]["quarter"] is None and out["runway"]["label"] == "Q1 2027"  # 36 months on
    assert out["runway"]["text"] == "headroom lasts beyond Q1 2027, the end of the 3-year horizon, at 20 %/yr"


def test_weeks_that_differ_give_a_spread():
    # 14 days at 0.5 of the target but day 12 at 0.9. Of the 8 weeks of 7 consecutive days (starting
    # on days 0 to 7), 2 hold day 12 (starting on days 6 and 7). From quarter 3 (1.2 ** 0.75 = 1.15)
    # that day is over the target: a quarter of the weeks exceed the risk target, and need 2 hosts
    # (0.9 x 1.15 = 1.03 of one host's target) where the others need 1.
    levels = [0.5] * 14
    levels[12] = 0.9
    out = growth_what_if(days_replay(levels), 1.0, 0.2, 4, 0.5, seed=1)
    q2, q3 = out["quarters"][1], out["quarters"][2]
    assert q2["p_overload"] == 0.0 and q2["holds"]
    assert q3["p_overload"] == pytest.approx(0.25, abs=0.05)
    assert q3["hosts_needed_p50"] == 1 and q3["hosts_needed_p90"] == 2
    assert q3["over_target_pct_p50"] == 0.0 and q3["over_target_pct_p90"] == pytest.approx(100 / 7)
    assert not q3["holds"] and out["runway"]["quarter"] == 2 and out["runway"]["binding"] == "cpu"


def test_growth_pushes_the_busy_days_over():
    # 100 %/yr: quarter 1 grows 2^(1/4) = 1.19, so the busy day (0.9 x 1.19 = 1.07 of the target) is over.
    # Two replayed days: a week is 7 days drawn with replacement, and holds a busy one but with
    # chance 1 - 0.5 ** 7 = 0.992.
    out = growth_what_if(two_day_replay(), 1.0, 1.0, 8, 0.5, seed=3)
    q1 = out["quarters"][0]
    assert q1["growth_factor"] == pytest.approx(2 ** 0.25)
    assert q1["p_overload"] == pytest.approx(1 - 0.5 ** 7, abs=0.01) and q1["hosts_needed_p90"] == 2
    assert 100 * 2 / 7 <= q1["over_target_pct_p50"] <= 100 * 5 / 7  # about half the drawn days are busy ones
    assert q1["over_capacity_pct_p90"] == 0.0  # 1.07 x 0.8 of capacity
    # The quiet day too once growth passes 2: quarter 5 (2^1.25 = 2.38) puts everything over the target
    # and the busy day over capacity (0.9 x 2.38 x 0.8 = 1.71).
    q5 = out["quarters"][4]
    assert q5["over_target_pct_p50"] == 100.0 and q5["over_capacity_pct_p50"] > 0
    assert q5["hosts_needed_p90"] == 3  # ceil(0.9 x 2.38)
    assert out["runway"]["quarter"] == 0 and out["runway"]["text"].startswith("no headroom at 100 %/yr: from quarter 1 ")


@settings(max_examples=10, deadline=None)
@given(rate=st.floats(0.01, 1.0), seed=st.integers(0, 2**31))
def test_hosts_and_risk_never_fall_as_demand_grows(rate, seed):
    rng = np.random.default_rng(seed)
    load = rng.gamma(2.0, 1.5, (3, 24 * 5)) * 2
    rep = replay_of(load, 10.0, 0.8, np.array([10.0, 20.0, 5.0]), 100.0, 3600)
    rows = growth_what_if(rep, 35.0, rate, 8, 0.5, seed=seed, samples=200)["quarters"]
    for key in ("hosts_needed_p50", "hosts_needed_p90", "p_overload", "over_target_pct_p50", "over_capacity_pct_p90"):
        values = [r[key] for r in rows]
        assert values == sorted(values), key
    assert all(r["hosts_needed_p50"] <= r["hosts_needed_p90"] for r in rows)
    # the runway is the last quarter before the first that does not hold
    holds = [r["holds"] for r in rows]
    assert holds == sorted(holds, reverse=True)


def test_memory_growth_counts_too():
    out = growth_what_if(two_day_replay(quiet=0.1, busy=0.1, mem_gb=90.0), 90.0, 0.2, 4, 0.5)
    assert out["quarters"][0]["hosts_needed_p50"] == 1  # 90 x 1.047 = 94 GB of 100
    assert out["quarters"][3]["hosts_needed_p50"] == 2 == out["quarters"][3]["hosts_needed_memory"]  # 90 x 1.2 = 108 GB


def test_a_plan_short_of_memory_from_quarter_2_says_so():
    # 2 hosts of 100 GB with 92 GB each: 184 x 1.047 = 192.6 GB fit in quarter 1, 184 x 1.095 = 201.6 GB
    # do not in quarter 2, while the CPU (0.2 of the target) has room to spare.
    out = growth_what_if(days_replay([0.2] * 7, n_hosts=2, mem_gb=92.0), 184.0, 0.2, 12, 0.5, start="2013-07-31")
    assert [q["holds"] for q in out["quarters"][:2]] == [True, False]
    assert all(q["p_overload"] == 0.0 for q in out["quarters"])
    runway = out["runway"]
    assert runway["quarter"] == 1 and runway["binding"] == "memory" and runway["label"] == "Q4 2013"
    assert runway["text"] == ("headroom lasts until Q4 2013 at 20 %/yr: from Q1 2014 (quarter 2) the plan's 2 hosts "
                              "are short of memory (3 needed)")
    assert out["method"].startswith("moving-block bootstrap") and "one of 1 weeks" in out["method"]


def test_growth_needs_a_whole_day():
    rep = replay_of(np.ones((1, 12)), 10.0, 0.8, np.ones(1), 100.0, 3600)
    with pytest.raises(InputError, match="whole day"):
        growth_what_if(rep, 1.0, 0.2, 4, 0.5)


def test_plan_reports_growth(tmp_path):
    from consolidate.io import read_traces
    from consolidate.models.hardware import parse_host_spec
    from consolidate.planner import plan

    rng = np.random.default_rng(1)
    steps, ids = 72, [f"s{i}" for i in range(6)]
    times = pd.date_range("2024-01-01", periods=steps, freq="1h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame({"timestamp": np.tile(times, 6), "server_id": np.repeat(ids, steps),
                  "cpu_pct": rng.uniform(10, 60, 6 * steps).round(2)}).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame({"server_id": ids, "cores": 4, "threads": 4, "ghz": 2.5, "ram_gb": 8}).to_csv(tmp_path / "i.csv", index=False)
    traces = read_traces(tmp_path / "t.csv", inventory=tmp_path / "i.csv")
    p = plan(traces, host=parse_host_spec("cores=8,ghz=2.5,ram_gb=64,idle_w=100,max_w=300"), hypervisor="none",
             smt_gain=0.0, growth="30%/yr", horizon="1y", holdout="1d")
    g = p.summary["growth"]
    assert g["rate_per_year"] == pytest.approx(0.3) and g["horizon_quarters"] == 4 and len(g["quarters"]) == 4
    assert g["source_days"] == 3  # training and held-out days alike
    assert g["hosts_now"] == p.hosts_after
    assert g["method"].startswith("day bootstrap") and set(g["runway"]) >= {"quarter", "text"}
