"""collectd CSV plugin folders: one folder per host, one file per metric and day.

collectd [1]_ is a Unix monitoring daemon; its ``csv`` write plugin [2]_ writes, under its
``DataDir``, ``<host>/<plugin>[-<plugin instance>]/<type>[-<type instance>]-YYYY-MM-DD`` (the
day of writing, local time; a new file each day), each with the header ``epoch,<data source
names>`` and one line per reading: the time in seconds since the Unix epoch (UTC; ``%.3f``,
seconds with milliseconds, in collectd 5; whole seconds in collectd 4; never milliseconds, but
read by magnitude, :mod:`consolidate.io.timestamps`, so a converted file in milliseconds is
read too, and counted) and the values. Export: nothing to run; with the plugins enabled in
``collectd.conf`` (Debian's default ``DataDir``)::

    LoadPlugin cpu
    LoadPlugin memory
    LoadPlugin csv
    <Plugin csv>
      DataDir "/var/lib/collectd/csv"
    </Plugin>

copy the folder (``rsync -a HOST:/var/lib/collectd/csv/ collectd-csv/``) and give it, or one
host folder under it.

The reader takes a ``DataDir`` (a folder of host folders) or one host folder; server id = the
host folder's name, as collectd wrote it. From each host it takes:

- CPU busy % of all the host's logical CPUs, from the ``cpu`` plugin [3]_ in whichever form its
  options gave (several forms in one folder, from days with other options, are all read):

  - the default (``ReportByCpu true``, ``ReportByState true``, ``ValuesPercentage false``):
    ``cpu-<N>/cpu-<state>-<day>``, one cumulative counter per CPU and state, in jiffies
    (``USER_HZ`` ticks). Each counter's rate over a read's interval is what it gained since the
    previous read; the plugin reads all states of a CPU at once, so their gains span one
    interval and their shares are the rates' shares. The files of one counter on successive
    days are one series (the counter carries on over midnight); a drop is a counter reset (a
    reboot; or a 32-bit wrap in collectd 4): the reading after it starts a new counter, the
    interval across it has no rate (counted as ``collectd_counter_resets``). With the csv
    plugin's ``StoreRates true`` the files hold the rates (decimals), read as they are;
  - ``ValuesPercentage true``: ``cpu-<N>/percent-<state>-<day>`` gauges;
  - ``ReportByCpu false``: ``cpu/percent-<state>-<day>``, the percentages of all CPUs together;
  - ``ReportByState false``: ``percent-active`` alone, collectd's sum of every state but idle.

  Busy = the states in :data:`BUSY_EXCLUDED` left out (idle, and waiting for I/O: ``wait``, and
  Solaris' ``swap`` wait), as a share of all states, per CPU and reading, then averaged over the
  CPUs with a value at that reading. Like the sar reader's ``100 - %idle - %iowait``, I/O wait
  is not busy and steal is; ``guest`` / ``guest_nice`` (``ReportGuestState true``) are busy,
  as collectd by default subtracts them from ``user`` and ``nice`` (``SubtractGuestState``).
  ``percent-active`` cannot leave I/O wait out: it is taken as it is, and the conversions say so.
  The files collectd writes at one read are up to milliseconds apart: readings less than
  :data:`READ_SPREAD_S` apart are one reading.
- Memory in use, from the ``memory`` plugin [4]_: ``memory/memory-used-<day>`` in bytes, as GB
  (GiB, 1024**3 bytes). collectd's ``used`` is ``MemTotal - MemFree - Buffers - Cached - Slab``:
  page cache, buffers and slab are not counted as in use. With ``ValuesPercentage true`` alone,
  ``memory/percent-used-<day>`` is a percentage of the RAM. Memory readings are matched to the
  nearest CPU reading within half an interval.
- Inventory: RAM total = the largest sum, over readings, of the memory states (used, buffered,
  cached, free, slab_recl, slab_unrecl or slab; not ``available``, which overlaps them; in
  collectd's unreleased main branch ``used`` also holds the unreclaimable slab, so there the sum
  overstates the RAM by it); CPU
  count = the number of ``cpu-<N>`` folders (or ``cpu/count``, ``ReportNumCpu true``), logical
  CPUs, given as both cores and threads (collectd does not say which are SMT siblings).

Files of other plugins (load, interface, df, disk, ...) are skipped, and the warnings name them.
A folder with no cpu plugin files is an error naming the plugins it holds. One file, or one
plugin folder, is an error saying to give the host folder.

References
----------
.. [1] collectd, the system statistics collection daemon, https://collectd.org (5.12).
.. [2] collectd.conf(5), "Plugin csv" (``DataDir``, ``StoreRates``); src/csv.c
   (``value_list_to_filename``, ``value_list_to_string``), collectd 5.12.0.
.. [3] collectd.conf(5), "Plugin cpu" (``ReportByCpu``, ``ReportByState``,
   ``ValuesPercentage``, ``ReportNumCpu``, ``ReportGuestState``, ``SubtractGuestState``);
   src/cpu.c (``cpu_commit``, ``cpu_read`` for Linux ``/proc/stat``), collectd 5.12.0.
.. [4] collectd.conf(5), "Plugin memory" (``ValuesAbsolute``, ``ValuesPercentage``);
   src/memory.c (``memory_read_internal``), collectd 5.12.0.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, file_bytes, head_bytes, os_error, shown
from consolidate.io.formats import TraceFormat
from consolidate.io.grid import NS_PER_S
from consolidate.io.inventory import FIELDS, name_list
from consolidate.io.timestamps import to_utc_ns
from consolidate.models.trace import TraceSet

#: A csv plugin file name: ``<type>[-<type instance>]-YYYY-MM-DD``, maybe gzipped by log rotation.
FILE_NAME = re.compile(r"(?P<type>[^-]+?)(?:-(?P<instance>.+?))?-(?P<day>\d{4}-\d{2}-\d{2})(?:\.gz)?")

#: A csv plugin file's header starts so.
HEADER_START = b"epoch,"

CPU_PLUGIN = "cpu"
MEMORY_PLUGIN = "memory"

#: The csv types read in the cpu plugin's folders: jiffies (``cpu``), percentages, the CPU count.
JIFFIES, PERCENT, COUNT = "cpu", "percent", "count"
#: The csv types read in the memory plugin's folder: bytes, percentages.
BYTES = "memory"

#: CPU states that are not busy: idle, and waiting (for I/O; ``swap``: Solaris' wait for swap).
BUSY_EXCLUDED = frozenset({"idle", "wait", "swap"})
#: ``ReportByState false``: the sum of every state but idle (I/O wait included).
ACTIVE = "active"

#: The memory state in use, and states that are not a share of the RAM.
USED = "used"
NOT_RAM = frozenset({"available"})

BYTES_PER_GB = 1024**3

#: collectd stamps each value when the plugin dispatches it, so the files of one read differ by
#: milliseconds; readings closer than this (or than half the interval) are one reading.
READ_SPREAD_S = 0.5

#: How many entries of a folder detection looks at (it must stay cheap on big folders).
SNIFF_ENTRIES = 64

#: Texts glibc's ``%lf`` writes for a value collectd could not compute.
NAN_TEXTS = ["nan", "-nan", "NaN", "-NaN"]


def read_collectd(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a collectd csv plugin ``DataDir`` (a folder of host folders) or one host folder.

    Parameters
    ----------
    path : the ``DataDir`` or a host folder (holding ``cpu-0/``, ``memory/``, ...).
    inventory : inventory CSV path or DataFrame; its values override the CPU count and RAM
        read from the files, per server and field (collectd gives no clock speed).
    interval_s : grid spacing in seconds (default: detected, collectd's ``Interval``).
    """
    p = existing(path)
    return assemble(collectd_samples(p), fmt="collectd", path=p, inventory=inventory, interval_s=interval_s)


# --- recognising the layout -----------------------------------------------------------------

def looks_collectd(path: Path, head: bytes) -> bool:
    """A file named ``<type>[-<instance>]-YYYY-MM-DD`` whose header starts ``epoch,``."""
    return FILE_NAME.fullmatch(path.name) is not None and head.startswith(HEADER_START)


def looks_collectd_folder(folder: Path) -> bool:
    """A host folder (plugin folders of csv files) or a ``DataDir`` (a folder of host folders)."""
    try:
        subfolders = _subfolders(folder, SNIFF_ENTRIES)
        return any(_holds_csv(sub) for sub in subfolders) or any(
            _holds_csv(plugin) for sub in subfolders[:8] for plugin in _subfolders(sub, SNIFF_ENTRIES)
        )
    except (OSError, InputError):
        return False


def _subfolders(folder: Path, limit: int | None = None) -> list[Path]:
    """The visible subfolders of ``folder`` (the first ``limit`` entries looked at), sorted."""
    found = []
    with os.scandir(folder) as entries:
        for i, entry in enumerate(entries):
            if limit is not None and i >= limit:
                break
            if entry.is_dir() and not entry.name.startswith("."):
                found.append(Path(entry.path))
    return sorted(found)


def _holds_csv(folder: Path) -> bool:
    """Whether one of the first entries of ``folder`` is a csv plugin file."""
    with os.scandir(folder) as entries:
        for i, entry in enumerate(entries):
            if i >= SNIFF_ENTRIES:
                return False
            if entry.is_file() and FILE_NAME.fullmatch(entry.name) and head_bytes(Path(entry.path), 16).startswith(HEADER_START):
                return True
    return False


def _csv_files(folder: Path) -> list[Path]:
    """The csv plugin files of a plugin folder, by name (days in order)."""
    return sorted(f for f in folder.iterdir() if f.is_file() and FILE_NAME.fullmatch(f.name))


def host_folders(path: Path) -> list[Path]:
    """The host folders of a ``DataDir``, or ``[path]`` for a host folder; InputError otherwise."""
    if path.is_file():
        if FILE_NAME.fullmatch(path.name) is None:
            raise InputError(f"{path}: is a file; the collectd format reads the csv plugin's DataDir or a host folder under it "
                             "(<host>/<plugin>/<type>-<instance>-YYYY-MM-DD); give the folder")
        raise InputError(f"{path}: is one collectd csv file (of the {path.parent.name} plugin folder); give its host folder "
                         f"{path.parent.parent} or the csv plugin's DataDir above it")
    try:
        if _csv_files(path):
            raise InputError(f"{path}: is a collectd plugin folder (it holds the csv files of one plugin); give its host "
                             f"folder {path.parent} or the csv plugin's DataDir above it")
        subfolders = _subfolders(path)
        if any(_csv_files(sub) for sub in subfolders):
            return [path]
        hosts = [sub for sub in subfolders if any(_csv_files(plugin) for plugin in _subfolders(sub))]
    except OSError as err:
        raise os_error(path, err) from None
    if not hosts:
        raise InputError(f"{path}: holds no collectd csv files (<host>/<plugin>/<type>-<instance>-YYYY-MM-DD); give the "
                         "csv plugin's DataDir or one host folder under it")
    return hosts


# --- reading files --------------------------------------------------------------------------

class Readings(NamedTuple):
    """The readings of some csv files of one host, sorted by series (a file's state and CPU) and
    time."""

    time_ns: np.ndarray  # int64, UTC
    value: np.ndarray  # float64, NaN where collectd wrote nan
    series: np.ndarray  # int64 per reading
    counter: np.ndarray  # bool per reading: a raw counter (an integer), not a gauge or a rate
    counter_files: int  # how many of the files hold raw counters


def read_files(files: list[Path], series_of_file: list[int], counts: Counter) -> Readings:
    """The ``epoch,value`` lines of ``files`` (``series_of_file`` numbers the series each file
    is a part of: the day files of one counter), sorted by series and time; a reading repeated
    (same series and time: copied files that overlap) is kept once, counted as
    ``collectd_repeated_readings``."""
    order = sorted(range(len(files)), key=lambda i: (series_of_file[i], files[i].name))
    files = [files[i] for i in order]
    bodies = [_body(f, counts) for f in files]
    table, sizes = _parse_all(files, bodies)
    starts = np.cumsum([0] + sizes[:-1])

    def locate(i: int) -> str:
        k = int(np.searchsorted(starts, i, side="right")) - 1
        return f"file {files[k].name}, line {i - starts[k] + 2}"

    epoch = table.column("epoch")
    time_ns = to_utc_ns(epoch, timezone=None, where=str(files[0].parent), locate=locate,
                        counts=counts) if len(epoch) else np.empty(0, dtype=np.int64)
    series = np.repeat(np.asarray([series_of_file[i] for i in order], dtype=np.int64), sizes)
    holds_counters = [re.match(rb"[^,\n]*,-?\d+\r?\n", b) is not None for b in bodies]
    counter = np.repeat(holds_counters, sizes)
    value = table.column("value").to_numpy().astype(np.float64)
    in_order = (series[1:] > series[:-1]) | ((series[1:] == series[:-1]) & (time_ns[1:] >= time_ns[:-1]))
    if not in_order.all():  # lines out of order, or day files that overlap
        take = np.lexsort((time_ns, series))
        time_ns, value, series, counter = time_ns[take], value[take], series[take], counter[take]
    keep = np.concatenate(([True], (series[1:] != series[:-1]) | (time_ns[1:] != time_ns[:-1])))
    counts["collectd_repeated_readings"] += int(np.count_nonzero(~keep))
    if not keep.all():
        time_ns, value, series, counter = time_ns[keep], value[keep], series[keep], counter[keep]
    return Readings(time_ns, value, series, counter, sum(holds_counters))


def _body(path: Path, counts: Counter) -> bytes:
    """A file's lines after its ``epoch,<name>`` header; a last line cut short (no newline: collectd
    stopped or still writing) is left out, counted as ``collectd_cut_last_lines``."""
    data = file_bytes(path)
    header, _, body = data.partition(b"\n")
    header = header.rstrip(b"\r")
    if not header.startswith(HEADER_START) or header.count(b",") != 1:
        text = header.decode("utf-8", errors="replace")
        raise InputError(f"{path}: line 1 is {shown(text)}, not the 'epoch,value' header of a collectd csv file of one value; "
                         "give the csv plugin's files as collectd wrote them")
    if body and not body.endswith(b"\n"):
        body = body[: body.rfind(b"\n") + 1]
        counts["collectd_cut_last_lines"] += 1
    return body


def _parse_all(files: list[Path], bodies: list[bytes]) -> tuple[pa.Table, list[int]]:
    """All files' lines in one table (one parse: thousands of small files), and each file's
    number of lines; file by file, to name a bad line, when that fails or blank lines make
    the count differ."""
    sizes = [b.count(b"\n") for b in bodies]
    try:
        table = _parse(b"".join(bodies))
    except pa.ArrowInvalid:
        table = None
    if table is None or len(table) != sum(sizes):
        tables = [_checked(f, b) for f, b in zip(files, bodies)]
        table, sizes = pa.concat_tables(tables), [len(t) for t in tables]
    return table, sizes


def _parse(body: bytes) -> pa.Table:
    if not body.strip():  # a day file with its header alone
        return pa.table({"epoch": pa.array([], pa.float64()), "value": pa.array([], pa.float64())})
    return pacsv.read_csv(
        pa.py_buffer(body),
        read_options=pacsv.ReadOptions(column_names=["epoch", "value"]),
        convert_options=pacsv.ConvertOptions(column_types={"epoch": pa.float64(), "value": pa.float64()},
                                             null_values=NAN_TEXTS, strings_can_be_null=False),
    )


def _checked(path: Path, body: bytes) -> pa.Table:
    """One file's lines as a table; InputError naming its first line that is not two numbers."""
    try:
        return _parse(body)
    except pa.ArrowInvalid:
        pass  # name the line below: pyarrow's message does not
    for number, line in enumerate(body.decode("utf-8", errors="replace").split("\n"), start=2):
        fields = line.rstrip("\r").split(",")
        if line.strip() and (len(fields) != 2 or not all(_number(x) for x in fields)):
            raise InputError(f"{path}: line {number} is {shown(line)}; a collectd csv line is 'epoch,value', two numbers")
    raise InputError(f"{path}: cannot be read as collectd csv lines 'epoch,value'; check the file")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- one collectd read: the files' readings grouped in time ---------------------------------

def read_ids(t: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which collectd read each reading (times ``t``, sorted within each series ``s``) belongs
    to (0, 1, ... in time order), and each read's time (its first reading's).

    Readings of one read are up to milliseconds apart (each value is stamped when dispatched):
    a gap of more than :data:`READ_SPREAD_S`, or than half the median spacing of one series,
    starts the next read.
    """
    if t.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    step = np.diff(t)[s[1:] == s[:-1]]
    step = step[step > 0]
    gap_ns = min(READ_SPREAD_S * NS_PER_S, float(np.median(step)) / 2 if step.size else np.inf)
    by_time = np.argsort(t, kind="stable")  # merges the series' sorted runs
    sorted_t = t[by_time]
    starts = np.concatenate(([True], np.diff(sorted_t) > gap_ns))
    ids = np.empty(len(t), dtype=np.int64)
    ids[by_time] = np.cumsum(starts) - 1
    return ids, sorted_t[starts]


def increments(readings: Readings, read: np.ndarray, counts: Counter) -> np.ndarray:
    """Per reading, what a counter gained since its reading of the previous read (``read``:
    :func:`read_ids`); NaN for a counter's first reading (counted as
    ``collectd_counter_first_readings``), after a drop, a reset (``collectd_counter_resets``:
    the reading after it starts the new counter), and across a read its file lacks. Gauges and
    stored rates as they are."""
    series, counter = readings.series, readings.counter
    out = np.where(counter, np.nan, readings.value)
    follows = (series[1:] == series[:-1]) & counter[1:] & counter[:-1]
    rise = np.diff(readings.value)
    reset = follows & (rise < 0)
    ok = follows & ~reset & (np.diff(read) == 1)
    out[1:][ok] = rise[ok]
    counts["collectd_counter_resets"] += int(np.count_nonzero(reset))
    counts["collectd_counter_first_readings"] += int(np.count_nonzero(counter) - np.count_nonzero(follows))
    return out


# --- CPU ------------------------------------------------------------------------------------

class CpuFile(NamedTuple):
    """A cpu plugin file: its CPU (-1 for all CPUs together), csv type and state."""

    path: Path
    cpu: int
    kind: str
    state: str

    @property
    def source(self) -> str:
        """Which of :data:`CPU_SOURCES` the file is."""
        if self.kind == JIFFIES:
            return "jiffies"
        if self.state == ACTIVE:
            return "active"
        return "percent-cpu" if self.cpu >= 0 else "percent-all"


class Busy(NamedTuple):
    """A host's CPU busy % at each collectd read, from one kind of cpu plugin file."""

    time_ns: np.ndarray
    busy_pct: np.ndarray
    readings: int
    files: int
    counter_files: int


def busy(files: list[CpuFile], counts: Counter) -> Busy:
    """Busy % of all CPUs at each read, from files of one kind (:attr:`CpuFile.source`): each
    CPU's busy share (:func:`cpu_share`), averaged over the CPUs with one at that read."""
    by_cpu: dict[int, list[CpuFile]] = {}
    for f in files:
        by_cpu.setdefault(f.cpu, []).append(f)
    states = sorted({f.state for f in files})  # a CPU without one of them has no complete reading
    shares = [cpu_share(group, states, counts) for _, group in sorted(by_cpu.items())]
    cpu = np.repeat(np.arange(len(shares), dtype=np.int64), [len(s.time_ns) for s in shares])
    read, read_ns = read_ids(np.concatenate([s.time_ns for s in shares]), cpu)
    n = np.bincount(read, minlength=len(read_ns))
    total = np.bincount(read, weights=np.concatenate([s.share for s in shares]), minlength=len(read_ns))
    mean = total[n > 0] / n[n > 0]
    return Busy(read_ns[n > 0], 100.0 * mean, sum(s.readings for s in shares), len(files),
                sum(s.counter_files for s in shares))


class Share(NamedTuple):
    """One CPU's busy share (0-1) at each of its complete reads."""

    time_ns: np.ndarray
    share: np.ndarray
    readings: int
    counter_files: int


def cpu_share(files: list[CpuFile], states: list[str], counts: Counter) -> Share:
    """One CPU's busy share at each read: the busy states' increments (:func:`increments`; the
    plugin reads every state at once, so all span the same interval) over all ``states``', or
    ``active`` / 100 as given. A read where a state has no increment, or no reading, is left
    out, counted as ``collectd_cpu_readings_left_out``."""
    readings = read_files([f.path for f in files], [states.index(f.state) for f in files], counts)
    read, read_ns = read_ids(readings.time_ns, readings.series)
    gained = increments(readings, read, counts)
    n_reads = len(read_ns)
    known = np.isfinite(gained)
    value = np.where(known, gained, 0.0)
    is_busy = ~np.isin(states, list(BUSY_EXCLUDED))[readings.series]
    busy_sum = np.bincount(read, weights=np.where(is_busy, value, 0.0), minlength=n_reads)
    n_known = np.bincount(read, weights=known, minlength=n_reads)
    if states == [ACTIVE]:
        share = np.where(n_known == 1, busy_sum / 100.0, np.nan)  # a percentage of the CPU already
    else:
        n_rows = np.bincount(read, minlength=n_reads)
        total = np.bincount(read, weights=value, minlength=n_reads)
        complete = (n_known == len(states)) & (n_rows == len(states)) & (total > 0)
        share = np.where(complete, busy_sum / np.where(complete, total, 1.0), np.nan)
    valid = np.isfinite(share)
    counts["collectd_cpu_readings_left_out"] += int(np.count_nonzero(~valid))
    return Share(read_ns[valid], share[valid], len(gained), readings.counter_files)


def cpu_count(files: list[Path], counts: Counter) -> float:
    """The largest CPU count of ``cpu/count`` files (``ReportNumCpu true``), NaN without one."""
    values = read_files(files, [0] * len(files), counts).value if files else np.empty(0)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else np.nan


# --- memory ---------------------------------------------------------------------------------

class Memory(NamedTuple):
    """A host's memory in use at each memory plugin read (GB, or % of RAM), and its RAM (GB)."""

    time_ns: np.ndarray
    used: np.ndarray
    unit: str
    ram_gb: float
    readings: int


def memory(files: list[tuple[Path, str, str]], counts: Counter) -> Memory | None:
    """Memory in use from the ``memory`` plugin's ``(path, type, state)`` files: ``used`` bytes
    as GB (else ``percent-used`` as %); RAM = the largest sum of the byte states at one read.
    None without a ``used`` state."""
    kinds = {kind for _, kind, state in files if state == USED}
    if not kinds:
        return None
    kind = BYTES if BYTES in kinds else PERCENT
    chosen = [(p, state) for p, k, state in files if k == kind]
    states = sorted({state for _, state in chosen})
    readings = read_files([p for p, _ in chosen], [states.index(state) for _, state in chosen], counts)
    read, read_ns = read_ids(readings.time_ns, readings.series)
    state = np.asarray(states)[readings.series]
    is_used = state == USED
    used = np.full(len(read_ns), np.nan)
    used[read[is_used]] = readings.value[is_used]
    if kind == PERCENT:
        return Memory(read_ns, used, "pct", np.nan, int(np.count_nonzero(is_used)))
    in_ram = ~np.isin(state, list(NOT_RAM)) & np.isfinite(readings.value)
    total = np.bincount(read[in_ram], weights=readings.value[in_ram], minlength=len(read_ns))
    whole = np.bincount(read[in_ram], minlength=len(read_ns)) == len(set(states) - NOT_RAM)
    ram_gb = float(total[whole].max()) / BYTES_PER_GB if whole.any() else np.nan
    return Memory(read_ns, used / BYTES_PER_GB, "gb", ram_gb, int(np.count_nonzero(is_used)))


def nearest(cpu_ns: np.ndarray, mem_ns: np.ndarray, mem: np.ndarray) -> np.ndarray:
    """Per CPU sample (times sorted), the memory reading nearest in time within half the CPU
    samples' median spacing; NaN where there is none."""
    if cpu_ns.size < 2 or mem_ns.size == 0:
        return np.full(cpu_ns.size, np.nan)
    half_ns = float(np.median(np.diff(cpu_ns))) / 2
    after = np.searchsorted(mem_ns, cpu_ns)
    lo, hi = np.clip(after - 1, 0, len(mem_ns) - 1), np.clip(after, 0, len(mem_ns) - 1)
    pick = np.where(np.abs(mem_ns[hi] - cpu_ns) < np.abs(cpu_ns - mem_ns[lo]), hi, lo)
    return np.where(np.abs(mem_ns[pick] - cpu_ns) <= half_ns, mem[pick], np.nan)


# --- a host ---------------------------------------------------------------------------------

#: How each kind of cpu plugin file is said in the conversions.
CPU_SOURCES = {
    "jiffies": "jiffies per CPU and state (cpu-N/cpu-STATE, the default)",
    "percent-cpu": "per-CPU state percentages (cpu-N/percent-STATE, ValuesPercentage true)",
    "percent-all": "all-CPU state percentages (cpu/percent-STATE, ReportByCpu false)",
    "active": "'active' percentages (percent-active, ReportByState false): collectd's sum of every state but idle, "
              "taken as busy as it is, so I/O wait counts as busy here, unlike the per-state files",
}


class Host(NamedTuple):
    """What one host folder gives."""

    time_ns: np.ndarray
    cpu_pct: np.ndarray
    mem: np.ndarray
    mem_unit: str | None
    hardware: dict
    parts: dict[str, list[Busy]]  # CPU source -> what each group of its files gave
    mem_readings: int


class PluginFiles(NamedTuple):
    """A host folder's files that the reader takes, by plugin."""

    cpu: list[CpuFile]
    count: list[Path]  # cpu/count (ReportNumCpu true)
    memory: list[tuple[Path, str, str]]  # (path, csv type, state)
    cpu_folders: int  # cpu-N folders


def plugin_files(folder: Path, skipped: Counter) -> PluginFiles:
    """The cpu and memory plugin files of a host folder; the others counted in ``skipped`` by
    plugin (or plugin folder/type)."""
    cpu_files, count_files, mem_files = [], [], []
    cpu_folders = 0
    for plugin_folder in _subfolders(folder):
        plugin, _, instance = plugin_folder.name.partition("-")
        files = [(f, *_type_and_instance(f)) for f in _csv_files(plugin_folder)]
        if plugin == CPU_PLUGIN and (instance == "" or instance.isdigit()):
            cpu = int(instance) if instance else -1
            cpu_folders += cpu >= 0
            for f, kind, state in files:
                if kind == COUNT:
                    count_files.append(f)
                elif kind in (JIFFIES, PERCENT) and state:
                    cpu_files.append(CpuFile(f, cpu, kind, state))
                else:
                    skipped[f"{plugin_folder.name}/{kind}"] += 1
        elif plugin == MEMORY_PLUGIN and instance == "":
            for f, kind, state in files:
                if kind in (BYTES, PERCENT) and state:
                    mem_files.append((f, kind, state))
                else:
                    skipped[f"memory/{kind}"] += 1
        elif files:
            skipped[plugin if plugin != CPU_PLUGIN else plugin_folder.name] += len(files)
    return PluginFiles(cpu_files, count_files, mem_files, cpu_folders)


def host_samples(folder: Path, counts: Counter, skipped: Counter, notes: list[str]) -> Host | None:
    """One host folder's CPU busy %, memory and hardware; None (its plugins counted in
    ``skipped``) when it has no cpu plugin files."""
    host = folder.absolute().name
    found = plugin_files(folder, skipped)
    if not found.cpu:
        skipped.update({MEMORY_PLUGIN: len(found.memory)} if found.memory else {})
        return None
    groups: dict[tuple[str, bool], list[CpuFile]] = {}
    for f in found.cpu:  # each kind apart; and all-CPU files apart from per-CPU ones
        groups.setdefault((f.source, f.cpu >= 0), []).append(f)
    parts: dict[str, list[Busy]] = {}
    for (source, _), group in groups.items():
        parts.setdefault(source, []).append(busy(group, counts))
    every = [b for bs in parts.values() for b in bs]
    time_ns = np.concatenate([b.time_ns for b in every])
    order = np.argsort(time_ns, kind="stable")
    time_ns, cpu_pct = time_ns[order], np.concatenate([b.busy_pct for b in every])[order]
    mem = memory(found.memory, counts)
    if mem is None and found.memory:
        states = sorted({state for _, _, state in found.memory})
        notes.append(f"{host}: the memory plugin files have no 'used' state (states: {', '.join(states)}); memory left out")
    n_cpus = float(found.cpu_folders) if found.cpu_folders else cpu_count(found.count, counts)
    hardware = {"server_id": host, "cores": n_cpus, "threads": n_cpus, "ram_gb": np.nan if mem is None else mem.ram_gb}
    if mem is None:
        return Host(time_ns, cpu_pct, np.full(len(time_ns), np.nan), None, hardware, parts, 0)
    return Host(time_ns, cpu_pct, nearest(time_ns, mem.time_ns, mem.used), mem.unit, hardware, parts, mem.readings)


def _type_and_instance(path: Path) -> tuple[str, str]:
    match = FILE_NAME.fullmatch(path.name)
    return match["type"], match["instance"] or ""


# --- all hosts ------------------------------------------------------------------------------

def collectd_samples(path: Path) -> Samples:
    """Every host's samples; hosts without cpu plugin files are left out and named."""
    counts: Counter = Counter()
    hosts, without_cpu, notes = [], [], []
    skipped: Counter = Counter()
    for folder in host_folders(path):
        own: Counter = Counter()
        host = host_samples(folder, counts, own, notes)
        skipped.update(own)
        if host is None:
            without_cpu.append((folder.absolute().name, sorted({name.split("/")[0].split("-")[0] for name in own})))
        else:
            hosts.append(host)
    if not hosts:
        raise _no_cpu(path, without_cpu)
    notes += _notes(skipped, without_cpu)
    units = {h.mem_unit for h in hosts} - {None}
    mem_unit = "gb" if "gb" in units else units.pop() if units else None
    mixed = [h.hardware["server_id"] for h in hosts if h.mem_unit not in (None, mem_unit)]
    if mixed:
        notes.append(f"{len(mixed)} host(s) report memory only as percentages, without the byte files the others have: "
                     f"their memory is left out (taken as their whole RAM): {name_list(mixed)}")
    mems = [h.mem if h.mem_unit == mem_unit else np.full(len(h.time_ns), np.nan) for h in hosts]
    inventory = pd.DataFrame([h.hardware for h in hosts]).reindex(columns=list(FIELDS))
    inventory["model"] = ""
    return Samples(
        server_ids=[h.hardware["server_id"] for h in hosts],
        codes=np.repeat(np.arange(len(hosts), dtype=np.int32), [len(h.time_ns) for h in hosts]),
        time_ns=np.concatenate([h.time_ns for h in hosts]),
        cpu=np.concatenate([h.cpu_pct for h in hosts]).astype(np.float32),
        mem=None if mem_unit is None else np.concatenate(mems).astype(np.float32),
        mem_unit=mem_unit,
        counts={k: int(v) for k, v in counts.items()},
        derived_inventory=inventory,
        notes=notes,
        conversions=_conversions(hosts, mem_unit),
    )


def _no_cpu(path: Path, without_cpu: list[tuple[str, list[str]]]) -> InputError:
    """The error of a folder without cpu plugin files, naming the plugins it holds."""
    plugins = sorted({p for _, names in without_cpu for p in names})
    hosts = name_list([h for h, _ in without_cpu])
    load = ("; load averages (the load plugin) count runnable processes, they are not CPU utilisation"
            if "load" in plugins else "")
    return InputError(f"{path}: no collectd cpu plugin files (host(s) {hosts} hold the plugins "
                      f"{', '.join(plugins) or 'none'}){load}; enable the cpu plugin (LoadPlugin cpu) and give the "
                      "csv plugin's DataDir again")


def _notes(skipped: Counter, without_cpu: list[tuple[str, list[str]]]) -> list[str]:
    notes = []
    if skipped:
        named = ", ".join(f"{name} ({n:,})" for name, n in sorted(skipped.items()))
        notes.append(f"skipped {sum(skipped.values()):,} csv file(s) that hold neither CPU nor memory use, by plugin "
                     f"(or plugin folder/type): {named}")
    if without_cpu:
        names = [f"{host} ({', '.join(plugins) or 'no plugins'})" for host, plugins in without_cpu]
        notes.append(f"left out {len(names)} host(s) without cpu plugin files (their plugins in brackets): {name_list(names)}")
    return notes


def _conversions(hosts: list[Host], mem_unit: str | None) -> list[str]:
    """One sentence per conversion, with its counts over all hosts."""
    out = []
    for source, text in CPU_SOURCES.items():
        parts = [b for h in hosts for b in h.parts.get(source, [])]
        if not parts:
            continue
        n_hosts = sum(source in h.parts for h in hosts)
        readings, files, counter_files = (sum(getattr(b, name) for b in parts) for name in ("readings", "files", "counter_files"))
        samples = sum(len(b.time_ns) for b in parts)
        how = ""
        if source == "jiffies":
            how = (f": {counter_files:,} file(s) of cumulative counters turned into what each state gained since the "
                   "previous read, its rate over that interval (a counter's day files joined as one series; a drop is "
                   f"a reset), {files - counter_files:,} of rates (the csv plugin's StoreRates true) read as they are")
        if source != "active":
            how += ("; busy = every state but idle and wait (I/O wait is not busy, as the sar reader counts %iowait) as "
                    "a share of all states, per CPU, averaged over the CPUs")
        out.append(f"CPU: {readings:,} readings in {files:,} file(s) of {n_hosts} host(s), {text}{how}; {samples:,} busy % "
                   "samples, one per collectd read (readings less than 0.5 s apart taken as one read)")
    mem_readings = sum(h.mem_readings for h in hosts if h.mem_unit == mem_unit)
    if mem_unit == "gb":
        out.append(f"memory: {mem_readings:,} memory-used readings in bytes as GB (GiB, 1024^3 bytes) in use; collectd's "
                   "used is MemTotal - free - buffers - cached - slab, so page cache, buffers and slab are not counted; "
                   "RAM = the largest sum of the memory states at one read, into the inventory; readings matched to the "
                   "nearest CPU sample within half an interval")
    elif mem_unit == "pct":
        out.append(f"memory: {mem_readings:,} percent-used readings (ValuesPercentage true) as memory in use, % of RAM; "
                   "readings matched to the nearest CPU sample within half an interval")
    n_known = sum(1 for h in hosts if np.isfinite(h.hardware["cores"]))
    if n_known:
        out.append(f"CPU count of {n_known} host(s) = the number of cpu-N folders (or cpu/count), logical CPUs, into the "
                   "inventory as cores and threads")
    return out


FORMAT = TraceFormat("collectd", "collectd csv plugin DataDir or host folder", collectd_samples, looks=looks_collectd,
                     looks_folder=looks_collectd_folder, reads="both")
