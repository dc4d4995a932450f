"""The LP bound by column generation: below the LP and integer optima, above the volume bounds where
they are weak, its greedy kernel against a plain reference, deterministic, safe on exact fits."""

import itertools

import numpy as np
import pytest
from ortools.linear_solver import pywraplp

from consolidate.solvers import colgen
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.colgen import greedy_columns, lp_bound
from consolidate.solvers.pipeline import solve


def fits(cpu, mem, members, cpu_cap, mem_cap) -> bool:
    rows = list(members)
    return bool(cpu[rows].astype(np.float64).sum(axis=0).max() <= cpu_cap and mem[rows].astype(np.float64).sum() <= mem_cap)


def feasible_sets(cpu, mem, cpu_cap, mem_cap) -> list[tuple[int, ...]]:
    n = cpu.shape[0]
    return [s for k in range(1, n + 1) for s in itertools.combinations(range(n), k) if fits(cpu, mem, s, cpu_cap, mem_cap)]


def integer_optimum(cpu, mem, cpu_cap, mem_cap) -> int:
    """Fewest hosts, by a DP over subsets of VMs (a set's host holds its lowest VM)."""
    n = cpu.shape[0]
    ok = {sum(1 << i for i in s) for s in feasible_sets(cpu, mem, cpu_cap, mem_cap)}
    best = [0] + [n + 1] * ((1 << n) - 1)
    for mask in range(1, 1 << n):
        low = mask & -mask
        sub = mask
        while sub:
            if sub & low and sub in ok:
                best[mask] = min(best[mask], best[mask ^ sub] + 1)
            sub = (sub - 1) & mask
    return best[-1]


def lp_optimum(cpu, mem, cpu_cap, mem_cap) -> float:
    """The set-cover LP over every feasible set, by GLOP outside the project's code."""
    sets = feasible_sets(cpu, mem, cpu_cap, mem_cap)
    lp = pywraplp.Solver.CreateSolver("GLOP")
    x = [lp.NumVar(0.0, lp.infinity(), "") for _ in sets]
    for i in range(cpu.shape[0]):
        lp.Add(sum(x[c] for c, s in enumerate(sets) if i in s) >= 1.0)
    lp.Minimize(sum(x))
    assert lp.Solve() == pywraplp.Solver.OPTIMAL
    return lp.Objective().Value()


@pytest.mark.parametrize("seed", range(8))
def test_farley_is_below_the_lp_which_is_below_the_integer_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 9))
    cpu = np.ascontiguousarray(rng.uniform(0.05, 0.6, (n, 6)).astype(np.float32))
    mem = rng.uniform(0.0, 0.5, n)
    bound = lp_bound(cpu, mem, 1.0, 1.0, seed=seed)
    lp, opt = lp_optimum(cpu, mem, 1.0, 1.0), integer_optimum(cpu, mem, 1.0, 1.0)
    assert bound.farley <= lp + 1e-9 and lp <= opt + 1e-9 and bound.hosts <= opt
    # Six steps are all in S and the pricing is exact on so few VMs: the LP is solved.
    assert bound.converged and bound.steps == 6 and bound.farley == pytest.approx(lp, rel=1e-4)


def crafted():
    """Five VMs at 3/8 of a host at step 0 (three never share a host: 3 hosts, LP 2.5) and a
    shifting pattern after it; no VM above half a host, so L2 and the clique see nothing. The
    eighths are exact in float: the volume bound is ceil(1.875) = 2."""
    cpu = np.array([[3, 1, 2], [3, 2, 1], [3, 1, 1], [3, 1, 2], [3, 2, 1]], dtype=np.float32) / 8
    return cpu, np.ones(5)


def test_the_lp_bound_beats_the_volume_and_large_items_bounds():
    cpu, mem = crafted()
    assert lower_bounds(cpu, mem, 1.0, 10.0).value == 2
    bound = lp_bound(cpu, mem, 1.0, 10.0)
    assert bound.farley == pytest.approx(2.5, rel=1e-4) and bound.hosts == 3 == integer_optimum(cpu, mem, 1.0, 10.0)


def test_exact_fits_do_not_raise_the_bound():
    # Four VMs of a quarter host at every step fill two hosts exactly (sums exact in float).
    cpu = np.full((8, 5), 0.25, dtype=np.float32)
    mem = np.full(8, 1.25)  # four fill the memory exactly too
    bound = lp_bound(cpu, mem, 1.0, 5.0)
    assert bound.hosts == 2 == integer_optimum(cpu, mem, 1.0, 5.0)
    assert bound.farley <= 2.0


def test_same_seed_same_bound():
    rng = np.random.default_rng(5)
    cpu = np.ascontiguousarray(rng.uniform(0.05, 0.45, (60, 40)).astype(np.float32))
    mem = np.ones(60)
    plan = solve(cpu, mem, 1.0, 100.0, method="ffd").assignment
    first, second = (lp_bound(cpu, mem, 1.0, 100.0, plan=plan, max_iterations=15, seed=3) for _ in range(2))
    assert {**vars(first), "seconds": 0} == {**vars(second), "seconds": 0}


def test_steps_are_the_busiest_and_each_large_vms_peak():
    cpu = np.zeros((3, 10), dtype=np.float32)
    cpu[0, 7] = 0.9  # large, its peak at step 7
    cpu[1, :] = 0.2  # small
    cpu[2, 2] = 0.1
    assert list(colgen.lp_steps(cpu, 1.0, count=1)) == [7]
    assert list(colgen.lp_steps(cpu, 1.0, count=2)) == [2, 7]


def ref_greedy_columns(weight, mem, cpu_cap, mem_cap, order, seeds):
    out = np.zeros((len(seeds), weight.shape[0]), dtype=np.uint8)
    for c, j in enumerate(seeds):
        members = [j]
        for i in order:
            if i not in members and fits(weight, mem, members + [i], cpu_cap, mem_cap):
                members.append(i)
        out[c, members] = 1
    return out


@pytest.mark.parametrize("seed", range(5))
def test_greedy_columns_equal_the_reference(seed):
    rng = np.random.default_rng(seed)
    weight = rng.uniform(0.0, 0.5, (30, 7))
    mem = rng.uniform(0.0, 0.4, 30)
    order = rng.permutation(30)[:25]
    seeds = rng.permutation(30)[:6]
    got = greedy_columns(weight, mem, 1.0, 1.0, order, seeds)
    assert np.array_equal(got, ref_greedy_columns(weight, mem, 1.0, 1.0, order, seeds))
    assert all(fits(weight, mem, np.flatnonzero(col), 1.0, 1.0) for col in got)


def test_a_pricing_stopped_before_its_first_solution_still_bounds_every_column():
    # CP-SAT reports a bound of 0 when its budget ends before a solution; the bound must not drop.
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.01, 0.3, (1000, 100))
    mem, duals = np.zeros(1000), rng.uniform(0.0, 1.0, 1000)
    hint = greedy_columns(weight, mem, 1.0, 1.0, np.argsort(-duals / weight.mean(axis=1)), np.array([int(np.argmax(duals))]))[0]
    upper, _ = colgen._price_exact(weight, mem, 1.0, 1.0, duals, hint, 0, 1e-6, 1e-4)
    assert upper >= hint @ duals


def test_dantzig_bound_is_the_tightest_row_fractional_knapsack():
    weight = np.array([[0.5, 0.1], [0.5, 0.1], [0.5, 0.9]])
    duals = np.array([1.0, 1.0, 2.0])
    # Step 0 holds two of the three (value 3: VM 2 and one other); step 1 holds all three (4).
    assert colgen.dantzig_bound(weight, np.zeros(3), 1.0, 1.0, duals) == pytest.approx(3.0)


def test_the_lp_proves_a_plan_optimal_where_the_volume_bound_is_five_hosts_short():
    # 40 VMs of 10-55 % of a host at each of 24 steps: three rarely fit together at every step.
    rng = np.random.default_rng(1)
    cpu = np.ascontiguousarray(rng.uniform(0.1, 0.55, (40, 24)).astype(np.float32))
    mem = np.ones(40)
    plan = solve(cpu, mem, 1.0, 100.0, method="heuristics")
    bound = lp_bound(cpu, mem, 1.0, 100.0, plan=plan.assignment)
    assert lower_bounds(cpu, mem, 1.0, 100.0).value == 15
    assert bound.converged and bound.hosts == plan.n_hosts == 20
