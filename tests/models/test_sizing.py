import numpy as np
import pytest

from consolidate.errors import InputError
from consolidate.models.sizing import check_cpu_policy, check_mem_policy, size_cpu, size_mem


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
