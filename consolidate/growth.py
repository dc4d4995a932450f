"""Growth what-if: hosts needed per quarter, the chance the plan runs over its risk target, and
how long its headroom lasts, as demand grows.

``--growth 20%/yr --horizon 3y`` grows every VM's demand (CPU and memory) by a compound rate;
quarter ``q`` is judged at its end, demand x ``g = (1 + rate) ** (q / 4)``. The risk target
(a share of host-intervals over the CPU target) is judged on one week, the period over which
load repeats (weekdays and week-ends) and about what the validated sizing holds out. A Monte
Carlo draws weeks from the replayed days by a block bootstrap [1], [2]:

- with at least 7 replayed days, a week is 7 consecutive days starting on any day (the
  moving-block bootstrap: the order of the days, so the weekly pattern, is kept);
- with fewer, a week is 7 days drawn with replacement (the day bootstrap);

a day is always drawn whole and for every host at once, so the pattern within the day and the
correlation between servers are those of the traces. The spread of the draws is the spread of
the weeks the traces hold: one replayed day gives none. On each draw:

- the plan as it is, with load x ``g``: the share of host-intervals over the CPU target and over
  capacity; it *exceeds the risk target* when the over-target share does;
- hosts needed: the fewest hosts ``n`` for which the load, spread in the same proportions over
  ``n`` hosts (each host's load x ``g x hosts / n``), keeps the over-target share within the
  risk target; at least the hosts the grown memory needs (VMs moved between hosts).

The plan *holds* a quarter when its hosts are at least the 90th percentile of the hosts needed:
memory fits and at most one drawn week in ten exceeds the risk target. The *runway* is the last
quarter before the first that does not hold, dated from the end of the replayed days (when
the demand was measured).

The draws are made with numpy's generator from ``seed``, the same weeks for every quarter.

References
----------
.. [1] B. Efron, R. J. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993
   (resampling with replacement).
.. [2] H. R. Künsch, "The jackknife and the bootstrap for general stationary observations",
   Annals of Statistics 17(3) (1989) 1217–1241 (the moving-block bootstrap: blocks of
   consecutive observations keep their dependence).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.simulate import Replay

#: Monte Carlo draws (weeks) per quarter.
GROWTH_SAMPLES = 1000
#: Days of the window the risk target is judged on.
WINDOW_DAYS = 7
#: Quantiles of the per-quarter distributions reported (hosts needed, overload shares).
REPORTED_QUANTILES = (50, 90)
#: The plan holds a quarter when at most this share of the drawn weeks exceeds the risk target
#: (the hosts-needed p90 is then within the plan's hosts).
HOLD_EXCEED_SHARE = 0.1


def bootstrap_sum_kernel(per_day: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """For each draw (row of ``draws``, day indices), the sum of ``per_day`` rows over its days.

    ``per_day`` int64 (days, k) counts; ``draws`` int64 (samples, picks). Returns int64 (samples, k):
    how often each draw picks each day, times ``per_day``. numpy, not numba: the product runs in
    BLAS, with nothing to compile. It is exact in float64, every partial sum being an integer far
    below 2**53 (picks x hosts x steps a day).
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


def week_draws(n_days: int, samples: int, seed: int) -> tuple[np.ndarray, str]:
    """The days of each drawn week, int64 (samples, ``WINDOW_DAYS``), and the method in words."""
    rng = np.random.default_rng(seed)
    if n_days >= WINDOW_DAYS:
        starts = rng.integers(0, n_days - WINDOW_DAYS + 1, size=samples, dtype=np.int64)
        blocks = n_days - WINDOW_DAYS + 1
        return starts[:, None] + np.arange(WINDOW_DAYS), (
            f"moving-block bootstrap: each draw is {WINDOW_DAYS} consecutive replayed days (one of {blocks} weeks "
            f"in the {n_days} days), every server together, so the weekly and daily patterns and the correlation "
            "between servers are the traces'")
    what = "every draw is that day repeated: no spread" if n_days == 1 else "the spread is that of the days"
    return rng.integers(0, n_days, size=(samples, WINDOW_DAYS), dtype=np.int64), (
        f"day bootstrap: each draw is a week of {WINDOW_DAYS} days drawn with replacement from the {n_days} "
        f"replayed day(s), every server together, so the daily pattern and the correlation between servers are "
        f"the traces'; fewer than {WINDOW_DAYS} days hold no weekly pattern, {what}")


def _quarter(days: np.ndarray, draws: np.ndarray, g: float, rep: Replay, mem_total_gb: float, risk_pct: float) -> dict:
    """One quarter's row (growth factor ``g``): see :func:`growth_what_if`."""
    n_hosts = rep.n_hosts
    # Spread over n hosts, each host-interval's load becomes u * g * hosts / n: over the target when u > n / (g * hosts).
    n_max = max(1, math.ceil(g * n_hosts * float(days[:, -1].max())))
    candidates = np.arange(1, n_max + 1)
    thresholds = np.concatenate(([1.0 / g, 1.0 / (rep.cpu_target * g)], candidates / (g * n_hosts)))
    sums = bootstrap_sum_kernel(counts_above(days, thresholds), draws)
    share_pct = 100.0 * sums / (draws.shape[1] * days.shape[1])
    over_target, over_capacity, by_count = share_pct[:, 0], share_pct[:, 1], share_pct[:, 2:]
    within = by_count <= risk_pct
    cpu_hosts = np.where(within.any(axis=1), candidates[np.argmax(within, axis=1)], n_max)
    # A mix counts hosts of its average usable memory (one model: that model's).
    mem_hosts = math.ceil(g * mem_total_gb / rep.mem_usable_gb.mean() - 1e-9)
    needed = np.maximum(cpu_hosts, mem_hosts)
    row = {"growth_factor": float(g)}
    for p in REPORTED_QUANTILES:
        # The fewest hosts that suffice in p % of the drawn weeks.
        row[f"hosts_needed_p{p}"] = int(np.quantile(needed, p / 100.0, method="inverted_cdf"))
    row["hosts_needed_memory"] = int(mem_hosts)
    row["p_overload"] = float((over_target > risk_pct).mean())
    for name, values in (("over_target", over_target), ("over_capacity", over_capacity)):
        for p in REPORTED_QUANTILES:
            row[f"{name}_pct_p{p}"] = float(np.percentile(values, p))
    row["holds"] = bool(mem_hosts <= n_hosts and row["p_overload"] <= HOLD_EXCEED_SHARE)
    return row


def quarter_label(start: pd.Timestamp, quarter: int) -> tuple[str, str]:
    """The end of plan quarter ``quarter`` counted from ``start``: its date (ISO) and calendar quarter ("Q3 2027")."""
    end = start + pd.DateOffset(months=3 * quarter)
    return end.date().isoformat(), f"Q{(end.month - 1) // 3 + 1} {end.year}"


def runway(rows: list[dict], rate_per_year: float, quarters: int, risk_pct: float, hosts_now: int,
           start: pd.Timestamp | None) -> dict:
    """summary.json's ``growth.runway``: ``quarter``, the last quarter the plan holds before the first
    it does not (0: not even the first; None: every quarter of the horizon), ``ends`` and ``label``
    (its end's date and calendar quarter, when the start is known), ``binding`` (what fails
    first: ``memory`` or ``cpu``; None) and ``text``, the sentence the report prints."""
    rate = f"{100 * rate_per_year:g} %/yr"

    def when(q: int) -> str:
        return quarter_label(start, q)[1] if start is not None else f"quarter {q}"

    failing = next((r for r in rows if not r["holds"]), None)
    if failing is None:
        horizon = f"{quarters // 4}-year" if quarters % 4 == 0 else f"{quarters}-quarter"
        last = quarters
        text = f"headroom lasts beyond {when(quarters)}, the end of the {horizon} horizon, at {rate}"
        out = {"quarter": None, "binding": None, "text": text}
    else:
        q = failing["quarter"]
        last = q - 1
        if failing["hosts_needed_memory"] > hosts_now:
            binding = "memory"
            why = f"the plan's {hosts_now} hosts are short of memory ({failing['hosts_needed_memory']} needed)"
        else:
            binding = "cpu"
            why = (f"{100 * failing['p_overload']:.0f} % of the drawn weeks exceed the {risk_pct:g} % risk target "
                   f"({failing['hosts_needed_p90']} hosts needed at the 90th percentile)")
        head = f"headroom lasts until {when(last)} at {rate}" if last else f"no headroom at {rate}"
        text = f"{head}: from {when(q)}" + (f" (quarter {q})" if start is not None else "") + f" {why}"
        out = {"quarter": last, "binding": binding, "text": text}
    if start is None or last == 0:
        return {**out, "ends": None, "label": None}
    ends, label = quarter_label(start, last)
    return {**out, "ends": ends, "label": label}


def growth_what_if(
    rep: Replay,
    mem_total_gb: float,
    rate_per_year: float,
    quarters: int,
    risk_pct: float,
    *,
    seed: int = 0,
    samples: int = GROWTH_SAMPLES,
    start=None,
) -> dict:
    """The growth what-if of a plan replayed as ``rep``: summary.json's ``growth``.

    Parameters
    ----------
    rep : the plan's replay (whole days of it are drawn).
    mem_total_gb : planned memory of all the plan's VMs, GB (grows with the same rate).
    rate_per_year : compound yearly growth, fraction (0.2 = 20 %/yr).
    quarters : horizon in quarters.
    risk_pct : the share of host-intervals over the CPU target (percent) a week may show.
    seed : seed of the draws; samples : weeks drawn per quarter.
    start : when quarter 0 ends (the end of the replayed days; a timestamp or an ISO string), or
        None: the runway then names quarters, not dates.

    Returns
    -------
    The inputs, ``method`` (how the weeks are drawn), ``runway`` (:func:`runway`) and one row per
    quarter: ``growth_factor``; ``hosts_needed_p50``/``_p90`` (the fewest hosts that suffice in
    50 % / 90 % of the drawn weeks) and ``hosts_needed_memory``; ``p_overload`` (share of the
    drawn weeks in which the plan, unchanged, exceeds the risk target);
    ``over_target_pct_p50``/``_p90`` and ``over_capacity_pct_p50``/``_p90`` of the unchanged
    plan; ``holds``; with ``start``, ``ends`` and ``label`` (the quarter's end). For a mix of
    host models each host's load is a share of its own target, and hosts needed are counted
    as hosts like the plan's (memory: of its average usable memory).
    """
    n_hosts = rep.n_hosts
    days = daily_loads(rep) if n_hosts else np.zeros((0, 0))
    start = None if start is None else pd.Timestamp(start)
    inputs = {
        "rate_per_year": rate_per_year, "horizon_quarters": quarters, "samples": samples, "window_days": WINDOW_DAYS,
        "source_days": int(days.shape[0]), "risk_pct": risk_pct, "hosts_now": n_hosts, "seed": seed,
        "start": None if start is None else start.isoformat(),
    }
    if n_hosts == 0:
        return {**inputs, "method": "", "quarters": [], "runway": {"quarter": None, "binding": None, "text": "",
                                                                    "ends": None, "label": None}}
    draws, method = week_draws(days.shape[0], samples, seed)
    rows = []
    for q in range(1, quarters + 1):
        row = {"quarter": q, "years": q / 4.0,
               **_quarter(days, draws, (1.0 + rate_per_year) ** (q / 4.0), rep, mem_total_gb, risk_pct)}
        if start is not None:
            row["ends"], row["label"] = quarter_label(start, q)
        rows.append(row)
    return {**inputs, "method": method, "quarters": rows,
            "runway": runway(rows, rate_per_year, quarters, risk_pct, n_hosts, start)}
