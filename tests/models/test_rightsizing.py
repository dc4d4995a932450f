import numpy as np
import pytest

from consolidate.errors import InputError
from consolidate.models.rightsizing import idle_mask, right_size


def test_vcpus_carry_the_peak_on_the_target_core():
    # Target core 2.3 GHz x perf 1.76 = 4.048 GHz. Peaks: 1.0 -> 1, 4.048 -> exactly 1, 4.1 -> 2, 30 -> 8.
    demand = np.array([[0.2, 1.0], [4.048, 0.0], [4.1, 0.1], [30.0, 1.0]])
    vcpus, _ = right_size(demand, 2.3 * 1.76, np.array([2, 4, 4, 24]), np.full(4, 8.0))
    np.testing.assert_array_equal(vcpus, [1, 1, 2, 8])
    assert vcpus.dtype == np.int64


def test_vcpus_never_exceed_source_threads_nor_fall_below_one():
    demand = np.array([[50.0], [0.0]])
    vcpus, _ = right_size(demand, 2.0, np.array([4, 4]), np.array([8.0, 8.0]))
    np.testing.assert_array_equal(vcpus, [4, 1])


def test_percentile_and_headroom_policy():
    # 100 samples 0.01 .. 1.00 GHz; p95 = 0.9505; x 1.3 = 1.2357 GHz on 1 GHz cores -> 2 vCPUs.
    demand = np.arange(1, 101, dtype=np.float64)[None, :] / 100
    peak, _ = right_size(demand, 1.0, np.array([8]), np.array([4.0]))
    azure, _ = right_size(demand, 1.0, np.array([8]), np.array([4.0]), cpu_percentile=95, headroom=1.3)
    assert peak[0] == 1 and azure[0] == 2


def test_ram_is_the_allocation_by_default_and_never_below_the_xen_minimum():
    demand = np.zeros((3, 2))
    _, ram = right_size(demand, 2.0, np.ones(3), np.array([0.25, 0.613, 16.0]))
    np.testing.assert_allclose(ram, [0.5, 0.613, 16.0])


def test_ram_from_observed_use_rounds_up_to_a_quarter_gb():
    allocated = np.array([16.0, 4.0, 8.0])
    used = np.array([[2.0, 3.0], [3.9, 3.8], [0.1, 0.2]])
    # peak x 1.1: 3.3 -> 3.5; 4.29 capped at the 4 GB allocation; 0.22 -> 0.25 -> Xen minimum 0.5.
    _, ram = right_size(np.zeros((3, 2)), 2.0, np.ones(3), allocated, used, mem_sizing="used-peak", mem_margin=0.1)
    np.testing.assert_allclose(ram, [3.5, 4.0, 0.5])


def test_ram_from_use_needs_memory_series():
    with pytest.raises(InputError, match="no memory use"):
        right_size(np.zeros((1, 2)), 2.0, np.ones(1), np.ones(1), None, mem_sizing="used-p95")


def test_idle_rule_cpu_and_memory_under_5_percent():
    steps = 100
    cpu = np.full((4, steps), 2.0)
    mem = np.full((4, steps), 3.0)
    cpu[1] = 20.0  # busy CPU
    mem[2] = 40.0  # memory in use
    cpu[3, :3] = 90.0  # three spikes in a hundred samples: the 95th percentile is still 2 %
    np.testing.assert_array_equal(idle_mask(cpu, mem), [True, False, False, True])


def test_idle_rule_percentile_edge():
    # Six of a hundred samples busy: the 95th percentile is busy, so not idle.
    cpu = np.full((1, 100), 1.0)
    cpu[0, :6] = 50.0
    assert not idle_mask(cpu)[0]
    assert idle_mask(cpu, percentile=90)[0]


def test_idle_rule_network_under_2_percent_where_known():
    cpu = np.full((2, 10), 1.0)
    net = np.array([[1.0] * 10, [3.0] * 10])
    np.testing.assert_array_equal(idle_mask(cpu, None, net), [True, False])
    np.testing.assert_array_equal(idle_mask(cpu), [True, True])


def test_unknown_memory_for_one_server_does_not_count_against_it():
    cpu = np.full((2, 10), 1.0)
    mem = np.array([[np.nan] * 10, [50.0] * 10])
    np.testing.assert_array_equal(idle_mask(cpu, mem), [True, False])
