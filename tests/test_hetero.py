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
