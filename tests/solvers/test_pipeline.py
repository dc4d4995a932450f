"""solve(), the bounds and the CP-SAT stage on small synthetic estates."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.errors import InputError
from consolidate.solvers import bounds, cpsat
from consolidate.solvers.pipeline import SolveResult, solve
from consolidate.solvers.feasibility import effective_caps

# Small budgets keep each solve well under a second; the invariants do not depend on them.
FAST = dict(time_limit_s=20.0, ls_work=2e7, cpsat_dtime=2.0)


def replay_over_capacity(cpu, mem, result, cpu_cap, mem_cap):
    """A float64 numpy replay, independent of the solver's kernels: True if any host is over."""
    placed = result.assignment >= 0
    load = np.zeros((result.n_hosts, cpu.shape[1]))
    np.add.at(load, result.assignment[placed], cpu[placed].astype(np.float64))
    load_gb = np.bincount(result.assignment[placed], weights=np.asarray(mem, dtype=np.float64)[placed], minlength=result.n_hosts)
    return bool((load > cpu_cap).any() or (load_gb > mem_cap).any())


def day_night_estate(pairs):
    """VMs busy by day and VMs busy by night, 0.6 of a host each: they pair up two per host."""
    day = np.array([0.6, 0.6, 0.1, 0.1], dtype=np.float32)
    cpu = np.vstack([day] * pairs + [day[::-1]] * pairs)
    return np.ascontiguousarray(cpu), np.full(2 * pairs, 1.0)


def test_complementary_vms_share_hosts_and_the_bound_is_proved():
    cpu, mem = day_night_estate(4)
    result = solve(cpu, mem, 1.0, 10.0, **FAST)
    assert isinstance(result, SolveResult)
    assert result.n_hosts == 4 and result.lower_bound == 4
    assert result.status == "optimal" and result.gap_hosts == 0
    assert result.bound_resource in {"cpu", "large-items"}
    assert not replay_over_capacity(cpu, mem, result, 1.0, 10.0)
    # Peak sizing cannot pair them: every VM then needs its own host.
    peak = solve(np.ascontiguousarray(cpu.max(axis=1, keepdims=True)), mem, 1.0, 10.0, method="ffd")
    assert peak.n_hosts == 8 and peak.lower_bound == 8 and peak.bound_resource == "large-items"


def test_result_fields():
    cpu, mem = day_night_estate(3)
    result = solve(cpu, mem, 1.0, 10.0, **FAST)
    assert result.assignment.dtype == np.int32 and result.assignment.shape == (6,)
    load = np.zeros((result.n_hosts, 4))
    np.add.at(load, result.assignment, cpu.astype(np.float64))
    assert (load <= 1.0).all()
    assert result.methods and result.time_s >= 0.0 and result.stopped_by in ("bound", "work budget", "time limit")


def test_memory_binds():
    cpu = np.full((6, 3), 0.01, dtype=np.float32)
    mem = np.full(6, 40.0)
    result = solve(cpu, mem, 10.0, 100.0, **FAST)
    assert result.lower_bound == 3 and result.bound_resource == "memory" and result.n_hosts == 3


def test_a_vm_larger_than_a_host_is_unplaceable():
    cpu = np.array([[0.5, 0.5], [1.5, 0.1], [0.2, 0.2]], dtype=np.float32)
    mem = np.array([1.0, 1.0, 20.0])
    result = solve(cpu, mem, 1.0, 10.0, **FAST)
    np.testing.assert_array_equal(result.assignment, [0, -1, -1])
    assert result.n_hosts == 1 and result.lower_bound == 1


def test_cpsat_proves_a_count_the_volume_bound_allows_is_infeasible():
    # Five VMs of 3/8 of a host: volume says 2 hosts, but a host holds only two of them.
    cpu = np.full((5, 3), 0.375, dtype=np.float32)
    mem = np.zeros(5)
    assert bounds.lower_bounds(cpu, mem, 1.0, 1.0).value == 2
    result = solve(cpu, mem, 1.0, 1.0, **FAST)
    assert result.n_hosts == 3
    assert result.lower_bound == 3 and result.bound_resource == "cp-sat" and result.status == "optimal"
    assert any(m.startswith("cp-sat@2:infeasible") for m in result.methods)


def test_cpsat_finds_a_plan_with_constraint_generation():
    rng = np.random.default_rng(5)
    cpu = np.ascontiguousarray(rng.random((12, 40), dtype=np.float32))
    mem = np.ones(12)
    cpu_cap = float(cpu.sum(axis=0).max()) / 3.0
    cap, mem_cap = effective_caps(cpu_cap, 100.0)
    outcome = cpsat.pack_exact(cpu, mem, 6, cap, mem_cap, deterministic_time=10.0)
    assert outcome.status == "feasible"
    load = np.zeros((6, 40))
    np.add.at(load, outcome.assignment, cpu.astype(np.float64))
    assert load.max() <= cap
    assert outcome.steps.size < 40  # only the binding steps were modelled


def test_lower_bounds():
    cpu = np.array([[0.6, 0.0], [0.0, 0.6], [0.3, 0.3]], dtype=np.float32)
    assert bounds.cpu_bound(cpu, 1.0) == 1  # 0.9 at either step
    assert bounds.mem_bound(np.array([0.5, 0.5, 0.5]), 1.0) == 2
    # A 0.6 VM at one step and another at the other step may share a host: no clique of two.
    assert bounds.large_items_bound(cpu, np.zeros(3), 1.0, 1.0) == 1
    clash = np.array([[0.6, 0.1], [0.6, 0.1], [0.6, 0.1]], dtype=np.float32)
    assert bounds.large_items_bound(clash, np.zeros(3), 1.0, 1.0) == 3
    # Exact ratio: 3 x (1/3) of a host is one host, not two, despite float noise.
    assert bounds.cpu_bound(np.full((3, 1), 1.0 / 3.0, dtype=np.float32), float(np.float32(1.0 / 3.0)) * 3) == 1


@pytest.mark.parametrize(
    "cpu, mem, message",
    [
        (np.ones((2, 3, 1)), np.ones(2), "CPU demand must be"),
        (np.ones((2, 3)), np.ones(3), "one value per VM"),
        (np.array([[np.nan, 1.0]]), np.ones(1), "NaN"),
        (np.array([[-1.0, 1.0]]), np.ones(1), "negative"),
    ],
)
def test_bad_input_raises_input_error(cpu, mem, message):
    with pytest.raises(InputError, match=message):
        solve(cpu, mem, 1.0, 1.0)


def test_bad_capacity_and_method_raise_input_error():
    with pytest.raises(InputError, match="capacity"):
        solve(np.ones((1, 1)), np.ones(1), 0.0, 1.0)
    with pytest.raises(InputError, match="unknown solver method"):
        solve(np.ones((1, 1)), np.ones(1), 1.0, 1.0, method="magic")


@settings(max_examples=25, deadline=None)
@given(
    n_vms=st.integers(1, 25),
    n_steps=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    hosts_worth=st.floats(1.0, 6.0),
    method=st.sampled_from(["auto", "ffd", "heuristics", "localsearch"]),
)
def test_solve_properties(n_vms, n_steps, seed, hosts_worth, method):
    rng = np.random.default_rng(seed)
    cpu = np.ascontiguousarray(rng.random((n_vms, n_steps), dtype=np.float32) * 3.0)
    mem = rng.random(n_vms) * 8.0
    cpu_cap = max(float(cpu.sum(axis=0, dtype=np.float64).max()) / hosts_worth, 0.1)
    mem_cap = 12.0
    result = solve(cpu, mem, cpu_cap, mem_cap, seed=seed % 7, method=method, **FAST)
    # Every VM placed exactly once, on a host that exists, unless it alone exceeds a host.
    alone_too_big = (cpu.max(axis=1) > cpu_cap * (1 - 1e-6)) | (mem > mem_cap * (1 - 1e-6))
    np.testing.assert_array_equal(result.assignment < 0, alone_too_big)
    assert result.assignment.max(initial=-1) < result.n_hosts
    assert set(result.assignment[result.assignment >= 0].tolist()) == set(range(result.n_hosts))
    assert not replay_over_capacity(cpu, mem, result, cpu_cap, mem_cap)
    assert result.n_hosts >= result.lower_bound
    assert result.status == ("optimal" if result.n_hosts == result.lower_bound else "feasible")
    again = solve(cpu, mem, cpu_cap, mem_cap, seed=seed % 7, method=method, **FAST)
    np.testing.assert_array_equal(again.assignment, result.assignment)


@pytest.mark.slow
def test_the_time_limit_caps_the_search_and_says_so(tmp_path):
    """A CPU-bound estate the search cannot close in a second: it stops at the limit (within 10 %
    plus a second), says that the time ran out, and counts compilation apart."""
    from consolidate.io import read_traces
    from consolidate.planner import plan
    from consolidate.samples import write_sample

    traces_csv, inventory_csv = write_sample(tmp_path, servers=800, days=7, seed=2)
    traces = read_traces(traces_csv, inventory=inventory_csv)
    p = plan(traces, sizing="timeseries", mem_sizing="used-peak", hypervisor="none", smt_gain=0.0,
             cpu_target=0.8, mem_target=0.95, time_limit_s=1.0)
    solver = p.summary["solver"]
    assert solver["stopped_by"] == "time limit" and solver["status"] == "feasible"
    assert solver["time_s"] <= 1.1 * 1.0 + 1.0
    assert solver["compile_s"] >= 0.0
