"""vSphere performance exports: PowerCLI ``Get-Stat | Export-Csv`` and the vSphere Client's chart CSV.

A file, or a folder of such files (one per cluster, day or chart), in either layout:

- **Get-Stat** (VMware PowerCLI [1]_), one row per sample::

      Get-Stat -Entity (Get-VM) -Stat cpu.usage.average,cpu.usagemhz.average,mem.consumed.average `
          -Start (Get-Date).AddDays(-1) -IntervalMins 5 | Export-Csv -NoTypeInformation stats.csv

  columns ``Value,Timestamp,MetricId,Unit,Description,Entity,EntityId,IntervalSecs,Instance``
  (found by name, in any order; others ignored). Windows PowerShell 5.1 writes a
  ``#TYPE VMware.VimAutomation.ViCore.Impl.V1.VimClient.FloatSampleImpl`` line first unless
  ``-NoTypeInformation``; ``-UseCulture`` separates with the culture's list separator (``;``
  in de-DE). Values and times are written in the PowerCLI machine's culture.
- **chart export** (vSphere Client, Monitor > Performance > Advanced > Export > CSV): a ``Time``
  column and one column per counter and object, ``<counter> for <object>`` (``Usage for web01``,
  ``Usage in MHz for web01``, ``Consumed for web01``); one chart per file, so ``Usage`` is the
  CPU percentage in a CPU chart (told by its ``Usage in MHz``, ``Ready``... columns) and the
  memory percentage in a memory chart (``Consumed``, ``Active``...).

Rules:

- server id = the ``Entity`` (the VM or host name) as written, or the object of a chart column;
  two EntityIds sharing one name are told apart as ``name (EntityId)``. VMs
  (``VirtualMachine-vm-123``) and hosts (``HostSystem-host-10``) in one file are all servers,
  said in a warning (a host's load includes its VMs').
- CPU: ``cpu.usage.average`` is already a percentage (0-100) of the entity's capacity (a VM's
  vCPUs, a host's cores) in Get-Stat and in charts; the vSphere API stores it in hundredths
  of a percent [2]_, so values above :data:`HUNDREDTHS_ABOVE_PCT` are read as hundredths
  (divided by 100, stated). Where no entity has it but all have ``cpu.usagemhz.average``, CPU
  is MHz (``cpu_unit="mhz"``) against the inventory's cores x GHz, with a warning, as the file
  holds no capacity. Some entities with only one and others with only the other: an error.
- memory in use: ``mem.consumed.average`` (host memory backing the entity: what a target host
  must hold), else ``mem.active.average`` (an estimate from sampled pages, lower; warned),
  KB (KiB) / 1024**2 = GB (GiB); else ``mem.usage.average`` as a percentage of the inventory's
  RAM. Other metrics are left out, counted.
- a row with an ``Instance`` (one vCPU or core: ``0``, ``1``...) is skipped, counted: the row
  with an empty ``Instance`` is the entity's total.
- interval: ``IntervalSecs`` per row (20 s realtime; 300, 1800, 7200, 86400 s rollups [3]_).
  Rows of a coarser rollup within the span of finer rows of the same entity and metric (two
  Get-Stat runs appended) are dropped, counted; one rollup left is the grid interval, several
  are warned and the interval is detected. Repeated rows are merged (the larger value), counted.
- times: Get-Stat writes the PowerCLI machine's local time in its culture's format without a
  zone (``3/4/2024 11:50:20 PM`` en-US, ``04.03.2024 23:50:20`` de-DE, ``04/03/2024 23:50:20``
  en-GB, ``4-3-2024 23:50:20`` nl-NL, ``2024/03/04 23:50:20`` ja-JP): read in ``--timezone``,
  else as UTC with a warning. Whether the day or the month comes first is read from the
  values: a first number above 12 is a day, a second above 12 is a day; dates written with
  ``.`` or ``-`` are day first (every culture writing them is); ``/`` dates take the reading
  under which they run closest together (consecutive days with no day above 12 lie within one
  month, read the other way they spread over months); ``/`` dates that cannot show it (one
  date) are read month first with AM/PM (en-US) and day first in 24-hour time (en-GB, fr-FR),
  warned. ISO 8601 times (with ``Z`` or an offset) and the Flex web client's
  ``Mon Mar 11 00:05:00 GMT+0100 2024`` carry their offset and are converted as given.

References
----------
.. [1] VMware PowerCLI cmdlet reference, ``Get-Stat`` (returns FloatSampleImpl objects: Value,
   Timestamp, MetricId, Unit, Description, Entity, EntityId, IntervalSecs, Instance).
.. [2] VMware vSphere Web Services SDK Programming Guide, "Performance Counter Reference":
   counters of unit ``percent`` are integers in hundredths of a percent; ``cpu.usage`` is a
   percentage of the total available CPU (all cores of all sockets), ``cpu.usagemhz`` MHz.
.. [3] VMware vSphere Monitoring and Performance, "Data Collection Intervals": real time 20 s
   on the host, rollups of 5 min (kept 1 day), 30 min (1 week), 2 h (1 month), 1 day (1 year).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    encoding_note,
    existing,
    file_text,
    head_bytes,
    shown,
    sniff_text,
    trace_files,
)
from consolidate.io.formats import TraceFormat
from consolidate.io.grid import NS_PER_S
from consolidate.io.inventory import (
    DEFAULT_CORES,
    DEFAULT_DESCRIPTION,
    DEFAULT_GHZ,
    name_list,
)
from consolidate.io.tabular import BLOCK_BYTES, NULL_TOKENS, name_text
from consolidate.io.timestamps import check_timezone, duration_text, to_utc_ns
from consolidate.models.trace import TraceSet

CPU_PCT, CPU_MHZ = "cpu.usage.average", "cpu.usagemhz.average"
MEM_CONSUMED, MEM_ACTIVE, MEM_PCT = "mem.consumed.average", "mem.active.average", "mem.usage.average"
#: The MetricIds read -> the standard measure each gives (KB become GB).
METRICS = {CPU_PCT: "cpu_pct", CPU_MHZ: "cpu_mhz", MEM_CONSUMED: "mem_gb", MEM_ACTIVE: "mem_gb", MEM_PCT: "mem_pct"}

#: Get-Stat's columns: those a file must have, and those read where present.
VALUE, TIMESTAMP, METRIC, ENTITY = "Value", "Timestamp", "MetricId", "Entity"
ENTITY_ID, INTERVAL, INSTANCE = "EntityId", "IntervalSecs", "Instance"
REQUIRED = (VALUE, TIMESTAMP, METRIC, ENTITY)
OPTIONAL = (ENTITY_ID, INTERVAL, INSTANCE)

#: vSphere's KB are KiB; GB here are GiB.
KB_PER_GB = 1024**2

#: A percentage above this cannot be one (a VM's CPU may pass 100 % a little with turbo boost):
#: the metric holds the API's hundredths of a percent.
HUNDREDTHS_ABOVE_PCT = 150.0

#: A chart column: ``<counter> for <object>``.
CHART_COLUMN = re.compile(r"^(?P<counter>.+?) for (?P<entity>.+)$")
#: Counters only the CPU chart has, and only the memory chart has: they tell what ``Usage`` is.
CPU_CHART = frozenset({"usage in mhz", "demand", "ready", "readiness", "co-stop", "wait", "idle", "run", "swap wait",
                       "max limited", "utilization", "core utilization", "used", "system", "overlap"})
MEM_CHART = frozenset({"consumed", "active", "granted", "balloon", "balloon target", "host consumed %", "swapped", "shared",
                       "shared common", "zero", "overhead", "compressed", "swap in", "swap out", "swap in rate",
                       "swap out rate", "reserved overhead", "active write"})
#: Chart counter -> MetricId, by chart (``Usage`` depends on it).
CHART_COUNTERS = {
    "cpu": {"usage": CPU_PCT, "usage in mhz": CPU_MHZ},
    "mem": {"usage": MEM_PCT, "consumed": MEM_CONSUMED, "active": MEM_ACTIVE},
}

#: Cells that hold no value.
BLANKS = pa.array(sorted(NULL_TOKENS | {""}), type=pa.string())

#: AM/PM designators of the cultures PowerCLI runs in (English, Chinese, Japanese, Korean).
_AMPM = r"(?:[AaPp]\.?\s?[Mm]\.?|上午|下午|午前|午後|오전|오후)"
_PM = re.compile(r"^(?:[Pp]|下午|午後|오후)")
_CLOCK = (rf"(?:(?P<pre>{_AMPM})\s*)?(?P<H>\d{{1,2}})[:.](?P<M>\d\d)(?:[:.](?P<S>\d\d)(?:[.,](?P<f>\d{{1,9}}))?)?"
          rf"\s*(?P<post>{_AMPM})?")
#: Culture dates with the year last: ``3/4/2024`` (en-US), ``04.03.2024`` (de-DE), ``4-3-2024`` (nl-NL).
DAY_MONTH_YEAR = re.compile(rf"^(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})\.?,?\s+{_CLOCK}$")
#: Year first (ISO 8601, ja-JP, zh-CN, sv-SE, hu-HU): always year, month, day; may carry a zone.
YEAR_MONTH_DAY = re.compile(rf"^(?P<y>\d{{4}})(?P<sep>[./-])\s?(?P<a>\d{{1,2}})(?P=sep)\s?(?P<b>\d{{1,2}})\.?(?:T|,?\s+){_CLOCK}"
                            r"\s*(?P<tz>Z|[+-]\d\d:?\d\d)?$")
#: The Flex web client's (ActionScript) Date.toString(), and JavaScript's.
FLEX = re.compile(r"^[A-Za-z]{3},? (?P<mon>[A-Za-z]{3}) (?P<b>\d{1,2}) (?:(?P<y>\d{4}) )?(?P<H>\d\d):(?P<M>\d\d):(?P<S>\d\d) "
                  r"(?:GMT|UTC)(?P<tz>[+-]\d{4})(?: (?P<y2>\d{4}))?(?: \(.*\))?$")
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
TIME_FORMS = "M/D/YYYY h:mm:ss AM, D.M.YYYY H:mm:ss, D/M/YYYY, D-M-YYYY, YYYY-MM-DD HH:mm:ss or ISO 8601"

UTC_NOTE = ("the times carry no zone (Get-Stat writes the local time of the machine that ran PowerCLI, a chart the "
            "browser's): read as UTC; pass --timezone with that machine's zone (e.g. Europe/Berlin) to place them right")


def read_vsphere(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    timezone: str | None = None,
) -> TraceSet:
    """Read a PowerCLI Get-Stat CSV or a vSphere Client chart CSV (or a folder of them).

    Parameters
    ----------
    path : the CSV file, or a folder of them.
    inventory : inventory CSV path or DataFrame (vCPUs, GHz and RAM of each VM or host): the
        files state no hardware, so without one every server gets the stated default server.
    interval_s : grid spacing in seconds (default: the file's one rollup interval, else detected).
    timezone : IANA zone of the times without a zone (the PowerCLI machine's); default UTC.
    """
    p = existing(path)
    samples = vsphere_samples(p, timezone=check_timezone(timezone))
    return assemble(samples, fmt="vsphere", path=p, inventory=inventory, interval_s=interval_s)


def looks_vsphere(path: Path, head: bytes) -> bool:
    """A Get-Stat header (``Value``, ``Timestamp``, ``MetricId``, ``Entity``; after an optional
    ``#TYPE`` line), or a chart header: ``Time`` then ``<counter> for <object>`` columns, one of
    a counter the vSphere Client charts."""
    text = sniff_text(head)
    header = _header(text) if text else None
    if header is None:
        return False
    names = _split(header.line, _delimiter(header.line))
    return _is_getstat(names) or _is_chart(names)


class Part(NamedTuple):
    """One file's rows (entity key, MetricId, instance row, interval s, UTC ns, value), what it
    holds (MetricIds or chart columns), warnings, conversions (sentence with ``{n:,}`` -> rows)
    and counts."""

    rows: pd.DataFrame
    found: list[str]
    notes: list[str]
    conversions: dict[str, int]
    counts: dict[str, int]


def vsphere_samples(path: Path, timezone: str | None = None) -> Samples:
    """The samples of a vSphere export file, or of every file of a folder."""
    files = trace_files(path) if path.is_dir() else [path]
    parts = [_read_file(f, timezone) for f in files]
    rows = parts[0].rows if len(parts) == 1 else pd.concat([p.rows for p in parts], ignore_index=True)
    rows["key"] = rows["key"].astype("category")
    rows["metric"] = rows["metric"].astype("category")
    conversions: dict[str, int] = {}
    counts: dict[str, int] = {}
    for part in parts:
        for text, n in part.conversions.items():
            conversions[text] = conversions.get(text, 0) + n
        for name, n in part.counts.items():
            counts[name] = counts.get(name, 0) + n
    notes = list(dict.fromkeys(note for part in parts for note in part.notes))
    found = list(dict.fromkeys(name for part in parts for name in part.found))
    return _samples(rows, found, path, notes, conversions, counts)


# --- one file ------------------------------------------------------------------------------

class Header(NamedTuple):
    line: str
    number: int  # 1-based line number in the file
    end: int  # offset of the first character after the header line


def _header(text: str) -> Header | None:
    """The header line: the first line that is not blank and not PowerShell's ``#TYPE`` line."""
    start = 0
    for number in range(1, 6):
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        line = text[start:stop].rstrip("\r")
        if line.strip() and not line.lstrip().startswith("#TYPE"):
            return Header(line, number, stop + 1)
        if end < 0:
            return None
        start = end + 1
    return None


def _delimiter(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def _is_getstat(names: list[str]) -> bool:
    folded = {n.lower() for n in names}
    return all(n.lower() in folded for n in REQUIRED)


def _is_chart(names: list[str]) -> bool:
    if len(names) < 2 or names[0].lower() != "time":
        return False
    counters = [CHART_COLUMN.match(n) for n in names[1:]]
    known = CPU_CHART | MEM_CHART | {"usage"}
    return all(counters) and any(m["counter"].lower() in known for m in counters)


def _read_file(path: Path, timezone: str | None) -> Part:
    if sniff_text(head_bytes(path)) is None:
        raise InputError(f"{path}: is empty or not a text file; export the statistics as CSV (Get-Stat ... | Export-Csv)")
    text, encoding = file_text(path)
    header = _header(text)
    if header is None:
        raise InputError(f"{path}: holds no header line; export the statistics with Get-Stat ... | Export-Csv")
    delimiter = _delimiter(header.line)
    names = _split(header.line, delimiter)
    note = encoding_note(path, encoding)
    if _is_chart(names):
        part = _chart(path, text, header, names, delimiter, timezone)
    else:
        part = _getstat(path, text, header, names, delimiter, timezone)
    return part._replace(notes=part.notes + [note]) if note else part


def _table(path: Path, text: str, header: Header, names: list[str], delimiter: str, wanted: list[str]) -> pa.Table:
    """The ``wanted`` columns below the header, as text."""
    if not text[header.end:].strip():
        raise InputError(f"{path}: has a header but no samples; export a time range that holds statistics")
    twice = sorted({n for n in wanted if names.count(n) > 1})
    if twice:
        raise InputError(f"{path}: the header has the column {shown(twice[0])} more than once; keep one")
    read = pacsv.ReadOptions(column_names=names, block_size=BLOCK_BYTES)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(include_columns=wanted, column_types={n: pa.string() for n in wanted},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        table = pacsv.read_csv(io.BytesIO(text[header.end:].encode("utf-8")), read_options=read, parse_options=parse,
                               convert_options=convert)
    except pa.ArrowInvalid as err:
        detail = str(err).splitlines()[0].removeprefix("CSV parse error: ")
        counted = re.search(r"Expected (\d+) columns, got (\d+)", detail)
        if counted:
            detail = f"a row has {counted[2]} fields where the header has {counted[1]}"
        raise InputError(f"{path}: cannot read the CSV ({shown(detail)[1:-1]}); every row needs the header's columns, "
                         f"separated by {delimiter!r} as the header is") from None
    return table


def _getstat(path: Path, text: str, header: Header, names: list[str], delimiter: str, timezone: str | None) -> Part:
    columns = {}
    for name in REQUIRED + OPTIONAL:
        match = [n for n in names if n.lower() == name.lower()]
        if match:
            columns[name] = match[0]
        elif name in REQUIRED:
            raise InputError(f"{path}: has no column {name!r} (found: {name_text(names)}); give a Get-Stat export "
                             "(Get-Stat ... | Export-Csv) or a vSphere Client chart CSV")
    table = _table(path, text, header, names, delimiter, list(columns.values()))
    first_line = header.number + 1
    col = {name: pc.utf8_trim_whitespace(table[column]) for name, column in columns.items()}
    blank = pc.equal(col[ENTITY], "")
    if pc.any(blank).as_py():
        row = pc.index(blank, True).as_py()
        raise InputError(f"{path}, line {first_line + row}: the Entity is empty; every row names its VM or host")
    key_codes, keys = _factorize(pc.binary_join_element_wise(col[ENTITY], col.get(ENTITY_ID, pa.scalar("")), "\x1f"))
    metric_codes, metrics = _factorize(pc.utf8_lower(col[METRIC]))
    conversions: dict[str, int] = {}
    counts: dict[str, int] = {}
    values, comma = _numbers(col[VALUE], f"{path}, column {columns[VALUE]!r}", first_line)
    if comma:
        conversions["Value: decimal commas (the exporting machine's culture, e.g. de-DE) read as decimal points: {n:,} rows"] = comma
    rows = table.num_rows
    interval = (_numbers(col[INTERVAL], f"{path}, column {columns[INTERVAL]!r}", first_line)[0] if INTERVAL in col
                else np.full(rows, np.nan))
    instance = (pc.not_equal(col[INSTANCE], "").to_numpy(zero_copy_only=False) if INSTANCE in col
                else np.zeros(rows, dtype=bool))
    time_ns, notes = _times(col[TIMESTAMP], timezone, f"{path}, column {columns[TIMESTAMP]!r}", first_line, conversions, counts)
    frame = pd.DataFrame({
        "key": pd.Categorical.from_codes(key_codes, categories=pd.Index(keys)),
        "metric": pd.Categorical.from_codes(metric_codes, categories=pd.Index(metrics)),
        "instance": instance, "interval_s": interval, "time_ns": time_ns, "value": values,
    })
    return Part(frame, list(metrics), notes, conversions, counts)


def _chart(path: Path, text: str, header: Header, names: list[str], delimiter: str, timezone: str | None) -> Part:
    """A chart's ``<counter> for <object>`` columns as rows of their MetricId; the other
    columns (disk, network, counters not used, a ``Usage`` of a chart of unknown kind) left out."""
    counters = {name: CHART_COLUMN.match(name) for name in names[1:]}
    labels = {m["counter"].lower() for m in counters.values()}
    cpu, mem = bool(labels & CPU_CHART), bool(labels & MEM_CHART)
    read = CHART_COUNTERS["cpu"] if cpu and not mem else CHART_COUNTERS["mem"] if mem and not cpu else {}
    used = {name: read[m["counter"].lower()] for name, m in counters.items() if m["counter"].lower() in read}
    if not used:
        return Part(_no_rows(), names[1:], [], {}, {})
    table = _table(path, text, header, names, delimiter, [names[0], *used])
    first_line = header.number + 1
    conversions: dict[str, int] = {}
    counts: dict[str, int] = {}
    time_ns, notes = _times(pc.utf8_trim_whitespace(table[names[0]]), timezone, f"{path}, column {names[0]!r}", first_line,
                            conversions, counts)
    frames = []
    for name, metric in used.items():
        values, comma = _numbers(pc.utf8_trim_whitespace(table[name]), f"{path}, column {name!r}", first_line)
        if comma:
            key = "chart values: decimal commas read as decimal points: {n:,} values"
            conversions[key] = conversions.get(key, 0) + comma
        frames.append(pd.DataFrame({"key": counters[name]["entity"].strip() + "\x1f", "metric": metric, "instance": False,
                                    "interval_s": np.nan, "time_ns": time_ns, "value": values}))
    return Part(pd.concat(frames, ignore_index=True), names[1:], notes, conversions, counts)


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame({"key": pd.Series([], dtype=object), "metric": pd.Series([], dtype=object),
                         "instance": np.zeros(0, dtype=bool), "interval_s": np.zeros(0), "time_ns": np.zeros(0, dtype=np.int64),
                         "value": np.zeros(0)})


def _factorize(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's int32 code and the distinct values (one dictionary over all blocks)."""
    table = pa.table({"c": pc.dictionary_encode(column)}).unify_dictionaries()
    chunks = table["c"].chunks
    uniques = chunks[0].dictionary.to_numpy(zero_copy_only=False)
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int32)
    return codes, uniques


def _numbers(text: pa.ChunkedArray, where: str, first_line: int) -> tuple[np.ndarray, int]:
    """A text column as float64 (NaN where empty), and how many values have a decimal comma.
    Commas are decimal marks where no value has a point: .NET's ToString() in a culture such as
    de-DE writes ``23,45`` and never a thousands separator."""
    commas = int(pc.sum(pc.match_substring(text, ",")).as_py() or 0)
    decimal_comma = commas > 0 and not pc.any(pc.match_substring(text, ".")).as_py()
    if decimal_comma:
        text = pc.replace_substring(text, ",", ".")
    text = pc.if_else(pc.is_in(text, value_set=BLANKS), pa.scalar(None, pa.string()), text)
    try:
        values = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        series = text.to_pandas()
        bad = (pd.to_numeric(series, errors="coerce").isna() & series.notna()).to_numpy()
        row = int(np.argmax(bad))
        raise InputError(f"{where}, line {first_line + row}: {shown(series.iloc[row])} is not a number; "
                         "correct it or leave the cell empty (a missing sample)") from None
    return values.to_numpy(zero_copy_only=False).astype(np.float64), commas if decimal_comma else 0


# --- times ---------------------------------------------------------------------------------

def _times(text: pa.ChunkedArray, timezone: str | None, where: str, first_line: int,
           conversions: dict[str, int], counts: dict[str, int]) -> tuple[np.ndarray, list[str]]:
    """Each row's time as UTC ns (the distinct texts parsed once), and the warnings."""
    codes, uniques = _factorize(text)
    rows_per = np.bincount(codes, minlength=len(uniques))
    first_row = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first_row, codes, np.arange(len(codes), dtype=np.int64))
    clock = _wall_clock(pd.Series(uniques, dtype=object), first_line + first_row, where)
    notes = [clock.note] if clock.note else []
    if clock.reading:
        conversions[clock.reading + ": {n:,} rows"] = int(rows_per[clock.culture].sum())
    naive = np.isnan(clock.offset_s)[codes]
    ns = np.empty(len(codes), dtype=np.int64)
    utc_wall = clock.wall_ns - np.round(np.nan_to_num(clock.offset_s) * 1e9).astype(np.int64)
    for part, typed in ((naive, pa.timestamp("ns")), (~naive, pa.timestamp("ns", tz="UTC"))):
        if part.any():
            rows = np.flatnonzero(part)
            ns[part] = to_utc_ns(pa.array(utc_wall[codes[part]], type=typed), timezone=timezone, where=where,
                                 locate=lambda i, rows=rows: f"line {first_line + rows[i]}", counts=counts)
    n_naive, n_aware = int(naive.sum()), int((~naive).sum())
    if n_aware:
        conversions["Timestamp: times with a UTC offset converted to UTC: {n:,} rows"] = n_aware
    if n_naive and timezone is None:
        notes.append(UTC_NOTE)
        conversions["Timestamp: wall-clock times without a zone read as UTC: {n:,} rows"] = n_naive
    elif n_naive:
        conversions[f"Timestamp: local times in {timezone} converted to UTC: {{n:,}} rows"] = n_naive
    return ns, notes


class WallClock(NamedTuple):
    """Distinct time texts read: wall-clock ns, UTC offset in s (NaN: none given), which were
    culture dates (day and month in either order), how their order was read, and a warning."""

    wall_ns: np.ndarray
    offset_s: np.ndarray
    culture: np.ndarray
    reading: str | None
    note: str | None


def _wall_clock(texts: pd.Series, lines: np.ndarray, where: str) -> WallClock:
    dmy = texts.str.extract(DAY_MONTH_YEAR)
    ymd = texts.str.extract(YEAR_MONTH_DAY)
    flex = texts.str.extract(FLEX)
    is_dmy = dmy["y"].notna().to_numpy()
    is_ymd = ymd["y"].notna().to_numpy() & ~is_dmy
    is_flex = flex["H"].notna().to_numpy() & ~is_dmy & ~is_ymd
    unread = ~(is_dmy | is_ymd | is_flex)
    if unread.any():
        i = np.flatnonzero(unread)[np.argmin(lines[unread])]
        raise InputError(f"{where}, line {lines[i]}: cannot read the time {shown(texts.iloc[i])}; times are read as {TIME_FORMS}")
    parts = pd.concat([dmy[is_dmy], ymd[is_ymd], flex[is_flex]]).reindex(texts.index)

    def number(name: str) -> np.ndarray:
        return pd.to_numeric(parts[name], errors="coerce").fillna(0).to_numpy(np.int64)

    a, b = number("a"), number("b")
    year = np.where(is_flex, np.maximum(number("y"), number("y2")), number("y"))
    month = np.where(is_flex, parts["mon"].str.lower().map(MONTHS).fillna(0).to_numpy(np.int64), a)
    day = b.copy()
    reading, note = None, None
    if is_dmy.any():
        day_first, reading, note = _day_first(a[is_dmy], b[is_dmy], year[is_dmy], dmy[is_dmy], texts[is_dmy], lines[is_dmy], where)
        month[is_dmy], day[is_dmy] = (b[is_dmy], a[is_dmy]) if day_first else (a[is_dmy], b[is_dmy])
    hour, minute, second = number("H"), number("M"), number("S")
    ampm = parts["pre"].fillna(parts["post"])
    twelve = ampm.notna().to_numpy()
    # pandas rolls 25:00 over into the next day: a clock out of range is refused here
    bad_clock = (hour > np.where(twelve, 12, 23)) | (minute > 59) | (second > 59)
    hour = np.where(twelve, hour % 12 + 12 * ampm.fillna("").str.match(_PM).to_numpy(), hour)
    stamp = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour, "minute": minute,
                                         "second": second}), errors="coerce")
    invalid = stamp.isna().to_numpy() | bad_clock
    if invalid.any():
        i = np.flatnonzero(invalid)[np.argmin(lines[invalid])]
        raise InputError(f"{where}, line {lines[i]}: {shown(texts.iloc[i])} is not a valid date and time; times are read as "
                         f"{TIME_FORMS}")
    fraction_ns = parts["f"].fillna("").str.ljust(9, "0").str[:9].astype(np.int64).to_numpy()
    wall_ns = stamp.to_numpy().astype("datetime64[ns]").astype(np.int64) + fraction_ns
    return WallClock(wall_ns, _offsets(parts["tz"]), is_dmy, reading, note)


def _offsets(zone: pd.Series) -> np.ndarray:
    """Seconds east of UTC of ``Z``, ``+02:00``, ``+0200``; NaN where no zone is written."""
    parts = zone.str.extract(r"^(?P<sign>[+-])(?P<h>\d\d):?(?P<m>\d\d)$")
    seconds = (pd.to_numeric(parts["h"]) * 3600 + pd.to_numeric(parts["m"]) * 60) * np.where(parts["sign"] == "-", -1, 1)
    return np.where(zone == "Z", 0.0, seconds.to_numpy(np.float64))


def _day_first(a, b, year, parts: pd.DataFrame, texts: pd.Series, lines: np.ndarray, where: str) -> tuple[bool, str, str | None]:
    """Whether culture dates put the day first, the conversion sentence, and a warning when assumed."""
    as_dm = pd.to_datetime(pd.DataFrame({"year": year, "month": b, "day": a}), errors="coerce")
    as_md = pd.to_datetime(pd.DataFrame({"year": year, "month": a, "day": b}), errors="coerce")
    dm_ok, md_ok = as_dm.notna().to_numpy(), as_md.notna().to_numpy()
    if not (dm_ok | md_ok).all():
        i = np.flatnonzero(~(dm_ok | md_ok))[0]
        raise InputError(f"{where}, line {lines[i]}: {shown(texts.iloc[i])} is not a date in either order (day-month or "
                         f"month-day); times are read as {TIME_FORMS}")
    if dm_ok.all() and not md_ok.all():
        return True, "Timestamp: culture dates read day first (D.M.YYYY: a first number above 12 is a day)", None
    if md_ok.all() and not dm_ok.all():
        return False, "Timestamp: culture dates read month first (M/D/YYYY: a second number above 12 is a day)", None
    if not dm_ok.all():
        i, j = np.flatnonzero(~md_ok)[0], np.flatnonzero(~dm_ok)[0]
        raise InputError(f"{where}: the dates put the day first in some rows ({shown(texts.iloc[i])}, line {lines[i]}) and the "
                         f"month first in others ({shown(texts.iloc[j])}, line {lines[j]}); export from one machine, or write "
                         "ISO 8601 times")
    if not (parts["sep"] == "/").any():
        return True, ("Timestamp: culture dates read day first (D.M.YYYY or D-M-YYYY, the order of every culture that "
                      "writes '.' or '-' between them)"), None
    # consecutive dates with no day above 12 lie within days 1-12 of one month: read the other
    # way they spread over months
    span_dm, span_md = (as_dm.max() - as_dm.min()).days, (as_md.max() - as_md.min()).days
    if span_dm != span_md:
        day_first = span_dm < span_md
        near, far = sorted((span_dm, span_md))
        order = "day first (D/M/YYYY)" if day_first else "month first (M/D/YYYY)"
        return day_first, (f"Timestamp: culture dates read {order}, the order under which they span {near:,} day(s) "
                           f"rather than {far:,}"), None
    month_first = bool((parts["sep"] == "/").all() and parts["pre"].fillna(parts["post"]).notna().any())
    order = ("month first (M/D/YYYY with AM/PM, as en-US writes)" if month_first
             else "day first (D/M/YYYY in 24-hour time, as en-GB, fr-FR, es-ES and it-IT write; a machine without a "
                  "culture, such as PowerShell on Linux without a locale, writes MM/DD/YYYY)")
    note = (f"the dates (e.g. {shown(texts.iloc[int(np.argmin(lines))])}) do not show whether the day or the month comes "
            f"first (no number above 12, and both orders span alike): read {order}; if that is wrong, re-export with "
            "ISO 8601 times (README, vsphere)")
    return not month_first, f"Timestamp: culture dates read {order.split(' (')[0]} (assumed from the form)", note


# --- all files -----------------------------------------------------------------------------

def _samples(rows: pd.DataFrame, found: list[str], path: Path, notes: list[str], conversions: dict[str, int],
             counts: dict[str, int]) -> Samples:
    instance = rows["instance"].to_numpy(dtype=bool)
    metric_names = list(rows["metric"].cat.categories)
    metric = rows["metric"].cat.codes.to_numpy()

    def of(*names: str) -> np.ndarray:
        return np.isin(metric, [metric_names.index(n) for n in names if n in metric_names])

    is_cpu = of(CPU_PCT, CPU_MHZ)
    if not (is_cpu & ~instance).any():
        only = " total (only per-instance rows: Instance 0, 1...)" if is_cpu.any() else ""
        chart = " (a chart's Usage is read as CPU when the chart has Usage in MHz)" if any(
            n.lower().startswith("usage for ") for n in found) else ""
        raise InputError(f"{path}: holds no CPU{only} metric (found: {name_list(found)}){chart}; export cpu.usage.average "
                         "with Get-Stat -Stat cpu.usage.average,mem.consumed.average ... | Export-Csv (its rows with an "
                         "empty Instance are the totals), or the vSphere Client's CPU chart")
    counts["vsphere_instance_rows_skipped"] = int(instance.sum())
    conversions["skipped per-instance rows (Instance 0, 1...: one vCPU or core each; the row with an empty Instance "
                "is the entity's total): {n:,} rows"] = int(instance.sum())
    other = ~of(*METRICS) & ~instance
    counts["vsphere_other_metric_rows"] = int(other.sum())
    if other.any():
        unused = sorted(metric_names[c] for c in np.unique(metric[other]))
        conversions[f"left out the rows of metrics not used for planning ({name_list(unused)}): {{n:,}} rows"] = int(other.sum())
    keep = ~instance & ~other
    rows = rows[keep].reset_index(drop=True)
    is_ = {name: of(name)[keep] for name in METRICS}
    key = rows["key"].cat.remove_unused_categories()
    names = _server_names(list(key.cat.categories), notes)
    codes = key.cat.codes.to_numpy(np.int32)
    values = rows["value"].to_numpy(np.float64).copy()
    cpu_rows, cpu_unit = _cpu(is_, codes, values, names, path, conversions, notes)
    mem_rows, mem_unit = _memory(is_, codes, values, names, conversions, notes)
    time_ns, interval = rows["time_ns"].to_numpy(np.int64), rows["interval_s"].to_numpy(np.float64)
    dropped = 0
    for selected in (cpu_rows, mem_rows):
        for name_rows in is_.values():
            rows_of = np.flatnonzero(selected & name_rows)
            coarse = _coarser_within_finer(codes[rows_of], time_ns[rows_of], interval[rows_of])
            selected[rows_of[coarse]] = False
            dropped += int(coarse.sum())
    counts["vsphere_coarser_rollup_rows_dropped"] = dropped
    conversions["left out rows of a coarser rollup inside the span of finer rows of the same entity and metric (two "
                "Get-Stat runs appended): {n:,} rows"] = dropped
    step_s = _interval(interval[cpu_rows], notes)
    role = np.where(cpu_rows, 0, 1)[cpu_rows | mem_rows]
    chosen = cpu_rows | mem_rows
    merged = pd.DataFrame({"code": codes[chosen], "t": time_ns[chosen], "role": role, "v": values[chosen]}).groupby(
        ["code", "t", "role"], sort=False)["v"].max()
    counts["vsphere_duplicate_rows_merged"] = int(chosen.sum() - len(merged))
    wide = merged.unstack("role")
    mem = None
    if mem_unit is not None:
        mem = wide[1].to_numpy(np.float64) / (KB_PER_GB if mem_unit == "gb" else 1.0)
    return Samples(
        server_ids=names,
        codes=wide.index.get_level_values("code").to_numpy(np.int32),
        time_ns=wide.index.get_level_values("t").to_numpy(np.int64),
        cpu=np.ascontiguousarray(wide[0].to_numpy(np.float64), dtype=np.float32),
        cpu_unit=cpu_unit,
        mem=None if mem is None else np.ascontiguousarray(mem, dtype=np.float32),
        mem_unit=mem_unit,
        counts=counts,
        interval_s=step_s,
        notes=notes,
        conversions=[text.replace("{n:,}", f"{n:,}") for text, n in conversions.items() if n],
    )


#: What an EntityId's type names, for messages.
KINDS = {"VirtualMachine": "VM", "HostSystem": "host", "ClusterComputeResource": "cluster", "ComputeResource": "host",
         "ResourcePool": "resource pool", "Datacenter": "datacenter"}


def _server_names(keys: list[str], notes: list[str]) -> list[str]:
    """The Entity names; a name of several EntityIds gets its EntityId. Warns when VMs and hosts mix."""
    entity = pd.Series([k.split("\x1f", 1)[0] for k in keys])
    entity_id = pd.Series([k.split("\x1f", 1)[1] for k in keys])
    ids_per_name = entity_id[entity_id != ""].groupby(entity[entity_id != ""]).nunique()
    shared = entity.map(ids_per_name).fillna(0).to_numpy() > 1
    names = np.where(shared & (entity_id != ""), entity + " (" + entity_id + ")", entity).tolist()
    if shared.any():
        twice = sorted(set(entity[shared]))
        notes.append(f"{len(twice)} name(s) belong to several vSphere objects (EntityIds), from two vCenters or a "
                     f"re-created VM: told apart as 'name (EntityId)': {name_list(twice)}")
    kind = entity_id.str.extract(r"^([A-Za-z]+)-", expand=False).map(KINDS).fillna("")
    found = kind[kind != ""].value_counts()
    if len(found) > 1:
        others = sorted({n for n, k in zip(names, kind) if k not in ("VM", "")})
        listed = ", ".join(f"{n} {k}(s)" for k, n in found.items())
        notes.append(f"the file holds {listed}: each is planned as a server, though a host's load includes its VMs'; "
                     f"leave one kind out with --exclude (not VMs: {name_list(others)})")
    return names


def _cpu(is_: dict[str, np.ndarray], codes: np.ndarray, values: np.ndarray, names: list[str], path: Path,
         conversions: dict[str, int], notes: list[str]) -> tuple[np.ndarray, str]:
    """The CPU rows and their unit: percent where every entity has it, else MHz where every entity has that."""
    pct, mhz = is_[CPU_PCT], is_[CPU_MHZ]
    with_pct, with_mhz = set(np.unique(codes[pct]).tolist()), set(np.unique(codes[mhz]).tolist())
    if with_mhz <= with_pct:
        _hundredths(values, pct, CPU_PCT, conversions)
        conversions["CPU: cpu.usage.average, a percentage of each entity's capacity (a VM's vCPUs, a host's cores), "
                    "read as is: {n:,} rows"] = int(pct.sum())
        conversions["left out cpu.usagemhz.average beside cpu.usage.average: {n:,} rows"] = int(mhz.sum())
        return pct, "pct"
    if with_pct <= with_mhz:
        conversions["CPU: cpu.usagemhz.average in MHz, a percentage of the inventory's cores x GHz: {n:,} rows"] = int(mhz.sum())
        notes.append("CPU is cpu.usagemhz.average (MHz) and the file holds no capacity: each server's CPU % is its MHz over "
                     "the inventory's cores x GHz, so pass --inventory with each VM's vCPUs and its host's clock (RVTools "
                     f"gives both); without it every server is the default server ({DEFAULT_DESCRIPTION}, "
                     f"{DEFAULT_CORES * DEFAULT_GHZ * 1000:,.0f} MHz)")
        conversions["left out cpu.usage.average of the servers that also have cpu.usagemhz.average, as others have "
                    "only MHz: {n:,} rows"] = int(pct.sum())
        return mhz, "mhz"
    only_pct = sorted(names[c] for c in with_pct - with_mhz)
    only_mhz = sorted(names[c] for c in with_mhz - with_pct)
    raise InputError(f"{path}: {len(only_pct)} server(s) have only cpu.usage.average (e.g. {only_pct[0]}) and "
                     f"{len(only_mhz)} only cpu.usagemhz.average (e.g. {only_mhz[0]}); export cpu.usage.average for all "
                     "(Get-Stat -Stat cpu.usage.average,...)")


def _memory(is_: dict[str, np.ndarray], codes: np.ndarray, values: np.ndarray, names: list[str],
            conversions: dict[str, int], notes: list[str]) -> tuple[np.ndarray, str | None]:
    """The memory rows and their unit: consumed KB, else active KB per entity; else usage %."""
    consumed, active, pct = is_[MEM_CONSUMED], is_[MEM_ACTIVE], is_[MEM_PCT]
    if consumed.any() or active.any():
        has_consumed = np.zeros(len(names), dtype=bool)
        has_consumed[codes[consumed]] = True
        use_active = active & ~has_consumed[codes]
        conversions["memory in use: mem.consumed.average KB (KiB) / 1024^2 = GB (GiB): {n:,} rows"] = int(consumed.sum())
        conversions["memory in use: mem.active.average KB (KiB) / 1024^2 = GB (GiB), where an entity has no "
                    "mem.consumed.average: {n:,} rows"] = int(use_active.sum())
        conversions["left out mem.active.average and mem.usage.average beside mem.consumed.average: {n:,} rows"] = int(
            (active & ~use_active).sum() + pct.sum())
        if use_active.any():
            low = sorted({names[c] for c in codes[use_active]})
            notes.append(f"memory of {len(low)} server(s) is mem.active.average (no mem.consumed.average): active memory is "
                         "VMkernel's estimate of recently touched pages, lower than what a host must hold; export "
                         f"mem.consumed.average for sizing: {name_list(low)}")
        return consumed | use_active, "gb"
    if pct.any():
        _hundredths(values, pct, MEM_PCT, conversions)
        conversions["memory: mem.usage.average, a percentage of the inventory's RAM: {n:,} rows"] = int(pct.sum())
        notes.append("memory is mem.usage.average (%), taken of the inventory's RAM: for a VM it is active memory over its "
                     "configured memory, lower than what a host must hold; export mem.consumed.average for sizing")
        return pct, "pct"
    return np.zeros(len(codes), dtype=bool), None


def _hundredths(values: np.ndarray, rows: np.ndarray, name: str, conversions: dict[str, int]) -> None:
    """Percent values of a metric in the API's hundredths (any above :data:`HUNDREDTHS_ABOVE_PCT`) divided by 100, in place."""
    if (values[rows] > HUNDREDTHS_ABOVE_PCT).any():
        values[rows] /= 100.0
        conversions[f"{name} holds values above {HUNDREDTHS_ABOVE_PCT:g}, the vSphere API's hundredths of a percent: "
                    "divided by 100: {n:,} rows"] = int(rows.sum())


def _coarser_within_finer(codes: np.ndarray, time_ns: np.ndarray, interval_s: np.ndarray) -> np.ndarray:
    """Rows of one metric whose rollup is coarser than the entity's finest and whose interval
    (ending at its time) overlaps the span the finest rows cover."""
    if np.unique(interval_s[~np.isnan(interval_s)]).size < 2:
        return np.zeros(len(codes), dtype=bool)
    frame = pd.DataFrame({"code": codes, "t": time_ns, "step": interval_s})
    finest = frame.groupby("code")["step"].transform("min")
    fine = frame[frame["step"] == finest]
    first, last = fine.groupby("code")["t"].min(), fine.groupby("code")["t"].max()
    start = frame["code"].map(first) - finest * NS_PER_S
    coarser = frame["step"] > finest
    overlaps = (frame["t"] > start) & (frame["t"] - frame["step"] * NS_PER_S < frame["code"].map(last))
    return (coarser & overlaps).to_numpy()


def _interval(steps: np.ndarray, notes: list[str]) -> int | None:
    """The one rollup interval of the CPU rows, or None (detected) when there is none or several, warned."""
    known = steps[~np.isnan(steps)]
    kinds, n = np.unique(known, return_counts=True)
    if len(kinds) == 1 and len(known) == len(steps) and kinds[0] >= 1 and kinds[0] == int(kinds[0]):
        return int(kinds[0])
    if len(kinds) > 1:
        listed = ", ".join(f"{duration_text(k)}: {c:,} rows" for k, c in zip(kinds, n))
        notes.append(f"the CPU rows hold several rollup intervals ({listed}): the grid interval is detected; a finer "
                     "grid fills the coarser stretches, a coarser one keeps each interval's maximum (--interval to choose)")
    return None


FORMAT = TraceFormat("vsphere", "PowerCLI Get-Stat | Export-Csv, or a vSphere Client chart CSV", vsphere_samples,
                     looks=looks_vsphere, reads="both", takes=("timezone",))
