import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.errors import InputError
from consolidate.models.sizing import check_cpu_policy, check_mem_policy, daily_envelope, size_cpu, size_mem


def test_timeseries_keeps_the_full_resolution_series():
    demand = np.arange(12, dtype=np.float64).reshape(2, 6)
    sized = size_cpu(demand, "timeseries")
    assert sized.dtype == np.float32 and sized.flags.c_contiguous
    np.testing.assert_array_equal(sized, demand)


def test_peak_and_percentile_reduce_to_one_value():
    demand = np.tile(np.arange(1, 101, dtype=np.float64), (3, 1))
    assert size_cpu(demand, "peak").shape == (3, 1)
    np.testing.assert_allclose(size_cpu(demand, "peak")[:, 0], 100)
    np.testing.assert_allclose(size_cpu(demand, "p95")[:, 0], np.percentile(np.arange(1, 101), 95), rtol=1e-6)


@pytest.mark.parametrize("policy", ["p0", "p100", "max", "p", "hourly"])
def test_unknown_cpu_policy(policy):
    with pytest.raises(InputError, match="--sizing"):
        check_cpu_policy(policy)


def test_mem_policies():
    allocated = np.array([8.0, 16.0])
    used = np.array([[1.0, 2.0, 4.0], [10.0, 15.0, 16.0]])
    np.testing.assert_array_equal(size_mem(allocated, used, "allocated"), allocated)
    # used-peak: 4 GB * 1.1 = 4.4; 16 * 1.1 capped at the 16 GB allocation.
    np.testing.assert_allclose(size_mem(allocated, used, "used-peak", 0.1), [4.4, 16.0])
    with pytest.raises(InputError, match="no memory use"):
        size_mem(allocated, None, "used-p95")
    with pytest.raises(InputError, match="--mem-sizing"):
        check_mem_policy("used")


# --- the daily envelope ----------------------------------------------------------------------

def _envelope_by_hand(cpu, per_day, measured=None):
    """Per VM and time of day, the largest measured value, one loop per cell."""
    n, steps = cpu.shape
    out = np.zeros((n, min(per_day, steps)))
    for i in range(n):
        first, stop = (0, steps) if measured is None else measured[i]
        values = [cpu[i, t] for t in range(first, stop)]
        if measured is not None and stop - first < per_day:
            out[i, :] = max(values)
            continue
        for t in range(first, stop):
            out[i, t % per_day] = max(out[i, t % per_day], cpu[i, t])
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_daily_envelope_matches_a_loop(n, steps, seed):
    rng = np.random.default_rng(seed)
    per_day = 8
    cpu = rng.random((n, steps)).astype(np.float32) * 10
    first = rng.integers(0, steps, n)
    stop = np.array([rng.integers(f + 1, steps + 1) for f in first])
    measured = np.stack([first, stop], axis=1).astype(np.int64)
    interval_s = 86400 // per_day
    np.testing.assert_allclose(daily_envelope(cpu, interval_s), _envelope_by_hand(cpu, per_day) if steps > per_day else cpu)
    if steps > per_day:
        np.testing.assert_allclose(daily_envelope(cpu, interval_s, measured), _envelope_by_hand(cpu, per_day, measured))


def test_a_plan_fitting_the_envelope_fits_every_day():
    rng = np.random.default_rng(3)
    cpu = rng.random((5, 7 * 24)).astype(np.float32)
    env = daily_envelope(cpu, 3600)
    assert env.shape == (5, 24)
    assert (cpu.reshape(5, 7, 24) <= env[:, None, :]).all()
    assert np.isin(env, cpu).all()  # every value of the envelope was measured


def test_a_day_or_less_and_coarse_steps_are_their_own_envelope():
    cpu = np.arange(6, dtype=np.float32).reshape(1, 6)
    np.testing.assert_array_equal(daily_envelope(cpu, 86400 // 6), cpu)
    np.testing.assert_array_equal(daily_envelope(cpu, 2 * 86400), cpu)
