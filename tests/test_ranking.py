"""The ranking kernels against numpy's argsort and argmin."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.ranking import first_min, lowest

# Few distinct values, so that ties are common; inf as the kernels use it (hosts without room).
values_strategy = st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5, np.inf, -3.0]) | st.floats(-10, 10), min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(values=values_strategy, k=st.integers(0, 45))
def test_lowest_is_the_head_of_a_stable_argsort(values, k):
    a = np.array(values, dtype=np.float64)
    np.testing.assert_array_equal(lowest(a, k), np.argsort(a, kind="stable")[:k])


@settings(max_examples=200, deadline=None)
@given(values=values_strategy.filter(len))
def test_first_min_is_argmin(values):
    assert first_min(np.array(values, dtype=np.float64)) == np.argmin(values)
