import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.simulate import host_load_kernel, host_stats_kernel
from helpers import replay_of, replay_on


def reference_host_load(demand, assignment, n_hosts):
    load = np.zeros((n_hosts, demand.shape[1]))
    for host in range(n_hosts):
        load[host] = demand[assignment == host].astype(np.float64).sum(axis=0)
    return load


@settings(max_examples=40, deadline=None)
@given(n_vms=st.integers(1, 30), n_steps=st.integers(1, 50), n_hosts=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_kernel_matches_numpy(n_vms, n_steps, n_hosts, seed):
    rng = np.random.default_rng(seed)
    demand = rng.random((n_vms, n_steps), dtype=np.float32) * 10
    assignment = rng.integers(-1, n_hosts, n_vms).astype(np.int64)
    np.testing.assert_allclose(host_load_kernel(demand, assignment, n_hosts), reference_host_load(demand, assignment, n_hosts), rtol=1e-12)


def test_overload_shares():
    demand = np.array([[1.0, 3.0, 5.0, 9.0]], dtype=np.float32)
    rep = replay_on(demand, np.array([0]), 1, 8.0, 0.5, np.array([2.0]), 10.0, 3600)
    # target 4 GHz: 5 and 9 are over (50 %); capacity 8: only 9 (25 %); 1 GHz unmet for one hour.
    assert rep.over_target_pct() == 50.0
    assert rep.over_capacity_pct() == 25.0
    assert rep.unmet_cpu_ghz_h() == 1.0
    np.testing.assert_array_equal(rep.mem_gb, [2.0])


# --- per-host statistics, figures and memory ----------------------------------------------------


def reference_host_stats(load, target_ghz, capacity_ghz):
    target_ghz, capacity_ghz = np.asarray(target_ghz)[:, None], np.asarray(capacity_ghz)[:, None]
    over = np.maximum(load - capacity_ghz, 0.0)
    return (
        (load > target_ghz).sum(axis=1),
        (load > capacity_ghz).sum(axis=1),
        over.sum(axis=1),
        load.max(axis=1, initial=0.0),
        load.sum(axis=1),
    )


@settings(max_examples=40, deadline=None)
@given(n_hosts=st.integers(0, 6), n_steps=st.integers(1, 60), target=st.floats(0.1, 1.0), seed=st.integers(0, 2**31))
def test_stats_kernel_matches_numpy(n_hosts, n_steps, target, seed):
    rng = np.random.default_rng(seed)
    capacity = rng.choice([6.0, 8.0, 10.0], n_hosts)  # hosts of different models
    load = rng.random((n_hosts, n_steps)) * 12.0
    load[:, ::7] = (capacity * target)[:, None]  # exactly at each host's target: not over
    got = host_stats_kernel(load, capacity * target, capacity)
    for a, b in zip(got, reference_host_stats(load, capacity * target, capacity)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_each_host_is_measured_against_its_own_capacity():
    load = [[7.0, 7.0], [7.0, 7.0], [4.0, 4.0]]
    rep = _rep(load, cpu_capacity_ghz=np.array([10.0, 8.0, 5.0]), mem_usable_gb=np.array([10.0, 4.0, 2.0]))
    # Targets 8, 6.4 and 4 GHz: host 1 is over its target, none over capacity; host 3 sits at its target.
    assert rep.over_target_pct() == 100 * 2 / 6 and rep.over_capacity_pct() == 0.0
    np.testing.assert_allclose(rep.cpu_util, np.array(load) / np.array([[10.0], [8.0], [5.0]]))
    fig = rep.figures(["a", "b", "c"])
    assert fig["worst_host"] == "b" and fig["worst_host_peak_pct"] == pytest.approx(87.5)
    assert fig["hosts_over_memory"] == ["b", "c"]  # 12 GB > 4 GB and 3 GB > 2 GB
    assert fig["cpu_util_mean_pct"] == pytest.approx(100 * np.mean([0.7, 0.875, 0.8]))


def _rep(load, **kw):
    args = dict(cpu_capacity_ghz=10.0, cpu_target=0.8, mem_gb=np.array([5.0, 12.0, 3.0]), mem_usable_gb=10.0, interval_s=1800)
    args.update(kw)
    return replay_of(load, args["cpu_capacity_ghz"], args["cpu_target"], args["mem_gb"], args["mem_usable_gb"], args["interval_s"])


def test_figures_name_the_worst_host_and_the_overcommit():
    load = [[1.0, 2.0, 3.0, 4.0], [9.0, 9.0, 11.0, 1.0], [8.5, 1.0, 1.0, 1.0]]
    fig = _rep(load).figures(["a", "b", "c"])
    assert fig["hosts"] == 3 and fig["host_intervals"] == 12
    assert fig["over_target_pct"] == 100 * 4 / 12  # 9, 9, 11 on b and 8.5 on c
    assert fig["over_capacity_pct"] == 100 * 1 / 12
    assert fig["unmet_cpu_ghz_h"] == 0.5  # 1 GHz over capacity for half an hour
    assert fig["worst_host"] == "b" and fig["worst_host_over_target_pct"] == 75.0
    assert fig["worst_host_peak_pct"] == 110.0 and fig["cpu_util_peak_pct"] == 110.0
    assert fig["hosts_over_target"] == 2 and fig["hosts_over_capacity"] == 1
    assert fig["hosts_over_memory"] == ["b"] and fig["mem_planned_max_pct"] == 120.0
    flat = np.array(load).ravel() / 10.0 * 100
    assert fig["cpu_util_mean_pct"] == pytest.approx(flat.mean())
    for q in (50, 95, 99):
        assert fig[f"cpu_util_p{q}_pct"] == pytest.approx(np.percentile(flat, q))
    assert "mem_used_peak_pct" not in fig


def test_worst_host_ties_go_to_the_highest_peak():
    load = [[9.0, 1.0], [9.5, 1.0], [1.0, 1.0]]
    assert _rep(load).worst_host() == 1


def test_memory_in_use_is_replayed_like_the_cpu():
    demand = np.ones((3, 4), dtype=np.float32)
    used = np.array([[1, 2, 3, 4], [5, 5, 5, 5], [9, 9, 9, 9]], dtype=np.float32)
    rep = replay_on(demand, np.array([0, 0, 1]), 2, 10.0, 0.8, np.array([4.0, 4.0, 4.0]), 10.0, 300, mem_used_gb=used)
    np.testing.assert_array_equal(rep.mem_used_gb, [[6, 7, 8, 9], [9, 9, 9, 9]])
    fig = rep.figures()
    assert fig["mem_used_peak_pct"] == 90.0 and fig["over_memory_pct"] == 0.0
    rep = replay_on(demand, np.array([0, 0, 0]), 1, 10.0, 0.8, np.array([4.0, 4.0, 4.0]), 10.0, 300, mem_used_gb=used)
    assert rep.figures()["over_memory_pct"] == 100.0  # 15 to 18 GB in use on 10 GB
    assert rep.figures()["hosts_over_memory"] == ["host-1"]  # 12 GB planned


def test_an_empty_replay_has_zero_figures():
    rep = replay_on(np.zeros((2, 3), dtype=np.float32), np.array([-1, -1]), 0, 10.0, 0.8, np.ones(2), 10.0, 300)
    fig = rep.figures()
    assert fig["hosts"] == 0 and fig["over_target_pct"] == 0.0 and fig["worst_host"] == ""


def test_allocations_grown_since_the_plan_are_reported(samples_dir):
    from consolidate.io import read_traces
    from consolidate.planner import plan
    from consolidate.simulate import simulate_placement

    inventory = pd.read_csv(samples_dir / "inventory.csv")
    traces = read_traces(samples_dir / "traces.csv", inventory=inventory)
    placement = plan(traces, sizing="p95").placement_frame()
    same = simulate_placement(traces, placement)
    assert same["servers_ram_grown"] == same["servers_cores_grown"] == 0 and same["servers_grown"] == []
    grown = inventory.copy()
    grown.loc[grown["server_id"] == "srv-0001", "ram_gb"] += 512.0
    grown.loc[grown["server_id"] == "srv-0002", "cores"] += 4
    grown.loc[grown["server_id"] == "srv-0002", "threads"] += 8
    later = read_traces(samples_dir / "traces.csv", inventory=grown)
    figures = simulate_placement(later, placement)
    assert figures["servers_ram_grown"] == 1 and figures["ram_grown_gb"] == pytest.approx(512.0)
    assert figures["servers_cores_grown"] == 1 and figures["cores_grown"] == pytest.approx(4.0)
    assert figures["servers_grown"] == ["srv-0001", "srv-0002"]
    host = placement.set_index("server_id").loc["srv-0001", "host_id"]
    assert figures["mem_planned_max_pct"] > same["mem_planned_max_pct"] and host in figures["hosts_over_memory"]
