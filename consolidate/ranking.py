"""The smallest or largest of many values, inside numba kernels, without sorting them all.

``np.argsort`` in a kernel costs about two seconds of compilation in every environment without
a numba cache (numba's sort machinery), ``np.argmin`` a few tenths, while the kernels only need
the first few indices of the order. Values are taken to hold no NaN.

Kernels call these, so each has its signature: numba compiles it once, not again for the
argument types of every call site (a literal ``k`` included).
"""

from __future__ import annotations

import numpy as np

from consolidate.jit import njit


@njit("(float64[::1], int64)")
def lowest(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest ``values`` (all of them if fewer), smallest first, ties in
    index order: ``np.argsort(values, kind="stable")[:k]``, int64.

    Insertion into the ``k`` best so far: ``n x k`` comparisons at worst, for small ``k``.
    """
    if k > values.shape[0]:
        k = values.shape[0]
    out = np.empty(k, dtype=np.int64)
    if k == 0:
        return out
    kept = 0
    for i in range(values.shape[0]):
        v = values[i]
        if kept == k and not v < values[out[k - 1]]:
            continue
        j = kept if kept < k else k - 1
        # A tie stays behind the equal values already kept (they have lower indices).
        while j > 0 and values[out[j - 1]] > v:
            out[j] = out[j - 1]
            j -= 1
        out[j] = i
        if kept < k:
            kept += 1
    return out


@njit("(float64[::1],)")
def first_min(values: np.ndarray) -> int:
    """Index of the first smallest value: ``np.argmin``."""
    best = 0
    for j in range(1, values.shape[0]):
        if values[j] < values[best]:
            best = j
    return best
