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
from consolidate.io.detect import existing, is_parquet
from consolidate.io.tabular import (
    column_map,
    epoch_or_time_type,
    float32_values,
    parquet_names,
    read_csv_columns,
    read_parquet_columns,
    sniff_csv,
)
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


def wide_samples(path: Path, *, columns: dict[str, str] | None, timezone: str | None) -> Samples:
    """The raw samples of a wide file, time-major."""
    if path.is_dir():
        raise InputError(f"{path}: the wide format reads one file, not a folder; give the CSV or Parquet file")
    if path.suffix.lower() == ".parquet" or is_parquet(path):
        names = parquet_names(path)
        time_name = time_column(names, columns, path)
        table = read_parquet_columns(path, list(names))

        def locate(i: int) -> str:
            return f"row {i + 1}"
    else:
        head = sniff_csv(path)
        names = head.names
        time_name = time_column(names, columns, path)
        first = dict(zip(names, head.rows[0]))
        types = {n: pa.float32() for n in names}
        types[time_name] = epoch_or_time_type(first.get(time_name, ""))
        table = read_csv_columns(head, types, time_name)

        def locate(i: int) -> str:
            return f"line {i + 2}"

    servers = [n for n in names if n != time_name]
    if not servers:
        raise InputError(f"{path}: has only the time column {time_name!r}; a wide file needs one column per server")
    ids = [s.strip() for s in servers]
    if len(set(ids)) < len(ids):
        twice = sorted({s for s in ids if ids.count(s) > 1})[0]
        raise InputError(f"{path}: server column {twice!r} appears more than once; give each server one column")
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
    )
