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

#: Grid rows summed at a time (the sum copies its input).
SUM_ROWS = 256

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


#: Samples gathered at a time where the interval is detected (32 MB of int64 timestamps).
GATHER_SAMPLES = 1 << 22


@njit(f"({_SAMPLES}, int64[::1], int64, int64, int64[::1])")
def _gather(codes: np.ndarray, time_ns: np.ndarray, offsets: np.ndarray, lo: int, hi: int, gathered: np.ndarray) -> None:
    """The timestamps of servers ``lo`` to before ``hi``, server by server, each in input order
    (a stable counting sort; ``offsets[r]`` is where server ``r``'s start, counted from ``lo``'s)."""
    fill = np.empty(hi - lo, dtype=np.int64)
    for r in range(lo, hi):
        fill[r - lo] = offsets[r] - offsets[lo]
    for i in range(codes.shape[0]):
        r = codes[i]
        if lo <= r < hi:
            gathered[fill[r - lo]] = time_ns[i]
            fill[r - lo] += 1


@njit("(int64[::1], int64[::1], float64[::1], int64[::1])")
def _spacing(gathered: np.ndarray, ends: np.ndarray, out: np.ndarray, steps: np.ndarray) -> bool:
    """Per server (its timestamps ``gathered[ends[r - 1]:ends[r]]``), the median spacing of its
    distinct timestamps into ``out`` (NaN for fewer than two); False, with ``out`` unfinished, as
    soon as one server's timestamps are not in time order."""
    start = 0
    for r in range(ends.shape[0]):
        out[r] = np.nan
        k = 0
        for j in range(start + 1, ends[r]):
            d = gathered[j] - gathered[j - 1]
            if d < 0:
                return False
            if d > 0:
                steps[k] = d
                k += 1
        start = ends[r]
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
    return True


def median_spacing_ns(codes: np.ndarray, time_ns: np.ndarray, n_rows: int) -> np.ndarray:
    """Median spacing between one server's distinct timestamps, per server (float64 ns).

    Samples may come in any order: the timestamps of a batch of servers (about
    :data:`GATHER_SAMPLES` of them, so the work memory stays small however many samples there
    are) are gathered server by server in input order, and sorted by server and time only when
    some server's are not in order already. Repeated timestamps are not spacings and are
    skipped. A server with fewer than two distinct timestamps gets NaN.
    """
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    time_ns = np.ascontiguousarray(time_ns, dtype=np.int64)
    per_server = np.zeros(n_rows, dtype=np.int64)
    for start in range(0, len(codes), GATHER_SAMPLES):  # bincount makes its input int64: a slice at a time
        per_server += np.bincount(codes[start : start + GATHER_SAMPLES], minlength=n_rows)
    offsets = np.concatenate([[0], np.cumsum(per_server)]).astype(np.int64)
    out = np.empty(n_rows)
    lo = 0
    while lo < n_rows:
        hi = max(int(np.searchsorted(offsets, offsets[lo] + GATHER_SAMPLES, side="right")) - 1, lo + 1)
        hi = min(hi, n_rows)
        gathered = np.empty(int(offsets[hi] - offsets[lo]), dtype=np.int64)
        _gather(codes, time_ns, offsets, lo, hi, gathered)
        ends = np.ascontiguousarray(offsets[lo + 1 : hi + 1] - offsets[lo])
        steps = np.empty(max(int(per_server[lo:hi].max()), 1), dtype=np.int64)
        if not _spacing(gathered, ends, out[lo:hi], steps):
            server = np.repeat(np.arange(hi - lo), per_server[lo:hi])
            gathered = np.ascontiguousarray(gathered[np.lexsort((gathered, server))])
            _spacing(gathered, ends, out[lo:hi], steps)
        lo = hi
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
    measured_sum = np.empty(n_rows)
    for start in range(0, n_rows, SUM_ROWS):  # nansum copies what it sums: a slice at a time
        measured_sum[start : start + SUM_ROWS] = np.nansum(grid[start : start + SUM_ROWS], axis=1, dtype=np.float64)
    fill_rows(grid, gaps, late, early)
    return Gridded(grid, samples, merged, gaps, late, early, measured_sum)
