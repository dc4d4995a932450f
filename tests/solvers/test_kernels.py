"""Every numba kernel of consolidate.solvers against a plain numpy (or Python) reference."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.solvers import bounds, feasibility, heuristics, localsearch


def random_instance(seed, n_vms=20, n_steps=12, n_hosts=None):
    rng = np.random.default_rng(seed)
    cpu = np.ascontiguousarray(rng.random((n_vms, n_steps), dtype=np.float32) * 4.0)
    mem = rng.random(n_vms) * 16.0
    return cpu, mem


# ---- plain references -------------------------------------------------------------------


def ref_loads(cpu, mem, assignment, n_hosts):
    load = np.zeros((n_hosts, cpu.shape[1]))
    load_gb = np.zeros(n_hosts)
    for h in range(n_hosts):
        load[h] = cpu[assignment == h].astype(np.float64).sum(axis=0)
        load_gb[h] = mem[assignment == h].sum()
    return load, load_gb


def ref_fits(cpu, mem, i, load, load_gb, h, cpu_cap, mem_cap):
    return load_gb[h] + mem[i] <= mem_cap and bool(np.all(load[h] + cpu[i].astype(np.float64) <= cpu_cap))


def ref_first_fit(cpu, mem, order, cpu_cap, mem_cap):
    n = cpu.shape[0]
    load = np.zeros((n, cpu.shape[1]))
    load_gb = np.zeros(n)
    assignment = np.full(n, -1, dtype=np.int32)
    n_hosts = 0
    for i in order:
        h = next((h for h in range(n_hosts) if ref_fits(cpu, mem, i, load, load_gb, h, cpu_cap, mem_cap)), n_hosts)
        n_hosts = max(n_hosts, h + 1)
        load[h] += cpu[i]
        load_gb[h] += mem[i]
        assignment[i] = h
    return assignment


def ref_best_fit(cpu, mem, order, cpu_cap, mem_cap):
    n, n_steps = cpu.shape
    load = np.zeros((n, n_steps))
    load_gb = np.zeros(n)
    assignment = np.full(n, -1, dtype=np.int32)
    n_hosts = 0
    for i in order:
        fill = [
            (load[h].sum() + cpu[i].astype(np.float64).sum()) / (cpu_cap * n_steps) + (load_gb[h] + mem[i]) / mem_cap
            if ref_fits(cpu, mem, i, load, load_gb, h, cpu_cap, mem_cap)
            else -np.inf
            for h in range(n_hosts)
        ]
        h = int(np.argmax(fill)) if fill and max(fill) > -np.inf else n_hosts
        n_hosts = max(n_hosts, h + 1)
        load[h] += cpu[i]
        load_gb[h] += mem[i]
        assignment[i] = h
    return assignment


def ref_bin_centric(cpu, mem, order, cpu_cap, mem_cap, use_l2, window):
    n, n_steps = cpu.shape
    assignment = np.full(n, -1, dtype=np.int32)
    pending = list(order)
    host = 0
    while pending:
        load = np.zeros(n_steps)
        load_gb = 0.0
        placed = 0
        while True:
            scores = []
            for pos, i in enumerate(pending):
                if load_gb + mem[i] > mem_cap or np.any(load + cpu[i].astype(np.float64) > cpu_cap):
                    continue
                free_cpu = (cpu_cap - load) / cpu_cap
                item_cpu = cpu[i].astype(np.float64) / cpu_cap
                free_gb = (mem_cap - load_gb) / mem_cap
                item_gb = mem[i] / mem_cap
                if use_l2:
                    score = (free_gb - item_gb) ** 2 + np.mean((free_cpu - item_cpu) ** 2)
                else:
                    score = -(free_gb * item_gb + np.mean(free_cpu * item_cpu))
                scores.append((score, pos))
                if len(scores) >= window:
                    break
            if not scores:
                break
            _, pos = min(scores)
            i = pending.pop(pos)
            load += cpu[i]
            load_gb += mem[i]
            assignment[i] = host
            placed += 1
        if placed == 0:
            break
        host += 1
    return assignment


def ref_l2(sizes, cap):
    """Martello–Toth L2 straight from its definition, over every candidate threshold."""
    sizes = np.asarray(sizes, dtype=np.float64)
    best = 0
    for k in np.unique(np.concatenate([sizes[(sizes > 0) & (sizes <= cap / 2)], [cap / 2]])):
        j1 = sizes[sizes > cap - k]
        j2 = sizes[(sizes > cap / 2) & (sizes <= cap - k)]
        j3 = sizes[(sizes >= k) & (sizes <= cap / 2)]
        extra = (j3.sum() - (len(j2) * cap - j2.sum())) / cap
        value = len(j1) + len(j2) + (int(np.ceil(extra * (1 - 1e-9))) if extra > 0 else 0)
        if len(j1) + len(j2) > 0:
            best = max(best, value)
    return best


def ref_overflow(load_row, steps, load_gb, cpu_cap, mem_cap, weight_row=None, weight_gb=1.0):
    weight_row = np.ones_like(load_row) if weight_row is None else weight_row
    over = np.maximum(load_row[steps] - cpu_cap, 0.0)
    return float((weight_row[steps] * over).sum() / cpu_cap + weight_gb * max(load_gb - mem_cap, 0.0) / mem_cap)


# ---- feasibility -------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n_hosts=st.integers(1, 5))
def test_host_loads_and_worst_steps_match_numpy(seed, n_hosts):
    cpu, mem = random_instance(seed)
    assignment = np.random.default_rng(seed).integers(-1, n_hosts, cpu.shape[0]).astype(np.int32)
    load, load_gb = feasibility.host_loads(cpu, mem, assignment, n_hosts)
    ref_load, ref_gb = ref_loads(cpu, mem, assignment, n_hosts)
    np.testing.assert_allclose(load, ref_load, rtol=1e-12)
    np.testing.assert_allclose(load_gb, ref_gb, rtol=1e-12)
    cap = float(np.median(ref_load)) if ref_load.size else 1.0
    worst = feasibility.worst_steps(load, cap)
    expected = np.where(ref_load.max(axis=1) > cap, ref_load.argmax(axis=1), -1)
    np.testing.assert_array_equal(worst, expected)


# ---- heuristics --------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_item_peaks_fits_and_place_match_numpy(seed):
    cpu, mem = random_instance(seed)
    peak, arg = heuristics.item_peaks(cpu)
    np.testing.assert_array_equal(peak, cpu.max(axis=1).astype(np.float64))
    np.testing.assert_array_equal(arg, cpu.argmax(axis=1))
    load = np.zeros((2, cpu.shape[1]))
    load_gb = np.zeros(2)
    host_peak = np.zeros(2)
    host_arg = np.zeros(2, dtype=np.int64)
    cpu_cap, mem_cap = 9.0, 40.0
    for i in range(cpu.shape[0]):
        expected = ref_fits(cpu, mem, i, load, load_gb, 0, cpu_cap, mem_cap)
        got = heuristics.fits(cpu, mem, i, 0, load, load_gb, host_peak, host_arg, peak, arg, cpu_cap, mem_cap)
        assert got == expected
        if got:
            before = load[0].copy()
            heuristics.place(cpu, mem, i, 0, load, load_gb, host_peak, host_arg)
            np.testing.assert_array_equal(load[0], before + cpu[i])
            assert host_peak[0] == load[0].max() and host_arg[0] == load[0].argmax()


@pytest.mark.parametrize("key", heuristics.SORT_KEYS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_first_and_best_fit_match_reference(key, seed):
    cpu, mem = random_instance(seed, n_vms=25)
    cpu_cap, mem_cap = 8.0, 40.0
    order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, key)
    np.testing.assert_array_equal(heuristics.first_fit(cpu, mem, order, cpu_cap, mem_cap), ref_first_fit(cpu, mem, order, cpu_cap, mem_cap))
    np.testing.assert_array_equal(heuristics.best_fit(cpu, mem, order, cpu_cap, mem_cap), ref_best_fit(cpu, mem, order, cpu_cap, mem_cap))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_row_stats_match_numpy(seed):
    cpu, _ = random_instance(seed)
    peak, mean, mean_sq = heuristics.row_stats(cpu)
    wide = cpu.astype(np.float64)
    np.testing.assert_array_equal(peak, wide.max(axis=1))
    np.testing.assert_allclose(mean, wide.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(mean_sq, (wide * wide).mean(axis=1), rtol=1e-12)


def test_sort_keys_rank_by_their_size():
    cpu = np.array([[1.0, 1.0], [0.0, 3.0], [2.0, 2.0]], dtype=np.float32)
    mem = np.zeros(3)
    np.testing.assert_array_equal(heuristics.sort_order(cpu, mem, 4.0, 1.0, "peak"), [1, 2, 0])
    np.testing.assert_array_equal(heuristics.sort_order(cpu, mem, 4.0, 1.0, "sum"), [2, 1, 0])
    # sqrt(mean([0, 9/16])) = 0.53 beats sqrt(mean([1/4, 1/4])) = 0.5
    np.testing.assert_array_equal(heuristics.sort_order(cpu, mem, 4.0, 1.0, "l2"), [1, 2, 0])
    with pytest.raises(ValueError):
        heuristics.sort_order(cpu, mem, 4.0, 1.0, "volume")


@pytest.mark.parametrize("use_l2", [False, True])
@pytest.mark.parametrize("window", [1, 3, 64])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_bin_centric_matches_reference(use_l2, window, seed):
    cpu, mem = random_instance(seed, n_vms=18)
    cpu_cap, mem_cap = 8.0, 40.0
    order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, "l2")
    got = heuristics.bin_centric_fit(cpu, mem, order, cpu_cap, mem_cap, use_l2, window)
    np.testing.assert_array_equal(got, ref_bin_centric(cpu, mem, order, cpu_cap, mem_cap, use_l2, window))


# ---- bounds ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_l2_kernel_matches_definition(sizes):
    assert bounds.l2_bound(np.array(sizes), 1.0) == ref_l2(sizes, 1.0)


# ---- local search ------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_local_search_pieces_match_numpy(seed):
    rng = np.random.default_rng(seed)
    cpu_full, mem = random_instance(seed, n_vms=12, n_steps=10)
    n_hosts = 3
    assignment = rng.integers(0, n_hosts, cpu_full.shape[0]).astype(np.int32)
    # The kernels work on the checked steps as compact columns (plus unused spare columns).
    steps = np.sort(rng.choice(cpu_full.shape[1], 6, replace=False))
    n_steps = len(steps)
    cpu = np.zeros((cpu_full.shape[0], 8), dtype=np.float32)
    cpu[:, :n_steps] = cpu_full[:, steps]
    load, load_gb = ref_loads(cpu, mem, assignment, n_hosts)
    weight = 1.0 + rng.random((n_hosts, 8)) * 3
    weight_gb = 1.0 + rng.random(n_hosts)
    cpu_cap, mem_cap = 9.0, 50.0
    used = np.arange(n_steps)
    for h in range(n_hosts):
        got = localsearch.overflow_of(load[h], weight[h], n_steps, load_gb[h], weight_gb[h], cpu_cap, mem_cap)
        assert got == pytest.approx(ref_overflow(load[h], used, load_gb[h], cpu_cap, mem_cap, weight[h], weight_gb[h]), rel=1e-12, abs=1e-15)
        assert localsearch.peak_on(load[h], n_steps) == load[h][:n_steps].max()
    host_peak = load[:, :n_steps].max(axis=1)
    item_peak = cpu[:, :n_steps].max(axis=1).astype(np.float64)
    for i in range(cpu.shape[0]):
        h = assignment[i]
        g = (h + 1) % n_hosts
        moved = load[g] + cpu[i]
        expected_add = ref_overflow(moved, used, load_gb[g] + mem[i], cpu_cap, mem_cap, weight[g], weight_gb[g]) - ref_overflow(
            load[g], used, load_gb[g], cpu_cap, mem_cap, weight[g], weight_gb[g]
        )
        got_add = localsearch.add_cost(cpu, mem, i, g, load, load_gb, weight, weight_gb, host_peak, item_peak, n_steps, cpu_cap, mem_cap, np.inf)
        assert got_add == pytest.approx(expected_add, rel=1e-9, abs=1e-12)
        # VM i of host h swapped for a VM of host g, and VM i leaving alone.
        j = int(np.flatnonzero(assignment == g)[0]) if np.any(assignment == g) else -1
        for in_j in {j, -1}:
            after = load[h] - cpu[i] + (cpu[in_j] if in_j >= 0 else 0.0)
            after_gb = load_gb[h] - mem[i] + (mem[in_j] if in_j >= 0 else 0.0)
            got = localsearch.exchange_over(cpu, mem, i, in_j, h, load, load_gb, weight, weight_gb, n_steps, cpu_cap, mem_cap)
            assert got == pytest.approx(ref_overflow(after, used, after_gb, cpu_cap, mem_cap, weight[h], weight_gb[h]), rel=1e-9, abs=1e-12)


def test_local_search_reports_a_plan_the_numpy_replay_accepts():
    cpu, mem = random_instance(3, n_vms=40, n_steps=30)
    cpu_cap = float(cpu.sum(axis=0, dtype=np.float64).max()) / 4.4
    mem_cap = 1e6
    order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, "l2")
    start = np.full(cpu.shape[0], -1, dtype=np.int32)
    steps0 = np.arange(3, dtype=np.int64)
    runs = [localsearch.local_search(cpu, mem, start, order, 5, cpu_cap, mem_cap, steps0, 7, 1e8, np.inf) for _ in range(2)]
    plan, feasible, work, steps = runs[0]
    assert feasible
    load, load_gb = ref_loads(cpu, mem, plan, 5)
    assert load.max() <= cpu_cap and load_gb.max() <= mem_cap
    assert set(steps0) <= set(steps.tolist())
    np.testing.assert_array_equal(plan, runs[1][0])
    assert work == runs[1][2]


def test_local_search_stops_at_its_budget_when_the_count_is_too_small():
    cpu = np.full((3, 2), 0.6, dtype=np.float32)
    order = np.arange(3, dtype=np.int64)
    runs = [
        localsearch.local_search(
            cpu, np.zeros(3), np.full(3, -1, dtype=np.int32), order, 2, 1.0, 1.0, np.arange(2, dtype=np.int64), 0, budget, np.inf
        )
        for budget in (1e4, 1e5)
    ]
    for (plan, feasible, work, _), budget in zip(runs, (1e4, 1e5)):
        assert not feasible
        assert budget <= work < budget * 1.1
        assert set(plan.tolist()) <= {0, 1}


def test_violated_steps_and_column_growth_match_numpy():
    rng = np.random.default_rng(4)
    load = rng.random((5, 30)) * 2.0
    in_set = np.zeros(30, dtype=np.bool_)
    in_set[load[0].argmax()] = True  # already checked: not returned again
    fresh = localsearch._violated_steps(load, 1.5, in_set)
    over = load.max(axis=1) > 1.5
    expected = [t for t in dict.fromkeys(load.argmax(axis=1)[over].tolist()) if t != load[0].argmax()]
    assert fresh.tolist() == expected
    assert in_set[fresh].all()
    grown = localsearch._grow_columns(load, 45)
    assert grown.shape == (5, 60)
    np.testing.assert_array_equal(grown[:, :30], load)
    assert localsearch._grow_columns(load, 20) is load
