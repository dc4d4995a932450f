"""A small plan made by hand, as the report reads it (summary.json's figures and the two tables),
so that the page and the terminal can be checked against figures known in advance."""

import copy

import pandas as pd
import pytest

from consolidate.report.plandata import PlanData

HOST = {"cores": 32, "threads": 64, "ghz": 2.5, "perf": 1.5, "ram_gb": 512.0, "power_curve_w": [100.0] * 11, "source": "hand"}

#: Two hosts replacing four servers; srv-4 fits no host. Money in EUR, energy 12,000 -> 3,000 kWh a year.
SUMMARY = {
    "servers": 4, "hosts_before": 4, "hosts_after": 2, "lower_bound": 2, "lower_bound_resource": "memory",
    "sizing_applied": "validated", "sizing_note": "validated: daily envelopes",
    "solver": {"status": "optimal", "time_s": 0.1, "methods": ["ffd"], "seed": 0},
    "placed": 3, "unplaceable": ["srv-4"], "retire_candidates": [], "retired": False,
    "unplaceable_reasons": [{"server_id": "srv-4", "why": "needs 515.0 GB of memory; a big-host offers 456.8 GB usable"}],
    "cpu_util_mean_before_pct": 10.0, "cpu_util_mean_after_pct": 30.0,
    "over_target_pct": 0.25, "over_capacity_pct": 0.0, "unmet_cpu_ghz_h": 0.0,
    "energy_kwh_per_year_before": 12000.0, "energy_kwh_per_year_after": 3000.0,
    "cost_per_year_before": 1200.0, "cost_per_year_after": 300.0,
    "co2_t_per_year_before": 4.0, "co2_t_per_year_after": 1.0,
    "trace": {"start": "2024-01-01T00:00:00+00:00", "end": "2024-01-02T00:00:00+00:00", "days": 1.0, "interval_s": 300,
              "source": "long:traces.csv"},
    "data_quality": {"missing_pct": 0.0, "gaps_filled": 3, "duplicates_merged": 0},
    "warnings": [],
    "caveats": ["the traces cover 1 day, less than a week: weekly peaks are not seen",
                "validation skipped: run `consolidate plan --holdout 1d` on a longer window"],
    "binding_resource": "memory",
    "assumptions": {
        "host": HOST, "host_model": "big-host", "host_models": ["big-host"], "host_mix": "2 x big-host",
        "models": {"big-host": {**HOST, "cpu_capacity_ghz": 100.0, "mem_usable_gb": 456.8, "price_usd": 10000.0, "rack_units": 2.0}},
        "hypervisor": "xen", "hypervisor_cpu_overhead": 0.05, "hypervisor_source": "", "smt_gain": 0.25,
        "cpu_target": 0.8, "mem_target": 0.9, "risk_pct": 0.5, "sizing": "validated", "mem_sizing": "allocated", "mem_margin": 0.1,
        "n_plus_1": False, "objective": "hosts", "host_cpu_capacity_ghz": 100.0, "host_mem_usable_gb": 456.8,
        "pue": 1.5, "price_per_kwh": 0.1, "carbon_g_per_kwh": 333.0, "source_power_curves": {"inventory watts": 4},
        "sources": {"price_per_kwh": {"value": 0.1, "unit": "USD/kWh", "source": "a utility bill"},
                    "xen_min_guest_gb": {"value": 0.5, "unit": "GB", "source": "assumption: Xen's example guest"}},
    },
    "failover": {"hosts": 2, "failures_overloading": ["host-1", "host-2"], "spare_hosts_n_plus_1": 1, "n_plus_1_holds": False,
                 "per_host": [{"host_id": "host-1", "vms": 2, "over_target_pct": 12.5, "over_capacity_pct": 0.0,
                               "unmet_cpu_ghz_h": 0.0, "mem_short_gb": 100.0, "overloads": True},
                              {"host_id": "host-2", "vms": 1, "over_target_pct": 10.0, "over_capacity_pct": 0.0,
                               "unmet_cpu_ghz_h": 0.0, "mem_short_gb": 50.0, "overloads": True}]},
    "validation": {"predicted_next_window": {"over_target_pct_low": 0.1, "over_target_pct_high": 0.9, "method": "rolling origin"},
                   "folds": [{"first_step": 216, "stop_step": 288}]},
    "utilisation": {"bin_pct": 2.0, "before_counts": [5] * 10 + [0] * 41, "after_counts": [0] * 10 + [5] * 10 + [0] * 31,
                    "before_p95_pct": 18.0, "before_peak_pct": 19.0, "before_median_server_peak_pct": 15.0,
                    "after_p95_pct": 38.0, "after_peak_pct": 39.0, "after_median_host_peak_pct": 39.0, "cpu_target_pct": 80.0},
    "estate": {"servers": 4, "servers_with_catalogue_model": 3, "default_source_model": "dell-r710"},
    "business_case": {
        "currency": "EUR",
        "inputs": {"licence": "none", "licence_before": "auto", "currency": "EUR", "licence_price_usd": None, "licence_years": 5.0,
                   "maintenance_pct": 10.0, "rack_usd_per_u_year": 300.0, "discount_rate": 0.08, "host_price_usd": None},
        "licence_before": "none", "licence_after": "none",
        "licence_price_usd": 0.0, "licence_price_unit": "", "licence_usd_per_core_year": 0.0,
        "host_price_usd": 10000.0, "host_price_from": "catalogue", "capital_cost": 20000.0,
        "yearly_cost_before": {"energy": 1200.0, "licences": 0.0, "maintenance": 4000.0, "rack": 2400.0, "total": 7600.0},
        "yearly_cost_after": {"energy": 300.0, "licences": 0.0, "maintenance": 2300.0, "rack": 1500.0, "total": 4100.0},
        "yearly_saving": 3500.0, "payback_months": 68.57142857142857,
        "largest_drivers": [{"category": "maintenance", "saving": 1700.0}, {"category": "energy", "saving": 900.0},
                            {"category": "rack", "saving": 900.0}],
        "defaulted": {"servers": 1, "share_of_servers": 0.25, "saving_from_defaulted": 1000.0, "default_model": "dell-r710"},
        "n_plus_1": {"spare_hosts": 1, "capital_cost": 10000.0, "yearly_cost": 1800.0},
        "caveats": ["29 % of the yearly saving rests on the 1 server with defaulted inventory"],
        "licensed_cores_before": 40.0, "licensed_cores_after": 64.0, "rack_units_before": 8.0, "rack_units_after": 5.0,
        "tco_3y_before": 22800.0, "tco_3y_after": 32300.0, "tco_5y_before": 38000.0, "tco_5y_after": 40500.0,
        "npv_3y": -10980.0, "npv_5y": -6025.0,
    },
}

PLACEMENT = pd.DataFrame({
    "server_id": ["srv-1", "srv-2", "srv-3", "srv-4"], "host_id": ["host-1", "host-1", "host-2", ""],
    "host_model": ["big-host", "big-host", "big-host", ""], "status": ["placed", "placed", "placed", "unplaceable"],
    "vcpus": [4, 8, 2, 32], "ram_gb": [64.0, 128.0, 16.0, 512.0], "mem_packed_gb": [64.5, 129.0, 16.1, 515.0],
    "cpu_peak_ghz": [10.0, 20.0, 5.0, 30.0], "cpu_mean_ghz": [2.0, 4.0, 1.0, 6.0],
    "inventory_defaulted": [False, False, True, False], "measured_pct": [100.0, 100.0, 55.0, 100.0], "confidence": [5, 5, 3, 5],
})

HOSTS = pd.DataFrame({
    "host_id": ["host-1", "host-2"], "host_model": ["big-host", "big-host"], "vms": [2, 1],
    "cpu_capacity_ghz": [100.0, 100.0], "cpu_target_ghz": [80.0, 80.0], "mem_usable_gb": [456.8, 456.8],
    "cpu_planned_peak_pct": [30.0, 5.0], "cpu_replay_peak_pct": [39.0, 6.0], "cpu_replay_mean_pct": [6.0, 1.0],
    "cpu_over_target_pct": [0.5, 0.0], "mem_planned_gb": [193.5, 16.1], "mem_planned_pct": [38.1, 3.2],
    "binding_resource": ["memory", "cpu"], "headroom_pct": [57.6, 92.5],
})


def make_plan(name: str = "hand-plan", placement: pd.DataFrame | None = None, **changes) -> PlanData:
    """The hand-made plan, its summary's top-level figures replaced by ``changes`` (a value of None deletes the key)."""
    summary = copy.deepcopy(SUMMARY)
    for key, value in changes.items():
        if value is None:
            summary.pop(key, None)
        else:
            summary[key] = value
    return PlanData(name, summary, (PLACEMENT if placement is None else placement).copy(), HOSTS.copy())


@pytest.fixture(scope="session")
def crafted_plan():
    """Build the hand-made plan: ``crafted_plan(name=..., placement=..., **summary_changes)``."""
    return make_plan
