"""The business case: payback, NPV, TCO and licences against hand-worked numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.errors import InputError
from consolidate.models.catalog import get_host
from consolidate.models.trace import Inventory
from consolidate.report.business import (
    BusinessInputs,
    annuity_factor,
    business_case,
    estate_facts,
    licensed_cores,
    npv,
    payback_months,
    payback_text,
)

# An estate worked by hand: 2 hosts at 20,000 USD replace servers worth 100,000 USD in 40 U.
SUMMARY = {
    "cost_per_year_before": 5000.0,
    "cost_per_year_after": 1000.0,
    "estate": {
        "hosts": 2,
        "host_price_usd": 20000.0,
        "hardware_usd_before": 100000.0,
        "rack_units_before": 40.0,
        "rack_units_after": 4.0,
        "licensed_cores_before": {"none": 300.0, "vsphere": 640.0, "windows": 480.0},
        "licensed_cores_after": {"none": 128.0, "vsphere": 128.0, "windows": 128.0},
    },
}
THREE_YEARS_AT_10_PCT = 1 / 1.1 + 1 / 1.21 + 1 / 1.331


def test_annuity_npv_and_payback_by_hand():
    assert annuity_factor(0.1, 3) == pytest.approx(THREE_YEARS_AT_10_PCT, rel=1e-12)
    assert annuity_factor(0.0, 5) == 5.0
    assert npv(1000.0, 500.0, 0.1, 3) == pytest.approx(-1000 + 500 * THREE_YEARS_AT_10_PCT, rel=1e-12)
    assert npv(1000.0, 500.0, 0.1, 3) == pytest.approx(243.4259954921, rel=1e-9)
    assert payback_months(56000.0, 36000.0) == pytest.approx(56000 / 36000 * 12)
    assert payback_months(1000.0, 0.0) is None
    assert payback_months(1000.0, -5.0) is None


def test_business_case_vsphere_by_hand():
    inputs = BusinessInputs(licence="vsphere", licence_before="vsphere", licence_price_usd=100.0, maintenance_pct=10.0, rack_usd_per_u_year=250.0, discount_rate=0.1)
    case = business_case(SUMMARY, inputs)
    # before: energy 5,000 + licences 640 x 100 + maintenance 10 % of 100,000 + rack 40 x 250
    assert case["yearly_cost_before"] == {"energy": 5000.0, "licences": 64000.0, "maintenance": 10000.0, "rack": 10000.0, "total": 89000.0}
    # after: energy 1,000 + licences 128 x 100 + maintenance 10 % of 2 x 20,000 + rack 4 x 250
    assert case["yearly_cost_after"] == {"energy": 1000.0, "licences": 12800.0, "maintenance": 4000.0, "rack": 1000.0, "total": 18800.0}
    assert case["capital_cost"] == 40000.0
    assert case["yearly_saving"] == 70200.0
    assert case["payback_months"] == pytest.approx(40000 / 70200 * 12)
    assert case["tco_3y_before"] == 267000.0
    assert case["tco_3y_after"] == 40000.0 + 3 * 18800.0
    assert case["tco_5y_after"] == 40000.0 + 5 * 18800.0
    assert case["npv_3y"] == pytest.approx(-40000 + 70200 * THREE_YEARS_AT_10_PCT, rel=1e-12)
    assert case["npv_3y"] == pytest.approx(134577.0097, rel=1e-9)
    assert case["licensed_cores_before"] == 640.0 and case["licensed_cores_after"] == 128.0
    assert payback_text(case) == "6.8 months"


def test_windows_licence_is_a_pack_price_spread_over_years():
    inputs = BusinessInputs(licence="windows", licence_before="windows", licence_price_usd=6400.0, licence_years=4.0)
    case = business_case(SUMMARY, inputs)
    assert case["licence_usd_per_core_year"] == pytest.approx(6400 / 16 / 4)
    assert case["yearly_cost_before"]["licences"] == pytest.approx(480 * 100.0)
    assert case["yearly_cost_after"]["licences"] == pytest.approx(128 * 100.0)
    default = business_case(SUMMARY, BusinessInputs(licence="windows"))
    assert default["licence_price_usd"] == 6771.0
    assert default["licence_usd_per_core_year"] == pytest.approx(6771 / 16 / 5)


def test_no_licence_and_no_saving():
    losing = {**SUMMARY, "cost_per_year_after": 1e9}
    case = business_case(losing, BusinessInputs())
    assert case["yearly_cost_before"]["licences"] == case["yearly_cost_after"]["licences"] == 0.0
    assert case["payback_months"] is None
    assert payback_text(case) == "never"


def test_unknown_host_price_leaves_the_money_figures_open():
    unpriced = {**SUMMARY, "estate": {**SUMMARY["estate"], "host_price_usd": None}}
    case = business_case(unpriced, BusinessInputs())
    assert math.isnan(case["capital_cost"]) and math.isnan(case["npv_5y"])
    assert case["payback_months"] is None and payback_text(case) == "n/a"
    priced = business_case(unpriced, BusinessInputs(host_price_usd=15000.0))
    assert priced["capital_cost"] == 30000.0 and priced["host_price_from"] == "--host-price"


def test_licensed_cores_minimums():
    cores = np.array([8.0, 12.0, 40.0, 80.0])
    sockets = np.array([1.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(licensed_cores(cores, sockets, "none"), cores)
    # vSphere: at least 16 cores per CPU; Windows: at least 16 per server.
    np.testing.assert_array_equal(licensed_cores(cores, sockets, "vsphere"), [16, 32, 40, 80])
    np.testing.assert_array_equal(licensed_cores(cores, sockets, "windows"), [16, 16, 40, 80])


def test_estate_facts_take_catalogue_models_else_the_default_model():
    inventory = Inventory(
        server_ids=np.array(["a", "b", "c"]),
        cores=np.array([2.0, 4.0, 1.0]),
        threads=np.array([2.0, 8.0, 1.0]),
        ghz=np.array([2.66, 2.5, 2.0]),
        perf=np.ones(3),
        ram_gb=np.array([4.0, 16.0, 2.0]),
        model=np.array(["hp-ml110-g5", "acme box 3000", None], dtype=object),
        power_idle_w=np.full(3, np.nan),
        power_max_w=np.full(3, np.nan),
        defaulted=np.zeros(3, dtype=bool),
        host=np.full(3, "", dtype=object),
    )
    host = get_host("dell-r6515")
    facts = estate_facts(inventory, host, hosts_after=3)
    # ml110 g5: a 4U tower, 1,000 USD, 1 socket; the others as the default dell-r710: 2U, 6,500 USD,
    # 2 sockets capped at their cores (4 cores: 2 sockets; 1 core: 1 socket).
    assert facts["servers_with_catalogue_model"] == 1
    assert facts["rack_units_before"] == 4 + 2 + 2
    assert facts["hardware_usd_before"] == 1000 + 6500 + 6500
    assert facts["licensed_cores_before"]["vsphere"] == 16 + 32 + 16
    assert facts["licensed_cores_before"]["windows"] == 16 * 3
    assert facts["physical_cores_before"] == 7
    assert facts["rack_units_after"] == 3 * host.rack_units
    assert facts["host_price_usd"] == host.price_usd
    assert facts["licensed_cores_after"]["vsphere"] == 3 * max(64, 16 * host.sockets)


def test_inputs_are_checked():
    with pytest.raises(InputError, match="^licence="):
        BusinessInputs(licence="oracle")
    with pytest.raises(InputError, match="^discount_rate="):
        BusinessInputs(discount_rate=8.0)
    with pytest.raises(InputError, match="^maintenance_pct="):
        BusinessInputs(maintenance_pct=-1.0)
    with pytest.raises(InputError, match="^licence_years="):
        BusinessInputs(licence_years=0.0)


def test_stored_inputs_with_overrides():
    stored = BusinessInputs(licence="vsphere", licence_price_usd=200.0, discount_rate=0.05).to_dict()
    assert BusinessInputs.from_dict(stored) == BusinessInputs(licence="vsphere", licence_price_usd=200.0, discount_rate=0.05)
    kept = BusinessInputs.from_dict(stored, discount_rate=0.1, licence=None)
    assert kept.licence_price == 200.0 and kept.discount_rate == 0.1
    # a price given for vSphere (per core-year) must not become the Windows pack price
    switched = BusinessInputs.from_dict(stored, licence="windows")
    assert switched.licence_price == 6771.0 and switched.discount_rate == 0.05


@settings(max_examples=200, deadline=None)
@given(
    capital=st.floats(0, 1e7).map(lambda usd: round(usd, 2)),  # money, in cents
    saving=st.floats(-1e6, 1e7).map(lambda usd: round(usd, 2)),
    rate=st.floats(0.001, 0.5),
    years=st.integers(1, 10),
)
def test_npv_properties(capital, saving, rate, years):
    undiscounted = npv(capital, saving, 0.0, years)
    assert undiscounted == pytest.approx(-capital + years * saving, rel=1e-9, abs=1e-6)
    # discounting shrinks a saving (and a loss) but never the capital spent now
    discounted = npv(capital, saving, rate, years)
    assert discounted <= undiscounted + 1e-6 if saving >= 0 else discounted >= undiscounted - 1e-6
    # paying back within the period is the same as a non-negative undiscounted net
    months = payback_months(capital, saving)
    if saving > 0:
        assert (months <= 12 * years * (1 + 1e-12)) == (undiscounted >= -1e-6 * max(1.0, capital))
    else:
        assert months is None
