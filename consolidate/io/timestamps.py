"""Timestamps of any reader to UTC nanoseconds (int64).

Rules: ISO 8601 text with an offset or ``Z`` and typed time zones are honoured as given; naive
times are UTC unless a time zone is named, in which case they are local wall-clock times,
localised then converted to UTC. Numbers are seconds since the Unix epoch (values above 1e11 are
taken as milliseconds, the unit some exports use). In a named zone, a wall-clock time that occurs
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

NS_PER_S = 1_000_000_000

#: Epoch numbers above this are milliseconds, below it seconds (1e11 s is the year 5138).
EPOCH_MS_ABOVE = 1e11

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
        ns = _timestamp_ns(column)
        return ns if kind.tz is not None else _localize(ns, timezone, counts)
    if pa.types.is_date(kind):
        return _localize(_timestamp_ns(column.cast(pa.timestamp("s"))), timezone, counts)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _epoch_ns(column, where)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_ns(column, timezone, where, locate, counts)
    raise InputError(f"{where}: holds {kind} values, not timestamps; {ISO_HINT}")


def _timestamp_ns(column: pa.ChunkedArray) -> np.ndarray:
    as_ns = column.cast(pa.timestamp("ns", tz=column.type.tz))
    return np.ascontiguousarray(as_ns.cast(pa.int64()).to_numpy(), dtype=np.int64)


def _epoch_ns(column: pa.ChunkedArray, where: str) -> np.ndarray:
    values = column.to_numpy()
    if values.size == 0:
        return np.empty(0, dtype=np.int64)
    if not np.all(np.isfinite(values)):
        raise InputError(f"{where}: epoch timestamps must be finite numbers")
    scale = NS_PER_S // 1000 if np.abs(values).max() > EPOCH_MS_ABOVE else NS_PER_S
    if pa.types.is_integer(column.type):
        return values.astype(np.int64) * scale
    return np.round(values.astype(np.float64) * scale).astype(np.int64)


def _text_ns(column: pa.ChunkedArray, timezone: str | None, where: str, locate: Callable[[int], str], counts: dict[str, int]) -> np.ndarray:
    has_offset = pc.match_substring_regex(column, OFFSET_PATTERN)
    n_offset = pc.sum(has_offset).as_py() or 0
    if n_offset in (0, len(column)):
        target = pa.timestamp("ns", tz="UTC" if n_offset else None)
        try:
            ns = _timestamp_ns(column.cast(target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some value is not the ISO form pyarrow reads: parse row by row below to name it
        else:
            return ns if n_offset else _localize(ns, timezone, counts)
    text = column.to_pandas().to_numpy(dtype=object)
    aware = has_offset.to_numpy(zero_copy_only=False)
    ns = np.empty(len(text), dtype=np.int64)
    for mask, utc in ((aware, True), (~aware, False)):
        if not mask.any():
            continue
        parsed = pd.to_datetime(pd.Series(text[mask]), format="ISO8601", utc=utc, errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(mask)[np.argmax(bad)])
            raise InputError(f"{where}, {locate(row)}: cannot read timestamp {text[row]!r}; {ISO_HINT}")
        part = parsed.dt.as_unit("ns").astype("int64").to_numpy()
        ns[mask] = part if utc else _localize(part, timezone, counts)
    return ns


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
