"""Hold-out splits (consolidate.holdout), the spread kernel, the validated sizing and the frontier."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.holdout import split_holdout
from consolidate.options import PLAN, VALIDATED, by_name
from consolidate.planner import plan
from consolidate.settings import make_settings
from consolidate.solvers.budget import Budget
from consolidate.solvers.validated import (
    FRONTIER_KEYS, FRONTIER_ZERO_PCT, Scorer, lower_peak_kernel, risk_frontier, spread_kernel, validated_solve,
    validation_split,
)
from helpers import capacity, replay_on, workload

HOST = "cores=8,ghz=2.5,ram_gb=64,idle_w=100,max_w=300"
PLAIN = dict(host=None, hypervisor="none", smt_gain=0.0, cpu_target=0.8, mem_target=0.95)


def write_estate(folder, cpu_pct, interval="1h", ram_gb=8):
    """Long CSV + inventory (4 cores at 2.5 GHz, threads = cores) for ``cpu_pct`` (servers, steps)."""
    n, steps = cpu_pct.shape
    ids = [f"s{i:02d}" for i in range(n)]
    times = pd.date_range("2024-01-01", periods=steps, freq=interval, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame({"timestamp": np.tile(times, n), "server_id": np.repeat(ids, steps), "cpu_pct": cpu_pct.ravel()}).to_csv(
        folder / "traces.csv", index=False)
    pd.DataFrame({"server_id": ids, "cores": 4, "threads": 4, "ghz": 2.5, "ram_gb": ram_gb}).to_csv(folder / "inventory.csv", index=False)
    return folder / "traces.csv", folder / "inventory.csv"


def read(folder, cpu_pct, **kw):
    traces, inventory = write_estate(folder, cpu_pct, **kw)
    return read_traces(traces, inventory=inventory)


def plain_plan(traces, **kw):
    from consolidate.models.hardware import parse_host_spec

    return plan(traces, **{**PLAIN, "host": parse_host_spec(HOST), **kw})


# --- durations and splits ------------------------------------------------------------------------

def test_holdout_and_train_until_split_in_time(tmp_path):
    traces = read(tmp_path, np.tile(np.arange(72, dtype=float), (2, 1)))  # three days, hourly
    train, test = split_holdout(traces, make_settings(holdout="1d"))
    assert (train.n_steps, test.n_steps) == (48, 24)
    assert test.start == traces.start + pd.Timedelta(days=2)
    np.testing.assert_array_equal(test.cpu_pct[:, 0], [48, 48])
    train, test = split_holdout(traces, make_settings(train_until="2024-01-02T06:00"))
    assert (train.n_steps, test.n_steps) == (30, 42)
    with pytest.raises(InputError, match="not both"):
        make_settings(holdout="1d", train_until="2024-01-02")
    with pytest.raises(InputError, match="no training or no held-out"):
        split_holdout(traces, make_settings(holdout="3d"))
    with pytest.raises(InputError, match="no training or no held-out"):
        split_holdout(traces, make_settings(train_until="2023-12-01"))
    with pytest.raises(InputError, match="not a date"):
        make_settings(train_until="yesterday-ish")


def test_validation_window_is_the_last_quarter_in_whole_days():
    assert validation_split(7 * 288, 300) == 5 * 288  # 1.75 days held out, rounded to 2
    assert validation_split(30 * 288, 300) == 22 * 288  # 7.5 -> 8 days
    assert validation_split(10, 3600) == 8  # under 4 days: 2.5 steps -> 2
    assert validation_split(2, 300) == 1
    with pytest.raises(InputError):
        validation_split(1, 300)


# --- the spread kernel against a plain numpy version -------------------------------------------

def reference_spread(cpu, mem, order, n_hosts, mem_cap, n_candidates):
    load = np.zeros((n_hosts, cpu.shape[1]))
    load_gb = np.zeros(n_hosts)
    out = np.full(cpu.shape[0], -1)
    for i in order:
        room = load_gb + mem[i] <= mem_cap
        key = np.where(room, load.max(axis=1), np.inf)
        cand = np.argsort(key, kind="mergesort")[:n_candidates]
        cand = cand[np.isfinite(key[cand])]
        if cand.size:  # lowest peak once added, then least memory, then lowest index
            peaks = (load[cand] + cpu[i]).max(axis=1)
            h = cand[np.lexsort((cand, load_gb[cand], peaks))[0]]
        else:
            h = int(np.argmin(load_gb))
        out[i] = h
        load[h] += cpu[i]
        load_gb[h] += mem[i]
    return out


@settings(max_examples=60, deadline=None)
@given(n_vms=st.integers(1, 25), n_steps=st.integers(1, 40), n_hosts=st.integers(1, 6), n_candidates=st.integers(1, 7),
       seed=st.integers(0, 2**31))
def test_spread_kernel_matches_numpy(n_vms, n_steps, n_hosts, n_candidates, seed):
    rng = np.random.default_rng(seed)
    cpu = np.round(rng.random((n_vms, n_steps)) * 8, 1).astype(np.float32)  # ties happen
    mem = rng.integers(1, 6, n_vms).astype(np.float64)
    order = rng.permutation(n_vms).astype(np.int64)
    mem_cap = float(rng.integers(4, 20))
    got = spread_kernel(cpu, mem, order, n_hosts, mem_cap, n_candidates)
    want = reference_spread(cpu.astype(np.float64), mem, order, n_hosts, mem_cap, n_candidates)
    np.testing.assert_array_equal(got, want)


# --- validated sizing ----------------------------------------------------------------------------

def overfit_demand():
    """Two VMs, A and B (rows 2, 3), whose 7 GHz spikes alternate over the first 3/4 of the window
    and coincide once in the last quarter; C and D (rows 0, 1) are flat at 1 GHz with much memory,
    so they are placed first. Host: 10 GHz full, 8 GHz target, 100 GB."""
    steps = 40
    cpu = np.ones((4, steps), dtype=np.float32)
    cpu[2, 0:30:2] = 7.0
    cpu[3, 1:30:2] = 7.0
    cpu[2:4, 33] = 7.0  # together, once, in the held-out part
    return cpu, np.array([95.0, 95.0, 1.0, 1.0])


def test_validation_sees_what_the_earlier_days_missed():
    cpu, mem = overfit_demand()
    scorer = Scorer(workload(cpu, mem, 3600), capacity(10.0, 0.8, 100.0))
    assert scorer.split == 30
    early, whole = scorer.plan(3, scorer.split), scorer.plan(3)
    assert early[2] == early[3]  # complementary on the earlier steps: packed together
    assert whole[2] != whole[3]  # the whole window shows the joint spike: kept apart
    three = scorer.score(3)
    assert three["over_target_pct_validated"] == pytest.approx(100 * 1 / 30)  # 14 GHz once, of 3 hosts x 10 steps
    assert three["over_capacity_pct_validated"] == pytest.approx(100 * 1 / 30)
    assert three["over_target_pct_in_sample"] == 0.0
    assert not scorer.acceptable(3, 3.3) and scorer.acceptable(3, 3.4)


def test_validated_count_starts_at_the_timeseries_count():
    cpu = np.full((4, 96), 5.0, dtype=np.float32)  # four days, hourly; no two share an 8 GHz target
    result, info = validated_solve(workload(cpu, np.ones(4), 3600), capacity(10.0, 0.8, 100.0), 1.0, Budget(0, 60.0))
    assert result.n_hosts == info["hosts"] == info["envelope_hosts"] == 4 and result.status == "optimal"
    assert info["within_risk"] and info["over_target_pct_validated"] == 0.0
    assert sorted(result.assignment.tolist()) == [0, 1, 2, 3]
    assert result.lower_bound == 4 and info["counts_tried"][0] == 4
    # However loose the risk target, the plan never drops below what the window needs.
    looser, _ = validated_solve(workload(cpu, np.ones(4), 3600), capacity(10.0, 0.8, 100.0), 50.0, Budget(0, 60.0))
    assert looser.n_hosts == 4


def test_short_window_keeps_the_timeseries_count():
    cpu = np.full((4, 24), 5.0, dtype=np.float32)  # one day: no whole day to hold out
    result, info = validated_solve(workload(cpu, np.ones(4), 3600), capacity(10.0, 0.8, 100.0), 0.5, Budget(0, 60.0))
    assert "skipped" in info and result.n_hosts == info["envelope_hosts"] == 4


@settings(max_examples=15, deadline=None)
@given(n_vms=st.integers(2, 14), seed=st.integers(0, 2**31), risk=st.sampled_from([0.0, 0.5, 2.0, 10.0]))
def test_no_smaller_count_meets_the_risk_and_the_plan_fits_its_window(n_vms, seed, risk):
    rng = np.random.default_rng(seed)
    cpu = (rng.random((n_vms, 96)) ** 3 * 6).astype(np.float32)
    mem = rng.uniform(1, 10, n_vms)
    result, info = validated_solve(workload(cpu, mem, 3600), capacity(10.0, 0.8, 30.0), risk, Budget(0, 60.0))
    scorer = Scorer(workload(cpu, mem, 3600), capacity(10.0, 0.8, 30.0))
    if info["within_risk"]:
        assert scorer.acceptable(result.n_hosts, risk)
    assert result.n_hosts >= info["envelope_hosts"]
    assert not any(scorer.acceptable(n, risk) for n in range(info["envelope_hosts"], result.n_hosts))
    rep = replay_on(cpu, result.assignment, result.n_hosts, 10.0, 0.8, mem, 30.0, 3600)
    assert rep.over_target_pct() == 0.0
    assert (rep.mem_gb <= 30.0 * (1 + 1e-9)).all()


def test_lower_peak_kernel_keeps_a_fitting_plan_fitting_and_lowers_the_peak():
    rng = np.random.default_rng(4)
    cpu = rng.uniform(0, 3, (12, 50)).astype(np.float32)
    mem = np.ones(12)
    start = np.zeros(12, dtype=np.int32)
    start[6:] = 1  # two hosts used, two more empty
    before = replay_on(cpu, start, 4, 100.0, 1.0, mem, 100.0, 3600).cpu_ghz.max()
    out = lower_peak_kernel(cpu, mem, start, 4, 100.0, 8, 100)
    after = replay_on(cpu, out, 4, 100.0, 1.0, mem, 100.0, 3600).cpu_ghz.max()
    assert after < before and set(out.tolist()) == {0, 1, 2, 3}
    # A reference: every move the kernel made lowered the highest peak, so no host exceeds the old one.
    loads = np.stack([cpu[out == h].astype(np.float64).sum(axis=0) for h in range(4)])
    assert loads.max() == pytest.approx(after)


def test_vms_larger_than_a_host_stay_unplaced():
    cpu = np.array([[9.0, 9.0], [1.0, 2.0]], dtype=np.float32)  # 9 GHz > 8 GHz target
    result, _ = validated_solve(workload(cpu, np.ones(2), 3600), capacity(10.0, 0.8, 100.0), 0.5, Budget(0, 60.0))
    np.testing.assert_array_equal(result.assignment, [-1, 0])


def test_frontier_rows_run_from_below_the_bound_to_no_overload():
    cpu = np.full((4, 24), 5.0, dtype=np.float32)
    cpu[0, 3] = 9.0  # one VM alone exceeds the target: left out
    rows = risk_frontier(workload(cpu, np.ones(4), 3600), capacity(10.0, 0.8, 100.0), 3)
    predicted = {"over_target_pct_predicted_low", "over_target_pct_predicted_high"}
    assert [set(r) for r in rows] == [{"hosts", *FRONTIER_KEYS, *predicted}] * len(rows)
    for r in rows:  # the latest fold is one of the folds whose range is the prediction
        assert r["over_target_pct_predicted_low"] <= r["over_target_pct_validated"] <= r["over_target_pct_predicted_high"]
    assert [r["hosts"] for r in rows] == [2, 3]  # from ceil(15 GHz / 8) up to the bound, 3
    assert rows[0]["over_target_pct_in_sample"] == pytest.approx(50.0)
    assert rows[-1]["over_target_pct_validated"] <= FRONTIER_ZERO_PCT


# --- through plan() and the command line ---------------------------------------------------------

def busy_estate(servers=10, days=3, seed=2):
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    daily = 40 + 30 * np.sin(2 * np.pi * (hours % 24) / 24)
    return np.clip(daily + rng.normal(0, 12, (servers, hours.size)), 0, 100).round(2)


def test_default_sizing_is_validated(tmp_path):
    assert by_name(PLAN)["sizing"].default == VALIDATED
    p = plain_plan(read(tmp_path, busy_estate(days=5)))
    s = p.summary
    assert s["assumptions"]["sizing"] == VALIDATED and s["solver"]["status"] in ("optimal", "feasible")
    assert s["validation"]["hosts"] == s["hosts_after"] >= s["validation"]["envelope_hosts"]
    assert s["assumptions"]["risk_pct"] == 0.5 and "skipped" not in s["validation"]
    assert s["over_target_pct"] == 0.0


def test_holdout_reports_in_sample_and_out_of_sample(tmp_path):
    traces = read(tmp_path, busy_estate())
    p = plain_plan(traces, holdout="1d", sizing="p95")
    s = p.summary
    assert p.traces.n_steps == 48
    test = traces.steps(48, 72)
    demand = (test.cpu_pct / 100 * 4 * 2.5).astype(np.float32)
    rep = replay_on(demand, p.assignment, p.hosts_after, 20.0, 0.8, np.full(10, 8.0), 60.8, 3600)
    assert s["over_target_pct_out_of_sample"] == pytest.approx(rep.over_target_pct())
    assert s["over_capacity_pct_out_of_sample"] == pytest.approx(rep.over_capacity_pct())
    assert s["over_target_pct_in_sample"] == s["over_target_pct"]
    assert s["holdout"]["test"]["days"] == 1.0 and s["holdout"]["train"]["days"] == 2.0
    assert s["holdout"]["out_of_sample"]["hosts"] == p.hosts_after


def test_cli_holdout_frontier_and_errors(tmp_path, capsys):
    traces, inventory = write_estate(tmp_path, busy_estate())
    args = ["plan", traces, "--inventory", inventory, "--hypervisor", "none", "--smt-gain", "0", "--host-spec", HOST]
    assert main([str(a) for a in args + ["--holdout", "1d", "--frontier", "--risk", "1%", "--json", "--out", tmp_path / "a"]]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["validation"]["risk_pct"] == 1.0
    assert "over_target_pct_out_of_sample" in s and s["frontier"]
    assert all(set(r) >= {"hosts", *FRONTIER_KEYS, "over_target_pct_predicted_high"} for r in s["frontier"])
    assert s["hosts_after"] in [r["hosts"] for r in s["frontier"]]
    saved = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert saved["frontier"] == s["frontier"]
    assert main([str(a) for a in args + ["--sizing", "p95", "--frontier", "--quiet", "--out", tmp_path / "b"]]) == 0
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["frontier"]
    for bad in (["--holdout", "5d"], ["--holdout", "soon"], ["--risk", "150"], ["--train-until", "never"]):
        assert main([str(a) for a in args + bad + ["--out", tmp_path / "c"]]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error" in err
    assert not (tmp_path / "c").exists()
