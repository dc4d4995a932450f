import numpy as np
import pytest
from hypothesis import given, strategies as st

from consolidate.errors import InputError
from consolidate.models.hardware import busy_cores, cpu_demand_ghz, host_cpu_ghz, parse_host_spec


def test_without_smt_demand_is_pct_times_cores_times_ghz():
    cpu_pct = np.array([[0.0, 12.5, 100.0], [50.0, 7.0, 33.3]])
    cores = np.array([4.0, 16.0])
    ghz = np.array([2.5, 2.0])
    demand = cpu_demand_ghz(cpu_pct, cores, cores, ghz, np.ones(2), smt_gain=0.0)
    expected = cpu_pct / 100 * cores[:, None] * ghz[:, None]
    np.testing.assert_allclose(demand, expected, rtol=1e-12)


def test_hyperthreaded_source_fills_physical_cores_first():
    # 8 cores / 16 threads: 25 % of logical CPUs = 4 threads busy -> 4 physical cores.
    busy = busy_cores(np.array([[25.0, 50.0, 75.0, 100.0]]), np.array([8.0]), np.array([16.0]), smt_gain=0.25)
    # 50 %: all 8 cores busy; 75 %: 8 + 0.25 * 4 = 9; 100 %: 8 + 0.25 * 8 = 10.
    np.testing.assert_allclose(busy[0], [4.0, 8.0, 9.0, 10.0])


def test_host_capacity_formula():
    from consolidate.models.hardware import HostModel, linear_curve_w

    host = HostModel("h", cores=64, threads=128, ghz=2.6, ram_gb=768, power_curve_w=linear_curve_w(100, 500), perf=1.1)
    assert host_cpu_ghz(host, smt_gain=0.25, cpu_overhead=0.05) == pytest.approx(64 * 2.6 * 1.1 * 1.25 * 0.95)
    no_smt = HostModel("h", cores=16, threads=16, ghz=2.5, ram_gb=256, power_curve_w=linear_curve_w(100, 500))
    assert host_cpu_ghz(no_smt, smt_gain=0.25) == pytest.approx(40.0)


@given(
    u=st.floats(0, 100),
    cores=st.integers(1, 64),
    k=st.integers(1, 4),
    gain=st.floats(0, 1),
)
def test_busy_cores_bounded_and_monotone_in_load(u, cores, k, gain):
    threads = cores * k
    lo, hi = busy_cores(np.array([[u, min(100.0, u + 1.0)]]), np.array([cores]), np.array([threads]), gain)[0]
    assert 0.0 <= lo <= hi + 1e-12
    assert hi <= cores * (1 + gain) + 1e-9


@pytest.mark.parametrize(
    "spec, message",
    [
        ("cores=64,ghz=2.6,ram_gb=768,idle_w=100", "missing max_w"),
        ("cores=64,ghz=fast,ram_gb=768,idle_w=100,max_w=500", "not a number"),
        ("cores=64;ghz=2.6", "not a number"),
        ("cores=-4,ghz=2.6,ram_gb=768,idle_w=100,max_w=500", "positive"),
        ("cores=64,threads=32,ghz=2.6,ram_gb=768,idle_w=100,max_w=500", "threads >= cores"),
        ("cores=64,ghz=2.6,ram_gb=768,idle_w=500,max_w=100", "at least idle_w"),
        ("colour=red", "cannot read"),
    ],
)
def test_bad_host_spec_is_a_clear_error(spec, message):
    with pytest.raises(InputError, match=message):
        parse_host_spec(spec)


def test_host_spec_makes_a_linear_power_model():
    host = parse_host_spec("cores=64,threads=128,ghz=2.6,ram_gb=768,idle_w=200,max_w=600")
    assert (host.cores, host.threads, host.ram_gb) == (64, 128, 768)
    assert host.power_curve_w[0] == 200 and host.power_curve_w[-1] == 600
    assert host.power_curve_w[5] == pytest.approx(400)


@given(
    u=st.floats(0, 100),
    src_cores=st.integers(1, 32),
    src_ghz=st.floats(1.0, 4.0),
    src_perf=st.floats(0.5, 1.5),
    host_cores=st.integers(1, 128),
    host_ghz=st.floats(1.0, 4.0),
    host_perf=st.floats(0.5, 2.5),
)
def test_moved_trace_shows_utilisation_in_the_ratio_of_capacities(u, src_cores, src_ghz, src_perf, host_cores, host_ghz, host_perf):
    from consolidate.models.hardware import HostModel, linear_curve_w

    demand = cpu_demand_ghz(np.array([[u]]), np.array([src_cores]), np.array([src_cores]), np.array([src_ghz]), np.array([src_perf]), 0.0)
    host = HostModel("h", cores=host_cores, threads=host_cores, ghz=host_ghz, ram_gb=64, power_curve_w=linear_curve_w(1, 2), perf=host_perf)
    source = HostModel("s", cores=src_cores, threads=src_cores, ghz=src_ghz, ram_gb=8, power_curve_w=linear_curve_w(1, 2), perf=src_perf)
    util_on_host = demand[0, 0] / host_cpu_ghz(host, 0.0)
    assert util_on_host == pytest.approx(u / 100 * host_cpu_ghz(source, 0.0) / host_cpu_ghz(host, 0.0), rel=1e-9, abs=1e-12)


def _busy_cores_numpy(cpu_pct, cores, threads, smt_gain):
    """The busy-cores formula in plain numpy, the reference of the kernel."""
    u = np.asarray(cpu_pct, dtype=np.float64) / 100.0
    cores = np.asarray(cores, dtype=np.float64)[:, None]
    k = (np.asarray(threads, dtype=np.float64) / cores[:, 0])[:, None]
    ku = k * u
    smt = k > 1.0
    extra = np.where(smt, smt_gain * np.maximum(0.0, ku - 1.0) / np.where(smt, k - 1.0, 1.0), 0.0)
    return cores * np.where(smt, np.minimum(ku, 1.0) + extra, u)


def test_the_busy_cores_kernel_equals_the_numpy_formula_bit_for_bit():
    from consolidate.models.power import source_load_fraction

    rng = np.random.default_rng(7)
    cpu_pct = (rng.random((40, 97)) * 100.0).astype(np.float32)
    cpu_pct[:, :3] = [0.0, 50.0, 100.0]
    cores = rng.integers(1, 64, 40).astype(np.float64)
    threads = cores * rng.choice([1.0, 2.0, 4.0], 40)
    ghz, perf = rng.uniform(1.0, 3.5, 40), rng.uniform(0.8, 2.0, 40)
    reference = _busy_cores_numpy(cpu_pct, cores, threads, 0.25)
    assert np.array_equal(busy_cores(cpu_pct, cores, threads, 0.25), reference)
    assert np.array_equal(cpu_demand_ghz(cpu_pct, cores, threads, ghz, perf, 0.25), reference * (ghz * perf)[:, None])
    full = cores * np.where(threads > cores, 1.25, 1.0)
    load = source_load_fraction(cpu_pct, cores, threads, 0.25)
    assert load.dtype == np.float32 and np.array_equal(load, (reference / full[:, None]).astype(np.float32))
