"""The issue's outside check: an estate whose energy can be worked out by hand."""

import json

import pytest

from consolidate.cli import main

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow


def test_constant_load_linear_models_pue_1(tmp_path):
    # Four 4-core 2.0 GHz servers at a constant 25 %, linear 100-200 W, two days hourly.
    rows = ["timestamp,server_id,cpu_pct"]
    for hour in range(48):
        rows += [f"2024-03-0{1 + hour // 24}T{hour % 24:02d}:00:00Z,s{i},25" for i in range(4)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "inv.csv").write_text(
        "server_id,cores,threads,ghz,ram_gb,power_idle_w,power_max_w\n"
        + "".join(f"s{i},4,4,2.0,4,100,200\n" for i in range(4))
    )
    code = main([
        "plan", str(tmp_path / "t.csv"), "--inventory", str(tmp_path / "inv.csv"), "--hypervisor", "none",
        "--smt-gain", "0", "--host-spec", "cores=16,ghz=2.0,ram_gb=64,idle_w=200,max_w=400", "--pue", "1",
        "--price", "0.1", "--carbon", "390", "--sizing", "timeseries", "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert code == 0
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    # Before: 4 x (100 + 0.25 x 100) W x 8760 h = 4380 kWh/yr; 438 USD; 1.7082 t CO2.
    assert s["energy_kwh_per_year_before"] == pytest.approx(4380.0, rel=5e-3)
    assert s["cost_per_year_before"] == pytest.approx(438.0, rel=5e-3)
    assert s["co2_t_per_year_before"] == pytest.approx(1.7082, rel=5e-3)
    # After: one host carrying 4 x 0.25 x 4 x 2.0 = 8 GHz of its 32 GHz: 25 % load, 250 W, 2190 kWh/yr.
    assert s["hosts_after"] == 1
    assert s["energy_kwh_per_year_after"] == pytest.approx(2190.0, rel=5e-3)
    assert s["cost_per_year_after"] == pytest.approx(219.0, rel=5e-3)
    assert s["co2_t_per_year_after"] == pytest.approx(0.8541, rel=5e-3)


def test_vms_on_a_host_are_costed_as_that_host_before(tmp_path):
    # Four 2-vCPU VMs at a constant 50 % on one 16-thread host (linear 150-350 W, no catalogue model),
    # one more on a host the inventory does not describe, and a physical server at 25 %.
    rows = ["timestamp,server_id,cpu_pct"]
    for hour in range(48):
        stamp = f"2024-03-0{1 + hour // 24}T{hour % 24:02d}:00:00Z"
        rows += [f"{stamp},vm{i},50" for i in range(5)] + [f"{stamp},box,25"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "inv.csv").write_text(
        "server_id,cores,threads,ghz,ram_gb,power_idle_w,power_max_w,host,model\n"
        + "".join(f"vm{i},2,2,2.0,4,,,esx1,\n" for i in range(4))
        + "vm4,2,2,2.0,4,,,esx9,\n"
        + "box,4,4,2.0,8,100,200,,\n"
        + "esx1,16,16,2.0,256,150,350,,acme box 3000\n"
    )
    code = main([
        "plan", str(tmp_path / "t.csv"), "--inventory", str(tmp_path / "inv.csv"), "--hypervisor", "none",
        "--smt-gain", "0", "--host-spec", "cores=16,ghz=2.0,ram_gb=64,idle_w=200,max_w=400", "--pue", "1",
        "--price", "0.1", "--sizing", "timeseries", "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert code == 0
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    # Before: esx1 runs 4 x 2 x 0.5 = 4 busy threads of its 16: 150 + 0.25 x 200 = 200 W; esx9, not
    # described, is the default dell-r710 running 1 busy thread of its 24 (its curve at that load);
    # box: 100 + 0.25 x 100 = 125 W. The VMs' own (defaulted) boxes count nothing.
    import numpy as np

    from consolidate.models import power
    from consolidate.models.catalog import get_host

    r710 = get_host("dell-r710")
    load = float(power.source_load_fraction(np.array([[100.0 / 24]], dtype=np.float32), [12.0], [24.0], 0.0)[0, 0])
    r710_w = float(np.interp(load, np.linspace(0, 1, power.POWER_POINTS), r710.power_curve_w))
    assert s["hosts_before"] == 3 and s["servers"] == 6
    assert s["estate"]["source_hosts"] == {"hosts": 2, "defaulted": 1, "vms_on_hosts": 5, "vms_without_host": 0}
    assert s["it_energy_kwh_per_year_before"] == pytest.approx((200.0 + r710_w + 125.0) * 8.76, rel=5e-3)
    # Rack and price: three machines, none in the catalogue: each the default's.
    assert s["business_case"]["rack_units_before"] == pytest.approx(3 * r710.rack_units)
    assert s["estate"]["hardware_usd_before"] == pytest.approx(3 * r710.price_usd)
    assert any("1 of the 2 host(s) the servers run on as VMs lack inventory values" in w and "esx9" in w
               for w in s["warnings"])
    assert s["business_case"]["defaulted"]["servers"] == 1  # vm4, costed on esx9's defaulted hardware
