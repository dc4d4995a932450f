"""The PDH-CSV 4.0 layout that Windows performance logs and VMware esxtop batch files share.

Windows' Performance Data Helper writes it for perfmon data collector sets, ``typeperf``,
``logman`` and ``relog -f csv`` [1]_ [2]_; esxtop writes the same layout in batch mode [3]_:

- the header's first cell names the layout and the time zone of the times below it:
  ``(PDH-CSV 4.0) (India Standard Time)(-330)``, the zone's name and its bias, the minutes
  WEST of UTC (UTC = local time + bias [4]_, so -330 is UTC+05:30); esxtop writes
  ``(UTC)(0)``; ``typeperf`` printing to the console writes ``(PDH-CSV 4.0)`` alone;
- every other header cell is a counter path, ``\\\\HOST\\Object(Instance)\\Counter``
  (``\\\\HOST`` left out on some local logs, ``(Instance)`` on objects that have none);
- each row is one sample of every counter: the local time, ``MM/DD/YYYY HH:MM:SS.mmm``
  (esxtop: no milliseconds), then the values, every cell quoted; ``" "`` is "no value" (the
  first row of a rate counter, which needs two readings);
- ``typeperf ... > file.csv`` adds a blank first line and status lines at the end ("Exiting,
  please wait...", "The command completed successfully."): they are left out, counted;
- a file re-saved by a spreadsheet loses the quotes and writes ``M/D/YYYY H:MM``: the seconds
  are lost, so several rows share a time stamp (counted; the grid merges them, keeping each
  interval's maximum). A ``;`` or tab separator is read as such, and then a ``,`` decimal
  mark too.

Files are read in their encoding (:func:`consolidate.io.detect.text_encoding`); an 8-bit file
that is not UTF-8 is cp1252 or, when that makes the counter names known ones, cp1251 (a
Cyrillic Windows). Only the columns a reader needs are parsed (an esxtop file has thousands).

References
----------
.. [1] Microsoft, "typeperf", Windows Server documentation (Windows Commands), 2023.
.. [2] Microsoft, "relog", Windows Server documentation (Windows Commands), 2023.
.. [3] VMware, "Interpreting esxtop Statistics", VMware Communities document DOC-9279,
   section 7 "Batch Mode", 2010.
.. [4] Microsoft, "TIME_ZONE_INFORMATION structure (timezoneapi.h)", Win32 API documentation:
   ``Bias``, the difference in minutes between UTC and local time (UTC = local time + bias).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.assemble import Samples
from consolidate.io.detect import (
    SHOWN_CHARS,
    compression_of,
    damaged_gzip,
    encoding_note,
    head_bytes,
    os_error,
    shown,
    sniff_text,
    text_encoding,
    trace_files,
)
from consolidate.io.inventory import FIELDS, HOST
from consolidate.io.tabular import NULL_TOKENS, name_text

#: The first header cell of the layout, e.g. ``(PDH-CSV 4.0)`` (``PDH-TSV`` for ``-f tsv``).
PDH_MARK = re.compile(r"\(PDH-[CT]SV [\d.]+\)", re.IGNORECASE)

#: The zone that follows it: ``(India Standard Time)(-330)``, a name (which may hold parentheses,
#: ``(RTZ 2 (зима))``) and whole minutes west of UTC. Anything less (cut short, absent) is no zone.
ZONE = re.compile(r"\(PDH-[CT]SV [\d.]+\)\s*\((?P<zone>.*)\)\s*\((?P<bias>[+-]?\d{1,4})\)\s*$", re.IGNORECASE)

#: ``\\HOST\Object(Instance)\Counter``; an instance may hold parentheses, the counter no backslash.
COUNTER_PATH = re.compile(r"^(?:\\\\(?P<host>[^\\]+))?\\(?P<object>[^\\(]+?)\s*(?:\((?P<instance>.*)\))?\\(?P<counter>[^\\]+)$")

#: ``MM/DD/YYYY HH:MM:SS.mmm``, and the spreadsheet forms ``M/D/YYYY H:MM[:SS]`` with an AM/PM.
TIME = re.compile(
    r"^(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?\s*(?P<ampm>[AaPp][Mm])?$"
)
TIME_FORMAT = "MM/DD/YYYY HH:MM:SS.mmm"

#: 8-bit Windows code pages tried besides cp1252 for a file that is not UTF-8 (counter names
#: are localised: a Russian Windows writes them in cp1251, which cp1252 decodes as Latin noise).
OTHER_CODE_PAGES = ("cp1251",)

#: How those code pages are named to the user (detect.ENCODING_NAMES names the others).
CODE_PAGE_NAMES = {"cp1251": "cp1251 (Windows Cyrillic; not valid UTF-8, and cp1252 makes no known counter names of it)"}

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S

#: MB in esxtop and perfmon are MiB; GB here are GiB, as everywhere in the tool.
MB_PER_GB = 1024.0
BYTES_PER_GB = 1024.0**3


class CounterPath(NamedTuple):
    """One header cell: ``\\\\host\\object(instance)\\counter`` (host, instance None where absent)."""

    host: str | None
    object: str
    instance: str | None
    counter: str


def counter_path(name: str) -> CounterPath | None:
    """A header cell as a counter path, or None when it is not one."""
    match = COUNTER_PATH.match(name.strip())
    if match is None:
        return None
    return CounterPath(match["host"], match["object"].strip(), match["instance"], match["counter"].strip())


@dataclass(frozen=True)
class PdhHeader:
    """A PDH-CSV file's header: cells, their counter paths, and how the file is written.

    ``line`` is the header's line number (1-based; ``typeperf`` output has a blank line first);
    ``zone`` and ``bias_min`` come from the first cell, None when it does not give them.
    """

    path: Path
    names: tuple[str, ...]
    paths: tuple[CounterPath | None, ...]
    delimiter: str
    encoding: str
    line: int

    @property
    def zone_match(self) -> re.Match | None:
        return ZONE.search(self.names[0])

    @property
    def zone(self) -> str | None:
        match = self.zone_match
        return None if match is None else match["zone"].strip()

    @property
    def bias_min(self) -> int | None:
        match = self.zone_match
        return None if match is None else int(match["bias"])

    def found(self, limit: int = 12) -> str:
        """The distinct ``\\object\\counter`` pairs of the header, for messages."""
        pairs = list(dict.fromkeys(f"\\{p.object}\\{p.counter}"[:SHOWN_CHARS] for p in self.paths if p is not None))
        if not pairs:
            return f"no counter paths (header: {name_text(self.names, limit)})"
        more = f" and {len(pairs) - limit} more" if len(pairs) > limit else ""
        return ", ".join(pairs[:limit]) + more


def head_names(head: bytes) -> list[str] | None:
    """The header cells of a file starting with ``head`` when it is laid out as PDH-CSV
    (the first cell names the layout, or a later cell is a ``\\\\host\\...`` counter path), else None."""
    text = sniff_text(head)
    if text is None:
        return None
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    try:
        names = next(csv.reader([line], delimiter=_delimiter(line)), [])
    except csv.Error:
        return None
    if not names:
        return None
    if PDH_MARK.search(names[0]) or any(n.strip().startswith("\\\\") and counter_path(n) for n in names[1:]):
        return names
    return None


def _delimiter(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def read_header(path: Path, known: Callable[[CounterPath], bool]) -> PdhHeader:
    """The header of a PDH-CSV file, decoded in the encoding under which most of its counter
    paths are ``known`` (see :data:`OTHER_CODE_PAGES`); InputError for a binary or empty file."""
    head = head_bytes(path)
    if sniff_text(head) is None:
        raise InputError(f"{path}: this is not a text file (binary or empty content); give the CSV the tool exported")
    detected = text_encoding(head)
    candidates = (detected, *OTHER_CODE_PAGES) if detected in ("cp1252", "latin-1") else (detected,)
    best, best_score = None, -1
    for encoding in candidates:
        header = _header_in(path, encoding)
        if header is None:
            continue
        score = sum(1 for p in header.paths if p is not None and known(p))
        if score > best_score:
            best, best_score = header, score
    if best is None:
        raise InputError(f"{path}: the header line cannot be decoded ({detected}); save the file as UTF-8")
    return best


def _read_error(path: Path, err: Exception) -> InputError:
    """The InputError of a failed read: a damaged gzip stream, or what the system said."""
    if compression_of(path) == "gzip" and not isinstance(err, PermissionError):
        return damaged_gzip(path)
    return os_error(path, err) if isinstance(err, OSError) else InputError(f"{path}: cannot be read ({err}); check the file")


def _text_stream(path: Path, encoding: str) -> io.TextIOBase:
    try:
        if compression_of(path) == "gzip":
            return gzip.open(path, "rt", encoding=encoding, newline="")
        return open(path, encoding=encoding, newline="")
    except OSError as err:
        raise os_error(path, err) from None


def _header_in(path: Path, encoding: str) -> PdhHeader | None:
    """The first non-blank line as a header, or None when it does not decode in ``encoding``."""
    try:
        with _text_stream(path, encoding) as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    break
            else:
                raise InputError(f"{path}: the file is empty; give the exported CSV")
    except (UnicodeDecodeError, UnicodeError):
        return None
    except (OSError, EOFError) as err:
        raise _read_error(path, err) from None
    line = line.lstrip("\ufeff").rstrip("\r\n")
    delimiter = _delimiter(line)
    try:
        names = tuple(n.strip() for n in next(csv.reader([line], delimiter=delimiter)))
    except csv.Error as err:
        raise InputError(f"{path}: line {number}: cannot read the header ({err}); check the file's quoting") from None
    paths = (None, *(counter_path(n) for n in names[1:]))
    return PdhHeader(path, names, paths, delimiter, encoding, number)


@dataclass
class PdhRows:
    """The samples of the columns read: local times (int64 ns, wall clock), values (float64,
    rows x columns, NaN for no value), each row's time text, and what was counted."""

    local_ns: np.ndarray
    values: np.ndarray
    time_text: np.ndarray
    counts: dict[str, int]
    notes: list[str]


def read_rows(header: PdhHeader, columns: list[int]) -> PdhRows:
    """The time column and ``columns`` (header positions) of every sample row.

    Blank lines, rows without a time and values, and the lines after the last row with a time
    (``typeperf``'s status lines) are left out, counted as ``pdh_non_data_lines``; any other row
    whose time cannot be read is an InputError naming its line, as is a value that is not a
    number. The values are parsed as numbers by the CSV reader itself; a file where that fails
    (status lines, ``,`` decimal marks, a wrong cell) is read again as text and checked cell by cell.
    """
    typed = _frame(header, columns, typed=True)
    frame, encoding = typed if typed is not None else _frame(header, columns, typed=False)
    note = (f"{header.path.name}: read as {CODE_PAGE_NAMES[encoding]}" if encoding in CODE_PAGE_NAMES
            else encoding_note(header.path, encoding))
    notes = [note] if note else []
    time_text = frame[0].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    if typed is not None:
        values = frame[columns].to_numpy(dtype=np.float64)
        cells = None
        blank = np.isnan(values)
    else:
        cells = np.column_stack([_cells(frame[c], header.delimiter) for c in columns])
        blank = _blank(cells)
    local_ns, keep, no_seconds = parse_times(time_text)
    last = int(np.flatnonzero(keep)[-1]) if keep.any() else -1
    bad = ~keep & (np.arange(len(frame)) < last) & ~blank.all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{header.path}, {line_of(header, time_text[row])}: cannot read the time {shown(time_text[row])} as {TIME_FORMAT} "
            f"(month first, as PDH-CSV writes it); re-export the file, or save it with that time format"
        )
    if last < 0:
        raise InputError(f"{header.path}: no row has a time ({TIME_FORMAT}) in its first column; give the exported CSV")
    dropped = int(len(frame) - keep.sum())
    if dropped:
        first = time_text[np.flatnonzero(~keep)[0]]
        notes.append(f"{header.path.name}: left out {dropped} line(s) that are not samples (no time), e.g. {shown(first)}")
    if cells is not None:
        values = _numbers(header, columns, cells[keep], blank[keep], time_text[keep])
    local_ns = local_ns[keep]
    counts = {
        "pdh_non_data_lines": dropped,
        "pdh_blank_cells": int(blank[keep].sum()),
        "times_without_seconds": int(no_seconds[keep].sum()),
        "rows_sharing_a_timestamp": int(len(local_ns) - len(np.unique(local_ns))),
    }
    return PdhRows(local_ns, values if cells is not None else values[keep], time_text[keep], counts, notes)


def _numbers(header: PdhHeader, columns: list[int], cells: np.ndarray, blank: np.ndarray, time_text: np.ndarray) -> np.ndarray:
    """Text cells (rows x columns) as float64, NaN where blank; InputError naming the first that is not a number."""
    number = pd.to_numeric(pd.Series(np.where(blank, None, cells).ravel(), dtype=object), errors="coerce")
    values = number.to_numpy(dtype=np.float64).reshape(cells.shape)
    wrong = np.isnan(values) & ~blank
    if wrong.any():
        row, k = np.argwhere(wrong)[0]
        raise InputError(
            f"{header.path}, {line_of(header, time_text[row])}, column {quoted(header.names[columns[k]])}: "
            f"{shown(cells[row, k])} is not a number; correct it or leave the cell blank (a missing sample)"
        )
    return values


def _frame(header: PdhHeader, columns: list[int], typed: bool) -> tuple[pd.DataFrame, str] | None:
    """The time column as text and ``columns`` as numbers (``typed``; None when a cell is not
    one) or as text, read past the header; bytes that are not UTF-8 past the part the encoding
    was judged from are re-read as cp1252."""
    encoding = header.encoding
    dtype = {0: str, **{c: np.float64 for c in columns}} if typed else str
    while True:
        try:
            frame = pd.read_csv(
                header.path, sep=header.delimiter, header=None, skiprows=header.line, usecols=[0, *columns], dtype=dtype,
                keep_default_na=False, na_values=sorted(NULL_TOKENS | {"", " "}) if typed else None,
                skip_blank_lines=True, encoding=encoding, encoding_errors="strict",
                compression=compression_of(header.path), engine="c", quotechar='"',
            )
        except UnicodeDecodeError:
            if encoding in ("utf-8", "utf-8-sig"):
                encoding = "cp1252"
                continue
            raise InputError(f"{header.path}: bytes past the header are not {encoding}; save the file as UTF-8") from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{header.path}: the file has a header but no samples; export a longer log") from None
        except pd.errors.ParserError as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise InputError(f"{header.path}: cannot read the rows ({shown(detail)[1:-1]}); check that every row has "
                             "the header's columns") from None
        except ValueError as err:
            if typed:
                return None  # a cell is not a number: read as text, which names it
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise InputError(f"{header.path}: cannot read the rows ({shown(detail)[1:-1]}); check that every row has "
                             "the header's columns") from None
        except (OSError, EOFError) as err:
            raise _read_error(header.path, err) from None
        if len(frame) == 0:
            raise InputError(f"{header.path}: the file has a header but no samples; export a longer log")
        return frame, encoding


def _cells(column: pd.Series, delimiter: str) -> np.ndarray:
    """A column's cells as stripped text (a ``,`` decimal mark read as ``.`` where ``,`` is not the separator)."""
    text = column.fillna("").str.strip()
    if delimiter != ",":
        text = text.str.replace(",", ".", regex=False)
    return text.to_numpy(dtype=object)


def _blank(cells: np.ndarray) -> np.ndarray:
    """Cells that hold no value: empty (``" "`` stripped), or a no-value token (``n/a``, ...)."""
    return np.isin(cells, list(NULL_TOKENS | {""}))


def parse_times(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``MM/DD/YYYY HH:MM[:SS[.fff]][ AM|PM]`` texts as wall-clock int64 ns, whether each is
    one (a real date and time), and whether it lacks the seconds."""
    parts = pd.Series(text, dtype=object).astype(str).str.extract(TIME)
    number = parts[["year", "month", "day", "hour", "minute", "second"]].astype(np.float64)
    no_seconds = parts["second"].isna().to_numpy() & parts["minute"].notna().to_numpy()
    number["second"] = number["second"].fillna(0.0)
    twelve = parts["ampm"].notna().to_numpy()
    hour = number["hour"].to_numpy()
    in_range = (number["minute"].to_numpy() <= 59) & (number["second"].to_numpy() <= 59)
    in_range &= np.where(twelve, (hour >= 1) & (hour <= 12), hour <= 23)
    pm = parts["ampm"].str.lower().eq("pm").to_numpy()
    number["hour"] = np.where(twelve, hour % 12 + 12 * pm, hour)
    number.loc[~in_range] = np.nan
    stamp = pd.to_datetime(number, errors="coerce")
    valid = stamp.notna().to_numpy() & in_range
    fraction = parts["fraction"].fillna("").str.ljust(9, "0").str[:9].astype(np.int64).to_numpy()
    ns = np.where(valid, stamp.to_numpy(dtype="datetime64[ns]").view(np.int64) + fraction, 0)
    return ns.astype(np.int64), valid, no_seconds


def quoted(name: str) -> str:
    """A header cell for a message, cut to :data:`SHOWN_CHARS` (``shown`` would double its backslashes)."""
    return f"'{name}'" if len(name) <= SHOWN_CHARS else f"'{name[:SHOWN_CHARS - 3]}...'"


def line_of(header: PdhHeader, time_text: str) -> str:
    """"line N" of the first row whose first cell is ``time_text`` (for messages; a rare path)."""
    with _text_stream(header.path, header.encoding) as stream:
        try:
            for number, line in enumerate(stream, start=1):
                if number > header.line and line.split(header.delimiter, 1)[0].strip().strip('"').strip() == time_text:
                    return f"line {number}"
        except (UnicodeDecodeError, UnicodeError):
            pass
    return f"the row timed {shown(time_text)}"


def utc_offset_text(bias_min: int) -> str:
    """A bias (minutes west of UTC) as the offset people write: -330 -> ``UTC+05:30``."""
    east = -bias_min
    sign = "+" if east >= 0 else "-"
    return f"UTC{sign}{abs(east) // 60:02d}:{abs(east) % 60:02d}"


def literal(text: object) -> str:
    """``text`` for a conversion sentence (:class:`FileSeries`): its braces doubled."""
    return str(text).replace("{", "{{").replace("}", "}}")


def spreadsheet_sentences(counts: dict[str, int], conversions: Counter) -> None:
    """The sentences of a file a spreadsheet re-saved: seconds lost, several rows per time stamp."""
    conversions["timestamps without seconds (H:MM, a spreadsheet re-save) read as :00: {n:,}"] += counts["times_without_seconds"]
    conversions["rows sharing their timestamp with another row (seconds lost by a spreadsheet re-save), merged by the "
                "grid keeping each interval's maximum: {n:,}"] += counts["rows_sharing_a_timestamp"]


def server_id(host: str | None, path: Path) -> str:
    """The host of the counter paths, or the file name without its extensions where they have none."""
    if host is not None:
        return host
    name = path.name
    for suffix in (".gz", ".csv", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def pdh_files(path: Path, looks: Callable[[Path, bytes], bool]) -> tuple[list[Path], list[str]]:
    """A file, or the files of a folder (one export per server or host) that ``looks`` claims,
    and the warning naming the files of the folder it does not (scripts, notes of other kinds);
    InputError when it claims none."""
    if not path.is_dir():
        return [path], []
    files = trace_files(path)
    claimed = [f for f in files if looks(f, head_bytes(f))]
    if not claimed:
        raise InputError(f"{path}: none of its {len(files)} file(s) is a PDH-CSV export of this format "
                         f"(first: {files[0].name}); give the folder of exported CSVs")
    others = [f.name for f in files if f not in claimed]
    note = f"{path.name}: left out {len(others)} file(s) that are not exports of this format: {', '.join(others[:5])}"
    return claimed, [note + (f" and {len(others) - 5} more" if len(others) > 5 else "")] if others else []


@dataclass
class FileSeries:
    """One file's servers: one row per sample time, one column per server.

    ``cpu`` is busy % of the server's CPUs, ``mem_gb`` memory in use (NaN where the file has
    none), both float32 (rows x servers); ``hardware`` holds each server's inventory fields
    (NaN where the file does not say; ``host``: the machine a VM runs on); ``machines`` the
    hardware of those machines as the file states it; ``conversions`` maps a sentence with
    ``{n:,}`` for its count to the count, so that the sentences of several files add up.
    """

    server_ids: list[str]
    time_ns: np.ndarray
    cpu: np.ndarray
    mem_gb: np.ndarray
    hardware: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    conversions: Counter = field(default_factory=Counter)
    machines: list[dict] = field(default_factory=list)


def samples_of(parts: list[FileSeries], notes: list[str]) -> Samples:
    """The files' servers as one :class:`Samples` (server-major; a server named in two files is
    merged by the assembler), their counts added, their conversion sentences summed, after ``notes``."""
    ids: list[str] = []
    codes, times, cpu, mem = [], [], [], []
    counts: Counter = Counter()
    conversions: Counter = Counter()
    notes = list(notes)
    for part in parts:
        rows, width = part.cpu.shape
        codes.append(np.repeat(np.arange(len(ids), len(ids) + width, dtype=np.int32), rows))
        times.append(np.tile(part.time_ns, width))
        cpu.append(part.cpu.T.ravel())
        mem.append(part.mem_gb.T.ravel())
        ids += part.server_ids
        counts.update(part.counts)
        conversions.update(part.conversions)
        notes += [n for n in part.notes if n not in notes]
    mem_gb = np.concatenate(mem).astype(np.float32)
    described = [row for part in parts for row in part.hardware]
    named = {row["server_id"] for row in described}
    # A host is described once (by its first file), and never over a server of the same name.
    machines = {row["server_id"]: row for part in reversed(parts) for row in part.machines if row["server_id"] not in named}
    hardware = [{**{f: row.get(f, np.nan) for f in FIELDS}, HOST: row.get(HOST, "")} for row in [*described, *machines.values()]]
    return Samples(
        server_ids=ids,
        codes=np.concatenate(codes),
        time_ns=np.concatenate(times),
        cpu=np.concatenate(cpu).astype(np.float32),
        mem=None if np.isnan(mem_gb).all() else mem_gb,
        mem_unit=None if np.isnan(mem_gb).all() else "gb",
        counts={k: int(v) for k, v in counts.items()},
        derived_inventory=pd.DataFrame(hardware, columns=[*FIELDS, HOST]).astype({"model": str, HOST: str}),
        notes=notes,
        conversions=[sentence.format(n=n) for sentence, n in conversions.items() if n],
    )


def hardware(server_id: str, *, cores: float = np.nan, threads: float = np.nan, ram_gb: float = np.nan) -> dict:
    """One server's inventory fields as a file states them (NaN where it does not)."""
    return {"server_id": server_id, "cores": cores, "threads": threads, "ghz": np.nan, "ram_gb": ram_gb,
            "perf": np.nan, "model": "", "power_idle_w": np.nan, "power_max_w": np.nan}


def column_mean(values: np.ndarray) -> np.ndarray:
    """The row means of ``values`` (rows x columns), NaN where a row has no value at all."""
    known = ~np.isnan(values)
    total = np.where(known, values, 0.0).sum(axis=1)
    n = known.sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)
