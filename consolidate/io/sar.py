"""sysstat ``sar`` data: ``sadf -d`` text exports and binary ``sa`` files, one file or a folder.

sysstat's ``sadc`` (run every 10 minutes by ``sa1`` from cron or a systemd timer) writes one
binary file a day (``/var/log/sysstat/saDD`` on Debian, ``/var/log/sa/saDD`` on Red Hat);
``sar`` prints it as a report and ``sadf -d`` as ``;``-separated text for databases [1]_. The
export this reader wants, per host and day::

    sadf -d -P ALL -- -u -r /var/log/sysstat/sa15 > web01-sa15.csv

(``-P ALL`` adds a row per CPU, which gives the CPU count; ``sadf -d -- -u -r`` alone is read as
well, and so are ``-t`` / ``-T`` local times, ``-U`` epoch seconds, ``-h`` one line per record,
``-u ALL`` / ``-r ALL`` and exports of every activity, ``-A``.) A binary ``sa`` file is read by
running ``sadf -d -P ALL FILE -- -u -r`` when ``sadf`` is on the PATH (:data:`SADF_ARGS`); a file
of an older sysstat format is first converted with ``sadf -c``, as sadf advises. A file sadf
cannot read or convert, and one whose records an older sadf silently leaves out (a file of a
newer sysstat comes out empty), ends in one line saying what sadf said and what to run; without
``sadf`` on the PATH, one line says to run ``sadf -d -- -u -r FILE > FILE.csv``.

Layout (every sysstat since 8.1.2): blocks, one per activity and per run between restarts, each
opened by its own header line ``# hostname;interval;timestamp;<fields>``, then one line per
record (and per CPU, device...); ``host;-1;time;LINUX-RESTART\\t(N CPU)`` and
``host;-1;time;COM text`` lines mark reboots and comments. With ``-h`` all activities of a
record are on one line, and a header field ending in ``[...]`` closes a group repeated per
instance. sadf writes numbers in the locale's LC_NUMERIC (``2,15`` under ``de_DE``): a
decimal comma is read.

What is taken (the raw names: :data:`FIELDS`):

- server id = the ``hostname`` field, unchanged; a file may hold several hosts, and the files
  of one host (days) are one server.
- time = the ``timestamp`` field, the end of the record's interval (the ``interval`` field,
  the seconds the record averages, may differ from record to record; the grid spacing is
  detected from the timestamps). ``YYYY-MM-DD HH:MM:SS UTC`` is UTC (sadf's default); epoch
  seconds (``-U``) are UTC. Without the ``UTC`` suffix (``-t``: the file creator's local time;
  ``-T``: that of the machine running sadf) the times are local: sysstat 12.7.1 and later
  write a zone label instead (``CET``), which is the zone's standard name all year (``CET`` in
  July), so it is not read as an offset. Local times are placed with ``--timezone`` (an IANA
  name); without one they are read as if UTC, and a warning says so.
- CPU busy % = ``100 - %idle - %iowait`` of the all-CPU row (``CPU`` = ``-1``), a share of all
  the host's online logical CPUs. Busy counts ``%user``/``%usr``, ``%nice``, ``%system``/``%sys``,
  ``%irq``, ``%soft``, ``%guest``, ``%gnice`` and ``%steal``. ``%steal`` is time the VM was ready
  to run while the hypervisor ran another: demand not served, so busy (else a VM on a crowded
  host looks smaller than it is). ``%iowait`` is not busy: it is idle time (the CPU ran
  nothing) during which a task waited for a disk [2]_; another workload can run then, so on a
  consolidated host it is free capacity. The nmon, collectd and Prometheus readers count I/O
  wait the same way, so one server measured by two tools gives one figure; the conversions
  state the mean ``%iowait`` left out. A record without an all-CPU row (``sadf -P 0,1``) gets
  the mean over its per-CPU rows, said in the conversions; a per-CPU row of zeros is an
  offline CPU (sysstat 11.6 and older printed those) and is left out, counted.
- CPU count = the larger of the last figures the ``LINUX-RESTART`` rows give (sysstat 10.3.1
  and later) and the highest per-CPU number + 1 (``-P ALL``). These are logical CPUs: the
  inventory gets ``cores = threads`` = that count (SMT cannot be told). Without either the
  server gets the default.
- Memory, the ``-r`` block, kB (KiB) to GB (GiB, / 1024**2). RAM total = the first sum of
  :data:`RAM_SUMS` that is the same on every record and gives back the printed ``%memused``
  (``kbmemused`` is ``total - kbavail`` from sysstat 12.7.8, ``total - free - buffers - cached -
  slab`` from 11.4.10 / 11.6.4, ``total - free`` before); else ``kbmemused / %memused``, exact to
  the rounding of ``%memused``. Memory in use = RAM total - ``kbavail`` (the kernel's
  MemAvailable: buffers, page cache and reclaimable slab are not in use) where the file has
  it; else ``kbmemused - kbbuffers - kbcached`` when ``kbmemused`` includes them (older sysstat),
  else ``kbmemused``. A ``kbavail`` of 0 (kernels before 3.14 lack MemAvailable) is no value.
- Blocks of other activities (``proc/s``, ``INTR``, ``DEV``, ``IFACE``...) are ignored, counted.
- Other sysstat outputs (a ``sar`` text report, ``sadf -j``, ``-x``, ``-p``) are recognised and
  refused with the command to run; in a folder, ``sar`` text reports (the ``sarDD`` files next
  to the ``saDD`` ones) are skipped, named in a warning.

References
----------
.. [1] S. Godard, sysstat: sadf(1), sar(1) and sadc(8) manual pages, and the source of
   ``sadf_misc.c`` and ``rndr_stats.c`` (https://github.com/sysstat/sysstat), versions 9.1.5 to 12.8.
.. [2] The Linux kernel, Documentation/filesystems/proc.rst, ``/proc/stat``: "iowait: In a
   word, iowait stands for waiting for I/O to complete. [...] the CPU will not wait for I/O to
   complete, iowait is the time that a task is waiting for I/O to complete. When CPU goes into
   idle state for outstanding task I/O, another task will be scheduled on this CPU."
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    compression_of,
    encoding_note,
    existing,
    file_bytes,
    file_text,
    head_bytes,
    shown,
    sniff_text,
    trace_files,
)
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import FIELDS as INVENTORY_FIELDS
from consolidate.io.inventory import name_list
from consolidate.io.timestamps import check_timezone, to_utc_ns
from consolidate.models.trace import TraceSet

HEADER = "# hostname;interval;timestamp"

#: sadf -d field -> the name used here (the CPU block of ``-u`` / ``-u ALL``, the memory block of
#: ``-r`` / ``-r ALL``; the same names in every sysstat version).
FIELDS = {
    "hostname": "host",
    "timestamp": "time",
    "CPU": "cpu",
    "%idle": "idle_pct",
    "%iowait": "iowait_pct",
    "%steal": "steal_pct",
    "kbmemfree": "free_kb",
    "kbavail": "avail_kb",
    "kbmemused": "used_kb",
    "%memused": "used_pct",
    "kbbuffers": "buffers_kb",
    "kbcached": "cached_kb",
    "kbslab": "slab_kb",
}
CPU_FIELDS = ("idle_pct", "iowait_pct", "steal_pct")
MEM_FIELDS = ("free_kb", "avail_kb", "used_kb", "used_pct", "buffers_kb", "cached_kb", "slab_kb")

#: The all-CPU row's number in sadf -d output.
ALL_CPUS = -1

#: The sums of memory fields that give the RAM total, in the order they are tried (one per
#: definition of ``kbmemused``: sysstat 12.7.8 and later; 11.4.10 / 11.6.4 to 12.7.7 with
#: ``-r ALL``; before 11.4.10).
RAM_SUMS = (
    ("kbmemused + kbavail", ("used_kb", "avail_kb")),
    ("kbmemfree + kbmemused + kbbuffers + kbcached + kbslab", ("free_kb", "used_kb", "buffers_kb", "cached_kb", "slab_kb")),
    ("kbmemfree + kbmemused", ("free_kb", "used_kb")),
)
OLD_RAM_SUM = RAM_SUMS[2][0]

#: How far (percentage points) a RAM total may put ``kbmemused`` from the printed ``%memused``:
#: the rounding of two decimals, or of one with ``sadf --dec=1``.
MEMUSED_ROUNDING_PCT = 0.051

#: ``kbmemfree + kbmemused`` within this share of the RAM total means ``kbmemused`` includes
#: buffers and cache (sysstat before 11.4.10), when no sum matched exactly.
OLD_USED_SHARE = 0.005

#: A CPU group of a ``-h`` line sums to 100 % within this (ten fields rounded to 0.01).
CPU_SUM_TOLERANCE_PCT = 1.0

#: The sysstat KiB; GB here are GiB.
KB_PER_GB = 1024**2

#: How a binary sa file is read: ``sadf SADF_ARGS FILE SAR_OPTIONS``, under LC_ALL=C.
SADF_ARGS = ("-d", "-P", "ALL")
SAR_OPTIONS = ("--", "-u", "-r")
SADF_TIMEOUT_S = 900
SADF_CUT_SHORT = "End of system activity file unexpected"
SADF_OLD_FORMAT = "Try to convert it to current format"
SAID_CHARS = 400

#: sysstat's file magic, as a little- and a big-endian machine write it; the format magic that
#: follows is 0x21xx in every version.
SA_MAGIC = (b"\x96\xd5", b"\xd5\x96")
SA_FORMAT_HIGH_BYTE = 0x21

#: Other sysstat outputs, recognised to say what to export instead.
OTHER_OUTPUTS = (
    (re.compile(r"\A\s*Linux \S+ \([^)\n]*\)\s+\S+\s+_\S+_\s+\(\d+ CPU\)"), "a sar text report (the layout sar prints)"),
    (re.compile(r'\A\s*\{\s*"sysstat"\s*:'), "sadf -j JSON"),
    (re.compile(r"\A\s*<\?xml[^>]*>.{0,400}?<sysstat\b", re.DOTALL), "sadf -x XML"),
    (re.compile(r"\A[^\t\n;]+\t-?\d+\t(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \S+)?|\d+)\t\S+\t[%\w][^\t\n]*\t[-\d.,]+\r?\n"),
     "sadf -p output (tab-separated)"),
)
REPORT = OTHER_OUTPUTS[0][1]

HEADER_LINE = re.compile(r"^# hostname;interval;timestamp[^\n]*", re.MULTILINE)
SPECIAL_LINE = re.compile(r"^([^;\n]*);-1;[^;\n]*;(LINUX-RESTART|COM\b)([^\n]*)$\n?", re.MULTILINE)
SPECIAL_WORDS = (";LINUX-RESTART", ";COM ")
CPU_COUNT = re.compile(r"\((\d+) CPU\)")
TIME_TEXT = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \S+)?$"
EPOCH_TEXT = r"^\d+$"
REPEATED = "[...]"


def read_sar(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    timezone: str | None = None,
) -> TraceSet:
    """Read a sysstat ``sadf -d`` export or binary ``sa`` file, or a folder of them.

    Parameters
    ----------
    path : a file, or a folder of files (one per host or per host and day).
    inventory : inventory path or DataFrame; overrides the CPU count and RAM read from the files.
    interval_s : grid spacing in seconds (default: detected from the timestamps).
    timezone : IANA zone of local timestamps (``sadf -t`` / ``-T``); UTC ones are UTC already.
    """
    p = existing(path)
    samples = sar_samples(p, timezone=check_timezone(timezone))
    return assemble(samples, fmt="sar", path=p, inventory=inventory, interval_s=interval_s)


def looks_sar(path: Path, head: bytes) -> bool:
    """A binary sa file, a ``sadf -d`` export, or another sysstat output (refused by name)."""
    return _kind(head) is not None


def _kind(head: bytes) -> str | None:
    """``"binary"``, ``"sadf"``, the name of another sysstat output, or None."""
    if _is_sa(head):
        return "binary"
    text = sniff_text(head)
    if text is None:
        return None
    if HEADER_LINE.search(text):
        return "sadf"
    return next((what for pattern, what in OTHER_OUTPUTS if pattern.match(text)), None)


def _is_sa(head: bytes) -> bool:
    little, big = SA_MAGIC
    return len(head) >= 4 and ((head[:2] == little and head[3] == SA_FORMAT_HIGH_BYTE)
                               or (head[:2] == big and head[2] == SA_FORMAT_HIGH_BYTE))


# --- the files ---------------------------------------------------------------------------

@dataclass
class _Read:
    """What the files of one input hold, before times are placed and hosts merged."""

    cpu: list[pd.DataFrame] = field(default_factory=list)
    mem: list[pd.DataFrame] = field(default_factory=list)
    restarts: list[tuple[str, int]] = field(default_factory=list)
    comments: int = 0
    other_blocks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)
    times: dict[str, int] = field(default_factory=dict)


def sar_samples(path: Path, *, timezone: str | None = None) -> Samples:
    """Every CPU and memory record of a file or folder, one sample per host and record."""
    read = _Read()
    files = trace_files(path) if path.is_dir() else [path]
    kinds = [_kind(head_bytes(f)) for f in files]
    # a sysstat log folder holds sarDD text reports beside the saDD files they were printed from
    skip_reports = any(k != REPORT for k in kinds)
    reports = [f.name for f, k in zip(files, kinds) if k == REPORT and skip_reports]
    for f, kind in zip(files, kinds):
        if not (kind == REPORT and skip_reports):
            _read_file(f, kind, read, timezone)
    if reports:
        read.notes.append(f"skipped {len(reports)} sar text report(s), read only as sadf -d exports or sa files: {name_list(reports)}")
    cpu = pd.concat(read.cpu, ignore_index=True) if read.cpu else None
    if cpu is None or cpu.empty:
        raise InputError(f"{path}: no CPU record (sadf -d -- -u block){_found(read)}; export the CPU and memory blocks: "
                         "sadf -d -P ALL -- -u -r saDD > FILE.csv")
    return _samples(path, read, cpu, timezone)


def _found(read: _Read) -> str:
    found = sorted(set(read.other_blocks)) + (["memory (-r)"] if any(len(m) for m in read.mem) else [])
    return f"; the file holds: {', '.join(found[:8])}" if found else ""


def _read_file(path: Path, kind: str | None, read: _Read, timezone: str | None) -> None:
    if kind == "binary":
        text = _converted(path, read)
    elif kind == "sadf":
        text, encoding = file_text(path)
        note = encoding_note(path, encoding)
        if note:
            read.notes.append(note)
    elif kind is not None:
        raise InputError(f"{path}: {kind}, which is not read; export sadf -d text instead: sadf -d -P ALL -- -u -r saDD > {path.name}.csv")
    else:
        raise InputError(f"{path}: not a sadf -d export (no '{HEADER};...' header line) nor a binary sa file; "
                         f"export one with: sadf -d -P ALL -- -u -r saDD > {path.name}.csv")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    cpu, mem = _parse(text, path, read)
    time_ns = _utc_ns(pd.concat([cpu["time"], mem["time"]], ignore_index=True), text, path, timezone, read)
    read.cpu.append(cpu.drop(columns="time").assign(time_ns=time_ns[: len(cpu)]))
    read.mem.append(mem.drop(columns="time").assign(time_ns=time_ns[len(cpu):]))


def _converted(path: Path, read: _Read) -> str:
    """The ``sadf -d`` text of a binary sa file (gunzipped first; an older sysstat format is
    converted with ``sadf -c`` first, as sadf advises), or InputError saying what sadf said."""
    written = _written_by(head_bytes(path))
    export = f"sadf -d -- -u -r {path} > {path}.csv"
    sadf = shutil.which("sadf")
    if sadf is None:
        raise InputError(f"{path}: a binary sysstat sa file{written}, and sadf is not on the PATH to read it; "
                         f"convert it with sysstat's sadf: {export}, and give the .csv")
    with tempfile.TemporaryDirectory() as tmp:
        target = path
        if compression_of(path) == "gzip":
            target = Path(tmp) / path.name.removesuffix(".gz")
            target.write_bytes(file_bytes(path))
        run = _sadf([sadf, *SADF_ARGS, str(target), *SAR_OPTIONS], path, export)
        if run.returncode != 0 and SADF_OLD_FORMAT in run.stderr:
            conversion = _sadf([sadf, "-c", str(target)], path, export, text=False)
            if conversion.returncode != 0:
                raise InputError(f"{path}: sadf -c cannot convert this sa file of an older sysstat format{written}; sadf said: "
                                 f"{_said(conversion.stderr.decode(errors='replace'))}; convert it with the sadf of the sysstat "
                                 f"version that wrote it: {export}")
            target = Path(tmp) / "converted.sa"
            target.write_bytes(conversion.stdout)
            run = _sadf([sadf, *SADF_ARGS, str(target), *SAR_OPTIONS], path, export)
            read.converted.append(f"{path.name} (an older sysstat format{written}, converted with sadf -c first)")
        else:
            read.converted.append(path.name)
    cut_short = SADF_CUT_SHORT in run.stderr and HEADER in run.stdout
    if run.returncode != 0 and not cut_short:
        raise InputError(f"{path}: sadf cannot read this binary sa file{written}; sadf said: {_said(run.stderr)}; convert it "
                         f"with the sadf of the sysstat version that wrote it: {export}")
    if HEADER not in run.stdout:
        raise InputError(f"{path}: {_sadf_version(sadf)} printed no CPU or memory record for this binary sa file{written} "
                         f"(a newer sysstat's files come out empty); convert it with the sadf of the version that wrote it: {export}")
    if cut_short:
        read.notes.append(f"{path.name}: the sa file ends mid-record (still being written, or cut short); sadf read the records before")
    return run.stdout


def _sadf(args: list[str], path: Path, export: str, text: bool = True) -> subprocess.CompletedProcess:
    """sadf run under LC_ALL=C (English messages, decimal points)."""
    try:
        return subprocess.run(args, capture_output=True, check=False, text=text, errors="replace" if text else None,
                              env={**os.environ, "LC_ALL": "C"}, timeout=SADF_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as err:
        raise InputError(f"{path}: running {args[0]} failed ({type(err).__name__}: {err}); convert the file by hand: {export}") from None


def _said(stderr: str) -> str:
    """What sadf wrote to stderr, on one line."""
    return " / ".join(line.strip() for line in stderr.splitlines() if line.strip())[:SAID_CHARS]


def _written_by(head: bytes) -> str:
    """`` (written by sysstat X.Y.Z)`` from a sa file's header (bytes 4-6), or empty."""
    version = head[4:7]
    return f" (written by sysstat {version[0]}.{version[1]}.{version[2]})" if len(version) == 3 and 5 <= version[0] <= 40 else ""


def _sadf_version(sadf: str) -> str:
    try:
        out = subprocess.run([sadf, "-V"], capture_output=True, check=False, text=True, timeout=30,
                             env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return "sadf"
    match = re.search(r"version (\S+)", out.stdout + out.stderr)
    return f"sadf (sysstat {match.group(1)})" if match else "sadf"


# --- the blocks of one text --------------------------------------------------------------

def _parse(text: str, path: Path, read: _Read) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CPU rows and memory rows of a sadf -d text (times as text), its other parts counted."""
    specials = _special_lines(text)
    for _, _, match in specials:
        if match.group(2) == "COM":
            read.comments += 1
            continue
        count = CPU_COUNT.search(match.group(3))
        if count:
            read.restarts.append((match.group(1), int(count.group(1))))
    headers = _header_lines(text)
    if not headers:
        raise InputError(f"{path}: no '{HEADER};...' header line; export with: sadf -d -P ALL -- -u -r saDD > FILE.csv")
    _check_data_lines(text[: headers[0][0]], path, 1, None)
    cpu, mem = [], []
    line, counted_to = 1, 0
    for i, (at, stop) in enumerate(headers):
        line += text.count("\n", counted_to, at)
        counted_to = at
        start, end = stop + 1, headers[i + 1][0] if i + 1 < len(headers) else len(text)
        fields = text[at + 2: stop].split(";")
        names = [f.removesuffix(REPEATED) for f in fields]
        if "%idle" not in names and "kbmemused" not in names:
            read.other_blocks.append(names[3] if len(names) > 3 else "(no fields)")
        elif any(f.endswith(REPEATED) for f in fields):
            block_cpu, block_mem = _horizontal(_cut(text, start, end, specials), text[start:end], fields, path, line + 1, read)
            cpu.append(block_cpu)
            mem.append(block_mem)
        else:
            table = _table(_cut(text, start, end, specials), text[start:end], names, path, line + 1)
            if "%idle" in names:
                cpu.append(_cpu_rows(table, _cpu_group(names)))
            if "kbmemused" in names:
                mem.append(_mem_rows(table))
    return _frame(cpu, ("host", "time", "cpu", *CPU_FIELDS, "online")), _frame(mem, ("host", "time", *MEM_FIELDS))


def _header_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ``# hostname;interval;timestamp`` line (found by its words: quicker
    than matching every line of a large file)."""
    found = []
    at = text.find(HEADER)
    while at >= 0:
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if at == 0 or text[at - 1] == "\n":
            found.append((at, end))
        at = text.find(HEADER, end)
    return found


def _special_lines(text: str) -> list[tuple[int, int, re.Match]]:
    """The LINUX-RESTART and COM lines: (start, end after the newline, match), in file order.
    Found by their words, which is quicker than matching every line of a large file."""
    found = {}
    for word in SPECIAL_WORDS:
        at = text.find(word)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end + 1
            match = SPECIAL_LINE.match(text[start:end])
            if match:
                found[start] = (start, end, match)
            at = text.find(word, end)
    return [found[k] for k in sorted(found)]


def _cut(text: str, start: int, end: int, specials: list[tuple[int, int, re.Match]]) -> str:
    """``text[start:end]`` without the special lines inside it."""
    pieces, at = [], start
    for s0, s1, _ in specials:
        if start <= s0 < end:
            pieces.append(text[at:s0])
            at = s1
    pieces.append(text[at:end])
    return "".join(pieces)


def _frame(parts: list[pd.DataFrame | None], columns: tuple[str, ...]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in columns})


def _table(clean: str, body: str, names: list[str], path: Path, first_line: int) -> pd.DataFrame:
    """The CPU and memory fields of one block (``clean``: its ``body`` without the special lines),
    typed; pyarrow wants every line to have every field."""
    types = {"hostname": pa.string(), "timestamp": pa.string()}
    types |= {n: pa.int64() if n == "CPU" else pa.float64() for n in names if n in FIELDS and n not in types}
    if "%idle" in names:
        types |= {n: pa.float64() for n in _cpu_group(names) if n != "CPU"}
    if len(set(names)) < len(names):
        raise InputError(f"{path}, line {first_line - 1}: the header names a field twice; export again with sadf -d")
    convert = pacsv.ConvertOptions(include_columns=list(types), column_types=types, strings_can_be_null=False,
                                   decimal_point="," if "," in clean[:4096] else ".")
    try:
        table = pacsv.read_csv(io.BytesIO(clean.encode("utf-8")), read_options=pacsv.ReadOptions(column_names=names),
                               parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False), convert_options=convert)
    except pa.ArrowInvalid:
        _check_data_lines(body, path, first_line, names)
        raise InputError(f"{path}: a line from line {first_line} on cannot be read as the header before it says; export again with sadf -d") from None
    frame = table.to_pandas()
    if frame["hostname"].eq("").any():
        _check_data_lines(body, path, first_line, names)
    return frame


def _check_data_lines(body: str, path: Path, first_line: int, names: list[str] | None) -> None:
    """InputError naming the first line of ``body`` that does not fit its header (``names``; None:
    no header yet, so only restart and comment lines may come)."""
    decimal = "," if "," in body[:4096] else "."
    for number, line in enumerate(body.split("\n"), start=first_line):
        if not line.strip() or SPECIAL_LINE.match(line + "\n"):
            continue
        if names is None:
            raise InputError(f"{path}, line {number}: {shown(line)} comes before any '{HEADER};...' header line; "
                             "export again with sadf -d")
        parts = line.split(";")
        if len(parts) != len(names):
            raise InputError(f"{path}, line {number}: {shown(line)} has {len(parts)} fields where its header has {len(names)}; "
                             "a line is cut or out of place: export again with sadf -d")
        if not parts[0]:
            raise InputError(f"{path}, line {number}: {shown(line)} has no host name; export again with sadf -d")
        for name, value in zip(names, parts):
            if name in FIELDS and name not in ("hostname", "timestamp") and not _number(value, decimal):
                raise InputError(f"{path}, line {number}, field {name}: {shown(value)} is not a number; export again with sadf -d")


def _number(text: str, decimal: str) -> bool:
    try:
        float(text.replace(decimal, "."))
    except ValueError:
        return False
    return True


def _cpu_group(names: list[str]) -> list[str]:
    """The fields of the CPU activity: ``CPU`` (where the block has it) to ``%idle``."""
    idle_at = names.index("%idle")
    start = names.index("CPU") if "CPU" in names[:idle_at] else next(i for i, n in enumerate(names) if n.startswith("%"))
    return names[start: idle_at + 1]


def _cpu_rows(table: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """host, time, cpu (-1: all), the CPU fields (NaN where the block lacks them) and whether the
    CPU was online (an offline one's shares are all 0 in sysstat 11.6 and older)."""
    shares = table[[n for n in group if n.startswith("%")]]
    rows = pd.DataFrame({"host": table["hostname"], "time": table["timestamp"],
                         "cpu": table.get("CPU", ALL_CPUS)})
    for raw in ("%idle", "%iowait", "%steal"):
        rows[FIELDS[raw]] = table.get(raw, np.nan)
    rows["online"] = shares.sum(axis=1).to_numpy() > 0
    return rows


def _mem_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = pd.DataFrame({"host": table["hostname"], "time": table["timestamp"]})
    for raw, name in FIELDS.items():
        if name in MEM_FIELDS:
            rows[name] = table.get(raw, np.nan)
    return rows


@dataclass(frozen=True)
class _Layout:
    """Where a ``sadf -dh`` header puts the CPU group (``CPU`` to ``%idle[...]``, repeated per
    CPU shown) and the memory fields."""

    names: list[str]
    cpu_at: int | None
    width: int
    others: list[int]  # the ends of the groups repeated per device (INTR, DEV...)

    @property
    def memory(self) -> bool:
        """Whether the memory fields can be found: no group of unknown length comes before them."""
        return "kbmemused" in self.names and not any(i < self.names.index("kbmemused") for i in self.others)

    def shift(self, at: int, extra_groups: int) -> int:
        """Where the header's field ``at`` is on a line holding ``extra_groups`` CPU groups more than the header."""
        return at + (extra_groups * self.width if self.cpu_at is not None and self.cpu_at < at else 0)


def _layout(fields: list[str]) -> _Layout:
    names = [f.removesuffix(REPEATED) for f in fields]
    cpu_at = names.index("CPU") if "CPU" in names and "%idle" in names else None
    idle_at = names.index("%idle", cpu_at) if cpu_at is not None else None
    others = [i for i, f in enumerate(fields) if f.endswith(REPEATED) and i != idle_at]
    return _Layout(names, cpu_at, idle_at - cpu_at + 1 if cpu_at is not None else 0, others)


def _horizontal(clean: str, body: str, fields: list[str], path: Path, first_line: int,
                read: _Read) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The CPU and memory rows of a ``sadf -dh`` block (``clean``: its ``body`` without the
    special lines): each line holds a record's activities, the CPU group once per CPU shown.
    With the CPU group the only repeated one, a line's length gives its number of CPUs, and
    lines of one length are read as one table; else, line by line, the CPU groups are those
    that read as a CPU number and shares summing to 100 %."""
    layout = _layout(fields)
    decimal = "," if "," in clean[:4096] else "."
    if "kbmemused" in layout.names and not layout.memory:
        read.notes.append(f"{path.name}: the memory fields of its sadf -h lines come after a group repeated per device "
                          f"(the one ending in {layout.names[layout.others[0]]}{REPEATED}), so they cannot be found; memory not "
                          "read (export -r without -h)")
    if not layout.others:
        try:
            return _horizontal_table(clean, layout, decimal)
        except (pa.ArrowInvalid, ValueError):
            pass  # the line-by-line reading names the line
    return _horizontal_lines(body, layout, path, first_line, decimal)


def _horizontal_table(clean: str, layout: _Layout, decimal: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The ``-h`` lines grouped by their number of fields, each group read as one typed table."""
    raw = clean.encode("utf-8")
    data = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    if not raw.endswith(b"\n"):
        ends = np.append(ends, len(raw))
    n_fields = np.bincount(np.searchsorted(ends, np.flatnonzero(data == ord(";"))), minlength=len(ends)) + 1
    lengths = np.diff(ends, prepend=-1)  # with the newline
    blank = lengths <= 1
    if not raw.endswith(b"\n"):
        lengths[-1] -= 1
    widths = np.unique(n_fields[~blank])
    cpu, mem = [], []
    for n in widths:
        extra, rest = divmod(int(n) - len(layout.names), layout.width or 1)
        if rest or extra < 0 or (extra and layout.cpu_at is None):
            raise ValueError(f"a line of {n} fields")
        lines = raw if len(widths) == 1 else data[np.repeat((n_fields == n) & ~blank, lengths)].tobytes()
        columns = [f"f{i}" for i in range(n)]
        types = {c: pa.string() if i in (0, 2) else pa.float64() for i, c in enumerate(columns)}
        table = pacsv.read_csv(io.BytesIO(lines), read_options=pacsv.ReadOptions(column_names=columns),
                               parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False),
                               convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                                    decimal_point=decimal)).to_pandas()
        if layout.cpu_at is not None:
            group = layout.names[layout.cpu_at: layout.cpu_at + layout.width]
            for j in range(extra + 1):
                at = layout.cpu_at + j * layout.width
                rows = pd.DataFrame({"hostname": table["f0"], "timestamp": table["f2"],
                                     **{name: table[f"f{at + t}"] for t, name in enumerate(group)}})
                cpu.append(_cpu_rows(rows.astype({"CPU": np.int64}), group))
        if layout.memory:
            wanted = [raw for raw in FIELDS if FIELDS[raw] in MEM_FIELDS and raw in layout.names]
            rows = pd.DataFrame({"hostname": table["f0"], "timestamp": table["f2"],
                                 **{raw: table[f"f{layout.shift(layout.names.index(raw), extra)}"] for raw in wanted}})
            mem.append(_mem_rows(rows))
    return (pd.concat(cpu, ignore_index=True) if cpu else None), (pd.concat(mem, ignore_index=True) if mem else None)


def _horizontal_lines(body: str, layout: _Layout, path: Path, first_line: int,
                      decimal: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The ``-h`` lines one by one (several groups repeated per instance, or a line to name)."""
    names, cpu_at, width = layout.names, layout.cpu_at, layout.width
    lines = [(n, line) for n, line in enumerate(body.split("\n"), start=first_line)
             if line.strip() and not SPECIAL_LINE.match(line + "\n")]
    if not lines:
        return None, None
    parts = [line.split(";") for _, line in lines]
    counts = [_cpu_groups(p, cpu_at, width, len(names), bool(layout.others), decimal) if cpu_at is not None else 1
              for p in parts]
    for (number, line), p, k in zip(lines, parts, counts):
        if k is None or (cpu_at is None and len(p) != len(names)):
            raise InputError(f"{path}, line {number}: {shown(line)} does not split into the fields its sadf -h header "
                             f"names ({len(p)} fields); export without -h: sadf -d -P ALL -- -u -r saDD > FILE.csv")
    cpu = None
    if cpu_at is not None:
        group = names[cpu_at: cpu_at + width]
        groups = [(p[0], p[2], p[cpu_at + j * width: cpu_at + (j + 1) * width]) for p, k in zip(parts, counts) for j in range(k)]
        values = pd.DataFrame([g[2] for g in groups], columns=group)
        table = pd.DataFrame({"hostname": [g[0] for g in groups], "timestamp": [g[1] for g in groups]})
        for name in group:
            table[name] = _floats(values[name], decimal, path, lines, name)
        cpu = _cpu_rows(table.astype({"CPU": np.int64}), group)
    mem = None
    if layout.memory:
        table = pd.DataFrame({"hostname": [p[0] for p in parts], "timestamp": [p[2] for p in parts]})
        for raw, name in FIELDS.items():
            if name in MEM_FIELDS and raw in names:
                at = names.index(raw)
                table[raw] = _floats(pd.Series([p[layout.shift(at, k - 1)] for p, k in zip(parts, counts)]), decimal, path,
                                     lines, raw)
        mem = _mem_rows(table)
    return cpu, mem


def _cpu_groups(parts: list[str], cpu_at: int, width: int, n_names: int, others: bool, decimal: str) -> int | None:
    """How many CPU groups a ``-h`` line holds (None: not a whole number of them)."""
    if not others:
        k, rest = divmod(len(parts) - n_names, width)
        return k + 1 if rest == 0 and k >= 0 else None
    k = 0
    while cpu_at + (k + 1) * width <= len(parts) and _is_cpu_group(parts[cpu_at + k * width: cpu_at + (k + 1) * width], decimal):
        k += 1
    return k or None


def _is_cpu_group(group: list[str], decimal: str) -> bool:
    if not re.fullmatch(r"-?\d+", group[0]) or not all(_number(v, decimal) for v in group[1:]):
        return False
    total = sum(float(v.replace(decimal, ".")) for v in group[1:])
    return total == 0 or abs(total - 100.0) <= CPU_SUM_TOLERANCE_PCT


def _floats(values: pd.Series, decimal: str, path: Path, lines: list[tuple[int, str]], name: str) -> np.ndarray:
    try:
        return pd.to_numeric(values.str.replace(decimal, ".", regex=False), errors="raise").to_numpy(np.float64)
    except (ValueError, TypeError):
        bad = next(v for v in values if not _number(v, decimal))
        number = next((n for n, line in lines if bad in line.split(";")), lines[0][0])
        raise InputError(f"{path}, line {number}, field {name}: {shown(bad)} is not a number; export again with sadf -d") from None


# --- times -------------------------------------------------------------------------------

def _utc_ns(times: pd.Series, text: str, path: Path, timezone: str | None, read: _Read) -> np.ndarray:
    """The timestamp field as UTC ns: ``... UTC`` and epoch seconds as UTC, others as local
    times in ``timezone`` (or as if UTC when none is given, warned)."""
    codes, uniques = pd.factorize(times)
    texts = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    epoch = _mask(pc.match_substring_regex(texts, EPOCH_TEXT))
    dated = _mask(pc.match_substring_regex(texts, TIME_TEXT))
    if not (epoch | dated).all():
        value = texts[int(np.argmin(epoch | dated))].as_py()
        raise InputError(f"{path}, {_line_of(text, value)}: cannot read the timestamp {shown(value)}; sadf -d writes "
                         "'YYYY-MM-DD HH:MM:SS UTC' (or epoch seconds with -U)")
    wall = pc.utf8_slice_codeunits(texts, 0, len("YYYY-MM-DD HH:MM:SS"))
    zone = pc.utf8_slice_codeunits(texts, len("YYYY-MM-DD HH:MM:SS "), 1 << 10)
    utc = dated & _mask(pc.equal(zone, "UTC"))
    local = dated & ~utc
    ns = np.empty(len(texts), dtype=np.int64)
    counts: dict[str, int] = {}
    for mask, values, tz in ((epoch, pc.cast(texts, pa.int64(), safe=False) if epoch.any() else None, None),
                             (utc, wall, None), (local, wall, timezone)):
        if mask.any():
            rows = np.flatnonzero(mask)
            ns[mask] = to_utc_ns(values.filter(pa.array(mask)), timezone=tz, where=f"{path}, timestamp field",
                                 locate=lambda i, rows=rows: _line_of(text, texts[int(rows[i])].as_py()), counts=counts)
    for key, value in counts.items():
        read.times[key] = read.times.get(key, 0) + value
    for kind, mask in (("utc", utc), ("epoch", epoch), ("local", local)):
        read.times[kind] = read.times.get(kind, 0) + int(mask.sum())
    if local.any():
        labels = set(pc.unique(zone.filter(pa.array(local))).to_pylist()) - {""}
        if timezone is None:
            label = f"zone label {', '.join(sorted(labels))}, which sadf prints as the zone's standard name all year" if labels else "no zone"
            read.notes.append(f"{path.name}: {int(local.sum()):,} timestamps are local times (sadf -t or -T; {label}) and no "
                              "--timezone was given: read as if UTC; pass --timezone AREA/CITY (e.g. Europe/Paris) to place them")
    elif timezone is not None:
        read.notes.append(f"{path.name}: --timezone {timezone} not used: its timestamps are UTC")
    return ns[codes]


def _mask(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _line_of(text: str, value: str) -> str:
    at = text.find(value)
    return f"line {text.count(chr(10), 0, at) + 1}" if at >= 0 else "a line"


# --- from rows to samples ----------------------------------------------------------------

def _samples(path: Path, read: _Read, cpu: pd.DataFrame, timezone: str | None) -> Samples:
    counts = {"sar_restart_rows": len(read.restarts), "sar_comment_rows": read.comments,
              "sar_other_blocks_ignored": len(read.other_blocks)}
    conversions: list[str] = []
    notes = list(read.notes)
    busy, each = _busy(cpu, counts, conversions)
    cpu_counts = _cpu_counts(busy["host"].unique(), each, read.restarts, conversions, notes)
    mem = pd.concat(read.mem, ignore_index=True) if read.mem else None
    used, ram_kb = _memory(mem, conversions) if mem is not None and len(mem) else (None, {})
    if used is not None:
        merged = busy.merge(used, on=["host", "time_ns"], how="outer")
    else:
        merged = busy.assign(used_gb=np.nan)
    hosts = sorted(merged["host"].unique())
    if merged.groupby("host")["time_ns"].nunique().max() < 2:
        raise InputError(f"{path}: holds one record per host ({name_list(hosts)}), not a series; export a longer period "
                         "(a whole day's saDD file, or sadc run with an interval and a count)")
    codes = pd.Categorical(merged["host"], categories=hosts).codes.astype(np.int32)
    conversions.append(_time_sentence(read, timezone))
    if read.converted:
        conversions.insert(0, f"ran sadf {' '.join(SADF_ARGS)} FILE {' '.join(SAR_OPTIONS)} on {len(read.converted)} binary "
                              f"sa file(s): {name_list(read.converted)}")
    if read.other_blocks:
        kinds = list(dict.fromkeys(read.other_blocks))
        conversions.append(f"ignored {len(read.other_blocks)} block(s) of other activities ({name_list(kinds)}), "
                           f"{len(read.restarts)} LINUX-RESTART and {read.comments} COM line(s)")
    counts.update({k: v for k, v in read.times.items() if k.startswith("dst_")})
    counts["sar_local_time_records"] = read.times.get("local", 0)
    return Samples(
        server_ids=hosts,
        codes=codes,
        time_ns=merged["time_ns"].to_numpy(np.int64, copy=True),
        cpu=merged["busy_pct"].to_numpy(np.float64, copy=True),  # the assembler repairs in place
        mem=merged["used_gb"].to_numpy(np.float64, copy=True) if used is not None else None,
        mem_unit="gb" if used is not None else None,
        counts=counts,
        derived_inventory=_inventory(hosts, cpu_counts, ram_kb),
        notes=notes,
        conversions=conversions,
    )


def _busy(cpu: pd.DataFrame, counts: dict[str, int], conversions: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CPU busy % per host and record (the all-CPU row, else the mean of the per-CPU rows), and
    the online per-CPU rows."""
    cpu = cpu.assign(busy_pct=100.0 - cpu["idle_pct"] - cpu["iowait_pct"].fillna(0.0))
    keys = ["host", "time_ns"]
    every = cpu[cpu["cpu"] == ALL_CPUS]
    each = cpu[cpu["cpu"] >= 0]
    counts["sar_offline_cpu_rows"] = int((~each["online"]).sum())
    each = each[each["online"]]
    alone = each[~pd.MultiIndex.from_frame(each[keys]).isin(pd.MultiIndex.from_frame(every[keys]))]
    measures = ["busy_pct", "iowait_pct", "steal_pct"]
    whole, averaged = every.groupby(keys, sort=False)[measures].max(), alone.groupby(keys, sort=False)[measures].mean()
    busy = pd.concat([whole, averaged]).reset_index()
    counts["sar_duplicate_records_merged"] = len(every) - len(whole)
    counts["sar_cpu_averaged_records"] = len(averaged)
    mean = busy[measures].mean()
    hosts = sorted(alone["host"].unique())
    conversions.append(
        f"CPU busy % = 100 - %idle - %iowait: %user, %nice, %system, %irq, %soft, %guest, %gnice and %steal are busy (mean "
        f"%steal {_pp(mean['steal_pct'])}); %iowait, idle time waiting for a disk, is not (mean {_pp(mean['iowait_pct'])} left "
        f"out of a mean busy of {mean['busy_pct']:.1f} %); from the all-CPU row (CPU -1) of {len(whole):,} records"
        + (f", and as the mean over the per-CPU rows of {len(averaged):,} records without one (host(s) {name_list(hosts)})"
           if hosts else "")
    )
    return busy[["host", "time_ns", "busy_pct"]], each.assign(averaged=each.index.isin(alone.index))


def _cpu_counts(hosts: np.ndarray, each: pd.DataFrame, restarts: list[tuple[str, int]], conversions: list[str],
                notes: list[str]) -> dict[str, float]:
    """Logical CPUs per host: the larger of the LINUX-RESTART figure and the highest CPU number + 1."""
    counted = _restart_counts(restarts)
    highest = each.groupby("host")["cpu"].max() + 1
    cpus = {h: float(max(counted.get(h, 0), highest.get(h, 0))) or np.nan for h in hosts}
    alone = each[each["averaged"]]
    seen = alone.groupby("host")["cpu"].nunique()
    partial = [h for h in seen.index if seen[h] < cpus[h]]
    if partial:
        notes.append(f"the per-CPU rows of {name_list(partial)} cover fewer CPUs than the host has: their mean may not be "
                     "the host's busy %; export with -P ALL")
    changed = sorted(h for h in counted if len({n for host, n in restarts if host == h}) > 1)
    if changed:
        notes.append(f"the CPU count changed between restarts on {name_list(changed)}: the largest is taken")
    known = [h for h, n in cpus.items() if n > 0]
    if known:
        sources = [what for what, present in (("LINUX-RESTART rows", restarts), ("per-CPU rows (-P ALL)", len(each))) if present]
        conversions.append(f"CPU count of {len(known)} host(s) from the {' and the '.join(sources)} (the larger where both "
                           "give one): logical CPUs, taken as cores = threads")
    unknown = sorted(set(cpus) - set(known))
    if unknown:
        notes.append(f"{len(unknown)} host(s) have no CPU count in their files (no per-CPU rows, no LINUX-RESTART rows): "
                     f"{name_list(unknown)}; export with sadf -d -P ALL, or give --inventory")
    return cpus


def _restart_counts(restarts: list[tuple[str, int]]) -> dict[str, int]:
    """The largest CPU count the LINUX-RESTART rows give per host."""
    counted: dict[str, int] = {}
    for host, n in restarts:
        counted[host] = max(counted.get(host, 0), n)
    return counted


def _pp(value: float) -> str:
    return "n/a (not in the file)" if np.isnan(value) else f"{value:.2f} pp"


def _memory(mem: pd.DataFrame, conversions: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Memory in use (GB) per host and record, and the RAM total (kB) per host."""
    parts, ram_kb = [], {}
    how_ram: dict[str, list[str]] = {}
    how_used: dict[str, list[str]] = {}
    for host, rows in mem.groupby("host", sort=True):
        total_kb, ram_rule = _ram_kb(rows)
        used_kb, used_rule = _used_kb(rows, total_kb, ram_rule)
        ram_kb[host] = total_kb
        if ram_rule:
            how_ram.setdefault(ram_rule, []).append(host)
        how_used.setdefault(used_rule, []).append(host)
        parts.append(pd.DataFrame({"host": host, "time_ns": rows["time_ns"].to_numpy(), "used_gb": used_kb / KB_PER_GB}))
    used = pd.concat(parts, ignore_index=True).groupby(["host", "time_ns"], sort=False, as_index=False)["used_gb"].max()
    for rule, hosts in how_used.items():
        conversions.append(f"memory in use = {rule}, kB to GB (/ 1024^2), for {len(hosts)} host(s): {name_list(hosts)}")
    for rule, hosts in how_ram.items():
        conversions.append(f"RAM total = {rule} for {len(hosts)} host(s): {name_list(hosts)}")
    return used, ram_kb


def _ram_kb(rows: pd.DataFrame) -> tuple[float, str | None]:
    """A host's RAM total in kB and the rule that gave it (None: unknown)."""
    used, pct = rows["used_kb"].to_numpy(), rows["used_pct"].to_numpy()
    shown_pct = np.isfinite(used) & (pct > 0)
    if not shown_pct.any():
        return np.nan, None
    for rule, names in RAM_SUMS:
        total = rows[list(names)].sum(axis=1, min_count=len(names)).to_numpy()[shown_pct]
        if np.isfinite(total).all() and total.min() == total.max() and total[0] > 0 and \
                np.all(np.abs(100.0 * used[shown_pct] / total - pct[shown_pct]) <= MEMUSED_ROUNDING_PCT):
            return float(total[0]), rule
    precise = shown_pct & (pct >= np.nanmax(pct[shown_pct]) / 2)
    return float(np.round(np.median(100.0 * used[precise] / pct[precise]))), "kbmemused / %memused (to the rounding of %memused)"


def _used_kb(rows: pd.DataFrame, total_kb: float, ram_rule: str | None) -> tuple[np.ndarray, str]:
    """Memory in use in kB per record, buffers and cache left out where the fields allow."""
    avail = rows["avail_kb"].to_numpy()
    if np.isfinite(total_kb) and (avail > 0).any():
        return np.where(avail > 0, total_kb - avail, np.nan), "RAM total - kbavail (MemAvailable: buffers, page cache and reclaimable slab are free)"
    used = rows["used_kb"].to_numpy()
    cache = rows["buffers_kb"].to_numpy() + rows["cached_kb"].to_numpy()
    includes_cache = ram_rule == OLD_RAM_SUM or (
        ram_rule is not None and np.nanmedian(np.abs(rows["free_kb"].to_numpy() + used - total_kb)) <= OLD_USED_SHARE * total_kb)
    if includes_cache and np.isfinite(cache).all():
        return used - cache, "kbmemused - kbbuffers - kbcached (this sysstat's kbmemused includes them)"
    if includes_cache:
        return used, "kbmemused, which in this sysstat includes buffers and cache (no kbbuffers / kbcached to take off)"
    return used, "kbmemused (this sysstat leaves buffers, cache and slab out of it; no kbavail)"


def _time_sentence(read: _Read, timezone: str | None) -> str:
    utc, epoch, local = (read.times.get(k, 0) for k in ("utc", "epoch", "local"))
    parts = []
    if utc:
        parts.append(f"{utc:,} as UTC (sadf's 'UTC' suffix)")
    if epoch:
        parts.append(f"{epoch:,} as epoch seconds, UTC (sadf -U)")
    if local:
        how = f"converted from {timezone} to UTC (--timezone)" if timezone else "read as if UTC (no --timezone)"
        parts.append(f"{local:,} local times (sadf -t / -T) {how}")
    return "timestamps (the end of each record's interval): " + "; ".join(parts)


def _inventory(hosts: list[str], cpu_counts: dict[str, float], ram_kb: dict[str, float]) -> pd.DataFrame:
    """The CPU count (cores = threads) and RAM the files state, NaN where they do not."""
    frame = pd.DataFrame({name: np.nan for name in INVENTORY_FIELDS}, index=range(len(hosts)))
    frame["server_id"] = hosts
    frame["model"] = ""
    frame["cores"] = [cpu_counts.get(h, np.nan) for h in hosts]
    frame["threads"] = frame["cores"]
    frame["ram_gb"] = [ram_kb.get(h, np.nan) / KB_PER_GB for h in hosts]
    return frame


FORMAT = TraceFormat("sar", "sysstat sadf -d export or binary sa file (sar)", sar_samples, looks=looks_sar,
                     reads="both", takes=("timezone",))
