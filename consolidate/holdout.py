"""Hold-out windows: plan on the earlier part of the traces, replay the later part too.

``holdout`` (seconds held out at the end) or ``train_until`` (a UTC time) split a trace set;
``summary.json`` then reports the plan replayed on both parts (:mod:`consolidate.figures`).

References
----------
.. [1] R. J. Hyndman, G. Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed.,
   OTexts, 2021, section 5.10 "Time series cross-validation".
"""

from __future__ import annotations

import numpy as np

from consolidate.errors import InputError
from consolidate.models.trace import TraceSet


def split_holdout(traces: TraceSet, settings) -> tuple[TraceSet, TraceSet | None]:
    """The training part (earlier) and the held-out part (later, None without a split) of ``traces``.

    Both parts must keep at least one interval.
    """
    if settings.holdout is not None:
        split = traces.n_steps - int(round(settings.holdout / traces.interval_s))
        what = f"--holdout {settings.holdout / 86400:g}d"
    elif settings.train_until is not None:
        split = int(np.ceil((settings.train_until - traces.start).total_seconds() / traces.interval_s))
        what = f"--train-until {settings.train_until.isoformat()}"
    else:
        return traces, None
    if not 0 < split < traces.n_steps:
        raise InputError(
            f"{what} leaves no training or no held-out interval: the traces run from {traces.start} to "
            f"{traces.end}; choose a split inside that span"
        )
    return traces.steps(0, split), traces.steps(split, traces.n_steps)


def window(traces: TraceSet) -> dict:
    """A trace set's span, for summary.json."""
    return {"start": traces.start.isoformat(), "end": traces.end.isoformat(), "days": round(traces.duration_days, 3)}
