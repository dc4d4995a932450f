"""The canonical long format: one row per sample, ``timestamp,server_id,cpu_pct[,mem_pct|mem_gb]``.

CSV (plain or gzip-compressed, ``,`` ``;`` or tab separated) and Parquet, one file or a folder of
long part files (a Parquet dataset such as ``traces/site=ams/part-0.parquet``, or several long
CSVs: every file under the folder, by path; hive ``key=value`` folder names are not columns),
local or through an fsspec URL (``memory://``, ``s3://`` with s3fs installed, ...). Timestamps
follow :mod:`consolidate.io.timestamps`. Where a file has both ``mem_gb`` and ``mem_pct``,
``mem_gb`` is used.

The files are read block by block (pyarrow's streaming CSV reader, Parquet record batches), only
the needed columns, server ids dictionary-encoded; each block becomes compact numpy at once
(int32 server code, int64 UTC ns, float32 values) so that no whole Arrow table is held. Rows of
servers a ``servers`` set leaves out are dropped block by block. The result, errors included, is
that of reading the whole table at once: a block's error is kept and the rest of the file read,
so that the error a whole-table read would raise first (a time before a server id before a
value) is the one raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    NOTE_STEMS,
    NOTE_SUFFIXES,
    Url,
    compression_of,
    encoding_note,
    existing,
    is_parquet,
    open_binary,
    os_error,
    url_filesystem,
)
from consolidate.io.formats import FILES_SNIFFED, TraceFormat
from consolidate.io.tabular import (
    CANONICAL,
    CsvBlocks,
    STREAM_BLOCK_BYTES,
    ServerIds,
    column_map,
    detect_file_format,
    epoch_or_time_type,
    float32_values,
    parquet_batches,
    parquet_names,
    require,
    sniff_csv,
)
from consolidate.io.timestamps import EPOCH_UNITS, NS_PER_S, check_range, check_timezone, to_utc_ns
from consolidate.models.trace import TraceSet

NEEDED = ("timestamp", "server_id", "cpu_pct")

#: Rows per Parquet record batch: 2 MB of compact arrays, a few MB of Arrow data.
PARQUET_BATCH_ROWS = 1 << 17

#: Rows converted at a time where a file's epoch numbers become ns in place.
CONVERT_ROWS = 1 << 20

#: The order a whole-table read raises a file's errors in: the time column (an empty cell, a
#: non-finite epoch number, any other), the server id (an empty cell, then a bad id), the values.
TIME_EMPTY, TIME_NOT_FINITE, TIME_BAD, ID_EMPTY, ID_BAD, CPU_BAD, MEM_BAD = range(7)


def read_long(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    columns: dict[str, str] | None = None,
    timezone: str | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a long CSV / Parquet trace file, or a folder (or fsspec URL) of long part files.

    Parameters
    ----------
    path : CSV, .csv.gz or Parquet file with ``timestamp, server_id, cpu_pct`` (percent of all
        the server's logical CPUs) and optionally ``mem_gb`` (GB in use) or ``mem_pct``
        (percent of the inventory's RAM); or a folder of such files.
    inventory : inventory CSV path or DataFrame (see :func:`consolidate.io.read_inventory`).
    columns : canonical name -> the file's column name.
    timezone : IANA zone of naive timestamps (default UTC).
    interval_s : grid spacing in seconds (default: detected).
    """
    timezone = check_timezone(timezone)
    p = existing(path)
    return assemble(long_samples(p, columns=columns, timezone=timezone), fmt="long", path=p, inventory=inventory,
                    interval_s=interval_s)


def long_samples(path: Path | Url, *, columns: dict[str, str] | None, timezone: str | None,
                 servers: frozenset[str] | None = None) -> Samples:
    """The raw samples of a long file or folder; of the ``servers`` alone where it is given
    (the others' ids are kept, their rows dropped)."""
    folder = path.is_dir()
    files = part_files(path) if folder else [path]
    if not files:
        raise InputError(f"{path}: holds no files; the long format reads a CSV or Parquet file, or a folder of them, "
                         "not a folder without files; give the file or the folder of part files")
    reader = _Reader(servers, timezone, columns, expected_rows=sum(_rows_expected(f) for f in files))
    for f in files:
        reader.read(f, part=folder)
    return reader.samples(path)


def part_files(folder: Path | Url) -> list[Path | Url]:
    """Every file under ``folder`` (sub-folders too), by path; hidden ones (``.``, ``_SUCCESS``,
    ``_metadata``) and notes skipped."""
    def skipped(parts: list[str]) -> bool:
        name = parts[-1].lower()
        return (any(p.startswith((".", "_")) for p in parts) or name.endswith(NOTE_SUFFIXES) or name.startswith(NOTE_STEMS))

    if isinstance(folder, Url):
        fs, root = url_filesystem(folder)
        root = root.rstrip("/")
        found = sorted(fs.find(root))
        return [Url(fs.unstrip_protocol(f)) for f in found if not skipped(f[len(root):].strip("/").split("/"))]
    try:
        found = sorted(f for f in folder.rglob("*") if f.is_file())
    except OSError as err:
        raise os_error(folder, err) from None
    return [f for f in found if not skipped(list(f.relative_to(folder).parts))]


def long_parts(folder: Path | Url, columns: dict[str, str] | None) -> bool:
    """Whether ``folder`` is a folder of long part files (its first files Parquet or long CSVs)."""
    try:
        files = part_files(folder)
        return bool(files) and all(_parquet(f) or detect_file_format(f, columns) == "long" for f in files[:FILES_SNIFFED])
    except InputError:
        return False


def _parquet(path: Path | Url) -> bool:
    return path.suffix.lower() == ".parquet" or is_parquet(path)


def _rows_expected(path: Path | Url) -> int:
    """About how many rows a file holds (exactly for Parquet; for a CSV from its size, at 16 bytes
    a row, as short as a long row gets), for sizing the arrays: pages never filled cost no memory."""
    if _parquet(path):
        try:
            with open_binary(path) as raw:
                return pq.ParquetFile(raw).metadata.num_rows
        except (pa.ArrowException, OSError, ValueError, IndexError):
            return 0  # the read names the problem
    if isinstance(path, Url):
        fs, root = url_filesystem(path)
        size = int(fs.size(root))
    else:
        size = path.stat().st_size
    if compression_of(path) == "gzip":
        with open_binary(path) as raw:
            raw.seek(max(size - 4, 0))
            # the gzip trailer's size of the data, modulo 4 GB; text compresses about tenfold
            size = max(int.from_bytes(raw.read(4), "little"), 10 * size)
    return size // 16


class _Column:
    """A numpy array filled block by block, sized ahead; it grows by half when a block does not fit."""

    def __init__(self, dtype: type, capacity: int) -> None:
        self.data = np.empty(max(capacity, 1), dtype=dtype)
        self.size = 0

    def add(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.empty(max(end, len(self.data) * 3 // 2), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def values(self) -> np.ndarray:
        return self.data[: self.size]


@dataclass
class _Epoch:
    """Epoch numbers of one file seen block by block, for the unit :func:`to_utc_ns` takes from the
    column's median magnitude: per unit's magnitude range, the count, lowest and highest magnitude
    (the two middle values are found from these), and the first time outside the plausible range
    were the numbers of that unit."""

    count: np.ndarray = field(default_factory=lambda: np.zeros(len(EPOCH_UNITS), dtype=np.int64))
    low: np.ndarray = field(default_factory=lambda: np.full(len(EPOCH_UNITS), np.inf))
    high: np.ndarray = field(default_factory=lambda: np.full(len(EPOCH_UNITS), -np.inf))
    out_of_range: list = field(default_factory=lambda: [None] * len(EPOCH_UNITS))

    def add(self, values: np.ndarray, as_float: np.ndarray, where: str, locate: Callable[[int], str]) -> None:
        magnitude = np.abs(as_float)
        unit_of = np.searchsorted([below for _, _, below in EPOCH_UNITS[:-1]], magnitude, side="right")
        for u, (unit, per_s, _) in enumerate(EPOCH_UNITS):
            mine = magnitude[unit_of == u]
            if mine.size:
                self.count[u] += mine.size
                self.low[u] = min(self.low[u], mine.min())
                self.high[u] = max(self.high[u], mine.max())
            if self.out_of_range[u] is None:
                try:
                    check_range(as_float / per_s, where, locate,
                                 lambda i, unit=unit: f"{values[i]!r} read as epoch {unit} (the unit the column's magnitude gives)")
                except InputError as err:
                    self.out_of_range[u] = str(err)

    def unit(self) -> int:
        """The index in :data:`EPOCH_UNITS` of the unit the median magnitude falls in (numpy's median:
        the middle value, or the mean of the two middle ones)."""
        n = int(self.count.sum())
        ends = np.cumsum(self.count)
        lower = int(np.searchsorted(ends, (n - 1) // 2, side="right"))
        upper = int(np.searchsorted(ends, n // 2, side="right"))
        if lower == upper:
            return lower
        median = (self.high[lower] + self.low[upper]) / 2
        return next(u for u, (_, _, below) in enumerate(EPOCH_UNITS) if median < below)


@dataclass
class _File:
    """One file being read: its columns, the rows so far, the first error of each kind."""

    path: Path | Url
    found: dict[str, str]
    parquet: bool
    rows: int = 0
    errors: dict[int, str] = field(default_factory=dict)
    epoch: _Epoch | None = None
    epoch_float: bool = False

    def where(self, column: str) -> str:
        return f"{self.path}, column {self.found[column]!r}"

    def locate(self, row: int) -> str:
        return f"row {row + 1}" if self.parquet else f"line {row + 2}"

    @property
    def worst(self) -> int:
        """The kind of the error raised first so far (one past the last kind: none)."""
        return min(self.errors, default=MEM_BAD + 1)

    def fail(self, kind: int, err: InputError) -> None:
        self.errors.setdefault(kind, str(err))


class _Reader:
    """The samples of one or more long files, accumulated block by block into compact arrays."""

    def __init__(self, servers: frozenset[str] | None, timezone: str | None, columns: dict[str, str] | None,
                 expected_rows: int) -> None:
        self.servers, self.timezone, self.columns = servers, timezone, columns
        self.ids = ServerIds()
        self.wanted = np.zeros(0, dtype=bool)
        self.codes = _Column(np.int32, expected_rows)
        self.time = _Column(np.int64, expected_rows)
        self.cpu = _Column(np.float32, expected_rows)
        self.mem: _Column | None = None
        self.mem_unit: str | None = None
        self.first: Path | Url | None = None
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []

    def read(self, path: Path | Url, *, part: bool) -> None:
        """Add one file's samples; a part file of a folder may be empty."""
        csv: CsvBlocks | None = None
        if _parquet(path):
            names = parquet_names(path)
            found = self._columns(path, names)
            blocks: Iterator[pa.RecordBatch | None] = parquet_batches(path, [found[c] for c in self._wanted(found)],
                                                                     PARQUET_BATCH_ROWS)
        else:
            head = sniff_csv(path, need_rows=not part)
            found = self._columns(path, head.names)
            first = dict(zip(head.names, head.rows[0])) if head.rows else {}
            types = {found["timestamp"]: epoch_or_time_type(first.get(found["timestamp"], "")),
                     found["server_id"]: pa.dictionary(pa.int32(), pa.string())}
            types.update({found[c]: pa.float32() for c in ("cpu_pct", "mem_gb", "mem_pct") if c in found})
            blocks = csv = CsvBlocks(head, {n: types[n] for n in (found[c] for c in self._wanted(found))},
                                     found["timestamp"], STREAM_BLOCK_BYTES)
        mark = self._mark()
        state = _File(path, found, parquet=csv is None)
        for batch in blocks:
            if batch is None:
                self._back(mark)
                state = _File(path, found, parquet=False)
            elif batch.num_rows:
                self._block(batch, state)
        self._finish(state, mark)
        if state.rows == 0 and not part:
            raise InputError(f"{path}: the Parquet file has no rows" if state.parquet else
                             f"{path}: the file has a header but no samples")
        note = None if csv is None else encoding_note(path, csv.encoding)
        if note:
            self.notes.append(note)

    def _columns(self, path: Path | Url, names: tuple[str, ...]) -> dict[str, str]:
        found = column_map(names, self.columns, CANONICAL, path)
        require(found, NEEDED, names, path)
        unit = "gb" if "mem_gb" in found else "pct" if "mem_pct" in found else None
        if self.first is None:
            self.first, self.mem_unit = path, unit
            if unit is not None:
                self.mem = _Column(np.float32, len(self.cpu.data))
        elif unit != self.mem_unit:
            def text(u: str | None) -> str:
                return "no memory column" if u is None else f"mem_{u}"

            raise InputError(f"{path}: has {text(unit)} where {self.first} has {text(self.mem_unit)}; give every "
                             "part file the same columns")
        return found

    @staticmethod
    def _wanted(found: dict[str, str]) -> list[str]:
        """The canonical columns to read: the needed ones, and one memory column (GB before percent)."""
        return list(NEEDED) + [c for c in ("mem_gb", "mem_pct") if c in found][:1]

    def _mark(self) -> tuple[int, int, dict[str, int]]:
        return self.codes.size, len(self.ids.ids), dict(self.counts)

    def _back(self, mark: tuple[int, int, dict[str, int]]) -> None:
        """Forget what a file added (read again from its top)."""
        rows, ids, counts = mark
        for column in (self.codes, self.time, self.cpu, self.mem):
            if column is not None:
                column.size = rows
        self.ids.forget(ids)
        self.wanted = self.wanted[:ids]
        self.counts = counts

    def _block(self, batch: pa.RecordBatch, f: _File) -> None:
        row0 = f.rows
        f.rows += batch.num_rows

        def at(i: int) -> str:
            return f.locate(row0 + i)

        column = {c: batch.column(f.found[c]) for c in self._wanted(f.found)}
        time_ns = self._time(column["timestamp"], f, at)
        ids = column["server_id"]
        if f.worst > ID_EMPTY and ids.null_count:
            f.fail(ID_EMPTY, InputError(f"{f.where('server_id')}, {at(pc.index(pc.is_null(ids), True).as_py())}: "
                                        "the server id is empty; every sample needs one"))
        codes = None
        if f.worst > ID_BAD:
            try:
                codes = self.ids.codes(ids, f.where("server_id"), at)
            except InputError as err:
                f.fail(ID_BAD, err)
        values = {}
        for kind, name in ((CPU_BAD, "cpu_pct"), (MEM_BAD, f"mem_{self.mem_unit}")):
            if name in column and f.worst > kind:
                try:
                    values[name] = float32_values(pa.chunked_array([column[name]]), f.where(name), at)
                except InputError as err:
                    f.fail(kind, err)
        if f.errors:
            return
        if self.servers is not None and len(self.wanted) < len(self.ids.ids):
            self.wanted = np.concatenate([self.wanted, [s in self.servers for s in self.ids.ids[len(self.wanted):]]])
        keep = None if self.servers is None else self.wanted[codes]
        for target, part in ((self.codes, codes), (self.time, time_ns), (self.cpu, values["cpu_pct"]),
                             (self.mem, values.get(f"mem_{self.mem_unit}"))):
            if target is not None:
                target.add(part if keep is None else part[keep])

    def _time(self, column: pa.Array, f: _File, at: Callable[[int], str]) -> np.ndarray | None:
        """A block's times as int64 UTC ns, or, for epoch numbers, as read (int64, or float64 bits)
        until the file's unit is known; None once an error outranks the times."""
        block = {"timezone": self.timezone, "where": f.where("timestamp"), "locate": at, "counts": self.counts}
        if column.null_count:
            if f.worst > TIME_EMPTY:
                try:
                    to_utc_ns(column, **block)
                except InputError as err:
                    f.fail(TIME_EMPTY, err)
            return None
        if f.worst <= TIME_BAD:
            return None
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
            try:
                return to_utc_ns(column, **block)
            except InputError as err:
                f.fail(TIME_BAD, err)
                return None
        if pa.types.is_dictionary(column.type):
            column = column.cast(kind)
        values = column.to_numpy() if not pa.types.is_decimal(kind) else column.cast(pa.float64()).to_numpy()
        as_float = values.astype(np.float64)
        if not np.isfinite(as_float).all():
            try:
                to_utc_ns(column, **block)  # names the first number that is not finite
            except InputError as err:
                f.fail(TIME_NOT_FINITE, err)
            return None
        f.epoch = f.epoch or _Epoch()
        f.epoch_float = not pa.types.is_integer(kind)
        f.epoch.add(values, as_float, f.where("timestamp"), at)
        return as_float.view(np.int64) if f.epoch_float else values.astype(np.int64)

    def _finish(self, f: _File, mark: tuple[int, int, dict[str, int]]) -> None:
        """Raise the file's first error as a whole-table read orders them; turn epoch numbers into ns."""
        if f.worst <= TIME_BAD:
            raise InputError(f.errors[f.worst])
        unit = None
        if f.epoch is not None:
            unit = f.epoch.unit()
            if f.epoch.out_of_range[unit] is not None:
                raise InputError(f.epoch.out_of_range[unit])
        if ID_EMPTY in f.errors:
            raise InputError(f.errors[ID_EMPTY])
        self.ids.check(mark[1])
        if f.errors:
            raise InputError(f.errors[f.worst])
        if unit is None:
            return
        name, per_s, _ = EPOCH_UNITS[unit]
        scale = NS_PER_S // per_s
        if name != "seconds":
            key = f"epoch_{name}_timestamps"
            self.counts[key] = self.counts.get(key, 0) + f.rows
        times = self.time.data[mark[0] : self.time.size]
        for start in range(0, len(times), CONVERT_ROWS):
            part = times[start : start + CONVERT_ROWS]
            if f.epoch_float:
                part[:] = np.round(part.view(np.float64) * scale).astype(np.int64)
            else:
                part *= scale

    def samples(self, path: Path | Url) -> Samples:
        if not self.ids.ids:
            raise InputError(f"{path}: holds no samples; check that the files are not empty")
        mem = None if self.mem is None else self.mem.values()
        return Samples(server_ids=self.ids.ids, codes=self.codes.values(), time_ns=self.time.values(),
                       cpu=self.cpu.values(), mem=mem, mem_unit=self.mem_unit, counts=self.counts, notes=self.notes,
                       owned=True)


FORMAT = TraceFormat("long", "CSV/Parquet with timestamp,server_id,cpu_pct",
                     long_samples, reads="both", takes=("columns", "timezone", "servers"))
