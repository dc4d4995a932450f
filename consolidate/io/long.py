"""The canonical long format: one row per sample, ``timestamp,server_id,cpu_pct[,mem_pct|mem_gb]``.

CSV (plain or gzip-compressed, ``,`` ``;`` or tab separated) is read with pyarrow's
multi-threaded reader, only the needed columns, server ids dictionary-encoded; Parquet natively.
Timestamps follow :mod:`consolidate.io.timestamps`. Where a file has both ``mem_gb`` and
``mem_pct``, ``mem_gb`` is used.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, is_parquet
from consolidate.io.formats import TraceFormat
from consolidate.io.tabular import (
    CANONICAL,
    column_map,
    epoch_or_time_type,
    float32_values,
    parquet_names,
    read_csv_columns,
    read_parquet_columns,
    require,
    server_codes,
    sniff_csv,
    table_note,
)
from consolidate.io.timestamps import check_timezone, to_utc_ns
from consolidate.models.trace import TraceSet

NEEDED = ("timestamp", "server_id", "cpu_pct")


def read_long(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    columns: dict[str, str] | None = None,
    timezone: str | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a long CSV / Parquet trace file.

    Parameters
    ----------
    path : CSV, .csv.gz or Parquet file with ``timestamp, server_id, cpu_pct`` (percent of all
        the server's logical CPUs) and optionally ``mem_gb`` (GB in use) or ``mem_pct``
        (percent of the inventory's RAM).
    inventory : inventory CSV path or DataFrame (see :func:`consolidate.io.read_inventory`).
    columns : canonical name -> the file's column name.
    timezone : IANA zone of naive timestamps (default UTC).
    interval_s : grid spacing in seconds (default: detected).
    """
    timezone = check_timezone(timezone)
    p = existing(path)
    samples = long_samples(p, columns=columns, timezone=timezone)
    return assemble(samples, fmt="long", path=p, inventory=inventory, interval_s=interval_s)


def long_samples(path: Path, *, columns: dict[str, str] | None, timezone: str | None) -> Samples:
    """The raw samples of a long file."""
    if path.is_dir():
        raise InputError(f"{path}: the long format reads one file, not a folder; give the CSV or Parquet file")
    if path.suffix.lower() == ".parquet" or is_parquet(path):
        names = parquet_names(path)
        found = column_map(names, columns, CANONICAL, path)
        require(found, NEEDED, names, path)
        table = read_parquet_columns(path, _wanted(found))
        note = None

        def locate(i: int) -> str:
            return f"row {i + 1}"
    else:
        head = sniff_csv(path)
        found = column_map(head.names, columns, CANONICAL, path)
        require(found, NEEDED, head.names, path)
        first = dict(zip(head.names, head.rows[0]))
        types = {found["timestamp"]: epoch_or_time_type(first.get(found["timestamp"], "")),
                 found["server_id"]: pa.dictionary(pa.int32(), pa.string())}
        types.update({found[c]: pa.float32() for c in ("cpu_pct", "mem_gb", "mem_pct") if c in found})
        table = read_csv_columns(head, {n: types[n] for n in _wanted(found)}, found["timestamp"])
        note = table_note(path, table)

        def locate(i: int) -> str:
            return f"line {i + 2}"

    counts: dict[str, int] = {}
    time_ns = to_utc_ns(table[found["timestamp"]], timezone=timezone, where=f"{path}, column {found['timestamp']!r}",
                        locate=locate, counts=counts)
    ids, codes = server_codes(table[found["server_id"]], f"{path}, column {found['server_id']!r}", locate)
    cpu = float32_values(table[found["cpu_pct"]], f"{path}, column {found['cpu_pct']!r}", locate)
    mem_unit = "gb" if "mem_gb" in found else "pct" if "mem_pct" in found else None
    mem = None
    if mem_unit is not None:
        name = found[f"mem_{mem_unit}"]
        mem = float32_values(table[name], f"{path}, column {name!r}", locate)
    return Samples(server_ids=ids, codes=codes, time_ns=time_ns, cpu=cpu, mem=mem, mem_unit=mem_unit, counts=counts,
                   notes=[note] if note else [])


def _wanted(found: dict[str, str]) -> list[str]:
    """The file columns to read: the needed ones, and one memory column (GB before percent)."""
    names = [found[c] for c in NEEDED]
    for extra in ("mem_gb", "mem_pct"):
        if extra in found:
            return names + [found[extra]]
    return names


FORMAT = TraceFormat("long", "CSV/Parquet with timestamp,server_id,cpu_pct", long_samples, reads="file",
                     takes=("columns", "timezone"))
