"""Put raw samples on one regular UTC grid: the numba kernels behind every reader.

The rules (DESIGN.md, "Reading real exports"): each timestamp is floored to the interval,
counted from the floored global start; several samples in one interval keep the maximum; gaps
inside a server's span are filled forward, a late start backward and an early stop forward.
Every merged sample and every filled cell is counted, per server.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.errors import InputError
from consolidate.jit import njit

NS_PER_S = 1_000_000_000

#: Largest grid (servers x steps) a read may build: 2e9 float32 cells are 8 GB per resource.
MAX_GRID_CELLS = 2_000_000_000


# Every read runs these kernels, so they have their signature (compiled once, at import). The
# timestamps and values may come read-only from pyarrow: read-only inputs take writable ones too.
#: Server codes and UTC timestamps of the samples.
_SAMPLES = "int32[::1], Array(int64, 1, 'C', readonly=True)"


@njit("(int64[::1], int64, int64)")
def _kth_smallest(values: np.ndarray, n: int, k: int) -> int:
    """The ``k``-th smallest (from 0) of ``values[:n]``, by quickselect (Hoare's partition).

    Reorders ``values[:n]`` so that ``values[k + 1:n]`` holds no smaller value. (numba's
    ``np.median`` and ``np.sort`` cost seconds of compilation; this loop a tenth.)
    """
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return values[k]


@njit(f"({_SAMPLES}, int64)")
def _median_spacing(codes: np.ndarray, time_ns: np.ndarray, n_rows: int):
    """Per server, the median spacing of its distinct timestamps (float64 ns, NaN for fewer
    than two), and whether each server's samples came in time order (if not, the medians are
    not computed)."""
    n = codes.shape[0]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for r in range(n_rows):
        offsets[r + 1] += offsets[r]
    # Counting sort by server, stable: each server's timestamps in their input order.
    fill = np.empty(n_rows, dtype=np.int64)
    for r in range(n_rows):
        fill[r] = offsets[r]
    gathered = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = codes[i]
        gathered[fill[r]] = time_ns[i]
        fill[r] += 1
    out = np.empty(n_rows)
    steps = np.empty(n, dtype=np.int64)
    for r in range(n_rows):
        out[r] = np.nan
        k = 0
        for j in range(offsets[r] + 1, offsets[r + 1]):
            d = gathered[j] - gathered[j - 1]
            if d < 0:
                return out, False
            if d > 0:
                steps[k] = d
                k += 1
        if k == 0:
            continue
        # Median as numpy's: the middle value, or the mean of the two middle ones.
        low = _kth_smallest(steps, k, (k - 1) // 2)
        if k % 2:
            out[r] = low
            continue
        high = steps[k // 2]
        for j in range(k // 2 + 1, k):
            if steps[j] < high:
                high = steps[j]
        out[r] = (low + high) / 2
    return out, True


def median_spacing_ns(codes: np.ndarray, time_ns: np.ndarray, n_rows: int) -> np.ndarray:
    """Median spacing between one server's distinct timestamps, per server (float64 ns).

    Samples may come in any order: each server's timestamps are gathered (counting sort by
    server, stable), and all samples are sorted by server and time only when some server's are
    not in order already. Repeated timestamps are not spacings and are skipped. A server with
    fewer than two distinct timestamps gets NaN.
    """
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    time_ns = np.ascontiguousarray(time_ns, dtype=np.int64)
    out, in_order = _median_spacing(codes, time_ns, n_rows)
    if not in_order:
        by_time = np.lexsort((time_ns, codes))
        out, _ = _median_spacing(codes[by_time], time_ns[by_time], n_rows)
    return out


@njit(f"({_SAMPLES}, Array(float32, 1, 'C', readonly=True), int64, int64, float32[:, ::1], int64[::1], int64[::1])")
def scatter_max(
    codes: np.ndarray,
    time_ns: np.ndarray,
    values: np.ndarray,
    start_ns: int,
    interval_ns: int,
    grid: np.ndarray,
    samples: np.ndarray,
    merged: np.ndarray,
) -> None:
    """Drop each non-NaN value in its cell of ``grid`` (NaN = empty), keeping the maximum.

    ``samples[r]`` counts the values row ``r`` received, ``merged[r]`` those that landed in an
    already filled cell. Cell column = ``(time_ns - start_ns) // interval_ns``.
    """
    for i in range(codes.shape[0]):
        v = values[i]
        if np.isnan(v):
            continue
        r = codes[i]
        c = (time_ns[i] - start_ns) // interval_ns
        samples[r] += 1
        cur = grid[r, c]
        if np.isnan(cur):
            grid[r, c] = v
        else:
            merged[r] += 1
            if v > cur:
                grid[r, c] = v


@njit("(float32[:, ::1], int64[::1], int64[::1], int64[::1])")
def fill_rows(grid: np.ndarray, gaps: np.ndarray, late: np.ndarray, early: np.ndarray) -> None:
    """Fill each row's empty (NaN) cells in place, counting per row.

    Gaps between the first and last value take the previous value (forward fill), cells before
    the first value take the first value (late start, backward fill), cells after the last take
    the last value (early stop, forward fill). A row without any value stays NaN.
    """
    n_rows, n_steps = grid.shape
    for r in range(n_rows):
        first = -1
        for c in range(n_steps):
            if not np.isnan(grid[r, c]):
                first = c
                break
        if first < 0:
            continue
        last = first
        for c in range(n_steps - 1, first - 1, -1):
            if not np.isnan(grid[r, c]):
                last = c
                break
        for c in range(first):
            grid[r, c] = grid[r, first]
        late[r] += first
        prev = grid[r, first]
        for c in range(first + 1, last + 1):
            if np.isnan(grid[r, c]):
                grid[r, c] = prev
                gaps[r] += 1
            else:
                prev = grid[r, c]
        for c in range(last + 1, n_steps):
            grid[r, c] = prev
        early[r] += n_steps - 1 - last


@dataclass(frozen=True)
class Gridded:
    """One resource on the grid, with per-row repair counts (int64 arrays, one per row)."""

    values: np.ndarray
    samples: np.ndarray
    merged: np.ndarray
    gaps: np.ndarray
    late: np.ndarray
    early: np.ndarray
    #: Per row, the sum of the cells that held a sample (before any fill), float64.
    measured_sum: np.ndarray

    @property
    def filled(self) -> np.ndarray:
        return self.gaps + self.late + self.early


def detect_interval_s(codes: np.ndarray, time_ns: np.ndarray, n_rows: int) -> int:
    """Grid spacing in whole seconds: median over servers of each server's median spacing, the
    higher of the middle two for an even count, so that the grid takes one server's own interval
    (hosts at 5 s and 10 s: 10 s, each 5 s host keeping the larger sample of each interval)."""
    per_server = median_spacing_ns(codes, time_ns, n_rows)
    known = per_server[np.isfinite(per_server)]
    if known.size == 0:
        raise InputError("cannot detect the sampling interval: no server has two different timestamps; pass --interval SECONDS")
    interval_s = int(round(float(np.percentile(known, 50, method="higher")) / NS_PER_S))
    if interval_s < 1:
        raise InputError("the detected sampling interval is under one second; pass --interval SECONDS")
    return interval_s


def grid_shape(n_rows: int, start_ns: int, last_ns: int, interval_s: int) -> int:
    """Number of grid steps from ``start_ns`` to the step holding ``last_ns``."""
    n_steps = int((last_ns - start_ns) // (interval_s * NS_PER_S)) + 1
    if n_rows * n_steps > MAX_GRID_CELLS:
        raise InputError(
            f"the grid would be {n_rows} servers x {n_steps} steps of {interval_s} s, too large to hold; "
            "check the timestamps or pass a coarser --interval"
        )
    return n_steps


def to_grid(
    codes: np.ndarray,
    time_ns: np.ndarray,
    values: np.ndarray,
    n_rows: int,
    start_ns: int,
    interval_s: int,
    n_steps: int,
) -> Gridded:
    """Samples (server code, UTC ns, float32 value; NaN = no value) to a filled float32 grid."""
    grid = np.full((n_rows, n_steps), np.nan, dtype=np.float32)
    counts = [np.zeros(n_rows, dtype=np.int64) for _ in range(5)]
    samples, merged, gaps, late, early = counts
    scatter_max(np.ascontiguousarray(codes, dtype=np.int32), np.ascontiguousarray(time_ns, dtype=np.int64),
                np.ascontiguousarray(values, dtype=np.float32), np.int64(start_ns), np.int64(interval_s * NS_PER_S),
                grid, samples, merged)
    measured_sum = np.nansum(grid, axis=1, dtype=np.float64)
    fill_rows(grid, gaps, late, early)
    return Gridded(grid, samples, merged, gaps, late, early, measured_sum)
