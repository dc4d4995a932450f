import numpy as np
from hypothesis import given, settings, strategies as st

from consolidate.simulate import host_load_kernel, replay


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
    rep = replay(demand, np.array([0]), 1, cpu_capacity_ghz=8.0, cpu_target=0.5, mem_gb=np.array([2.0]), mem_usable_gb=10.0, interval_s=3600)
    # target 4 GHz: 5 and 9 are over (50 %); capacity 8: only 9 (25 %); 1 GHz unmet for one hour.
    assert rep.over_target_pct() == 50.0
    assert rep.over_capacity_pct() == 25.0
    assert rep.unmet_cpu_ghz_h() == 1.0
    np.testing.assert_array_equal(rep.mem_gb, [2.0])
