"""The busy-cores formula of :func:`consolidate.models.hardware.busy_cores` as a numba kernel.

It runs over every server and step of an estate (demand in GHz, the sources' power), so it works
one element at a time in float64 and writes straight into its result.
"""

from __future__ import annotations

import numpy as np

from consolidate.jit import njit


@njit
def busy_kernel(cpu_pct, cores, threads, smt_gain, scale, divisor, out) -> None:
    """``out[i, t] = busy_cores(cpu_pct)[i, t] * scale[i] / divisor[i]``, in float64 arithmetic,
    stored in ``out``'s dtype, one element at a time (the numpy formula made six full-size float64
    temporaries: 15-19 GB on 35,000 servers x 30 days)."""
    n, steps = cpu_pct.shape
    for i in range(n):
        c = cores[i]
        k = threads[i] / c
        for t in range(steps):
            u = np.float64(cpu_pct[i, t]) / 100.0
            if k > 1.0:
                ku = k * u
                busy = c * (np.minimum(ku, 1.0) + smt_gain * np.maximum(0.0, ku - 1.0) / (k - 1.0))
            else:
                busy = c * u
            out[i, t] = busy * scale[i] / divisor[i]


def busy(cpu_pct, cores, threads, smt_gain: float, scale, divisor, dtype) -> np.ndarray:
    """:func:`busy_kernel` of ``cpu_pct`` (servers, steps) into a new array of ``dtype``; the
    per-server arguments may be scalars."""
    values = np.asarray(cpu_pct)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    values = np.ascontiguousarray(values)
    out = np.empty(values.shape, dtype=dtype)
    n = values.shape[0]

    def per_server(x):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)))

    busy_kernel(values, per_server(cores), per_server(threads), float(smt_gain), per_server(scale), per_server(divisor), out)
    return out
