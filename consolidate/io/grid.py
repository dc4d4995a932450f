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


@njit
def median_spacing_ns(codes: np.ndarray, time_ns: np.ndarray, n_rows: int) -> np.ndarray:
    """Median spacing between one server's distinct timestamps, per server (float64 ns).

    Samples may come in any order; each server's timestamps are gathered (counting sort by
    server, stable) and sorted only when they are not in order already. Repeated timestamps
    are not spacings and are skipped. A server with fewer than two distinct timestamps gets NaN.
    """
    n = codes.shape[0]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for r in range(n_rows):
        offsets[r + 1] += offsets[r]
    fill = offsets[:-1].copy()
    gathered = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = codes[i]
        gathered[fill[r]] = time_ns[i]
        fill[r] += 1
    out = np.full(n_rows, np.nan)
    for r in range(n_rows):
        seg = gathered[offsets[r] : offsets[r + 1]]
        if seg.shape[0] < 2:
            continue
        ordered = True
        for j in range(1, seg.shape[0]):
            if seg[j] < seg[j - 1]:
                ordered = False
                break
        if not ordered:
            seg = np.sort(seg)
        steps = np.empty(seg.shape[0] - 1, dtype=np.int64)
        k = 0
        for j in range(1, seg.shape[0]):
            d = seg[j] - seg[j - 1]
            if d > 0:
                steps[k] = d
                k += 1
        if k > 0:
            out[r] = np.median(steps[:k])
    return out


@njit
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


@njit
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

    @property
    def filled(self) -> np.ndarray:
        return self.gaps + self.late + self.early


def detect_interval_s(codes: np.ndarray, time_ns: np.ndarray, n_rows: int) -> int:
    """Grid spacing in whole seconds: median over servers of each server's median spacing."""
    per_server = median_spacing_ns(codes, time_ns, n_rows)
    known = per_server[np.isfinite(per_server)]
    if known.size == 0:
        raise InputError("cannot detect the sampling interval: no server has two different timestamps; pass --interval SECONDS")
    interval_s = int(round(float(np.median(known)) / NS_PER_S))
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
    scatter_max(codes, time_ns, np.ascontiguousarray(values, dtype=np.float32), np.int64(start_ns),
                np.int64(interval_s * NS_PER_S), grid, samples, merged)
    fill_rows(grid, gaps, late, early)
    return Gridded(grid, samples, merged, gaps, late, early)
