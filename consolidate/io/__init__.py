"""Trace readers, one module per input format (pvlib.iotools style), and the data-quality report.

:func:`read_traces` picks the reader (or detects the format) and returns a
:class:`~consolidate.models.trace.TraceSet` on one regular UTC grid; every repair the rules of
DESIGN.md ("Reading real exports") make is counted in ``TraceSet.quality``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from consolidate.errors import InputError
from consolidate.io.bitbrains import read_bitbrains
from consolidate.io.detect import (
    FORMATS,
    detect_folder_format,
    existing,
    one_line,
    os_error,
)
from consolidate.io.inventory import read_inventory
from consolidate.io.long import read_long
from consolidate.io.planetlab import read_planetlab
from consolidate.io.quality import inspect_traces
from consolidate.io.tabular import check_columns, detect_file_format, parse_columns
from consolidate.io.timestamps import check_timezone
from consolidate.io.wide import read_wide
from consolidate.models.trace import TraceSet

__all__ = [
    "FORMATS",
    "inspect_traces",
    "parse_columns",
    "read_bitbrains",
    "read_inventory",
    "read_long",
    "read_planetlab",
    "read_traces",
    "read_wide",
]


def read_traces(
    path: str | Path,
    *,
    format: str = "auto",
    inventory: str | Path | pd.DataFrame | None = None,
    columns: dict[str, str] | None = None,
    timezone: str | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read utilisation traces in any supported format onto one regular UTC grid.

    Parameters
    ----------
    path : a file (CSV, .csv.gz, Parquet) or a folder of per-server files.
    format : one of :data:`FORMATS`; ``auto`` recognises a Bitbrains folder (``;`` header with
        ``CPU usage [MHZ]``), a PlanetLab folder (headerless, one number per line), a long file
        (``timestamp, server_id, cpu_pct`` after the ``columns`` mapping; every Parquet file) and a
        wide file (a time first column, numbers in the others).
    inventory : inventory CSV path or DataFrame (:func:`read_inventory`).
    columns : canonical name -> the file's column name (long and wide files only).
    timezone : IANA zone of naive timestamps, which are otherwise UTC; timestamps with an offset
        and epoch numbers are UTC already (PlanetLab and Bitbrains ignore it).
    interval_s : grid spacing in seconds; default: the median over servers of each server's
        median spacing (PlanetLab: 300).

    Returns
    -------
    TraceSet with ``source = "<format>:<path>"``.

    Raises
    ------
    InputError, on one line, for anything the tool cannot read as given (an operating-system
    error reading a file, such as a permission denied, included).
    """
    try:
        return _read_traces(path, format=format, inventory=inventory, columns=columns, timezone=timezone,
                            interval_s=interval_s)
    except InputError as err:
        raise InputError(one_line(str(err))) from None
    except OSError as err:
        raise os_error(Path(path), err) from None


def _read_traces(path, *, format, inventory, columns, timezone, interval_s) -> TraceSet:
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    timezone = check_timezone(timezone)
    check_columns(columns)
    p = existing(path)
    if format == "auto":
        format = detect_folder_format(p) if p.is_dir() else detect_file_format(p, columns)
    if format == "long":
        return read_long(p, inventory=inventory, columns=columns, timezone=timezone, interval_s=interval_s)
    if format == "wide":
        return read_wide(p, inventory=inventory, columns=columns, timezone=timezone, interval_s=interval_s)
    if columns:
        raise InputError(f"--columns does not apply to the {format} format, whose columns are fixed; leave it out")
    reader = read_planetlab if format == "planetlab" else read_bitbrains
    return reader(p, inventory=inventory, interval_s=interval_s)
