"""Timestamps of any reader to UTC nanoseconds (int64).

Rules: ISO 8601 text with an offset or ``Z`` and typed time zones are honoured as given; naive
times are UTC unless a time zone is named, in which case they are local wall-clock times,
localised then converted to UTC. Numbers are time since the Unix epoch in the unit their
magnitude gives (:data:`EPOCH_UNITS`: seconds below 1e11, milliseconds below 1e14, microseconds
below 1e17, else nanoseconds; judged on the column's median). Every time must fall in the
plausible range :data:`EARLIEST` to :data:`LATEST`, or the read is refused naming the row. In a named zone, a wall-clock time that occurs
twice (the hour repeated when daylight-saving time ends) is taken as the first, daylight-saving,
occurrence, so the repeat lands on the same UTC instants and is merged as duplicates, leaving
an hour that is filled; a wall-clock time that does not exist (skipped when it begins) moves
forward by the jump. Both are counted.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from consolidate.errors import InputError
from consolidate.io.detect import shown

NS_PER_S = 1_000_000_000

#: Epoch numbers above this are milliseconds, below it seconds (1e11 s is the year 5138).
EPOCH_MS_ABOVE = 1e11

#: (unit, its count per second, the magnitude below which a column's median is in that unit).
EPOCH_UNITS = (("seconds", 1, 1e11), ("milliseconds", 1_000, 1e14), ("microseconds", 1_000_000, 1e17),
               ("nanoseconds", NS_PER_S, float("inf")))

#: The plausible range of trace times: no server utilisation trace is from before 1990, and
#: a time after 2100 is a unit or typing error (and past 2262 it overflows nanoseconds).
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
LATEST = pd.Timestamp("2100-01-01", tz="UTC")
RANGE_TEXT = f"trace times must fall between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"

OFFSET_PATTERN = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"

ISO_HINT = "write ISO 8601 such as 2024-01-01T00:00:00Z"


def check_timezone(name: str | None) -> str | None:
    """The IANA time-zone name itself, or InputError if the system does not know it."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--timezone {name!r} is not a known IANA time zone; use a name such as Europe/Amsterdam or UTC") from None
    return name


def to_utc_ns(
    column: pa.ChunkedArray | pa.Array,
    *,
    timezone: str | None,
    where: str,
    locate: Callable[[int], str],
    counts: dict[str, int],
) -> np.ndarray:
    """A time column as int64 UTC nanoseconds.

    Parameters
    ----------
    column : timestamps (typed, with or without zone), dates, ISO 8601 text or epoch numbers.
    timezone : IANA zone of naive times, or None for UTC.
    where : the file and column, for error messages.
    locate : maps a 0-based row index to the words naming it in the file (e.g. "line 5").
    counts : receives ``dst_ambiguous_samples`` and ``dst_nonexistent_samples``.
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if column.null_count:
        first = pc.index(pc.is_null(column), True).as_py()
        raise InputError(f"{where}, {locate(first)}: the timestamp is empty; every sample needs a time")
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_timestamp(kind):
        ns = _timestamp_ns(column, where, locate)
        return ns if kind.tz is not None else _localize(ns, timezone, counts)
    if pa.types.is_date(kind):
        return _localize(_timestamp_ns(column.cast(pa.timestamp("s")), where, locate), timezone, counts)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _epoch_ns(column, where, locate, counts)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_ns(column, timezone, where, locate, counts)
    raise InputError(f"{where}: holds {kind} values, not timestamps; {ISO_HINT}")


_UNIT_PER_S = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": NS_PER_S}


def _timestamp_ns(column: pa.ChunkedArray, where: str, locate: Callable[[int], str]) -> np.ndarray:
    """A typed timestamp column as int64 ns, its range checked in its own unit first (no overflow)."""
    per_s = _UNIT_PER_S[column.type.unit]
    raw = np.ascontiguousarray(column.cast(pa.int64()).to_numpy(), dtype=np.int64)
    check_range(raw.astype(np.float64) / per_s, where, locate, lambda i: "the timestamp")
    return raw * (NS_PER_S // per_s)


def _epoch_ns(column: pa.ChunkedArray, where: str, locate: Callable[[int], str], counts: dict[str, int]) -> np.ndarray:
    """Epoch numbers in the unit their median magnitude gives (:data:`EPOCH_UNITS`; counted as
    ``epoch_<unit>_timestamps`` unless seconds), range-checked before scaling (no overflow)."""
    values = column.to_numpy() if not pa.types.is_decimal(column.type) else column.cast(pa.float64()).to_numpy()
    if values.size == 0:
        return np.empty(0, dtype=np.int64)
    as_float = values.astype(np.float64)
    finite = np.isfinite(as_float)
    if not finite.all():
        row = int(np.argmin(finite))
        raise InputError(f"{where}, {locate(row)}: the epoch timestamp {values[row]!r} is not a finite number; {ISO_HINT}")
    magnitude = float(np.median(np.abs(as_float)))
    unit, per_s = next((name, per) for name, per, below in EPOCH_UNITS if magnitude < below)
    seconds = as_float / per_s
    check_range(seconds, where, locate, lambda i: f"{values[i]!r} read as epoch {unit} (the unit the column's magnitude gives)")
    scale = NS_PER_S // per_s
    if unit != "seconds":
        counts[f"epoch_{unit}_timestamps"] = counts.get(f"epoch_{unit}_timestamps", 0) + int(values.size)
    if pa.types.is_integer(column.type):
        return values.astype(np.int64) * scale
    return np.round(as_float * scale).astype(np.int64)


def check_range(seconds: np.ndarray, where: str, locate: Callable[[int], str], what: Callable[[int], str]) -> None:
    """InputError naming the first time (epoch seconds, float) outside the plausible range."""
    low, high = EARLIEST.value / NS_PER_S, LATEST.value / NS_PER_S
    out = ~((seconds >= low) & (seconds < high))
    if out.any():
        row = int(np.argmax(out))
        when = _date_text(seconds[row])
        raise InputError(f"{where}, {locate(row)}: {what(row)} is {when}; {RANGE_TEXT} (check the unit or the value)")


def _date_text(seconds: float) -> str:
    """A date for a message, also for times pandas cannot hold."""
    if not np.isfinite(seconds):
        return "not a time"
    year = 1970 + seconds / (365.2425 * 86400)
    if -1e6 < year < 1e6 and abs(seconds) < 9e9:
        return f"{pd.Timestamp(int(seconds), unit='s', tz='UTC'):%Y-%m-%d %H:%M} UTC"
    return f"the year {year:.0f}"


def duration_text(seconds: float) -> str:
    """A span for a message: ``45 s``, ``1.5 h``, ``1 day``, ``12,418.0 days``."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:,.1f} h"
    days = round(seconds / 86400, 1)
    return "1 day" if days == 1 else f"{days:,.1f} days"


def _text_ns(column: pa.ChunkedArray, timezone: str | None, where: str, locate: Callable[[int], str], counts: dict[str, int]) -> np.ndarray:
    has_offset = pc.match_substring_regex(column, OFFSET_PATTERN)
    n_offset = pc.sum(has_offset).as_py() or 0
    if n_offset in (0, len(column)):
        target = pa.timestamp("ns", tz="UTC" if n_offset else None)
        try:
            typed = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some value is not the ISO form pyarrow reads: parse row by row below to name it
        else:
            ns = _timestamp_ns(typed, where, locate)
            return ns if n_offset else _localize(ns, timezone, counts)
    text = column.to_pandas().to_numpy(dtype=object)
    aware = has_offset.to_numpy(zero_copy_only=False)
    ns = np.empty(len(text), dtype=np.int64)
    for mask, utc in ((aware, True), (~aware, False)):
        if not mask.any():
            continue
        try:
            parsed = pd.to_datetime(pd.Series(text[mask]), format="ISO8601", utc=utc, errors="coerce")
        except (ValueError, OverflowError, TypeError):
            parsed = pd.Series([_one_time(t, utc) for t in text[mask]], dtype=object)
            parsed = pd.to_datetime(parsed, utc=utc, errors="coerce") if parsed.notna().all() else parsed
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(mask)[np.argmax(bad)])
            raise InputError(f"{where}, {locate(row)}: cannot read timestamp {shown(text[row])}; {ISO_HINT}")
        unit = parsed.dt.unit
        raw = parsed.astype("int64").to_numpy()
        rows = np.flatnonzero(mask)
        check_range(raw.astype(np.float64) / _UNIT_PER_S[unit], where, lambda i, rows=rows: locate(int(rows[i])),
                     lambda i, rows=rows: shown(text[rows[i]]))
        part = raw * (NS_PER_S // _UNIT_PER_S[unit])
        ns[mask] = part if utc else _localize(part, timezone, counts)
    return ns


def _one_time(text: str, utc: bool):
    """One ISO 8601 text as a Timestamp, or None if it is not one pandas can hold."""
    try:
        return pd.to_datetime(text, format="ISO8601", utc=utc)
    except (ValueError, OverflowError, TypeError):
        return None


def _localize(ns: np.ndarray, timezone: str | None, counts: dict[str, int]) -> np.ndarray:
    """Naive wall-clock ns in ``timezone`` to UTC ns (identity without a zone)."""
    if timezone is None or timezone == "UTC":
        return ns
    codes, uniques = pd.factorize(ns)
    wall = pd.DatetimeIndex(np.asarray(uniques, dtype=np.int64).view("datetime64[ns]"))
    first = np.ones(len(wall), dtype=bool)
    as_dst = wall.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward").as_unit("ns").asi8
    as_std = wall.tz_localize(timezone, ambiguous=~first, nonexistent="shift_forward").as_unit("ns").asi8
    missing = wall.tz_localize(timezone, ambiguous=first, nonexistent="NaT").isna()
    per_unique = np.bincount(codes, minlength=len(wall))
    counts["dst_ambiguous_samples"] = counts.get("dst_ambiguous_samples", 0) + int(per_unique[as_dst != as_std].sum())
    counts["dst_nonexistent_samples"] = counts.get("dst_nonexistent_samples", 0) + int(per_unique[missing].sum())
    return as_dst[codes]
