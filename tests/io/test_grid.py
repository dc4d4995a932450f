"""The numba grid kernels against plain numpy / pandas references."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.errors import InputError
from consolidate.io.grid import NS_PER_S, detect_interval_s, median_spacing_ns, to_grid

INTERVAL_S = 300


def reference_grid(codes, time_ns, values, n_rows, start_ns, interval_s, n_steps):
    """pandas: group by (row, floored column) keeping the max, then forward and backward fill."""
    frame = pd.DataFrame({"row": codes, "col": (time_ns - start_ns) // (interval_s * NS_PER_S), "v": values})
    frame = frame[~np.isnan(frame["v"])]
    cells = frame.groupby(["row", "col"])["v"].max()
    grid = np.full((n_rows, n_steps), np.nan)
    grid[cells.index.get_level_values(0), cells.index.get_level_values(1)] = cells.to_numpy()
    occupied = ~np.isnan(grid)
    per_row = frame.groupby("row").size().reindex(range(n_rows), fill_value=0).to_numpy()
    merged = per_row - occupied.sum(axis=1)
    late = np.where(occupied.any(axis=1), occupied.argmax(axis=1), 0)
    last = n_steps - 1 - occupied[:, ::-1].argmax(axis=1)
    early = np.where(occupied.any(axis=1), n_steps - 1 - last, 0)
    inside = np.zeros(n_rows, dtype=np.int64)
    for r in range(n_rows):
        if occupied[r].any():
            inside[r] = int((~occupied[r, late[r] : last[r] + 1]).sum())
    filled = pd.DataFrame(grid.T).ffill().bfill().to_numpy().T
    return filled, per_row, merged, inside, late, early


samples_strategy = st.integers(min_value=1, max_value=5).flatmap(
    lambda n_rows: st.lists(
        st.tuples(
            st.integers(0, n_rows - 1),
            st.integers(0, 40 * INTERVAL_S - 1),
            st.one_of(st.floats(-10, 200, width=32), st.just(float("nan"))),
        ),
        min_size=1,
        max_size=80,
    ).map(lambda rows: (n_rows, rows))
)


@settings(max_examples=150, deadline=None)
@given(samples_strategy)
def test_to_grid_matches_pandas_reference(case):
    n_rows, rows = case
    codes = np.array([r[0] for r in rows], dtype=np.int32)
    start_ns = 1_700_000_100 * NS_PER_S  # not a multiple of the interval: columns count from start
    time_ns = start_ns + np.array([r[1] for r in rows], dtype=np.int64) * NS_PER_S
    values = np.array([r[2] for r in rows], dtype=np.float32)
    n_steps = 40
    got = to_grid(codes, time_ns, values, n_rows, start_ns, INTERVAL_S, n_steps)
    grid, per_row, merged, gaps, late, early = reference_grid(codes, time_ns, values, n_rows, start_ns, INTERVAL_S, n_steps)
    np.testing.assert_array_equal(got.values, grid.astype(np.float32))
    np.testing.assert_array_equal(got.samples, per_row)
    np.testing.assert_array_equal(got.merged, merged)
    np.testing.assert_array_equal(got.gaps, gaps)
    np.testing.assert_array_equal(got.late, late)
    np.testing.assert_array_equal(got.early, early)
    assert got.values.dtype == np.float32 and got.values.flags.c_contiguous


def reference_spacing(codes, time_ns, n_rows):
    out = np.full(n_rows, np.nan)
    for r in range(n_rows):
        distinct = np.unique(time_ns[codes == r])
        if distinct.size > 1:
            out[r] = np.median(np.diff(distinct))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 10_000)), min_size=1, max_size=60).map(
            lambda rows: (n, rows)
        )
    )
)
def test_median_spacing_matches_numpy_in_any_order(case):
    n_rows, rows = case
    codes = np.array([r[0] for r in rows], dtype=np.int32)
    time_ns = np.array([r[1] for r in rows], dtype=np.int64) * NS_PER_S
    np.testing.assert_array_equal(median_spacing_ns(codes, time_ns, n_rows), reference_spacing(codes, time_ns, n_rows))


def test_detect_interval_is_median_over_servers_of_medians():
    # server 0 every 60 s (most spacings overall), servers 1 and 2 every 300 s with jitter,
    # server 3 a single sample: the median of per-server medians is 300, the pooled median 60
    t0 = list(range(0, 600, 60))
    t1 = [0, 300, 600, 899, 1200]
    t2 = [0, 301, 600, 900]
    codes = np.array([0] * 10 + [1] * 5 + [2] * 4 + [3], dtype=np.int32)
    time_ns = np.array(t0 + t1 + t2 + [5], dtype=np.int64) * NS_PER_S
    assert detect_interval_s(codes, time_ns, 4) == 300


def test_detect_interval_needs_two_timestamps():
    with pytest.raises(InputError, match="--interval"):
        detect_interval_s(np.zeros(3, dtype=np.int32), np.full(3, 7 * NS_PER_S, dtype=np.int64), 1)
