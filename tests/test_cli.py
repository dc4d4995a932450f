"""End-to-end: the `consolidate` command on the bundled samples, and every user error."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from consolidate.cli import main

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow

# A host with no SMT and no hypervisor: demand and capacity reduce to cpu_pct/100 x cores x ghz
# (x perf, which the sample inventory states) and cores x ghz x cpu_target (DESIGN.md), so the
# plan can be checked from the raw files.
PLAIN = ["--hypervisor", "none", "--smt-gain", "0", "--host-spec", "cores=64,ghz=2.5,ram_gb=512,idle_w=100,max_w=400"]


def run(*args):
    return main([str(a) for a in args])


def independent_replay(traces_csv, inventory_csv, placement_csv, cpu_target, mem_target):
    """Host CPU load (GHz) per 5-minute interval and planned memory, from the raw files only."""
    raw = pd.read_csv(traces_csv)
    inv = pd.read_csv(inventory_csv).set_index("server_id")
    placement = pd.read_csv(placement_csv, keep_default_na=False)
    scale = inv["cores"] * inv["ghz"] * (inv["perf"] if "perf" in inv else 1.0)
    raw["ghz"] = raw["cpu_pct"].clip(0, 100) / 100 * raw["server_id"].map(scale)
    raw["host"] = raw["server_id"].map(placement.set_index("server_id")["host_id"])
    cpu = raw.groupby(["host", "timestamp"])["ghz"].sum()
    mem = placement.groupby("host_id")["server_id"].apply(lambda ids: inv.loc[ids, "ram_gb"].sum())
    return cpu, mem


def test_plan_on_the_sample_is_feasible_when_replayed_independently(samples_dir, tmp_path, capsys):
    traces, inventory = samples_dir / "traces.csv", tmp_path / "inventory.csv"
    inv = pd.read_csv(samples_dir / "inventory.csv")
    inv.assign(threads=inv["cores"]).to_csv(inventory, index=False)  # threads = cores: the exact reduction
    assert run("plan", traces, "--inventory", inventory, *PLAIN, "--sizing", "timeseries", "--out", tmp_path, "--quiet") == 0
    assert capsys.readouterr().out == ""
    placement = pd.read_csv(tmp_path / "placement.csv", keep_default_na=False)
    servers = pd.read_csv(inventory)["server_id"]
    assert sorted(placement["server_id"]) == sorted(servers)
    assert (placement["status"].isin(["placed", "retire-candidate"])).all()
    assert (placement["host_id"] != "").all()
    cpu, mem = independent_replay(traces, inventory, tmp_path / "placement.csv", 0.8, 0.95)
    assert cpu.max() <= 64 * 2.5 * 0.8 * (1 + 1e-9)
    hosts = pd.read_csv(tmp_path / "hosts.csv").set_index("host_id")
    replayed_peak_pct = cpu.groupby(level="host").max() / (64 * 2.5) * 100
    np.testing.assert_allclose(hosts.loc[replayed_peak_pct.index, "cpu_replay_peak_pct"], replayed_peak_pct, atol=0.01)
    assert mem.max() <= 512 * 0.9 * (1 + 1e-9)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["hosts_after"] == placement["host_id"].nunique() == len(pd.read_csv(tmp_path / "hosts.csv"))
    assert summary["lower_bound"] <= summary["hosts_after"] < summary["servers"]
    assert summary["over_capacity_pct"] == 0.0


SUMMARY_KEYS = {
    "servers", "hosts_before", "hosts_after", "lower_bound", "solver", "cpu_util_mean_before_pct",
    "cpu_util_mean_after_pct", "over_target_pct", "over_capacity_pct", "energy_kwh_per_year_before",
    "energy_kwh_per_year_after", "cost_per_year_before", "cost_per_year_after", "co2_t_per_year_before",
    "co2_t_per_year_after", "assumptions",
}


def test_plan_json_and_default_host(samples_dir, tmp_path, capsys):
    args = ["plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", tmp_path, "--json"]
    assert run(*args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["assumptions"]["host_model"] == "hpe-dl380-gen10plus"
    assert summary["energy_kwh_per_year_after"] < summary["energy_kwh_per_year_before"]
    hosts = pd.read_csv(tmp_path / "hosts.csv")
    assert {"host_id", "host_model", "cpu_capacity_ghz", "cpu_replay_peak_pct", "cpu_planned_peak_pct"} <= set(hosts.columns)


def test_same_seed_same_plan(samples_dir, tmp_path):
    for name in ("a", "b"):
        assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", *PLAIN, "--seed", 7, "--out", tmp_path / name, "--quiet") == 0
    a = pd.read_csv(tmp_path / "a" / "placement.csv")
    b = pd.read_csv(tmp_path / "b" / "placement.csv")
    pd.testing.assert_frame_equal(a, b)


def test_peak_sizing_needs_at_least_as_many_hosts(samples_dir, tmp_path):
    hosts = {}
    for sizing in ("timeseries", "p95", "peak"):
        out = tmp_path / sizing
        assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", *PLAIN, "--sizing", sizing, "--out", out, "--quiet") == 0
        hosts[sizing] = json.loads((out / "summary.json").read_text())["hosts_after"]
    assert hosts["timeseries"] <= hosts["peak"]


def test_planetlab_folder_plan_and_inspect(samples_dir, tmp_path, capsys):
    folder = samples_dir / "planetlab" / "20110303"
    assert run("inspect", folder, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["servers"] == 20 and report["interval_s"] == 300
    assert run("plan", folder, *PLAIN, "--out", tmp_path, "--quiet") == 0
    placement = pd.read_csv(tmp_path / "placement.csv")
    assert len(placement) == 20


def test_retire_idle_leaves_idle_servers_out(samples_dir, tmp_path):
    assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--retire-idle", "--out", tmp_path, "--quiet") == 0
    placement = pd.read_csv(tmp_path / "placement.csv", keep_default_na=False)
    idle = placement[placement["status"] == "retire-candidate"]
    assert len(idle) > 0 and (idle["host_id"] == "").all()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(summary["retire_candidates"]) == sorted(idle["server_id"])


def test_unplaceable_server_is_named_and_kept(tmp_path, capsys):
    traces = tmp_path / "t.csv"
    traces.write_text("timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,big,90\n2024-01-01T00:00:00Z,small,10\n"
                      "2024-01-01T00:05:00Z,big,95\n2024-01-01T00:05:00Z,small,12\n")
    inventory = tmp_path / "inv.csv"
    inventory.write_text("server_id,cores,threads,ghz,ram_gb\nbig,64,64,3.0,64\nsmall,2,2,2.0,4\n")
    assert run("plan", traces, "--inventory", inventory, *PLAIN, "--out", tmp_path / "out", "--quiet") == 0
    assert "unplaceable: big" in capsys.readouterr().err
    placement = pd.read_csv(tmp_path / "out" / "placement.csv", keep_default_na=False).set_index("server_id")
    assert placement.loc["big", "status"] == "unplaceable" and placement.loc["big", "host_id"] == ""
    assert placement.loc["small", "status"] == "placed"


def test_sample_command_writes_a_plannable_estate(tmp_path, capsys):
    assert run("sample", "--servers", 12, "--days", 2, "--seed", 3, "--out", tmp_path) == 0
    assert (tmp_path / "traces.csv").exists() and (tmp_path / "inventory.csv").exists()
    assert run("plan", tmp_path / "traces.csv", "--inventory", tmp_path / "inventory.csv", "--out", tmp_path / "plan", "--quiet") == 0


def test_simulate_agrees_with_the_plan(samples_dir, tmp_path, capsys):
    args = [samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", *PLAIN]
    assert run("plan", *args, "--out", tmp_path, "--quiet") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert run("simulate", *args, "--placement", tmp_path / "placement.csv", "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["over_target_pct"] == pytest.approx(summary["over_target_pct"])
    assert figures["hosts"] == summary["hosts_after"]


def test_catalog_lists_models(capsys):
    assert run("catalog", "--json") == 0
    models = json.loads(capsys.readouterr().out)
    assert len(models) >= 12


def test_console_script_runs_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "consolidate.cli", "plan", str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "nope.csv" in done.stderr


# --- user errors: one line on stderr, exit status 2, nothing written --------------------------

GOOD = "timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,a,10\n2024-01-01T00:05:00Z,a,12\n"


def _bad_inputs(tmp_path):
    def file(name, content, mode="w"):
        path = tmp_path / name
        if mode == "wb":
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    good = file("good.csv", GOOD)
    return {
        "missing file": ["plan", tmp_path / "missing.csv"],
        "empty file": ["plan", file("empty.csv", "")],
        "binary garbage": ["plan", file("garbage.csv", bytes(range(256)) * 20, "wb")],
        "undetectable format": ["plan", file("odd.csv", "a;b\nx;y\n")],
        "missing column": ["plan", file("nocpu.csv", "timestamp,server_id,mem_gb\n2024-01-01T00:00:00Z,a,3\n"), "--format", "long"],
        "bad timestamp": ["plan", file("ts.csv", "timestamp,server_id,cpu_pct\nyesterday,a,10\n")],
        "non-numeric cpu": ["plan", file("nan.csv", "timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,a,lots\n")],
        "negative inventory": ["plan", good, "--inventory", file("inv.csv", "server_id,cores,threads,ghz,ram_gb\na,-4,4,2.0,8\n")],
        "non-numeric inventory": ["plan", good, "--inventory", file("inv2.csv", "server_id,cores,threads,ghz,ram_gb\na,4,4,fast,8\n")],
        "unknown host": ["plan", good, "--host", "dell-r999"],
        "malformed host spec": ["plan", good, "--host-spec", "cores=lots"],
        "cpu target above 1": ["plan", good, "--cpu-target", "1.5"],
        "mem target zero": ["plan", good, "--mem-target", "0"],
        "unknown format": ["plan", good, "--format", "excel"],
        "unknown sizing": ["plan", good, "--sizing", "p200"],
        "bad columns": ["plan", good, "--columns", "timestamp"],
        "unknown timezone": ["plan", good, "--timezone", "Mars/Olympus"],
        "placement of other servers": ["simulate", good, "--placement", file("pl.csv", "server_id,host_id\nzz,host-1\n")],
        "inspect missing": ["inspect", tmp_path / "missing"],
    }


@pytest.mark.parametrize("case", [
    "missing file", "empty file", "binary garbage", "undetectable format", "missing column", "bad timestamp",
    "non-numeric cpu", "negative inventory", "non-numeric inventory", "unknown host", "malformed host spec",
    "cpu target above 1", "mem target zero", "unknown format", "unknown sizing", "bad columns",
    "unknown timezone", "placement of other servers", "inspect missing",
])
def test_user_error_is_one_line_and_exit_2(case, tmp_path, capsys):
    args = _bad_inputs(tmp_path)[case]
    out = tmp_path / "plan-out"
    code = run(*args, *(["--out", out] if args[0] == "plan" else []))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("consolidate: error:"), err
    assert not out.exists() or not any(out.iterdir())


def test_unknown_host_suggests_a_close_name(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert run("plan", good, "--host", "dell-r74", "--out", tmp_path / "o") == 2
    assert "dell-r740" in capsys.readouterr().err


@pytest.mark.parametrize("args, names", [
    (["plan", "x.csv", "--cpu-target", "high"], "--cpu-target"),
    (["plan", "x.csv", "--hypervisor", "vbox"], "--hypervisor"),
    (["plan", "x.csv", "--no-such-flag"], "--no-such-flag"),
    (["plan"], "TRACES"),
    (["frobnicate"], "frobnicate"),
    (["export", "plan-out", "--format", "pdf"], "--format"),
])
def test_argparse_errors_are_one_line_and_exit_2(capsys, args, names):
    assert run(*args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("consolidate: error:") and names in err and "usage:" not in err


def test_checked_values_name_the_flag_before_the_traces_are_read(capsys, tmp_path):
    for args, start in ((["--cpu-target", "1.5"], "--cpu-target 1.5"), (["--holdout", "7x"], "--holdout '7x'"),
                        (["--discount-rate", "8"], "--discount-rate 8.0"), (["--time-limit", "nan"], "--time-limit nan")):
        assert run("plan", tmp_path / "missing.csv", *args, "--out", tmp_path / "out") == 2
        err = capsys.readouterr().err
        assert err.startswith(f"consolidate: error: {start}") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_plan_takes_settings_or_their_options_not_both(samples_dir):
    import consolidate

    traces = consolidate.read_traces(samples_dir / "planetlab" / "20110303")
    settings = consolidate.make_settings(sizing="timeseries", hypervisor="none", smt_gain=0.0)
    assert consolidate.plan(traces, settings).settings is settings
    with pytest.raises(TypeError, match="not both"):
        consolidate.plan(traces, settings, sizing="peak")
