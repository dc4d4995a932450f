"""Single-host failures: the numba kernel against a plain numpy version, and hand-checked cases
(hosts of 10 GHz, target 0.8 = 8 GHz, 10 GB; four half-hour steps)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.failover import failover, failover_kernel, n_plus_1_holds
from helpers import replay_of, replay_on, workload


def reference_failover(cpu, mem, assignment, order, load, load_gb, target, cap, mem_usable, k):
    n_hosts = load.shape[0]
    target, cap, mem_usable = (np.broadcast_to(np.asarray(x, dtype=np.float64), (n_hosts,)) for x in (target, cap, mem_usable))
    by_peak = np.argsort(load.max(axis=1), kind="mergesort")
    out = [np.zeros(n_hosts, dtype=np.int64), np.zeros(n_hosts, dtype=np.int64), np.zeros(n_hosts), np.zeros(n_hosts), np.zeros(n_hosts)]
    for f in range(n_hosts):
        cand = [h for h in by_peak if h != f][: min(k, n_hosts - 1)]
        rows, rows_gb = load[cand].copy(), load_gb[cand].copy()
        c_target, c_cap, c_mem = target[cand], cap[cand][:, None], mem_usable[cand]
        for i in order:
            if assignment[i] != f:
                continue
            peaks = (rows + cpu[i]).max(axis=1)
            room = rows_gb + mem[i] <= c_mem
            fit = room & (peaks <= c_target)
            if fit.any():
                dest = int(np.argmax(np.where(fit, peaks, -np.inf)))
            elif room.any():
                dest = int(np.argmin(np.where(room, peaks, np.inf)))
            else:
                dest = int(np.argmin(rows_gb))
            rows[dest] += cpu[i]
            rows_gb[dest] += mem[i]
        before = load[cand]
        t = c_target[:, None]
        out[0][f] = ((rows > t) & ~(before > t)).sum()
        out[1][f] = ((rows > c_cap) & ~(before > c_cap)).sum()
        out[2][f] = np.where(rows > c_cap, rows - np.maximum(before, c_cap), 0.0).sum()
        out[3][f] = np.maximum(rows - np.maximum(before, t), 0.0).sum(axis=0).max(initial=0.0)
        over = rows_gb > c_mem
        out[4][f] = (rows_gb - np.maximum(load_gb[cand], c_mem))[over].sum()
    return out


@settings(max_examples=40, deadline=None)
@given(n_vms=st.integers(2, 20), n_steps=st.integers(1, 30), n_hosts=st.integers(2, 6), k=st.integers(1, 6),
       seed=st.integers(0, 2**31))
def test_kernel_matches_numpy(n_vms, n_steps, n_hosts, k, seed):
    rng = np.random.default_rng(seed)
    cpu = np.round(rng.random((n_vms, n_steps)) * 5, 1).astype(np.float32)
    mem = rng.integers(1, 8, n_vms).astype(np.float64)
    assignment = rng.integers(-1, n_hosts, n_vms).astype(np.int64)
    order = np.argsort(-cpu.max(axis=1), kind="stable").astype(np.int64)
    # Hosts of two models: a failed host's VMs may go to a survivor of either.
    cap = rng.choice([7.0, 10.0], n_hosts)
    mem_usable = np.where(cap > 8.0, 12.0, 8.0)
    rep = replay_on(cpu, assignment, n_hosts, cap, 0.8, mem, mem_usable, 300)
    args = (cpu, mem, assignment, order, rep.cpu_ghz, rep.mem_gb, 0.8 * cap, cap, mem_usable, k)
    got = failover_kernel(*args)
    want = reference_failover(*args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def plan_of(per_vm_ghz, assignment, n_hosts, steps=4, mem_gb=None):
    cpu = np.tile(np.asarray(per_vm_ghz, dtype=np.float32)[:, None], (1, steps))
    mem = np.ones(len(per_vm_ghz)) if mem_gb is None else np.asarray(mem_gb, dtype=np.float64)
    assignment = np.asarray(assignment)
    return cpu, mem, assignment, replay_on(cpu, assignment, n_hosts, 10.0, 0.8, mem, 10.0, 1800)


def test_absorbed_failures_do_not_overload():
    cpu, mem, assignment, rep = plan_of([3.0, 3.0, 3.0, 3.0], [0, 0, 1, 2], 3)
    out = failover(workload(cpu, mem), assignment, rep, ["a", "b", "c"])
    assert out["n_plus_1_holds"] and n_plus_1_holds(workload(cpu, mem), assignment, rep)
    assert out["failures_overloading"] == [] and out["spare_hosts_n_plus_1"] == 0 and out["worst_failure"] == ""
    a = out["per_host"][0]
    # a's two VMs go to b and c (3 + 3 = 6 GHz each: within the 8 GHz target).
    assert a == {"host_id": "a", "vms": 2, "over_target_pct": 0.0, "over_capacity_pct": 0.0, "unmet_cpu_ghz_h": 0.0,
                 "cpu_short_ghz": 0.0, "mem_short_gb": 0.0, "overloads": False}


def test_a_survivor_over_its_target_is_an_overload_though_within_capacity():
    # 5 + 5 = 10 GHz on the survivor: over its 8 GHz target at every step, not over its 10 GHz capacity.
    cpu, mem, assignment, rep = plan_of([5.0, 5.0], [0, 1], 2)
    out = failover(workload(cpu, mem), assignment, rep, ["a", "b"])
    assert not out["n_plus_1_holds"] and not n_plus_1_holds(workload(cpu, mem), assignment, rep)
    assert out["failures_overloading"] == ["a", "b"] and out["failures_over_capacity"] == []
    assert out["per_host"][0]["over_target_pct"] == 100.0 and out["per_host"][0]["over_capacity_pct"] == 0.0
    assert out["spare_cpu_ghz"] == pytest.approx(2.0)  # 10 - 8 GHz
    # one empty spare takes the failed host's 5 GHz within its target
    assert out["spare_hosts_n_plus_1"] == 1 and out["spare_hosts_enough"] and out["spare_host_model"] == "test-host"


def test_a_failure_over_capacity_is_reported_apart():
    cpu, mem, assignment, rep = plan_of([6.0, 6.0, 6.0], [0, 1, 2], 3)
    out = failover(workload(cpu, mem), assignment, rep, ["a", "b", "c"])
    assert out["failures_overloading"] == ["a", "b", "c"] == out["failures_over_capacity"]
    row = out["per_host"][1]
    # 6 + 6 = 12 GHz on one of the two survivors, at every step: over the target and the capacity
    assert row["over_capacity_pct"] == 50.0 and row["over_target_pct"] == 50.0
    assert row["unmet_cpu_ghz_h"] == pytest.approx(2.0 * 4 * 0.5)  # 2 GHz x 4 half-hours
    assert row["cpu_short_ghz"] == pytest.approx(4.0) == out["spare_cpu_ghz"]  # 12 - 8 GHz
    assert out["spare_hosts_n_plus_1"] == 1 and out["worst_failure"] == "a"


def test_memory_that_does_not_fit_is_a_shortfall():
    cpu, mem, assignment, rep = plan_of([1.0, 1.0], [0, 1], 2, mem_gb=[7.0, 6.0])
    out = failover(workload(cpu, mem), assignment, rep)
    assert out["failures_overloading"] == ["host-1", "host-2"] and out["failures_over_capacity"] == []
    assert [r["mem_short_gb"] for r in out["per_host"]] == [3.0, 3.0]  # 13 GB on 10
    assert out["spare_mem_gb"] == 3.0 and out["spare_hosts_n_plus_1"] == 1


def test_a_host_already_over_its_target_needs_two_spares():
    # a and b each carry 5 + 5 = 10 GHz (over the target, within capacity). When a fails, one empty
    # spare would carry 10 GHz over its target where it was idle; two spares take 5 GHz each.
    cpu, mem, assignment, rep = plan_of([5.0, 5.0, 5.0, 5.0], [0, 0, 1, 1], 2)
    out = failover(workload(cpu, mem), assignment, rep, ["a", "b"])
    assert out["failures_over_capacity"] == ["a", "b"]  # without spares: 15 GHz on the survivor
    assert out["spare_hosts_n_plus_1"] == 2 and out["spare_hosts_enough"]


def test_a_vm_over_the_target_on_its_own_no_spare_helps():
    cpu, mem, assignment, rep = plan_of([9.0, 1.0], [0, 1], 2)
    out = failover(workload(cpu, mem), assignment, rep, ["a", "b"])
    assert out["failures_overloading"] == ["a"]  # b's 1 GHz fits a (10 GHz: over a's target already)
    assert out["spare_hosts_n_plus_1"] == 1 and not out["spare_hosts_enough"]


def test_one_host_needs_a_whole_spare():
    cpu, mem, assignment, rep = plan_of([4.0], [0], 1)
    out = failover(workload(cpu, mem), assignment, rep)
    assert out["spare_hosts_n_plus_1"] == 1 and out["failures_overloading"] == ["host-1"] and not out["n_plus_1_holds"]
    assert out["spare_cpu_ghz"] == 4.0 and out["spare_hosts_enough"]
    assert out["per_host"][0]["unmet_cpu_ghz_h"] == pytest.approx(4.0 * 4 * 0.5)  # every VM down


def test_no_hosts_hold_trivially():
    cpu, mem, assignment, rep = plan_of([4.0], [-1], 0)
    out = failover(workload(cpu, mem), assignment, rep)
    assert out["n_plus_1_holds"] and out["spare_hosts_n_plus_1"] == 0 and out["per_host"] == []


@settings(max_examples=30, deadline=None)
@given(n_vms=st.integers(2, 14), n_hosts=st.integers(2, 5), seed=st.integers(0, 2**31))
def test_the_spare_hosts_make_every_failure_hold(n_vms, n_hosts, seed):
    """Adding ``spare_hosts_n_plus_1`` empty hosts to the plan makes N+1 hold, one fewer does not."""
    rng = np.random.default_rng(seed)
    cpu = np.round(rng.random((n_vms, 6)) * 4, 1).astype(np.float32)
    mem = rng.integers(1, 4, n_vms).astype(np.float64)
    assignment = rng.integers(0, n_hosts, n_vms).astype(np.int64)
    rep = replay_on(cpu, assignment, n_hosts, 10.0, 0.8, mem, 10.0, 300)
    out = failover(workload(cpu, mem, 300), assignment, rep)
    if not out["spare_hosts_enough"]:
        return

    def holds_with(spares):
        load = np.vstack([rep.cpu_ghz, np.zeros((spares, 6))])
        padded = replay_of(load, 10.0, 0.8, np.r_[rep.mem_gb, np.zeros(spares)], 10.0, 300)
        return n_plus_1_holds(workload(cpu, mem, 300), assignment, padded)

    k = out["spare_hosts_n_plus_1"]
    assert holds_with(k) and out["n_plus_1_holds"] == (k == 0)
    assert k == 0 or not holds_with(k - 1)
