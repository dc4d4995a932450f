"""Growth what-if: hosts needed per quarter, and the chance the plan overloads, as demand grows.

``--growth 20%/yr --horizon 3y`` grows every VM's demand (CPU and memory) by a compound rate.
For each quarter, a Monte Carlo draws a quarter of days, with replacement, from the replayed
days of the plan (a day bootstrap, ref [1]), so that the busy and quiet days of the traces
recur in their observed proportions. On each draw:

- the plan as it is, with load x growth factor ``g``: the share of host-intervals over the CPU
  target and over capacity; the plan *overloads* in that draw when the over-target share
  exceeds the risk target;
- hosts needed: the fewest hosts ``n`` for which the load, spread in the same proportions over
  ``n`` hosts (each host's load x ``g x hosts / n``), keeps the over-target share within the
  risk target; at least the hosts the grown memory needs.

The draws are made with numpy's generator from ``seed``; the sums over the drawn days are one
matrix product.

References
----------
.. [1] B. Efron, R. J. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993
   (resampling with replacement; blocks of one day keep the within-day pattern).
"""

from __future__ import annotations

import math

import numpy as np

from consolidate.errors import InputError
from consolidate.simulate import Replay

#: Monte Carlo draws per quarter.
GROWTH_SAMPLES = 1000
#: Days drawn for one quarter (365.25 / 4, rounded).
DAYS_PER_QUARTER = 91
#: Quantiles of the per-quarter distributions reported (hosts needed, overload shares).
REPORTED_QUANTILES = (50, 90)



def bootstrap_sum_kernel(per_day: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """For each draw (row of ``draws``, day indices), the sum of ``per_day`` rows over its days.

    ``per_day`` int64 (days, k) counts; ``draws`` int64 (samples, picks). Returns int64 (samples, k):
    how often each draw picks each day, times ``per_day``. numpy, not numba: the product runs in
    BLAS, as fast as the loop was, with nothing to compile. It is exact in float64, every partial
    sum being an integer far below 2**53 (picks x hosts x steps a day).
    """
    n_samples, n_days = draws.shape[0], per_day.shape[0]
    cells = (np.arange(n_samples, dtype=np.int64)[:, None] * n_days + draws).ravel()
    times_picked = np.bincount(cells, minlength=n_samples * n_days).reshape(n_samples, n_days)
    return (times_picked.astype(np.float64) @ per_day.astype(np.float64)).astype(np.int64)


def daily_loads(rep: Replay) -> np.ndarray:
    """Host load as a share of the CPU target, one sorted row per whole day: float64 (days, hosts x steps a day)."""
    steps_per_day = 86400 // rep.interval_s if rep.interval_s <= 86400 else 0
    days = rep.n_steps // steps_per_day if steps_per_day else 0
    if days == 0:
        raise InputError("--growth needs at least one whole day of traces to draw days from; give longer traces")
    target = rep.cpu_target_ghz[:, None, None]
    load = rep.cpu_ghz[:, : days * steps_per_day].reshape(rep.n_hosts, days, steps_per_day) / target
    return np.sort(load.transpose(1, 0, 2).reshape(days, -1), axis=1)


def counts_above(sorted_days: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per day, how many values exceed each threshold: int64 (days, thresholds)."""
    n = sorted_days.shape[1]
    return np.stack([n - np.searchsorted(row, thresholds, side="right") for row in sorted_days]).astype(np.int64)


def growth_what_if(
    rep: Replay,
    mem_total_gb: float,
    rate_per_year: float,
    quarters: int,
    risk_pct: float,
    *,
    seed: int = 0,
    samples: int = GROWTH_SAMPLES,
) -> dict:
    """The growth what-if of a plan replayed as ``rep``: summary.json's ``growth``.

    Parameters
    ----------
    rep : the plan's replay (whole days of it are drawn).
    mem_total_gb : planned memory of all the plan's VMs, GB (grows with the same rate).
    rate_per_year : compound yearly growth, fraction (0.2 = 20 %/yr).
    quarters : horizon in quarters.
    risk_pct : the share of host-intervals over the CPU target (percent) a quarter may show.
    seed : seed of the day draws; samples : draws per quarter.

    Returns
    -------
    The inputs and one row per quarter: ``growth_factor``, ``hosts_needed_p50``/``_p90``,
    ``p_overload`` (share of draws in which the plan, unchanged, exceeds the risk target),
    ``over_target_pct_p50``/``_p90`` and ``over_capacity_pct_p50``/``_p90`` of the unchanged plan.
    For a mix of host models each host's load is a share of its own target, and hosts needed
    are counted as hosts like the plan's (memory: of its average usable memory).
    """
    n_hosts = rep.n_hosts
    days = daily_loads(rep) if n_hosts else np.zeros((0, 0))
    factors = (1.0 + rate_per_year) ** (np.arange(1, quarters + 1) / 4.0)
    inputs = {
        "rate_per_year": rate_per_year, "horizon_quarters": quarters, "samples": samples,
        "days_per_quarter": DAYS_PER_QUARTER, "source_days": int(days.shape[0]), "risk_pct": risk_pct,
        "hosts_now": n_hosts, "seed": seed,
    }
    if n_hosts == 0:
        return {**inputs, "quarters": []}
    draws = np.random.default_rng(seed).integers(0, days.shape[0], size=(samples, DAYS_PER_QUARTER), dtype=np.int64)
    total = DAYS_PER_QUARTER * days.shape[1]
    u_max = float(days[:, -1].max())
    capacity_share = 1.0 / rep.cpu_target  # full capacity in units of the target
    rows = []
    for q, g in enumerate(factors, start=1):
        # Spread over n hosts, each host-interval's load becomes u * g * hosts / n: over the target when u > n / (g * hosts).
        n_max = max(1, math.ceil(g * n_hosts * u_max))
        candidates = np.arange(1, n_max + 1)
        thresholds = np.concatenate(([1.0 / g, capacity_share / g], candidates / (g * n_hosts)))
        sums = bootstrap_sum_kernel(counts_above(days, thresholds), draws)
        share_pct = 100.0 * sums / total
        over_target, over_capacity, by_count = share_pct[:, 0], share_pct[:, 1], share_pct[:, 2:]
        within = by_count <= risk_pct
        cpu_hosts = np.where(within.any(axis=1), candidates[np.argmax(within, axis=1)], n_max)
        # A mix counts hosts of its average usable memory (one model: that model's).
        mem_hosts = math.ceil(g * mem_total_gb / rep.mem_usable_gb.mean() - 1e-9)
        needed = np.maximum(cpu_hosts, mem_hosts)
        row = {"quarter": q, "years": q / 4.0, "growth_factor": float(g)}
        for p in REPORTED_QUANTILES:
            row[f"hosts_needed_p{p}"] = int(np.ceil(np.percentile(needed, p)))
        row["p_overload"] = float((over_target > risk_pct).mean())
        for name, values in (("over_target", over_target), ("over_capacity", over_capacity)):
            for p in REPORTED_QUANTILES:
                row[f"{name}_pct_p{p}"] = float(np.percentile(values, p))
        rows.append(row)
    return {**inputs, "quarters": rows}
