"""A business case that tells the truth (issue 12), against hand computations on crafted estates:
an unplaceable server stays after, licences by what each side runs, defaulted servers' share of
the saving, what N+1 costs, the binding resource, the caveats and the data coverage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from consolidate.planner import plan
from consolidate.report.business import BusinessInputs, annuity_factor, business_case, plan_estate
from consolidate.solvers.bounds import Bounds
from estates import HOURS_PER_YEAR, THREE, THREE_WATTS, host_it_kwh_per_year, machine, server, write_estate

PUE, PRICE = 1.5, 0.2
KWH = HOURS_PER_YEAR / 1000.0  # kWh a year per W drawn all year


def report_summary(p) -> dict:
    """The summary the report path builds: the plan's, with its estate."""
    return {**p.summary, "estate": plan_estate(p)}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    traces = write_estate(tmp_path_factory.mktemp("three"), THREE)
    return plan(traces, host="dell-r6515", pue=PUE, price_per_kwh=PRICE)


def test_an_unplaceable_server_keeps_running_on_its_own_box(three):
    s = report_summary(three)
    assert s["unplaceable"] == ["srv-big"] and three.hosts_after == 1
    before_kwh = sum(THREE_WATTS.values()) * KWH * PUE
    staying_kwh = THREE_WATTS["srv-big"] * KWH * PUE
    hosts_kwh = host_it_kwh_per_year(three) * PUE
    assert s["energy_kwh_per_year_before"] == pytest.approx(before_kwh)
    assert s["staying_energy_kwh_per_year"] == pytest.approx(staying_kwh)
    assert s["energy_kwh_per_year_after"] == pytest.approx(hosts_kwh + staying_kwh, rel=1e-6)
    bc = business_case(s, BusinessInputs(licence="vsphere"))
    # before: 580 W; licences none (bare metal); 10 % of 6,000 + 7,000 + 30,000; 1 + 1 + 2 U at 300
    assert bc["yearly_cost_before"] == pytest.approx(
        {"energy": before_kwh * PRICE, "licences": 0.0, "maintenance": 4300.0, "rack": 1200.0, "total": before_kwh * PRICE + 5500.0})
    # after: the host and srv-big; vSphere on the host's 64 cores at 135; 10 % of 11,000 + 30,000; 1 + 2 U
    after_energy = (hosts_kwh + staying_kwh) * PRICE
    assert bc["yearly_cost_after"] == pytest.approx(
        {"energy": after_energy, "licences": 64 * 135.0, "maintenance": 4100.0, "rack": 900.0,
         "total": after_energy + 8640.0 + 5000.0}, rel=1e-6)
    assert bc["rack_units_before"] == 4.0 and bc["rack_units_after"] == 3.0 and bc["staying_servers"] == 1
    assert bc["licence_before"] == "none" and bc["licence_after"] == "vsphere"
    assert bc["licence_price_after"] == 135.0 and bc["licence_price_before"] == 0.0
    saving_energy = before_kwh * PRICE - after_energy
    assert bc["saving_by_category"] == pytest.approx(
        {"energy": saving_energy, "licences": -8640.0, "maintenance": 200.0, "rack": 300.0}, rel=1e-6)
    assert bc["yearly_saving"] == pytest.approx(saving_energy - 8640.0 + 500.0, rel=1e-6)
    # vSphere added after is the largest driver, and it drives the saving down
    assert [d["category"] for d in bc["largest_drivers"]] == ["licences", "energy", "rack"]
    assert bc["largest_drivers"][0]["saving"] == -8640.0


def test_licences_before_are_what_the_sources_run(three):
    s = report_summary(three)
    bc = business_case(s, BusinessInputs(licence="vsphere", licence_before="vsphere"))
    # each source has two sockets: vSphere counts max(16, cores / 2) per socket: 32 + 32 + 56
    assert bc["yearly_cost_before"]["licences"] == 120 * 135.0
    # after: the host's 64 cores, and srv-big, still on its box, its own 56
    assert bc["yearly_cost_after"]["licences"] == (64 + 56) * 135.0
    assert bc["saving_by_category"]["licences"] == 0.0
    assert bc["licensed_cores_before"] == 120.0 and bc["licensed_cores_after"] == 120.0
    # a price given is the hosts' licence's; the sources' windows keeps its default
    bc = business_case(s, BusinessInputs(licence="vsphere", licence_before="windows", licence_price_usd=100.0))
    assert bc["licence_price_after"] == 100.0 and bc["licence_price_before"] == 6771.0
    # windows: at least 16 cores per server: 16 + 16 + 56, at 6,771 per 16 cores over 5 years
    assert bc["yearly_cost_before"]["licences"] == pytest.approx(88 * 6771.0 / 16 / 5)
    assert bc["yearly_cost_after"]["licences"] == pytest.approx(64 * 100.0 + 56 * 6771.0 / 16 / 5)


def test_vm_sources_pay_vsphere_today_on_their_vcpus():
    # VMs without a known host are costed alone, and license their vCPUs (estate_facts counts them so).
    summary = {
        "trace": {"source": "rvtools:estate.xlsx"}, "cost_per_year_before": 1000.0, "cost_per_year_after": 200.0,
        "estate": {"servers": 2, "hosts": 1, "host_price_usd": 10000.0, "hardware_usd_before": 13000.0,
                   "rack_units_before": 4.0, "rack_units_after": 1.0, "physical_cores_before": 10.0,
                   "licensed_cores_before": {"none": 10.0, "vsphere": 10.0, "windows": 10.0},
                   "licensed_cores_after": {"none": 64.0, "vsphere": 64.0, "windows": 64.0},
                   "source_hosts": {"hosts": 0, "defaulted": 0, "vms_on_hosts": 0, "vms_without_host": 2}},
    }
    bc = business_case(summary, BusinessInputs())
    assert bc["licence_before"] == "vsphere" and bc["licence_after"] == "none"
    assert bc["yearly_cost_before"]["licences"] == 10 * 135.0  # the VMs' 10 vCPUs, no 16-core minimum
    assert bc["yearly_cost_after"]["licences"] == 0.0
    assert bc["licence_counts"] == "the VMs' vCPUs, no per-machine minimum"
    assert any(c.startswith("2 VM(s) name no host the inventory describes") for c in bc["caveats"])
    assert business_case(summary, BusinessInputs(licence_before="none"))["yearly_cost_before"]["licences"] == 0.0
    assert business_case(summary, BusinessInputs(currency="EUR"))["currency"] == "EUR"


def test_retired_idle_servers_leave_and_kept_ones_move_to_a_host(tmp_path):
    idle = server("srv-idle", 1.0, 0.1, machine("ibm-x3250-m3", 4, 2.93, 8, 40, 80))
    traces = write_estate(tmp_path, [*THREE, idle])
    kept = plan(traces, host="dell-r6515", pue=PUE, price_per_kwh=PRICE)
    retired = plan(traces, host="dell-r6515", pue=PUE, price_per_kwh=PRICE, retire_idle=True)
    frame = kept.placement_frame().set_index("server_id")
    assert frame.loc["srv-idle", "status"] == "retire-candidate" and frame.loc["srv-idle", "host_id"] == "host-001"
    for p in (kept, retired):
        est = plan_estate(p)
        assert est["staying"]["servers"] == 1 and est["rack_units_after"] == 1.0 + 2.0  # the host and srv-big
        assert est["rack_units_before"] == 5.0
    assert any(c.startswith("1 idle server(s) are retired") for c in retired.summary["caveats"])
    assert not any("retired" in c for c in kept.summary["caveats"])
    # retired: its 40.4 W (1 % busy on a 40-80 W line) leave with it; srv-big's stay
    assert retired.summary["energy_kwh_per_year_after"] == pytest.approx(
        (host_it_kwh_per_year(retired) + THREE_WATTS["srv-big"] * KWH) * PUE, rel=1e-6)


def test_the_saving_that_rests_on_defaulted_servers(tmp_path):
    # srv-d is not in the inventory: 12 cores / 24 threads, 16 GB, costed as a dell-r710 (2 U, 6,500 USD);
    # idle, it draws the R710's 64 W
    traces = write_estate(tmp_path, [*THREE, server("srv-d", 0.0, 1.0)])
    p = plan(traces, host="dell-r6515", pue=PUE, price_per_kwh=PRICE)
    s = report_summary(p)
    bc = business_case(s, BusinessInputs())
    d = bc["defaulted"]
    from_defaulted = 64.0 * KWH * PUE * PRICE + 650.0 + 2 * 300.0
    assert d["servers"] == 1 and d["share_of_servers"] == 0.25 and d["servers_leaving"] == 1
    assert d["saving_from_defaulted"] == pytest.approx(from_defaulted)
    assert d["share_of_saving_pct"] == pytest.approx(100 * from_defaulted / bc["yearly_saving"])
    assert d["default_model"] == "dell-r710"
    assert any(c.startswith(f"{d['share_of_saving_pct']:.0f} % of the yearly saving") for c in bc["caveats"])
    assert any(c.startswith("1 of 4 servers (25 %) lack inventory values") and "Dell PowerEdge R710" in c for c in s["caveats"])
    placement = p.placement_frame().set_index("server_id")
    assert bool(placement.loc["srv-d", "inventory_defaulted"]) and placement.loc["srv-d", "host_id"] == "host-001"


def test_what_n_plus_1_costs(tmp_path):
    # four 64 GB servers on dell-r620s (128 GB, 1 U, 7,000 USD, 54.1 W idle): no two share a host's memory
    box = machine("dell-r620", 16, 2.6, 64, 80, 180)
    traces = write_estate(tmp_path, [server(f"srv-{i}", 20.0, 8.0, box) for i in range(4)])
    p = plan(traces, host="dell-r620", pue=PUE, price_per_kwh=PRICE)
    s = report_summary(p)
    spare = s["failover"]["spare_hosts_n_plus_1"]
    assert spare >= 1
    inputs = BusinessInputs(licence="vsphere")
    bc = business_case(s, inputs)
    n1 = bc["n_plus_1"]
    # each spare: 7,000 USD; a year of 10 % maintenance, 1 U at 300, vSphere on 2 x 16 cores, 54.1 W idle
    yearly = 700.0 + 300.0 + 32 * 135.0 + 54.1 * KWH * PUE * PRICE
    assert n1["spare_hosts"] == spare and n1["capital_cost"] == spare * 7000.0
    assert n1["yearly_cost"] == pytest.approx(spare * yearly)
    assert n1["yearly_saving_with"] == pytest.approx(bc["yearly_saving"] - spare * yearly)
    assert n1["npv_5y_with"] == pytest.approx(
        -(bc["capital_cost"] + spare * 7000.0) + (bc["yearly_saving"] - spare * yearly) * annuity_factor(0.08, 5))


@pytest.mark.parametrize(("cpu_pct", "binding"), [(50.0, "memory"), (60.0, "cpu")])
def test_the_binding_resource(tmp_path, cpu_pct, binding):
    a, b, _ = THREE
    traces = write_estate(tmp_path, [{**a, "cpu_pct": cpu_pct}, {**b, "cpu_pct": cpu_pct}])
    p = plan(traces, host="dell-r6515", pue=PUE, price_per_kwh=PRICE)
    hosts = p.hosts_frame()
    placement = p.placement_frame()
    # CPU: the two servers' busy GHz (12 and 16 cores at 2.93 and 2.6 GHz) over the host's target;
    # memory: their planned GB over its usable GB
    cpu_share = cpu_pct / 100 * (12 * 2.93 + 16 * 2.6) / hosts["cpu_target_ghz"][0]
    mem_share = placement["mem_packed_gb"].sum() / hosts["mem_usable_gb"][0]
    assert (mem_share > cpu_share) == (binding == "memory")
    assert list(hosts["binding_resource"]) == [binding]
    assert hosts["headroom_pct"][0] == pytest.approx(100 * (1 - max(cpu_share, mem_share)), abs=0.01)
    assert p.summary["binding_resource"] == binding
    assert p.summary["binding_resource_hosts"] == {"cpu": int(binding == "cpu"), "memory": int(binding == "memory")}


def test_the_lower_bound_names_the_resource_that_sets_it():
    assert Bounds(cpu=2, mem=2, large_items=1).resource == "cpu and memory"
    assert Bounds(cpu=1, mem=3, large_items=2).resource == "memory"
    assert Bounds(cpu=3, mem=2, large_items=3).resource == "cpu"
    assert Bounds(cpu=1, mem=1, large_items=3).resource == "large-items"


def test_caveats_and_unplaceable_reasons(three):
    s = three.summary
    (reason,) = s["unplaceable_reasons"]
    # 600 GB and the xen per-VM overhead against a dell-r6515's 512 x 0.9 less the xen reserve
    assert reason["server_id"] == "srv-big" and reason["short_of"] == ["memory"]
    assert reason["mem_gb"] > 600.0 and reason["host_mem_usable_gb"] == pytest.approx(456.8)
    assert reason["cpu_peak_ghz"] == pytest.approx(0.5 * 56 * 2.7)
    assert "--mem-sizing used-p95" in reason["why"]
    text = " | ".join(s["caveats"])
    assert "the traces cover 1 day, less than a week" in text
    assert "validation skipped: the window is shorter than 4 days" in text
    assert "1 server(s) fit no host and stay on their own boxes" in text and "srv-big needs 60" in text
    assert "lack inventory values" not in text


def test_data_coverage_and_its_confidence_stars(tmp_path):
    a, b, _ = THREE
    late = server("srv-late", 50.0, 16.0, a["inventory"], start_share=0.75)
    p = plan(write_estate(tmp_path, [a, b, late], days=2.0), host="dell-r6515")
    frame = p.placement_frame().set_index("server_id")
    assert frame.loc["srv-late", "measured_pct"] == pytest.approx(25.0)
    assert frame.loc["srv-a", "measured_pct"] == 100.0
    # Azure Migrate's table: 0-20 % 1 star, 21-40 % 2, 41-60 % 3, 61-80 % 4, 81-100 % 5
    assert frame.loc["srv-late", "confidence"] == 2 and frame.loc["srv-a", "confidence"] == 5
    assert any(c.startswith("1 of 3 servers have real samples over less than 50%") for c in p.summary["caveats"])


def test_confidence_thresholds():
    from consolidate.figures import confidence_stars

    pct = np.array([0.0, 20.0, 20.5, 40.0, 41.0, 60.0, 61.0, 80.0, 81.0, 100.0])
    assert confidence_stars(pct).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_an_inventory_alone_is_rated_lowest_and_said(tmp_path):
    from pathlib import Path

    from consolidate.io import read_traces

    rvtools = Path(__file__).resolve().parents[2] / "data" / "samples" / "formats" / "rvtools" / "kubev2v-example1-trimmed.xlsx"
    p = plan(read_traces(rvtools), host="dell-r6515")
    frame = p.placement_frame()
    assert (frame["measured_pct"] == 0.0).all() and (frame["confidence"] == 1).all()
    assert any(c.startswith("planned from an inventory alone") for c in p.summary["caveats"])
    assert not any(c.startswith("validation skipped") for c in p.summary["caveats"])
    bc = business_case(report_summary(p), BusinessInputs())
    assert bc["licence_before"] == "vsphere"  # VMs on ESXi
    # The sample's 3 VMs: two on hosts vHost does not list (the default dell-r710: 2 sockets of 6 cores,
    # 16 licensed per socket), one with no host (its 18 vCPUs).
    est = plan_estate(p)
    assert est["source_hosts"] == {"hosts": 2, "defaulted": 2, "vms_on_hosts": 2, "vms_without_host": 1}
    assert est["licensed_cores_before"]["vsphere"] == 2 * 32 + 18
    assert bc["yearly_cost_before"]["licences"] == pytest.approx((2 * 32 + 18) * 135.0)


def test_a_summary_without_its_staying_servers_is_refused():
    summary = {"unplaceable": ["srv-big"], "cost_per_year_before": 1.0, "cost_per_year_after": 1.0,
               "estate": {"hosts": 1, "host_price_usd": 1.0, "hardware_usd_before": 1.0, "rack_units_before": 1.0,
                          "rack_units_after": 1.0, "licensed_cores_before": {"none": 1.0}, "licensed_cores_after": {"none": 1.0}}}
    with pytest.raises(KeyError, match="estate.staying"):
        business_case(summary, BusinessInputs())


def test_the_estate_round_trips_through_json(three):
    s = json.loads(json.dumps(report_summary(three)))
    assert business_case(s, BusinessInputs()) == business_case(report_summary(three), BusinessInputs())


def test_drivers_are_ranked_by_size_and_unknown_amounts_left_out():
    from consolidate.report.business import _drivers

    ranked = _drivers({"energy": 24_056.0, "licences": 0.0, "maintenance": float("nan"), "rack": 147_300.0}, float("nan"))
    assert [d["category"] for d in ranked] == ["rack", "energy"]
    assert all(d["share_of_saving_pct"] is None for d in ranked)
