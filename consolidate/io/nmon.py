"""nmon and AIX topas_nmon recordings: one file per host and run (plain or .gz), or a folder of them.

nmon for Linux (the ``nmon`` package of Debian, Ubuntu, RHEL, SUSE) and topas_nmon (``nmon`` /
``topas_nmon`` on AIX 6.1 and later) write a "spreadsheet" recording with ``-f``:
``nmon -f -s 300 -c 288`` records a day of 5-minute snapshots into
``<host>_<YYMMDD>_<HHMM>.nmon`` in the current folder (``-F NAME`` names the file, ``-m DIR``
the folder; on AIX ``topas_nmon -f -s 300 -c 288``). The file is comma-separated lines, each led
by a section name [1]_ [2]_:

- ``AAA,<key>,<value>`` describe the run (``AAA,host``, ``AAA,runname``, ``AAA,interval``,
  ``AAA,cpus``, ``AAA,x86,...``) and ``BBBP`` lines hold command output (``lscpu``);
- one header line per section, whose second field is a title carrying the run name (``-r``, the
  host name by default): ``CPU_ALL,CPU Total <run>,User%,Sys%,Wait%,Idle%[,Steal%],Busy,CPUs``;
- per snapshot, ``ZZZZ,T0001,HH:MM:SS,DD-MON-YYYY``, the only time in the file, and one line per
  section tagged with that snapshot's ``Tnnnn``. Lines are matched by tag, not by position, so a
  file ordered with ``sort`` (as nmon's own note suggests) reads the same.

What is taken (raw names in :data:`COLUMNS`, matched ignoring case and spaces):

- server id = ``AAA,host`` as written (the section titles carry the run name, which ``-r``
  changes; a file without ``AAA,host`` takes the host part of its name, ``<host>_YYMMDD_HHMM``,
  noted). Several runs of one host (files of several days) are one server.
- time = the ``ZZZZ`` time and date: the host's wall clock, and no nmon version writes its zone
  (``AAA,time`` / ``AAA,date`` are the start, in the same local time). With ``--timezone`` they
  are converted to UTC (daylight-saving repeats and gaps counted, :mod:`~consolidate.io.timestamps`);
  without it they are taken as UTC, and a warning says so. The dates advance over midnight.
- CPU busy = ``User% + Sys%`` of ``CPU_ALL``: nmon's User% is user + nice and Sys% is system +
  irq + softirq, shares of all logical CPUs [1]_. ``Wait%`` (I/O wait) is idle time during which
  a disk request was outstanding: counted as not busy, as the sar reader counts %iowait.
  ``Steal%`` (nmon 16 on a guest) is time this guest wanted a CPU while the hypervisor ran
  another: demand the server had, counted as busy, as the sar, collectd and Prometheus readers
  count steal. ``Busy`` is left empty by every nmon version and is not read. A row of all
  zeros is nmon's reset when its counters went backwards: read as missing, counted. A file
  without ``CPU_ALL`` (one logical CPU, or cut) averages its ``CPUnn`` rows per snapshot.
- AIX shared-processor LPARs (``LPAR`` section with ``SharedCPU`` = 1; Linux on POWER writes
  ``shared_processor_mode`` and ``partition_active_processors``): CPU busy =
  ``PhysicalCPU / virtualCPUs`` x 100, with the file's largest virtualCPUs, and the inventory gets
  ``cores = threads = virtualCPUs``, so that the planned demand is exactly PhysicalCPU, the
  physical cores the partition drew from the pool (``physc`` of lparstat, including the idle SMT
  threads of dispatched cores). Why virtual processors and not the entitlement: an uncapped
  partition may use processing units "up to the number of virtual processors assigned" [3]_,
  beyond its entitlement [4]_, so PhysicalCPU / entitled exceeds 100 % (in 21 of the 187
  snapshots of the AIX sample in data/samples, up to 238 %) and would be clipped, losing demand
  a new host must serve; the virtual processors are the most the partition can use, so the share
  stays within 0-100 and capacity x share = PhysicalCPU, capped or uncapped. The entitlement is
  stated in the conversions. ``CPU_ALL`` is not used for such a partition: topas_nmon gives it as
  shares of the entitlement, or of the consumption once above it (its rows add up to 100 % in
  every snapshot of that sample, also at 238 % of the entitlement), not of the virtual
  processors. A dedicated partition (``SharedCPU`` = 0) is read from ``CPU_ALL`` like any server.
- memory in use, GB = MB / 1024 (nmon's MB are MiB): Linux ``MEM`` ``memtotal - memfree -
  cached - buffers`` (the page cache and buffers, which the kernel gives back on demand, are not
  counted as used); AIX ``MEM`` ``Real total(MB) - Real free(MB)``, which includes the AIX file
  cache (AIX counts it as in use; ``MEMNEW`` ``FScache%`` gives its share), so an upper bound.
- hardware, into the inventory: logical CPUs = the largest ``CPUs`` / ``PhysicalCPUs`` of
  ``CPU_ALL`` (else the number of ``CPUnn`` sections, else the last number of ``AAA,cpus``);
  cores = a dedicated AIX partition's virtualCPUs, else logical CPUs / threads per core (``lscpu``
  "Thread(s) per core", ``AAA,x86,hyperthreads``), or = logical CPUs where the file does not say;
  GHz from the ``@ 2.50GHz`` of the CPU model name, else ``AAA,x86,MHz`` or lscpu "CPU MHz";
  RAM = the largest ``memtotal`` / ``Real total(MB)``; model = the CPU model name or the AIX
  machine type.
- repairs: snapshots whose ``ZZZZ`` line is missing are left out (``nmon_snapshots_without_time``);
  a ``ZZZZ`` line repeated with the same time is dropped (``nmon_repeated_time_lines``), with two
  times it is an error (two runs in one file); a file cut short ends inside a line, which is left
  out (``nmon_cut_lines``), and a snapshot with a time but no CPU row is left out
  (``nmon_snapshots_without_cpu``); a section row repeated for one snapshot keeps its first
  (``nmon_repeated_rows``); a value that is not a number is missing (``nmon_values_unreadable``).

References
----------
.. [1] N. Griffiths, nmon for Linux, lmon.c of versions 13 to 16 (nmon.sourceforge.net; Debian
   package 16n): ``CPU_ALL`` User% = user + nice, Sys% = sys + irq + softirq of /proc/stat, the
   all-zero row written when the counters go backwards, and the layout of ``AAA``, ``CPU_ALL``,
   ``MEM``, ``ZZZZ`` and of the Linux-on-POWER ``LPAR`` section.
.. [2] IBM, AIX 7.3 documentation, "nmon Command" (recording mode, ``-f``, ``-s``, ``-c``), and
   "Micro-Partitioning facts" (entitlement, virtual processors).
.. [3] IBM, Hardware Management Console help, "Processors" of the partition properties: "Uncapped
   logical partitions can use processing units that are not being used by other logical
   partitions, up to the number of virtual processors assigned to the uncapped logical partition.
   Capped logical partitions can use only the number of processing units that are assigned to them."
.. [4] IBM Support, "Assigning the appropriate processor entitled capacity"
   (https://www.ibm.com/support/pages/assigning-appropriate-processor-entitled-capacity).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    encoding_note,
    existing,
    file_text,
    shown,
    sniff_text,
    trace_files,
)
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import FIELDS, name_list
from consolidate.io.timestamps import check_timezone, to_utc_ns
from consolidate.models.trace import TraceSet

#: The sections read, and their raw column names (lower case, spaces removed) -> standard names.
COLUMNS = {
    "CPU_ALL": {"user%": "user_pct", "sys%": "sys_pct", "wait%": "wait_pct", "idle%": "idle_pct",
                "steal%": "steal_pct", "cpus": "logical_cpus", "physicalcpus": "logical_cpus"},
    "CPU": {"user%": "user_pct", "sys%": "sys_pct", "wait%": "wait_pct", "idle%": "idle_pct", "steal%": "steal_pct"},
    "MEM": {"memtotal": "total_mb", "memfree": "free_mb", "cached": "cached_mb", "buffers": "buffers_mb",
            "realtotal(mb)": "total_mb", "realfree(mb)": "free_mb"},
    "LPAR": {"physicalcpu": "physical_cores", "virtualcpus": "virtual_cpus", "partition_active_processors": "virtual_cpus",
             "logicalcpus": "logical_cpus", "logicalcpu": "logical_cpus", "entitled": "entitled_cores",
             "sharedcpu": "shared", "shared_processor_mode": "shared"},
}

#: What CPU busy is made of, in every row of ``CPU_ALL`` / ``CPUnn`` (the rest is not busy).
BUSY = ("user_pct", "sys_pct")
#: All the shares of a CPU row: all zero is nmon's reset row, not an idle server.
SHARES = ("user_pct", "sys_pct", "wait_pct", "idle_pct", "steal_pct")

#: nmon's MB are MiB (kB / 1024 of /proc/meminfo and svmon); GB here are GiB, as elsewhere.
MB_PER_GB = 1024.0

#: A ZZZZ line after ``ZZZZ,T``: snapshot, HH:MM:SS (a fraction allowed), DD-MON-YYYY.
ZZZZ_ROW = re.compile(r"\d+,\d{1,2}:\d{2}:\d{2}(?:\.\d+)?,\d{1,2}-[A-Za-z]{3}-\d{4}")

MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}

#: The sections read. Every pattern starts with the newline before its line (the text is scanned with
#: one prepended), a literal prefix that lets the regex engine jump from candidate to candidate.
SECTIONS = ("ZZZZ", "CPU_ALL", "MEM", "LPAR")
#: A section's data line: ``<name>,T<snapshot>,<values>`` -> "snapshot,values".
DATA_LINES = {name: re.compile(rf"\n{name},T(\d+,[^\r\n]*)") for name in SECTIONS}
#: A section's header line: its second field is a title, not a snapshot tag.
HEADER_LINES = {name: re.compile(rf"\n{pattern},(?!T\d+(?:,|\r?\n))([^\r\n]*)")
                for name, pattern in (("CPU_ALL", "CPU_ALL"), ("MEM", "MEM"), ("LPAR", "LPAR"), ("CPU", r"CPU\d+"))}
#: Per-CPU data lines (read only for a file without CPU_ALL): CPU number, snapshot, values.
CPU_LINES = re.compile(r"\nCPU(\d+),T(\d+),([^\r\n]*)")
AAA_LINES = re.compile(r"\nAAA,([^,\r\n]*),?([^\r\n]*)")
LSCPU_LINES = re.compile(r'\nBBBP,\d+,lscpu,"([^":\r\n]+):\s*([^"\r\n]*)"')
SECTION_NAMES = re.compile(r"\n([A-Za-z][A-Za-z0-9_+-]*),")
MODEL_GHZ = re.compile(r"@\s*([0-9.]+)\s*GHz", re.IGNORECASE)
#: nmon's file name: <host>_<YYMMDD>_<HHMM>[.nmon][.gz].
FILE_HOST = re.compile(r"^(.+?)_\d{6}_\d{4}")

#: The repairs counted, reported even when none was made.
REPAIRS = ("nmon_cut_lines", "nmon_snapshots_without_time", "nmon_snapshots_without_cpu", "nmon_repeated_time_lines",
           "nmon_repeated_rows", "nmon_values_unreadable", "nmon_cpu_reset_rows")

#: How many section names the message of a file without CPU lists.
SECTIONS_SHOWN = 20

EXPORT_HINT = "record with nmon -f -s SECONDS -c COUNT (Linux) or topas_nmon -f (AIX) and give the whole .nmon file"


def read_nmon(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    timezone: str | None = None,
) -> TraceSet:
    """Read an nmon / topas_nmon recording, or a folder of them (one file per host and run).

    Parameters
    ----------
    path : a ``.nmon`` file (or ``.nmon.gz``), or a folder of them.
    inventory : inventory path or DataFrame; its values override those read from the files.
    interval_s : grid spacing in seconds (default: detected from the ZZZZ times).
    timezone : IANA zone of the hosts' clocks (nmon writes local times without a zone);
        default: the times are taken as UTC, with a warning.
    """
    p = existing(path)
    samples = nmon_samples(p, timezone=check_timezone(timezone))
    return assemble(samples, fmt="nmon", path=p, inventory=inventory, interval_s=interval_s)


def looks_nmon(path: Path, head: bytes) -> bool:
    """Text whose first line is an ``AAA,`` line and that names nmon's program, host or version."""
    text = sniff_text(head)
    if text is None:
        return False
    first = text.lstrip().split("\n", 1)[0]
    return first.startswith("AAA,") and re.search(r"^AAA,(progname|host|version),", text, re.MULTILINE) is not None


class Run(NamedTuple):
    """One recording: its host, the samples of its snapshots (UTC ns, CPU %, GB) and hardware."""

    host: str
    time_ns: np.ndarray
    cpu_pct: np.ndarray
    mem_gb: np.ndarray
    hardware: dict
    cores_stated: bool
    cpu_rule: str
    mem_rule: str | None
    lpar: str | None = None


def nmon_samples(path: Path, timezone: str | None = None) -> Samples:
    """The snapshots of one recording or of a folder of them, with what was converted stated."""
    files = trace_files(path) if path.is_dir() else [path]
    counts: Counter = Counter()
    notes: list[str] = []
    runs = [_run(f, timezone, counts, notes) for f in files]
    hosts = sorted({r.host for r in runs})
    code_of = {h: i for i, h in enumerate(hosts)}
    sizes = [len(r.time_ns) for r in runs]
    if timezone is None:
        notes.append("nmon writes the hosts' local wall-clock times without a zone (ZZZZ lines): they were taken as UTC; "
                      "pass --timezone ZONE (e.g. Europe/Paris) to convert them")
    for name in REPAIRS:
        counts.setdefault(name, 0)
    if counts["nmon_cpu_reset_rows"]:
        notes.append(f"read {counts['nmon_cpu_reset_rows']:,} CPU row(s) of all zeros as missing: nmon writes them when "
                     "its counters went backwards, not for an idle server")
    if counts["nmon_values_unreadable"]:
        notes.append(f"{counts['nmon_values_unreadable']:,} value(s) of the CPU, MEM or LPAR rows are not numbers: read as missing")
    return Samples(
        server_ids=hosts,
        codes=np.repeat(np.array([code_of[r.host] for r in runs], dtype=np.int32), sizes),
        time_ns=np.concatenate([r.time_ns for r in runs]),
        cpu=np.concatenate([r.cpu_pct for r in runs]),
        mem=np.concatenate([r.mem_gb for r in runs]),
        mem_unit="gb",
        counts=dict(counts),
        derived_inventory=_inventory(runs),
        notes=notes,
        conversions=_conversions(runs, timezone),
    )


def _run(path: Path, timezone: str | None, counts: Counter, notes: list[str]) -> Run:
    text, encoding = file_text(path)
    if not looks_nmon(path, text[:4096].encode("utf-8", errors="replace")):
        first = text.lstrip().split("\n", 1)[0] if text.strip() else ""
        what = f"its first line is {shown(first)}" if first else "it is empty"
        raise InputError(f"{path}: not an nmon recording ({what}; an nmon file starts with AAA,progname / AAA,host lines); "
                         f"{EXPORT_HINT}")
    note = encoding_note(path, encoding)
    if note:
        notes.append(note)
    if not text.endswith("\n"):
        # A file copied while nmon was still writing it ends inside a line, whose last number may be cut.
        text = text[: text.rfind("\n") + 1]
        counts["nmon_cut_lines"] += 1
        notes.append(f"{path.name}: the file ends inside a line (cut short while nmon was writing it); that line was left out")
    text = "\n" + text  # every line now starts after a newline (see DATA_LINES)
    aaa = _aaa(text)
    host = _host(path, aaa, notes)
    headers = {name: m[1].split(",")[1:] for name, pattern in HEADER_LINES.items() if (m := pattern.search(text))}
    times = _snapshot_times(path, text, DATA_LINES["ZZZZ"].findall(text), timezone, counts)
    tables = {name: _table(path, name, DATA_LINES[name].findall(text), headers.get(name), counts)
              for name in ("CPU_ALL", "MEM", "LPAR")}
    cpu = _cpu(path, text, tables, headers, counts)
    position = times.index.get_indexer(cpu.tags)
    timed = position >= 0
    without_time = int(np.count_nonzero(~timed))
    without_cpu = len(times) - int(np.count_nonzero(timed))
    counts["nmon_snapshots_without_time"] += without_time
    counts["nmon_snapshots_without_cpu"] += without_cpu
    if not timed.any():
        raise InputError(f"{path}: none of its {len(cpu.tags):,} CPU rows has a ZZZZ time line (ZZZZ,Tnnnn,HH:MM:SS,DD-MON-YYYY) "
                         f"with the same snapshot tag; {EXPORT_HINT}")
    if without_time:
        notes.append(f"{path.name}: left out {without_time:,} snapshot(s) whose ZZZZ time line is missing")
    if without_cpu:
        notes.append(f"{path.name}: left out {without_cpu:,} snapshot(s) with a ZZZZ time but no CPU row (the run stopped "
                     "or the file was cut mid-snapshot)")
    mem_gb, mem_rule, ram_gb = _memory(tables["MEM"], cpu.tags)
    lscpu = {key.strip(): value.strip() for key, value in LSCPU_LINES.findall(text)}
    hardware, cores_stated = _hardware(aaa, lscpu, cpu, ram_gb)
    return Run(
        host=host,
        time_ns=times.to_numpy()[position[timed]],
        cpu_pct=cpu.pct[timed].astype(np.float32),
        mem_gb=mem_gb[timed].astype(np.float32),
        hardware=hardware,
        cores_stated=cores_stated,
        cpu_rule=cpu.rule,
        mem_rule=mem_rule,
        lpar=cpu.lpar,
    )


def _aaa(text: str) -> dict[str, list[str]]:
    """``AAA,key,value,...`` lines: key (lower case) -> the fields after it, the first line of each
    key; the many ``AAA,x86,<name>,<value>`` lines are keyed ``x86:<name>``."""
    aaa: dict[str, list[str]] = {}
    for key, rest in AAA_LINES.findall(text):
        key, fields = key.strip().lower(), [part.strip() for part in rest.split(",")]
        if key == "x86" and fields:
            key, fields = f"x86:{fields[0].lower()}", fields[1:]
        aaa.setdefault(key, fields)
    return aaa


def _host(path: Path, aaa: dict[str, list[str]], notes: list[str]) -> str:
    host = (aaa.get("host") or [""])[0]
    if host:
        return host
    match = FILE_HOST.match(path.name)
    if match is None:
        raise InputError(f"{path}: no AAA,host line names the host, and the file name is not nmon's <host>_YYMMDD_HHMM.nmon; "
                         "add a line AAA,host,<name> at the top or rename the file")
    notes.append(f"{path.name}: no AAA,host line; the host {match[1]!r} was taken from the file name")
    return match[1]


def _zzzz_line(text: str, row: str) -> tuple[int, str]:
    """The line number and text of the ZZZZ line of ``row`` (its fields after ``ZZZZ,T``), for messages."""
    at = text.find(f"\nZZZZ,T{row}")
    return text.count("\n", 0, at + 1), f"ZZZZ,T{row}"


def _bad_time(path: Path, text: str, row: str) -> None:
    line, shown_line = _zzzz_line(text, row)
    raise InputError(f"{path}, line {line}: cannot read the snapshot time {shown(shown_line)}; nmon writes "
                     "ZZZZ,Tnnnn,HH:MM:SS,DD-MON-YYYY (e.g. ZZZZ,T0001,06:25:40,01-DEC-2026); repair or remove the line")


def _snapshot_times(path: Path, text: str, rows: list[str], timezone: str | None, counts: Counter) -> pd.Series:
    """Snapshot number -> UTC ns, from the ``ZZZZ,T<n>,HH:MM:SS,DD-MON-YYYY`` lines."""
    if not rows:
        raise InputError(f"{path}: no ZZZZ line (ZZZZ,Tnnnn,HH:MM:SS,DD-MON-YYYY), the only time of an nmon snapshot, so its "
                         f"snapshots have no time (cut before the first snapshot, or its ZZZZ lines removed); {EXPORT_HINT}")
    bad = next((row for row in rows if not ZZZZ_ROW.fullmatch(row)), None)
    if bad is not None:
        _bad_time(path, text, bad)
    # "0001,06:25:40,01-DEC-2026" -> snapshot, hour, minute, second, day, month, year: one C CSV parse.
    fields = "\n".join(rows).replace(":", ",").replace("-", ",")
    parts = pd.read_csv(io.StringIO(fields), header=None, names=["tag", "hour", "minute", "second", "day", "month", "year"],
                        dtype={"tag": np.int64, "month": str, **dict.fromkeys(("hour", "minute", "second", "day", "year"), np.float64)},
                        quoting=csv.QUOTE_NONE)
    month = parts["month"].str.strip().str.upper().map(MONTHS)
    date = pd.to_datetime(pd.DataFrame({"year": parts["year"], "month": month, "day": parts["day"]}), errors="coerce")
    clock_s = parts["hour"] * 3600 + parts["minute"] * 60 + parts["second"]
    wrong = (date.isna() | (parts["hour"] > 23) | (parts["minute"] > 59) | (parts["second"] >= 61)).to_numpy()
    if wrong.any():
        _bad_time(path, text, rows[int(np.argmax(wrong))])
    wall_ns = date.to_numpy().astype("datetime64[ns]").astype(np.int64) + np.round(clock_s.to_numpy() * 1e9).astype(np.int64)
    utc_ns = to_utc_ns(pa.array(wall_ns.view("datetime64[ns]")), timezone=timezone, where=f"{path}, ZZZZ lines",
                       locate=lambda i: f"line {_zzzz_line(text, rows[i])[0]}", counts=counts)
    tags = parts["tag"].to_numpy(np.int64)
    times = pd.Series(utc_ns, index=tags)
    repeated = times.index.duplicated(keep="first")
    if repeated.any():
        spread = times.groupby(level=0).agg(["min", "max"])
        clash = spread.index[(spread["max"] != spread["min"]).to_numpy()]
        if len(clash):
            lines = [_zzzz_line(text, rows[i])[0] for i in np.flatnonzero(tags == clash[0])[:2]]
            raise InputError(f"{path}: snapshot T{clash[0]:04d} has two different ZZZZ times (lines {lines[0]} and {lines[1]}): "
                             "the file holds more than one nmon run (files joined?); give each run as its own file")
        counts["nmon_repeated_time_lines"] += int(repeated.sum())
        times = times[~repeated]
    return times


def _table(path: Path, name: str, rows: list[str], header: list[str] | None, counts: Counter) -> pd.DataFrame | None:
    """A section's rows as numbers in its standard columns (:data:`COLUMNS`), ``tag`` first, one row
    per snapshot (a repeated row keeps its first, counted); None if the file has no such rows."""
    if not rows:
        return None
    if header is None:
        raise InputError(f"{path}: {len(rows):,} {name} rows but no {name} header line naming their columns "
                         f"(e.g. {name},<title>,User%,Sys%,...); {EXPORT_HINT}")
    table = _values(rows, header, COLUMNS[name], counts)
    repeated = table["tag"].duplicated(keep="first")
    counts["nmon_repeated_rows"] += int(repeated.sum())
    return table[~repeated.to_numpy()].reset_index(drop=True)


def _values(rows: list[str], header: list[str], columns: dict[str, str], counts: Counter) -> pd.DataFrame:
    """``snapshot,value,...`` rows read by the C CSV parser into the standard columns the header
    names, float64: a row shorter than the header gets NaN, an empty cell or ``nan`` is NaN, and a
    value that is not a number is NaN too, counted."""
    wanted = {columns.get(raw.replace(" ", "").lower()): i + 1 for i, raw in enumerate(header)}
    wanted.pop(None, None)
    order = sorted(wanted, key=wanted.get)
    read = {"header": None, "usecols": [0, *(wanted[c] for c in order)], "quoting": csv.QUOTE_NONE, "skip_blank_lines": False}
    data = "\n".join(rows)
    width = len(header) + 1
    try:
        raw = pd.read_csv(io.StringIO(data), names=range(width), dtype={0: np.int64, **{wanted[c]: np.float64 for c in order}},
                          **read)
    except (ValueError, pd.errors.ParserError):
        # Slow path: rows longer than the header, or text where a number belongs (counted).
        width = max(width, max(row.count(",") for row in rows) + 1)
        raw = pd.read_csv(io.StringIO(data), names=range(width), dtype=str, keep_default_na=False, **read)
        for c in order:
            cell = raw[wanted[c]].fillna("").str.strip()
            number = pd.to_numeric(cell, errors="coerce")
            counts["nmon_values_unreadable"] += int((number.isna() & (cell != "") & ~cell.str.lower().isin(["nan", "-nan"])).sum())
            raw[wanted[c]] = number.astype(np.float64)
        raw[0] = raw[0].astype(np.int64)
    table = pd.DataFrame({"tag": raw[0].to_numpy(np.int64)})
    for c in order:
        table[c] = raw[wanted[c]].to_numpy(np.float64)
    return table


class Cpu(NamedTuple):
    """The CPU series of one run: snapshot tags, busy % of its capacity, and what capacity is."""

    tags: np.ndarray
    pct: np.ndarray
    rule: str
    logical_cpus: float
    cores: float
    lpar: str | None = None


def _cpu(path: Path, text: str, tables: dict, headers: dict, counts: Counter) -> Cpu:
    """CPU busy per snapshot: a shared LPAR's PhysicalCPU / virtualCPUs, else CPU_ALL, else the CPUnn average."""
    cpu_all, lpar = tables["CPU_ALL"], tables["LPAR"]
    logical = _largest(cpu_all, "logical_cpus")
    if lpar is not None and {"physical_cores", "virtual_cpus", "shared"} <= set(lpar):
        vps = _largest(lpar, "virtual_cpus")
        if _largest(lpar, "shared") == 1 and vps > 0:
            pct = lpar["physical_cores"].to_numpy() / vps * 100.0
            entitled = _largest(lpar, "entitled_cores")
            described = f"{vps:g} virtual processors" + (f", entitlement {entitled:g} cores" if entitled > 0 else "")
            return Cpu(lpar["tag"].to_numpy(), pct, "lpar", logical, vps, described)
    lpar_cores = _largest(lpar, "virtual_cpus")  # a dedicated partition's processors
    if cpu_all is not None:
        _require(path, "CPU_ALL", cpu_all, headers)
        return Cpu(cpu_all["tag"].to_numpy(), _busy(cpu_all, counts), "cpu_all", logical, lpar_cores)
    lines = CPU_LINES.findall(text)
    if not lines:
        found = sorted(set(SECTION_NAMES.findall(text)) - {"AAA", "ZZZZ"})
        held = ", ".join(found[:SECTIONS_SHOWN]) + (f" and {len(found) - SECTIONS_SHOWN} more" if len(found) > SECTIONS_SHOWN else "")
        raise InputError(f"{path}: no CPU section (no CPU_ALL, CPUnn or shared-LPAR LPAR lines; the file holds the sections "
                         f"{held or 'none'}); {EXPORT_HINT}")
    if "CPU" not in headers:
        raise InputError(f"{path}: {len(lines):,} CPUnn rows but no CPUnn header line naming their columns "
                         f"(e.g. CPU001,CPU 1 <host>,User%,Sys%,...); {EXPORT_HINT}")
    every = _values([f"{tag},{rest}" for _, tag, rest in lines], headers["CPU"], COLUMNS["CPU"], counts)
    _require(path, "CPU", every, headers)
    every["busy"] = _busy(every, counts)
    mean = every.groupby("tag", sort=True)["busy"].mean()
    return Cpu(mean.index.to_numpy(), mean.to_numpy(), "per_cpu", float(len({cpu for cpu, _, _ in lines})), lpar_cores)


def _require(path: Path, name: str, table: pd.DataFrame, headers: dict) -> None:
    missing = [c for c in BUSY if c not in table]
    if missing:
        names = " / ".join(c.split("_")[0].title() + "%" for c in missing)
        raise InputError(f"{path}: the {name} header has no {names} column (its columns: {shown(','.join(headers[name]))}); "
                         f"{EXPORT_HINT}")


def _busy(table: pd.DataFrame, counts: Counter) -> np.ndarray:
    """User% + Sys% (+ Steal%) per row; a row whose shares are all zero (nmon's reset) is missing, counted."""
    busy = table["user_pct"].to_numpy() + table["sys_pct"].to_numpy()
    if "steal_pct" in table:
        busy = busy + np.nan_to_num(table["steal_pct"].to_numpy())
    shares = table[[c for c in SHARES if c in table]].to_numpy()
    reset = (np.nansum(np.abs(shares), axis=1) == 0) & ~np.isnan(shares).all(axis=1)
    counts["nmon_cpu_reset_rows"] += int(reset.sum())
    return np.where(reset, np.nan, busy)


def _largest(table: pd.DataFrame | None, column: str) -> float:
    """The largest value of a column (NaN when the table or the column is absent or empty)."""
    if table is None or column not in table or not table[column].notna().any():
        return np.nan
    return float(table[column].max())


def _memory(mem: pd.DataFrame | None, tags: np.ndarray) -> tuple[np.ndarray, str | None, float]:
    """Memory in use (GB) at each CPU snapshot tag (NaN where its MEM row is missing), the rule, and RAM (GB)."""
    missing = np.full(len(tags), np.nan)
    if mem is None or not {"total_mb", "free_mb"} <= set(mem):
        return missing, None, np.nan
    less = [c for c in ("cached_mb", "buffers_mb") if c in mem]
    used_mb = mem["total_mb"] - mem["free_mb"]
    if less:
        used_mb = used_mb - mem[less].sum(axis=1, min_count=len(less))
    rule = "linux" if less else "aix"
    position = pd.Index(mem["tag"]).get_indexer(tags)
    used_gb = np.where(position >= 0, used_mb.to_numpy()[position] / MB_PER_GB, np.nan)
    return used_gb, rule, _largest(mem, "total_mb") / MB_PER_GB


def _hardware(aaa: dict[str, list[str]], lscpu: dict[str, str], cpu: Cpu, ram_gb: float) -> tuple[dict, bool]:
    """Inventory values a file states (logical CPUs, cores, GHz, RAM, model), and whether it states
    its cores (else they are taken as its logical CPUs)."""
    logical = cpu.logical_cpus
    if not logical > 0:
        logical = _number((aaa.get("cpus") or [""])[-1])
    per_core = _number(lscpu.get("Thread(s) per core", "")) or _number(_x86(aaa, "hyperthreads"))
    if cpu.rule == "lpar":
        cores = threads = cpu.cores  # the busy share is of the virtual processors: capacity = VPs, one thread each
    else:
        threads = logical
        if cpu.cores > 0:
            cores = cpu.cores
        elif per_core and per_core >= 1 and logical > 0:
            cores = max(1.0, round(logical / per_core))
        else:
            cores = logical
    model = _x86(aaa, "ModelName") or lscpu.get("Model name", "") or " ".join(aaa.get("machinetype") or []).strip()
    ghz_text = MODEL_GHZ.search(model)
    mhz = _number(_x86(aaa, "MHz")) or _number(lscpu.get("CPU MHz", ""))
    ghz = float(ghz_text[1]) if ghz_text else (mhz / 1000.0 if mhz and mhz > 0 else np.nan)
    hardware = {"cores": cores, "threads": threads, "ghz": ghz, "ram_gb": ram_gb if ram_gb > 0 else np.nan, "perf": np.nan,
                "model": model, "power_idle_w": np.nan, "power_max_w": np.nan}
    return hardware, cpu.rule == "lpar" or cpu.cores > 0 or bool(per_core)


def _x86(aaa: dict[str, list[str]], key: str) -> str:
    """The value of the ``AAA,x86,<key>,<value>`` line ("" without one)."""
    return aaa.get(f"x86:{key.lower()}", [""])[0]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _inventory(runs: list[Run]) -> pd.DataFrame:
    """One row per host: the largest CPU and RAM figures over its runs, the first GHz and model found."""
    table = pd.DataFrame([{"server_id": r.host, **r.hardware} for r in runs])
    table["model"] = table["model"].replace("", np.nan)
    merged = table.groupby("server_id", sort=True).agg(
        cores=("cores", "max"), threads=("threads", "max"), ghz=("ghz", "first"), ram_gb=("ram_gb", "max"),
        perf=("perf", "first"), model=("model", "first"), power_idle_w=("power_idle_w", "first"),
        power_max_w=("power_max_w", "first"),
    ).reset_index()
    merged["model"] = merged["model"].fillna("").astype(str)
    return merged[list(FIELDS)]


def _conversions(runs: list[Run], timezone: str | None) -> list[str]:
    """One sentence per conversion made, with its count of snapshots and files."""
    def tally(keep) -> tuple[int, int]:
        chosen = [r for r in runs if keep(r)]
        return sum(len(r.time_ns) for r in chosen), len(chosen)

    sentences = []
    n, k = tally(lambda r: r.cpu_rule == "cpu_all")
    if k:
        sentences.append(f"CPU busy = User% + Sys% (+ Steal% where given) of the CPU_ALL section (Wait%, I/O wait, "
                         f"counted as not busy, like Idle%) for {n:,} snapshot(s) of {k} file(s)")
    n, k = tally(lambda r: r.cpu_rule == "per_cpu")
    if k:
        sentences.append(f"CPU busy = User% + Sys% of the CPUnn sections averaged over the CPUs (no CPU_ALL section) "
                         f"for {n:,} snapshot(s) of {k} file(s)")
    lpars = [r for r in runs if r.cpu_rule == "lpar"]
    if lpars:
        described = name_list(sorted({f"{r.host} ({r.lpar})" for r in lpars}))
        sentences.append(f"CPU busy of shared-processor LPARs = LPAR PhysicalCPU (physical cores consumed) / virtualCPUs x 100, "
                         f"their capacity set to their virtual processors (an uncapped partition may use up to them, beyond "
                         f"its entitlement) for {sum(len(r.time_ns) for r in lpars):,} snapshot(s) of {len(lpars)} file(s): "
                         f"{described}")
    n, k = tally(lambda r: r.mem_rule == "linux")
    if k:
        sentences.append(f"memory in use = memtotal - memfree - cached - buffers of the MEM section (page cache and buffers "
                         f"not counted as used), MB / 1024 = GB, for {n:,} snapshot(s) of {k} file(s)")
    n, k = tally(lambda r: r.mem_rule == "aix")
    if k:
        sentences.append(f"memory in use = Real total(MB) - Real free(MB) of the AIX MEM section (includes the AIX file cache), "
                         f"MB / 1024 = GB, for {n:,} snapshot(s) of {k} file(s)")
    _, k = tally(lambda r: not r.cores_stated)
    if k:
        sentences.append(f"cores taken as the logical CPU count (the file states no threads per core) for {k} file(s)")
    if timezone is not None and timezone != "UTC":
        n, k = tally(lambda r: True)
        sentences.append(f"ZZZZ local times converted from {timezone} to UTC for {n:,} snapshot(s) of {k} file(s)")
    return sentences


FORMAT = TraceFormat("nmon", "nmon / AIX topas_nmon recordings (.nmon, .nmon.gz), a file or a folder of them",
                     nmon_samples, looks=looks_nmon, reads="both", takes=("timezone",))
