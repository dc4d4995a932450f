"""Estates of several sites: the split, each site planned alone, the estate's sums, a real LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.planner import plan
from consolidate.report.business import BusinessInputs
from consolidate.report.outputs import write_plan_data
from consolidate.report.plandata import from_plan, read_plan_dir
from consolidate.samples import write_sample
from consolidate.settings import make_settings
from consolidate.sites import find_sites, plan_estate

SITES = ("ams", "fra", "lon")
#: What differs between two runs of one plan: the solver's clock.
TIMINGS = ("time_s", "compile_s")
#: A quick plan: the small estate's search is short either way.
OPTIONS = {"time_limit_s": 5}


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> tuple[Path, Path]:
    """A 24-server, 2-day estate; the inventory gives each server one of three sites."""
    folder = tmp_path_factory.mktemp("estate")
    traces, inventory = write_sample(folder, servers=24, days=2, seed=3)
    table = pd.read_csv(inventory)
    table["Site"] = [SITES[i % 3] for i in range(len(table))]
    table.to_csv(inventory, index=False)
    return traces, inventory


def _alone(traces, inventory, site: str, out: Path) -> Path:
    """One site planned in-process without the estate code: its servers read, planned, written."""
    table = pd.read_csv(inventory)
    ids = table.loc[table["Site"] == site, "server_id"].astype(str).tolist()
    site_traces = read_traces(traces, inventory=table[table["Site"] == site].drop(columns="Site"), servers=ids)
    result = plan(site_traces, make_settings(**OPTIONS))
    return write_plan_data(from_plan(result, BusinessInputs(), name=site), out)


def _summary_without_timings(path: Path) -> dict:
    summary = json.loads(path.read_text())
    for key in TIMINGS:
        summary["solver"].pop(key)
    if summary["solver"].get("lp_bound"):
        summary["solver"]["lp_bound"].pop("seconds")
    return summary


def _same_plan_folder(a: Path, b: Path) -> None:
    for name in ("placement.csv", "hosts.csv", "replay.parquet", "report.html"):
        if name == "report.html":
            continue  # draws the solver's time
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _summary_without_timings(a / "summary.json") == _summary_without_timings(b / "summary.json")


def test_the_inventory_column_splits_the_estate(estate):
    traces, inventory = estate
    split = find_sites(traces, "site", inventory=inventory)  # the column is "Site": names match ignoring case
    assert [s.name for s in split.sites] == list(SITES)
    assert split.source == "inventory"
    table = pd.read_csv(inventory)
    for site in split.sites:
        assert set(site.servers) == set(table.loc[table["Site"] == site.name, "server_id"])
        assert site.traces == str(traces)


def test_an_estate_without_the_column_is_one_clear_error(estate):
    traces, inventory = estate
    with pytest.raises(InputError, match="no 'datacenter' column"):
        find_sites(traces, "datacenter", inventory=inventory)


def test_a_server_without_a_site_is_named(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    table.loc[4, "Site"] = ""
    table.to_csv(tmp_path / "inv.csv", index=False)
    with pytest.raises(InputError, match=f"server '{table.loc[4, 'server_id']}' has no 'Site'"):
        find_sites(traces, "site", inventory=tmp_path / "inv.csv")


def test_a_site_name_that_cannot_be_a_folder_is_refused(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    table.loc[0, "Site"] = "../up"
    table.to_csv(tmp_path / "inv.csv", index=False)
    with pytest.raises(InputError, match="cannot name a folder"):
        find_sites(traces, "site", inventory=tmp_path / "inv.csv")


def test_a_folder_of_per_site_files_splits_by_file(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    samples = pd.read_csv(traces)
    for site in SITES:
        ids = set(table.loc[table["Site"] == site, "server_id"])
        samples[samples["server_id"].isin(ids)].to_csv(tmp_path / f"{site}.csv", index=False)
    split = find_sites(tmp_path, "site")
    assert [(s.name, Path(s.traces).name, s.servers) for s in split.sites] == [(s, f"{s}.csv", None) for s in SITES]


def test_hive_partition_folders_are_the_sites(tmp_path):
    for site in ("ams", "new york"):
        (tmp_path / f"site={site.replace(' ', '%20')}").mkdir()
    (tmp_path / "_SUCCESS").write_text("")
    split = find_sites(tmp_path, "site")
    assert [s.name for s in split.sites] == ["ams", "new york"]
    assert all(Path(s.traces).parent == tmp_path for s in split.sites)


def test_a_folder_that_is_not_one_of_sites_is_refused(tmp_path):
    (tmp_path / "srv-1.txt").write_text("1\n2\n")
    with pytest.raises(InputError, match="is not a folder of sites"):
        find_sites(tmp_path, "site")


@pytest.mark.slow
def test_each_site_is_planned_as_if_alone_and_the_estate_sums_them(estate, tmp_path):
    traces, inventory = estate
    out = tmp_path / "estate"
    planned = plan_estate(traces, "site", settings=make_settings(**OPTIONS), out_dir=out, inventory=inventory)
    assert not planned.failed
    for site in SITES:
        _same_plan_folder(out / "sites" / site, _alone(traces, inventory, site, tmp_path / f"alone-{site}"))
    summary = json.loads((out / "summary.json").read_text())
    sites = summary["sites"]
    assert set(sites) == set(SITES)
    for key in ("servers", "hosts_before", "hosts_after", "lower_bound"):
        assert summary[key] == sum(s[key] for s in sites.values())
    for key in ("energy_kwh_per_year_after", "cost_per_year_before", "co2_t_per_year_after"):
        assert summary[key] == pytest.approx(sum(s[key] for s in sites.values()))
    assert summary["business_case"]["yearly_saving"] == pytest.approx(
        sum(s["business_case"]["yearly_saving"] for s in sites.values()))
    intervals = np.array([s["replay"]["host_intervals"] for s in sites.values()])
    over = np.array([s["replay"]["over_target_pct"] for s in sites.values()])
    assert summary["over_target_pct"] == pytest.approx((over * intervals).sum() / intervals.sum())
    assert summary["n_plus_1_holds"] == all(s["failover"]["n_plus_1_holds"] for s in sites.values())
    # every site has the same window: the servers' mean is the sites' means weighted by servers
    servers = np.array([s["servers"] for s in sites.values()])
    before = np.array([s["cpu_util_mean_before_pct"] for s in sites.values()])
    assert summary["cpu_util_mean_before_pct"] == pytest.approx((before * servers).sum() / servers.sum())

    placement = pd.read_csv(out / "placement.csv", dtype={"server_id": str})
    assert list(placement.columns[:2]) == ["site", "server_id"]
    table = pd.read_csv(inventory)
    assert sorted(placement["server_id"]) == sorted(table["server_id"])  # every server once
    assert dict(zip(placement["server_id"], placement["site"])) == dict(zip(table["server_id"], table["Site"]))
    for site in SITES:
        alone = pd.read_csv(out / "sites" / site / "placement.csv", dtype={"server_id": str})
        rows = placement[placement["site"] == site].drop(columns="site").reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, alone, check_dtype=False)
    assert "sites/ams/report.html" in (out / "report.html").read_text()


@pytest.mark.slow
def test_a_local_cluster_gives_the_in_process_plans_byte_for_byte(estate, tmp_path, capsys):
    traces, inventory = estate
    common = [str(traces), "--inventory", str(inventory), "--by", "site", "--time-limit", "5"]
    assert main(["plan", *common, "--out", str(tmp_path / "here"), "--quiet"]) == 0
    assert main(["plan", *common, "--out", str(tmp_path / "cluster"), "--cluster", "local:2"]) == 0
    captured = capsys.readouterr()
    for site in SITES:
        assert f"site {site}: done" in captured.err
        _same_plan_folder(tmp_path / "here" / "sites" / site, tmp_path / "cluster" / "sites" / site)
    assert (tmp_path / "here" / "placement.csv").read_bytes() == (tmp_path / "cluster" / "placement.csv").read_bytes()
    assert "Estate by site: 3 of 3 sites planned" in captured.out


@pytest.mark.slow
def test_a_failed_site_keeps_the_others_and_the_exit_status_says_it(estate, tmp_path, capsys):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    extra = table.iloc[:2].assign(server_id=["ghost-1", "ghost-2"], Site="osl")
    pd.concat([table, extra]).to_csv(tmp_path / "inv.csv", index=False)
    code = main(["plan", str(traces), "--inventory", str(tmp_path / "inv.csv"), "--by", "site", "--time-limit", "5",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "site osl: failed: " in err and "holds none of the 2 servers asked for" in err
    assert err.strip().splitlines()[-1].startswith("consolidate: error: 1 of 4 sites failed (osl)")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["servers_without_site"] == 0
    assert summary["estate"]["complete"] is False
    assert summary["failed"][0]["site"] == "osl"
    assert summary["servers"] == len(table)
    assert any(c.startswith("site osl failed") for c in summary["caveats"])
    assert sorted(p.name for p in (tmp_path / "out" / "sites").iterdir()) == list(SITES)


def test_a_rule_spanning_two_sites_is_one_error_before_anything_is_written(estate, tmp_path, capsys):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    a, b = table.loc[table["Site"] == "ams", "server_id"].iloc[0], table.loc[table["Site"] == "fra", "server_id"].iloc[0]
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"anti_affinity:\n  - name: web\n    servers: [{a}, {b}]\n")
    code = main(["plan", str(traces), "--inventory", str(inventory), "--by", "site", "--constraints", str(rules),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "spans sites 'ams', 'fra'" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--cluster", "local:2"], "--cluster plans the sites of an estate: give --by"),
    (["--by", "site", "--cluster", "local:0"], "is not a cluster"),
    (["--by", " "], "is empty"),
])
def test_estate_options_are_checked(estate, tmp_path, capsys, args, message):
    traces, inventory = estate
    code = main(["plan", str(traces), "--inventory", str(inventory), "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_report_on_an_estate_folder_names_the_sites_folders(estate, tmp_path):
    traces, inventory = estate
    plan_estate(traces, "site", settings=make_settings(**OPTIONS), out_dir=tmp_path, inventory=inventory)
    with pytest.raises(InputError, match="an estate of 3 sites.*sites/ams"):
        read_plan_dir(tmp_path)
    assert read_plan_dir(tmp_path / "sites" / "ams").summary["servers"] == 8


@pytest.mark.slow
def test_a_site_of_an_earlier_run_that_is_not_planned_now_is_removed(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    table.assign(Site=np.where(table["Site"] == "lon", "osl", table["Site"])).to_csv(tmp_path / "inv.csv", index=False)
    settings = make_settings(**OPTIONS)
    plan_estate(traces, "site", settings=settings, out_dir=tmp_path / "out", inventory=tmp_path / "inv.csv")
    assert (tmp_path / "out" / "sites" / "osl" / "summary.json").is_file()
    (tmp_path / "out" / "sites" / "mine").mkdir()  # not a plan: never removed
    plan_estate(traces, "site", settings=settings, out_dir=tmp_path / "out", inventory=inventory)
    assert sorted(p.name for p in (tmp_path / "out" / "sites").iterdir()) == sorted([*SITES, "mine"])


@pytest.mark.slow
def test_a_running_scheduler_is_used_by_its_address(estate, tmp_path, capsys):
    from distributed import LocalCluster

    traces, inventory = estate
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        code = main(["plan", str(traces), "--inventory", str(inventory), "--by", "site", "--time-limit", "5",
                     "--out", str(tmp_path / "out"), "--cluster", cluster.scheduler_address, "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["estate"]["complete"] and set(summary["sites"]) == set(SITES)


def test_an_address_where_no_scheduler_runs_is_one_clear_error(estate, tmp_path, capsys):
    traces, inventory = estate
    code = main(["plan", str(traces), "--inventory", str(inventory), "--by", "site", "--out", str(tmp_path / "out"),
                 "--cluster", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot reach the cluster" in err[0]
    assert not (tmp_path / "out").exists()


def test_an_inventory_that_is_missing_is_named_as_missing(estate, tmp_path):
    traces, _ = estate
    with pytest.raises(InputError, match="no such file"):
        find_sites(traces, "site", inventory=tmp_path / "nope.csv")


@pytest.mark.slow
def test_when_every_site_fails_nothing_is_written(estate, tmp_path, capsys):
    traces, inventory = estate
    code = main(["plan", str(traces), "--inventory", str(inventory), "--by", "site", "--start", "2030-01-01",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("consolidate: error: every site failed, nothing was written")
    assert sum("failed:" in line for line in err) == len(SITES)
    assert not (tmp_path / "out").exists()


RVTOOLS = Path(__file__).resolve().parent.parent / "data" / "samples" / "formats" / "rvtools" / "kubev2v-example1-trimmed.xlsx"


def test_an_rvtools_export_planned_alone_splits_by_its_own_column():
    # vm-9 runs on a standalone host: it has no cluster, and says so
    with pytest.raises(InputError, match="server 'vm-9' has no 'cluster'"):
        find_sites(RVTOOLS, "cluster")


def test_one_sites_servers_of_an_export_planned_alone():
    from consolidate.io.allocation import inventory_traces

    site = inventory_traces(RVTOOLS, powered_off=True, servers=["vm-3", "vm-8"])
    assert site.server_ids == ("vm-3", "vm-8")
    assert site.source.startswith("rvtools:")


@pytest.mark.slow
def test_servers_of_the_traces_in_no_site_are_counted_and_said(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    table.iloc[3:].to_csv(tmp_path / "inv.csv", index=False)  # three servers lose their row, and their site
    planned = plan_estate(traces, "site", settings=make_settings(**OPTIONS), out_dir=tmp_path / "out",
                          inventory=tmp_path / "inv.csv")
    assert planned.summary["servers_without_site"] == 3
    assert planned.summary["servers"] == len(table) - 3
    assert any("3 server(s) of the traces are in no site" in c for c in planned.summary["caveats"])


def test_each_site_keeps_the_rows_of_the_hosts_its_vms_run_on(estate, tmp_path):
    traces, inventory = estate
    table = pd.read_csv(inventory)
    table["host"] = ["esx-" + site for site in table["Site"]]
    hosts = pd.DataFrame({"server_id": [f"esx-{s}" for s in SITES], "cores": 32, "ghz": 2.6, "ram_gb": 512,
                          "Site": "", "host": ""})
    pd.concat([table, hosts], ignore_index=True).to_csv(tmp_path / "inv.csv", index=False)
    planned = plan_estate(traces, "site", settings=make_settings(**OPTIONS), out_dir=tmp_path / "out",
                          inventory=tmp_path / "inv.csv")
    for site in SITES:
        s = json.loads((tmp_path / "out" / "sites" / site / "summary.json").read_text())
        assert s["estate"]["source_hosts"] == {"hosts": 1, "defaulted": 0, "vms_on_hosts": 8, "vms_without_host": 0}
        assert s["hosts_before"] == 1
    assert planned.summary["hosts_before"] == 3
