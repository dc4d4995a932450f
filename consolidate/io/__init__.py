"""Trace readers, one module per input format (pvlib.iotools style), and the data-quality report.

:func:`read_traces` picks the reader (or detects the format) and returns a
:class:`~consolidate.models.trace.TraceSet` on one regular UTC grid; every repair the rules of
DESIGN.md ("Reading real exports") make is counted in ``TraceSet.quality``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from consolidate.errors import InputError
from consolidate.io.assemble import Selection, assemble
from consolidate.io.bitbrains import read_bitbrains
from consolidate.io.detect import Url, existing, file_text, one_line, os_error
from consolidate.io.formats import detect_format, trace_format
from consolidate.io.allocation import inventory_traces
from consolidate.io.inventory import EXPORT_FORMATS, inventory_format, read_inventory
from consolidate.io.long import read_long
from consolidate.io.planetlab import read_planetlab
from consolidate.io.quality import inspect_traces
from consolidate.io.tabular import check_columns, parse_columns
from consolidate.io.timestamps import check_timezone
from consolidate.options import TRACE_FORMATS as FORMATS
from consolidate.options import OptionError, utc_time
from consolidate.io.wide import read_wide
from consolidate.models.trace import TraceSet

#: An ``end`` written as a date alone, which includes that day.
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

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
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    exclude: str | Path | Iterable[str] | None = None,
    powered_off: bool = False,
    servers: Iterable[str] | None = None,
) -> TraceSet:
    """Read utilisation traces in any supported format onto one regular UTC grid.

    Parameters
    ----------
    path : a file or a folder of per-server files (or a collectd host folder, or a folder of
        long part files such as a Parquet dataset); the long format also from an fsspec URL
        (``memory://``, ``s3://`` with s3fs installed, ...).
    format : one of :data:`FORMATS`; ``auto`` asks each format in turn
        (:mod:`consolidate.io.formats`): the exports of monitoring tools by their layout, then a
        long file (``timestamp, server_id, cpu_pct`` after the ``columns`` mapping; every Parquet
        file) or a wide file (a time first column, numbers in the others).
    inventory : inventory path (CSV, RVTools xlsx, Azure Migrate CSV) or DataFrame
        (:func:`read_inventory`).
    columns : canonical name -> the file's column name (the formats that take it).
    timezone : IANA zone of naive local timestamps, which are otherwise UTC (the formats that
        have such times); timestamps with an offset and epoch numbers are UTC already.
    interval_s : grid spacing in seconds; default: the median over servers of each server's
        median spacing (PlanetLab: 300).
    start, end : read the samples from ``start`` to before ``end`` (UTC unless they carry a
        zone); an ``end`` given as a date alone includes that day.
    exclude : server ids to leave out: an iterable, a comma-separated text, or the path of a
        file of ids (one per line; ``#`` starts a comment).
    powered_off : an inventory given as ``path`` (RVTools, Azure Migrate: planned without
        traces, :func:`consolidate.io.allocation.inventory_traces`) plans its powered-off VMs too.
    servers : read these server ids alone (one site's servers of an estate's traces); the others
        are left out without a count or a warning.

    Returns
    -------
    TraceSet with ``source = "<format>:<path>"``.

    Raises
    ------
    InputError, on one line, for anything the tool cannot read as given (an operating-system
    error reading a file, such as a permission denied, included).
    """
    try:
        selection = _selection(start, end, exclude, servers)
        if format in EXPORT_FORMATS or (format == "auto" and not isinstance(existing(path), Url)
                                        and inventory_format(existing(path))):
            if inventory is not None or columns or timezone or interval_s is not None or selection is not None:
                raise InputError(not_for_inventory(path))
            return inventory_traces(path, powered_off=powered_off)
        return _read_traces(path, format=format, inventory=inventory, columns=columns, timezone=timezone,
                            interval_s=interval_s, selection=selection)
    except InputError as err:
        raise InputError(one_line(str(err))) from None
    except OSError as err:
        raise os_error(Path(path), err) from None


def _read_traces(path, *, format, inventory, columns, timezone, interval_s, selection) -> TraceSet:
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    timezone = check_timezone(timezone)
    check_columns(columns)
    p = existing(path)
    fmt = detect_format(p, columns) if format == "auto" else trace_format(format)
    if isinstance(p, Url) and fmt.name != "long":
        raise InputError(f"{p}: a URL is read in the long format only, not {fmt.name}; copy the files to a local folder")
    if p.is_dir() and not fmt.reads_folders:
        raise InputError(f"{p}: the {fmt.name} format reads a file ({fmt.summary}), not a folder; give the file")
    if p.is_file() and not fmt.reads_files:
        raise InputError(f"{p}: the {fmt.name} format reads a folder ({fmt.summary}), not a file; give the folder")
    given = {"columns": columns, "timezone": timezone}
    for name, value in given.items():
        if value and name not in fmt.takes:
            raise InputError(f"--{name} does not apply to the {fmt.name} format ({fmt.summary}); leave it out")
    given["servers"] = None if selection is None else selection.only
    # Not held here: assemble lets go of the raw samples it has selected from.
    return assemble(fmt.samples(p, **{name: given[name] for name in fmt.takes}), fmt=fmt.name, path=p,
                    inventory=inventory, interval_s=interval_s, selection=selection)


def not_for_inventory(path) -> str:
    """The message for trace options given with an inventory read alone."""
    return (f"{path} is an inventory, read without traces: --inventory, --columns, --timezone, --interval, --start, "
            "--end and --exclude do not apply; give traces with --inventory FILE for a time-aware plan")


def _selection(start, end, exclude, servers) -> Selection | None:
    if start is None and end is None and not exclude and servers is None:
        return None
    start_ts, end_ts = _when("start", start), _when("end", end)
    if isinstance(end, str) and DATE_ONLY.fullmatch(end.strip()):
        end_ts += pd.Timedelta(days=1)
    if start_ts is not None and end_ts is not None and end_ts <= start_ts:
        raise InputError(f"--end {end} is not after --start {start}; give an end after the start")
    return Selection(
        start_ns=None if start_ts is None else start_ts.as_unit("ns").value,
        end_ns=None if end_ts is None else end_ts.as_unit("ns").value,
        exclude=frozenset(_excluded(exclude)),
        only=None if servers is None else frozenset(str(s) for s in servers),
    )


def _when(name: str, value) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return utc_time(value)
    except OptionError as err:
        raise InputError(f"--{name} {value!r} {err}") from None


def _excluded(exclude) -> list[str]:
    """Server ids from a list, a comma-separated text or a file of ids."""
    if not exclude:
        return []
    if isinstance(exclude, (str, Path)):
        p = Path(exclude)
        if p.is_file():
            text, _ = file_text(p)
            lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
            return [line for line in lines if line]
        if isinstance(exclude, Path):
            raise InputError(f"--exclude {exclude}: no such file; give a file of server ids or the ids themselves")
        return [part.strip() for part in exclude.split(",") if part.strip()]
    return [str(item) for item in exclude]
