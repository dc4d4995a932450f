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
