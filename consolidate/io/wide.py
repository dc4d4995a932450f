"""The wide format: a timestamp column, then one CPU % column per server (server id = column name).

The time column is the one named ``timestamp`` (or mapped with ``columns={"timestamp": ...}``),
else the first column. Every other column is a server. CSV (plain or gzip) or Parquet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, is_parquet, shown
from consolidate.io.formats import TraceFormat
from consolidate.io.tabular import (
    CANONICAL,
    check_ids,
    column_map,
    epoch_or_time_type,
    float32_values,
    parquet_names,
    read_csv_columns,
    read_parquet_columns,
    sniff_csv,
    table_note,
)

#: Names pandas gives an index it writes as a column (``to_csv``: empty or "Unnamed: 0"; Parquet: ``__index_level_0__``).
INDEX_NAMES = ("", "unnamed: 0", "__index_level_0__")
from consolidate.io.timestamps import check_timezone, to_utc_ns
from consolidate.models.trace import TraceSet


def read_wide(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    columns: dict[str, str] | None = None,
    timezone: str | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a wide CSV / Parquet trace file: rows are times, columns are servers, values CPU %.

    Parameters
    ----------
    path : CSV, .csv.gz or Parquet file.
    inventory : inventory CSV path or DataFrame (see :func:`consolidate.io.read_inventory`).
    columns : only ``{"timestamp": NAME}`` applies: the time column's name.
    timezone : IANA zone of naive timestamps (default UTC).
    interval_s : grid spacing in seconds (default: detected).
    """
    timezone = check_timezone(timezone)
    p = existing(path)
    samples = wide_samples(p, columns=columns, timezone=timezone)
    return assemble(samples, fmt="wide", path=p, inventory=inventory, interval_s=interval_s)


def time_column(names: tuple[str, ...], columns: dict[str, str] | None, where: Path) -> str:
    """The wide file's time column: ``timestamp`` (or the mapped name) if present, else the first."""
    extra = sorted(set(columns or {}) - {"timestamp"})
    if extra:
        raise InputError(f"--columns {extra[0]}=...: a wide file only maps its timestamp column (servers are its other columns)")
    found = column_map(names, columns, ("timestamp",), where)
    return found.get("timestamp", names[0])


def _row_numbers(values: list[str]) -> bool:
    """The cells are 0, 1, 2, ...: a pandas RangeIndex written as a column."""
    return bool(values) and all(v.strip() == str(i) for i, v in enumerate(values))


def _long_layout(names: tuple[str, ...], path: Path) -> None:
    """InputError when a file given as wide has the long format's server_id column."""
    found = column_map(names, None, CANONICAL, path)
    if "server_id" in found:
        raise InputError(
            f"{path}: has a {found['server_id']!r} column, so it is the long format (one row per sample), not wide "
            "(one column per server); pass --format long or leave --format out"
        )


def wide_samples(path: Path, *, columns: dict[str, str] | None, timezone: str | None) -> Samples:
    """The raw samples of a wide file, time-major.

    A pandas index written as a column (unnamed, holding the row numbers 0, 1, 2, ...) is not a
    server: it is left out, with a warning. Every other column needs a name.
    """
    if path.is_dir():
        raise InputError(f"{path}: the wide format reads one file, not a folder; give the CSV or Parquet file")
    notes: list[str] = []
    if path.suffix.lower() == ".parquet" or is_parquet(path):
        names = parquet_names(path)
        _long_layout(names, path)
        table = read_parquet_columns(path, list(names))
        index = [n for n in names if n.lower() in INDEX_NAMES]
        time_given = columns and "timestamp" in columns
        stamped = [n for n in index if pa.types.is_timestamp(table[n].type) or pa.types.is_date(table[n].type)]
        if not time_given and "timestamp" not in [n.lower() for n in names] and stamped:
            time_name = stamped[0]  # a DatetimeIndex pandas stored as a column
        else:
            time_name = time_column(names, columns, path)
        dropped = [n for n in index if n != time_name and _row_numbers([str(v) for v in table[n].to_pylist()])]
        names = tuple(n for n in names if n not in dropped)

        def locate(i: int) -> str:
            return f"row {i + 1}"
    else:
        head = sniff_csv(path)
        names = head.names
        _long_layout(names, path)
        dropped = []
        if len(names) > 2 and names[0].lower() in INDEX_NAMES and _row_numbers([r[0] for r in head.rows if r]):
            dropped = [names[0]]
        kept = tuple(n for n in names if n not in dropped)
        time_name = time_column(kept, columns, path)
        first = dict(zip(names, head.rows[0]))
        types = {n: pa.float32() for n in kept}
        types[time_name] = epoch_or_time_type(first.get(time_name, ""))
        table = read_csv_columns(head, types, time_name)
        note = table_note(path, table)
        notes += [note] if note else []
        names = kept

        def locate(i: int) -> str:
            return f"line {i + 2}"

    if dropped:
        notes.append(f"{path.name}: left out the first column ({shown(dropped[0])}, holding the row numbers 0, 1, 2, ...): "
                     "a pandas index written with the data, not a server (write with index=False)")
    unnamed = [i for i, n in enumerate(names) if n != time_name and not n.strip()]
    if unnamed:
        raise InputError(f"{path}: column {unnamed[0] + 1 + len(dropped)} has no name; in a wide file every column after "
                         "the time is a server, named in the header; name it or delete the column")
    servers = [n for n in names if n != time_name]
    if not servers:
        raise InputError(f"{path}: has only the time column {time_name!r}; a wide file needs one column per server")
    ids = [s.strip() for s in servers]
    if len(set(ids)) < len(ids):
        twice = sorted({s for s in ids if ids.count(s) > 1})[0]
        raise InputError(f"{path}: server column {twice!r} appears more than once; give each server one column")
    check_ids(ids, f"{path}, header", lambda k: f"column {shown(servers[k])}")
    counts: dict[str, int] = {}
    times = to_utc_ns(table[time_name], timezone=timezone, where=f"{path}, column {time_name!r}", locate=locate, counts=counts)
    values = np.empty((len(times), len(servers)), dtype=np.float32)
    for j, name in enumerate(servers):
        values[:, j] = float32_values(table[name], f"{path}, column {name!r}", locate)
    n_times, n_servers = values.shape
    return Samples(
        server_ids=ids,
        codes=np.tile(np.arange(n_servers, dtype=np.int32), n_times),
        time_ns=np.repeat(times, n_servers),
        cpu=values.reshape(-1),
        counts=counts,
        notes=notes,
    )


FORMAT = TraceFormat("wide", "CSV with a timestamp column and one column per server", wide_samples, reads="file",
                     takes=("columns", "timezone"))
