"""Growth what-if: the bootstrap kernel against numpy, and known outcomes."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.errors import InputError
from consolidate.growth import DAYS_PER_QUARTER, bootstrap_sum_kernel, growth_what_if
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


def test_no_growth_keeps_the_plan():
    out = growth_what_if(two_day_replay(), 1.0, 0.0, 4, 0.5)
    assert [q["hosts_needed_p90"] for q in out["quarters"]] == [1, 1, 1, 1]
    assert all(q["p_overload"] == 0.0 and q["over_target_pct_p90"] == 0.0 for q in out["quarters"])
    assert out["source_days"] == 2 and out["days_per_quarter"] == DAYS_PER_QUARTER


def test_growth_pushes_the_busy_days_over():
    # 100 %/yr: quarter 1 grows 2^(1/4) = 1.19, so the busy day (0.9 x 1.19 = 1.07 of the target) is over.
    out = growth_what_if(two_day_replay(), 1.0, 1.0, 8, 0.5, seed=3)
    q1 = out["quarters"][0]
    assert q1["growth_factor"] == pytest.approx(2 ** 0.25)
    assert q1["p_overload"] == 1.0 and q1["hosts_needed_p50"] == 2
    assert 35 < q1["over_target_pct_p50"] < 65  # about half the drawn days are busy ones
    assert q1["over_capacity_pct_p90"] == 0.0  # 1.07 x 0.8 of capacity
    # The quiet day too once growth passes 2: quarter 5 (2^1.25 = 2.38) puts everything over the target
    # and the busy day over capacity (0.9 x 2.38 x 0.8 = 1.71).
    q5 = out["quarters"][4]
    assert q5["over_target_pct_p50"] == 100.0 and q5["over_capacity_pct_p50"] > 0
    assert q5["hosts_needed_p50"] == 3  # ceil(0.9 x 2.38)


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


def test_memory_growth_counts_too():
    out = growth_what_if(two_day_replay(quiet=0.1, busy=0.1, mem_gb=90.0), 90.0, 0.2, 4, 0.5)
    assert out["quarters"][0]["hosts_needed_p50"] == 1  # 90 x 1.047 = 94 GB of 100
    assert out["quarters"][3]["hosts_needed_p50"] == 2  # 90 x 1.2 = 108 GB


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
