"""`consolidate simulate` against a replay made from the raw files alone, on a placement that overloads."""

import json

import numpy as np
import pandas as pd
import pytest

from consolidate.cli import main

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow

CORES, GHZ, TARGET = 8, 2.5, 0.8
PLAIN = ["--hypervisor", "none", "--smt-gain", "0", "--cpu-target", str(TARGET), "--mem-target", "0.95",
         "--host-spec", f"cores={CORES},ghz={GHZ},ram_gb=64,idle_w=100,max_w=300"]


def run(*args):
    return main([str(a) for a in args])


def write_estate(folder, servers=12, steps=288, seed=4):
    """Busy servers (30-90 % of 4 cores at 3 GHz) on a 5-minute grid, an inventory and a placement
    that puts them all on two 8-core hosts (heavily overloaded) and leaves one unplaced."""
    rng = np.random.default_rng(seed)
    ids = [f"s{i:02d}" for i in range(servers)]
    times = pd.date_range("2024-03-01", periods=steps, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    cpu = np.round(rng.uniform(30, 90, (servers, steps)), 2)
    mem = np.round(rng.uniform(2, 8, (servers, steps)), 2)
    traces = pd.DataFrame({
        "timestamp": np.tile(times, servers), "server_id": np.repeat(ids, steps),
        "cpu_pct": cpu.ravel(), "mem_gb": mem.ravel(),
    })
    traces.to_csv(folder / "traces.csv", index=False)
    pd.DataFrame({"server_id": ids, "cores": 4, "threads": 4, "ghz": 3.0, "ram_gb": 16}).to_csv(folder / "inventory.csv", index=False)
    hosts = ["h-a" if i % 2 else "h-b" for i in range(servers)]
    hosts[-1] = ""
    pd.DataFrame({"server_id": ids, "host_id": hosts}).to_csv(folder / "placement.csv", index=False)


def independent_replay(folder):
    """Over-target and over-capacity shares (%) and unmet GHz·h, from the raw CSV files only."""
    raw = pd.read_csv(folder / "traces.csv")
    inv = pd.read_csv(folder / "inventory.csv").set_index("server_id")
    placement = pd.read_csv(folder / "placement.csv", keep_default_na=False).set_index("server_id")["host_id"]
    raw["ghz"] = raw["cpu_pct"] / 100 * raw["server_id"].map(inv["cores"] * inv["ghz"])
    raw["host"] = raw["server_id"].map(placement)
    load = raw[raw["host"] != ""].groupby(["host", "timestamp"])["ghz"].sum()
    capacity = CORES * GHZ
    return {
        "over_target_pct": 100 * (load > TARGET * capacity).mean(),
        "over_capacity_pct": 100 * (load > capacity).mean(),
        "unmet_cpu_ghz_h": (load - capacity).clip(lower=0).sum() * 300 / 3600,
        "hosts": load.index.get_level_values("host").nunique(),
    }


def test_simulate_agrees_with_an_independent_replay_on_an_overloaded_placement(tmp_path, capsys):
    write_estate(tmp_path)
    args = [tmp_path / "traces.csv", "--inventory", tmp_path / "inventory.csv", *PLAIN, "--placement", tmp_path / "placement.csv"]
    assert run("simulate", *args, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    want = independent_replay(tmp_path)
    assert want["over_capacity_pct"] > 50  # the placement does overload heavily
    for key in ("over_target_pct", "over_capacity_pct", "unmet_cpu_ghz_h"):
        assert got[key] == pytest.approx(want[key], rel=0.10), key
        assert got[key] == pytest.approx(want[key], rel=1e-6), key  # and in fact exactly
    assert got["hosts"] == want["hosts"] == 2 and got["placed"] == 11 and got["servers"] == 12
    assert got["worst_host"] in ("h-a", "h-b")
    # 5 and 6 VMs x 16 GB planned on 64 x 0.95 = 60.8 GB: over-committed; in use 2-8 GB each is not.
    assert got["hosts_over_memory"] == ["h-a", "h-b"]
    assert got["mem_planned_max_pct"] == pytest.approx(100 * 6 * 16 / 60.8)
    assert 0 < got["mem_used_peak_pct"] < 100 and got["over_memory_pct"] == 0.0
    for key in ("cpu_util_p50_pct", "cpu_util_p95_pct", "cpu_util_p99_pct"):
        assert got[key] > 0


def test_simulate_prints_a_table_without_json(tmp_path, capsys):
    write_estate(tmp_path, servers=4, steps=12)
    assert run("simulate", tmp_path / "traces.csv", "--inventory", tmp_path / "inventory.csv", *PLAIN,
               "--placement", tmp_path / "placement.csv") == 0
    out = capsys.readouterr().out
    assert "over_target_pct" in out and "over_capacity_pct" in out and "worst_host" in out
