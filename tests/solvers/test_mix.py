"""Heterogeneous targets: model mixes by objective, per-host capacities and per-model energy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.errors import InputError
from consolidate.models.constants import HOURS_PER_YEAR
from consolidate.solvers.mix import (
    OBJECTIVES,
    HostOption,
    energy_kwh_per_year,
    solve_mix,
)

FLAT = tuple(np.linspace(100.0, 300.0, 11))


def option(name, cpu, mem, price=1000.0, curve=FLAT, full=None):
    return HostOption(name, cpu, mem, cpu if full is None else full, price, tuple(curve))


def test_mixed_plan_energy_equals_a_hand_computation():
    # Two hosts of different models at constant loads: 25 % of a 40 GHz host (curve 100..300 W,
    # straight: 150 W) and 55 % of a 20 GHz host (curve 50, 60, ..., 150 W: 105 W).
    big = option("big", 32.0, 256.0, full=40.0)
    small = option("small", 16.0, 128.0, curve=np.arange(50.0, 151.0, 10.0), full=20.0)
    load = np.array([[10.0] * 12, [11.0] * 12])
    kwh = energy_kwh_per_year(load, np.array([0, 1]), [big, small], 300)
    hours = float(HOURS_PER_YEAR.value)
    assert kwh == pytest.approx((150.0 + 105.0) * hours / 1000.0, rel=1e-6)


def _four_vms():
    return np.full((4, 6), 10.0, dtype=np.float32), np.full(4, 10.0)


def test_objective_picks_the_mix():
    cpu, mem = _four_vms()
    big = option("big", 41.0, 100.0, price=10_000.0, curve=[500.0] * 11)
    small = option("small", 21.0, 100.0, price=1_000.0, curve=[50.0] * 11)
    assert solve_mix(cpu, mem, [big, small], objective="hosts").counts([big, small]) == {"big": 1}
    cost = solve_mix(cpu, mem, [big, small], objective="cost")
    assert cost.counts([big, small]) == {"small": 2} and cost.value == 2_000.0
    energy = solve_mix(cpu, mem, [big, small], objective="energy")
    assert energy.counts([big, small]) == {"small": 2}
    assert energy.value == pytest.approx(2 * 50.0 * float(HOURS_PER_YEAR.value) / 1000.0)


def test_a_vm_only_the_big_model_holds_keeps_the_big_model_in_the_mix():
    cpu, mem = _four_vms()
    cpu[0] = 30.0
    big = option("big", 40.0, 100.0, price=10_000.0)  # VM 0 (30 GHz) and another 10 GHz exceed it
    small = option("small", 21.0, 100.0, price=1_000.0)
    result = solve_mix(cpu, mem, [big, small], objective="cost")
    assert (result.assignment >= 0).all()
    assert result.host_model[result.assignment[0]] == 0
    assert result.counts([big, small]) == {"big": 1, "small": 2}  # the other VMs went to cheaper hosts


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(OBJECTIVES))
def test_every_host_holds_within_its_own_model(seed, objective):
    rng = np.random.default_rng(seed)
    n, steps = int(rng.integers(5, 30)), int(rng.integers(1, 8))
    cpu = rng.uniform(0, 15, (n, steps)).astype(np.float32)
    mem = rng.uniform(1, 60, n)
    options = [option("a", 40.0, 128.0, price=5000.0), option("b", 18.0, 96.0, price=1500.0), option("c", 64.0, 192.0, price=9000.0)]
    result = solve_mix(cpu, mem, options, objective=objective, time_limit_s=10)
    assert (result.assignment >= 0).all()
    load = np.zeros((result.n_hosts, steps))
    np.add.at(load, result.assignment, cpu.astype(np.float64))
    mem_load = np.bincount(result.assignment, weights=mem, minlength=result.n_hosts)
    caps = np.array([[options[m].cpu_cap_ghz, options[m].mem_cap_gb] for m in result.host_model])
    assert (load.max(axis=1) <= caps[:, 0]).all() and (mem_load <= caps[:, 1]).all()
    assert result.n_hosts >= result.lower_bound
    assert np.all(np.diff(result.host_model) >= 0)  # hosts listed model by model
    best = min(row[objective] for row in result.candidates)
    assert result.value == best


def test_bad_objective_and_unpriced_models_are_input_errors():
    cpu, mem = _four_vms()
    with pytest.raises(InputError, match="--objective"):
        solve_mix(cpu, mem, [option("a", 40.0, 100.0)], objective="speed")
    with pytest.raises(InputError, match="no price"):
        solve_mix(cpu, mem, [option("a", 40.0, 100.0, price=float("nan"))], objective="cost")


# --- the mix end to end: `consolidate plan --host A,B --objective ...` ----------------------------

DELL, HPE = "dell-r6515", "hpe-dl380-gen10plus"
PLAIN_MIX = ["--hypervisor", "none", "--smt-gain", "0", "--pue", "1", "--time-limit", "10"]


def _mixed_estate(folder):
    """One 600 GB server only the HPE model holds (a Dell offers 512 x 0.9 = 460.8 GB) and six
    200 GB servers: the cheapest plan is 1 HPE + 3 Dell (61,000 USD) against 3 HPE (84,000 USD).
    Constant loads, threads = cores and perf 1: demand is cpu_pct/100 x cores x ghz exactly."""
    import pandas as pd

    inv = pd.DataFrame({
        "server_id": [f"s{i}" for i in range(7)],
        "cores": [64] + [8] * 6, "threads": [64] + [8] * 6, "ghz": [1.0] + [2.5] * 6,
        "ram_gb": [600.0] + [200.0] * 6, "perf": 1.0,
    })
    pct = [50.0, 40.0, 60.0, 30.0, 70.0, 20.0, 80.0]
    stamps = pd.date_range("2024-01-01", periods=288, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    traces = pd.DataFrame({
        "timestamp": np.tile(stamps, 7), "server_id": np.repeat(inv["server_id"], 288), "cpu_pct": np.repeat(pct, 288),
    })
    traces.to_csv(folder / "traces.csv", index=False)
    inv.to_csv(folder / "inventory.csv", index=False)
    return folder / "traces.csv", folder / "inventory.csv"


@pytest.fixture(scope="module")
def mixed_plan(tmp_path_factory):
    """The mixed estate planned once through the CLI with --objective cost: (traces, inventory, plan folder)."""
    from consolidate.cli import main

    folder = tmp_path_factory.mktemp("mix")
    traces, inventory = _mixed_estate(folder)
    out = folder / "plan"
    code = main(["plan", str(traces), "--inventory", str(inventory), "--host", f"{DELL},{HPE}", "--objective", "cost",
                 *PLAIN_MIX, "--out", str(out), "--quiet"])
    assert code == 0
    return traces, inventory, out


def test_a_mixed_plan_names_each_hosts_model_and_holds_in_an_independent_replay(mixed_plan):
    import json

    import pandas as pd

    from consolidate.models.catalog import get_host

    traces, inventory, out = mixed_plan
    placement = pd.read_csv(out / "placement.csv", keep_default_na=False)
    hosts = pd.read_csv(out / "hosts.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(hosts["host_model"]) == [DELL] * 3 + [HPE]
    model_of = hosts.set_index("host_id")["host_model"]
    assert (placement["host_model"] == placement["host_id"].map(model_of)).all()
    assert placement.loc[placement["server_id"] == "s0", "host_model"].item() == HPE
    # Every host within its own model's capacity (catalogue figures, DESIGN.md reduction), float64 from the raw files.
    raw = pd.read_csv(traces)
    inv = pd.read_csv(inventory).set_index("server_id")
    raw["ghz"] = raw["cpu_pct"] / 100 * raw["server_id"].map(inv["cores"] * inv["ghz"])
    raw["host"] = raw["server_id"].map(placement.set_index("server_id")["host_id"])
    peak = raw.groupby(["host", "timestamp"])["ghz"].sum().groupby(level=0).max()
    mem = placement.groupby("host_id")["server_id"].apply(lambda ids: inv.loc[ids, "ram_gb"].sum())
    models = {name: get_host(name) for name in (DELL, HPE)}
    full = {n: m.cores * m.ghz * m.perf for n, m in models.items()}
    for host_id, name in model_of.items():
        assert peak[host_id] <= full[name] * 0.8 * (1 + 1e-9)
        assert mem[host_id] <= models[name].ram_gb * 0.9 * (1 + 1e-9)
    np.testing.assert_allclose(hosts["cpu_capacity_ghz"], hosts["host_model"].map(full), rtol=1e-4)
    # Energy after: each host on its own model's curve at its constant load (PUE 1).
    hours = float(HOURS_PER_YEAR.value)
    watts = [np.interp(peak[h] / full[n], np.linspace(0, 1, 11), models[n].power_curve_w) for h, n in model_of.items()]
    assert summary["energy_kwh_per_year_after"] == pytest.approx(sum(watts) * hours / 1000.0, rel=1e-5)
    # Capital cost: each host at its model's catalogue price.
    assert summary["business_case"]["capital_cost"] == 3 * models[DELL].price_usd + models[HPE].price_usd == 61_000.0
    a = summary["assumptions"]
    assert a["host_models"] == [DELL, HPE] and a["objective"] == "cost"
    assert a["hosts_by_model"] == {DELL: 3, HPE: 1} and a["host_mix"] == f"3 x {DELL} + 1 x {HPE}"
    assert summary["estate"]["rack_units_after"] == 3 * models[DELL].rack_units + models[HPE].rack_units
    assert "several host models" in summary["validation"]["skipped"]
    assert summary["over_capacity_pct"] == 0.0 and summary["over_target_pct"] == 0.0
    html = (out / "report.html").read_text()
    assert f"3 x {DELL} + 1 x {HPE}" in html


def test_the_summary_and_the_notebook_view_show_the_mix(mixed_plan, capsys, monkeypatch):
    import json

    from consolidate.report.html import plan_summary_html
    from consolidate.report.plandata import read_plan_dir
    from consolidate.report.summary import print_summary

    _, _, out = mixed_plan
    summary = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps table cells at the console width
    print_summary(summary, out)
    printed = " ".join(capsys.readouterr().out.split())
    assert "host mix (--objective cost)" in printed and f"3 x {DELL} + 1 x {HPE}" in printed
    assert f"4 hosts (3 x {DELL} + 1 x {HPE})" in plan_summary_html(read_plan_dir(out))


def test_simulate_replays_a_mixed_placement_on_each_hosts_model(mixed_plan, capsys):
    import json

    from consolidate.cli import main

    traces, inventory, out = mixed_plan
    capsys.readouterr()
    assert main(["simulate", str(traces), "--inventory", str(inventory), "--placement", str(out / "placement.csv"),
                 "--hypervisor", "none", "--smt-gain", "0", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    summary = json.loads((out / "summary.json").read_text())
    assert figures["host_model"] == f"3 x {DELL} + 1 x {HPE}" or figures["host_model"] == f"1 x {HPE} + 3 x {DELL}"
    assert figures["hosts"] == 4
    assert figures["cpu_util_peak_pct"] == pytest.approx(summary["cpu_util_peak_after_pct"], rel=1e-5)
    assert figures["mem_planned_max_pct"] == pytest.approx(summary["replay"]["mem_planned_max_pct"], rel=1e-6)


def test_xen_runbook_of_a_mixed_plan_gives_each_host_its_models_ram_and_dom0(mixed_plan, tmp_path):
    import pandas as pd

    from consolidate.cli import main
    from consolidate.models.catalog import get_host
    from consolidate.models.hypervisor import xen_dom0_gb

    _, _, out = mixed_plan
    assert main(["export", str(out), "--format", "xen", "--out", str(tmp_path / "xen"), "--quiet"]) == 0
    runbook = (tmp_path / "xen" / "RUNBOOK.md").read_text()
    hosts = pd.read_csv(out / "hosts.csv")
    for row in hosts.itertuples():
        ram_gb = get_host(row.host_model).ram_gb
        dom0_mib = round(xen_dom0_gb(ram_gb) * 1024)
        line = next(l for l in runbook.splitlines() if l.startswith(f"| {row.host_id} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == row.host_model
        assert cells[-2:] == [f"{dom0_mib:,}", f"{round(ram_gb * 1024):,}"]
    for model in set(hosts["host_model"]):
        assert f"# on the {model} hosts" in runbook


def test_mix_option_errors_are_one_line_and_come_before_the_traces_are_read(tmp_path, capsys):
    from consolidate.cli import main

    missing = tmp_path / "no-such-traces.csv"  # never read: the option error comes first
    for args, words in (
        (["--host", f"{DELL},dell-r6516"], "did you mean"),
        (["--host", f"{DELL},,{HPE}"], "empty name"),
        (["--host", f"{DELL},{DELL}"], "names a model twice"),
        (["--host", f"{DELL},{HPE}", "--n-plus-1"], "single --host"),
        (["--host", f"{DELL},{HPE}", "--frontier"], "--frontier"),
        (["--sizing", "p101"], "p101"),
        (["--risk", "150"], "--risk"),
    ):
        assert main(["plan", str(missing), *args, "--out", str(tmp_path / "x")]) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("consolidate: error:") and words in err, (args, err)
        assert "no-such-traces" not in err
