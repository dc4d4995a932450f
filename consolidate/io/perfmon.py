"""Windows performance logs as CSV: perfmon data collector sets, ``typeperf``, ``logman``, ``relog``.

Windows' Performance Monitor and its command-line tools write the PDH-CSV 4.0 layout
(:mod:`consolidate.io.pdh`): a header of counter paths ``\\\\HOST\\Object(Instance)\\Counter``,
one row per sample in local time, the zone in the first header cell. Exports that carry what
planning needs (one file per server, or one file of several servers)::

    logman create counter capacity -c "\\Processor(*)\\% Processor Time" "\\Memory\\Committed Bytes" ^
        "\\Memory\\Available MBytes" -si 00:01:00 -f csv -o C:\\PerfLogs\\capacity -s SERVER1 SERVER2
    logman start capacity
    typeperf "\\Processor(_Total)\\% Processor Time" "\\Memory\\Committed Bytes" -si 60 -sc 10080 -f CSV -o host.csv
    relog host.blg -f csv -o host.csv

What is taken, per host (the ``\\\\HOST`` of the counter paths; the file name where a path
has none), each host one server:

- CPU busy % of all logical CPUs: ``\\Processor(_Total)\\% Processor Time``, else
  ``\\Processor Information(_Total)\\% Processor Time``, else ``...\\% Processor Utility``
  (frequency-scaled, above 100 under turbo: clipped, counted); without a ``_Total`` column,
  the mean of the per-CPU columns (stated). The per-CPU instances give the logical CPU count,
  taken as the inventory's cores and threads (the log does not say which are hyper-threads);
- memory in use: ``\\Memory\\Committed Bytes`` (the commit charge: RAM and page file in use,
  so it can exceed the RAM; stated). ``\\Memory\\Available MBytes`` alone cannot give memory
  in use, as the log does not hold the total RAM: such a host's memory is its whole RAM, warned;
- counter names of a localised Windows are read through :data:`OBJECT_NAMES` and
  :data:`COUNTER_NAMES` (German, French, Spanish, Portuguese, Italian, Russian);
- times: local wall clock converted to UTC by the header's bias (minutes west of UTC); a
  ``--timezone`` (IANA name) overrides it and is needed where the header gives no zone
  (``typeperf`` to the console writes ``(PDH-CSV 4.0)`` alone). The bias holds for the whole
  file: for a log that spans a daylight-saving change, give ``--timezone``.

A binary ``.blg`` log is refused with the ``relog`` command that turns it into CSV; a log
without a processor counter is refused naming the counters it has.

References
----------
.. [1] Microsoft, "logman create counter", "typeperf", "relog", Windows Server documentation
   (Windows Commands), 2023.
.. [2] Microsoft, "Processor Information counters" / "% Processor Utility", Windows Performance
   Counters documentation; localised names as Windows writes them (e.g. ``\\Prozessor(_Total)
   \\Prozessorzeit (%)``, ``\\Процессор(_Total)\\% загруженности процессора``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, head_bytes, shown, sniff_text
from consolidate.io.esxtop import looks_esxtop
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import name_list
from consolidate.io.pdh import (
    BYTES_PER_GB,
    NS_PER_MIN,
    CounterPath,
    FileSeries,
    PdhHeader,
    PdhRows,
    column_mean,
    hardware,
    head_names,
    line_of,
    literal,
    pdh_files,
    read_header,
    read_rows,
    samples_of,
    server_id,
    spreadsheet_sentences,
    utc_offset_text,
)
from consolidate.io.timestamps import to_utc_ns
from consolidate.models.trace import TraceSet

PROCESSOR = "Processor"
PROCESSOR_INFORMATION = "Processor Information"
MEMORY = "Memory"
PROCESSOR_TIME = "% Processor Time"
PROCESSOR_UTILITY = "% Processor Utility"
COMMITTED_BYTES = "Committed Bytes"
AVAILABLE = "Available MBytes"

#: Object names as Windows writes them in its languages (compared case-folded) -> English.
OBJECT_NAMES = {
    "processor": PROCESSOR, "prozessor": PROCESSOR, "processeur": PROCESSOR, "procesador": PROCESSOR,
    "processador": PROCESSOR, "processore": PROCESSOR, "процессор": PROCESSOR,
    "processor information": PROCESSOR_INFORMATION, "prozessorinformationen": PROCESSOR_INFORMATION,
    "informations sur le processeur": PROCESSOR_INFORMATION, "información del procesador": PROCESSOR_INFORMATION,
    "сведения о процессоре": PROCESSOR_INFORMATION,
    "memory": MEMORY, "arbeitsspeicher": MEMORY, "mémoire": MEMORY, "memoria": MEMORY, "memória": MEMORY,
    "память": MEMORY,
}

#: Counter names as Windows writes them in its languages (compared case-folded) -> English.
COUNTER_NAMES = {
    "% processor time": PROCESSOR_TIME, "prozessorzeit (%)": PROCESSOR_TIME, "% prozessorzeit": PROCESSOR_TIME,
    "% temps processeur": PROCESSOR_TIME, "% de tiempo de procesador": PROCESSOR_TIME,
    "% tempo de processador": PROCESSOR_TIME, "% tempo processore": PROCESSOR_TIME,
    "% загруженности процессора": PROCESSOR_TIME,
    "% processor utility": PROCESSOR_UTILITY, "prozessorauslastung": PROCESSOR_UTILITY,
    "prozessorauslastung (%)": PROCESSOR_UTILITY,
    "committed bytes": COMMITTED_BYTES, "zugesicherte bytes": COMMITTED_BYTES, "octets validés": COMMITTED_BYTES,
    "bytes confirmados": COMMITTED_BYTES,
    "available mbytes": AVAILABLE, "available kbytes": AVAILABLE, "available bytes": AVAILABLE,
    "verfügbare mb": AVAILABLE, "mégaoctets disponibles": AVAILABLE, "mbytes disponibles": AVAILABLE,
    "mb disponibles": AVAILABLE, "mbytes disponíveis": AVAILABLE, "mbyte disponibili": AVAILABLE,
    "доступно мб": AVAILABLE,
}

#: The CPU counters, in the order they are preferred.
CPU_COUNTERS = ((PROCESSOR, PROCESSOR_TIME), (PROCESSOR_INFORMATION, PROCESSOR_TIME),
                (PROCESSOR_INFORMATION, PROCESSOR_UTILITY))

TOTAL = "_total"

TIMEZONE_HINT = "pass --timezone with the zone the log was written in (an IANA name, e.g. Asia/Kolkata or Europe/Berlin)"


def read_perfmon(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    timezone: str | None = None,
) -> TraceSet:
    """Read a perfmon / typeperf / relog CSV (or a folder of them, one per server).

    Parameters
    ----------
    path : a PDH-CSV file, or a folder of them.
    inventory : inventory CSV path or DataFrame; overrides the CPU count read from the log and
        gives the RAM and clock, which a performance log does not hold.
    interval_s : grid spacing in seconds (default: the sample interval detected).
    timezone : IANA zone of the log's local times; overrides the header's bias and is needed
        where the header gives none.
    """
    p = existing(path)
    return assemble(perfmon_samples(p, timezone=timezone), fmt="perfmon", path=p, inventory=inventory, interval_s=interval_s)


def looks_perfmon(path: Path, head: bytes) -> bool:
    """A ``.blg`` binary log, or a PDH-CSV header that is not an esxtop one."""
    if path.suffix.lower() == ".blg":
        return True
    return head_names(head) is not None and not looks_esxtop(path, head)


def perfmon_samples(path: Path, *, timezone: str | None = None) -> Samples:
    files, notes = pdh_files(path, looks_perfmon)
    return samples_of([_file(f, timezone) for f in files], notes)


def _known(path: CounterPath) -> bool:
    return path.object.casefold() in OBJECT_NAMES or path.counter.casefold() in COUNTER_NAMES


def _refuse_binary(path: Path) -> None:
    if sniff_text(head_bytes(path)) is None:
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        raise InputError(f"{path}: binary content, not a CSV; a perfmon binary log (.blg) is turned into CSV on Windows "
                         f"with relog \"{path.name}\" -f csv -o \"{stem}.csv\"; give that CSV")


def _file(path: Path, timezone: str | None) -> FileSeries:
    _refuse_binary(path)
    header = read_header(path, _known)
    by_host, localised = _counters(header)
    chosen = {host: _cpu_columns(table) for host, table in by_host.items()}
    hosts = [h for h, c in chosen.items() if c is not None]
    if not hosts:
        raise InputError(
            f"{path}: has no processor counter (\\Processor(_Total)\\% Processor Time or \\Processor Information(...)); "
            f"it has {header.found()}; add \\Processor(*)\\% Processor Time and \\Memory\\Committed Bytes to the data "
            "collector (logman create counter NAME -c ...) and export again"
        )
    memory = {h: by_host[h].get((MEMORY, COMMITTED_BYTES), [(None, None)])[0][0] for h in hosts}
    needed = sorted({c for h in hosts for c in chosen[h][0]} | {c for c in memory.values() if c is not None})
    rows = read_rows(header, needed)
    counts, conversions, notes = dict(rows.counts), Counter(), list(rows.notes)
    time_ns = _utc(rows, header, timezone, counts, conversions, notes)
    position = {c: k for k, c in enumerate(needed)}
    cpu = np.empty((len(time_ns), len(hosts)), dtype=np.float32)
    mem = np.full(cpu.shape, np.nan, dtype=np.float32)
    for k, host in enumerate(hosts):
        columns, label, averaged = chosen[host]
        values = rows.values[:, [position[c] for c in columns]]
        cpu[:, k] = column_mean(values) if averaged else values[:, 0]
        how = "mean of the per-CPU columns of" if averaged else "read as is from"
        conversions[f"CPU busy % = {how} {literal(label)}" + (" (no _Total column)" if averaged else "")
                    + (" (frequency-scaled, above 100 under turbo: clipped)" if label.endswith(PROCESSOR_UTILITY) else "")
                    + ": {n:,} samples"] += len(time_ns)
        if memory[host] is not None:
            mem[:, k] = rows.values[:, position[memory[host]]] / BYTES_PER_GB
            conversions["memory in use = \\Memory\\Committed Bytes / 1024^3 (GB; the commit charge, RAM and page file "
                        "in use, so at most an upper bound of RAM in use): {n:,} samples"] += len(time_ns)
        elif (MEMORY, AVAILABLE) in by_host[host]:
            notes.append(f"{server_id(host, path)}: the log has \\Memory\\Available MBytes but not \\Memory\\Committed "
                         "Bytes, and memory in use needs the total RAM, which a performance log does not hold: its memory "
                         "is taken as its whole RAM; add Committed Bytes to the collector")
    if localised:
        conversions[f"localised counter names read as their English names (e.g. {literal(localised[0])}): "
                    "{n:,} column(s)"] += len(localised)
    left_out = [server_id(h, path) for h, c in chosen.items() if c is None]
    if left_out:
        notes.append(f"{path.name}: left out {len(left_out)} host(s) without a processor counter: {name_list(left_out)}")
    spreadsheet_sentences(counts, conversions)
    return FileSeries([server_id(h, path) for h in hosts], time_ns, cpu, mem,
                      [_hardware(server_id(h, path), by_host[h], conversions) for h in hosts], counts, notes, conversions)


def _hardware(sid: str, table: dict, conversions: Counter) -> dict:
    """The logical CPUs the per-CPU columns show, as cores and threads; the log gives nothing else."""
    logical = _logical_cpus(table)
    if logical:
        conversions["logical CPUs counted from the per-CPU instance columns, taken as cores and threads (a log does "
                    "not say which are hyper-threads): {n:,} server(s)"] += 1
    return hardware(sid, cores=logical or np.nan, threads=logical or np.nan)


def _counters(header: PdhHeader) -> tuple[dict, list[str]]:
    """Per host, (English object, English counter) -> [(column, instance)], for the counters
    this reader knows; and the localised ones met, as ``object\\counter = English`` texts."""
    by_host: dict[str | None, dict[tuple[str, str], list[tuple[int, str | None]]]] = {}
    localised: list[str] = []
    for column, p in enumerate(header.paths):
        if p is None:
            continue
        obj, counter = OBJECT_NAMES.get(p.object.casefold()), COUNTER_NAMES.get(p.counter.casefold())
        if obj is None or counter is None:
            continue
        by_host.setdefault(p.host, {}).setdefault((obj, counter), []).append((column, p.instance))
        if (p.object.casefold(), p.counter.casefold()) != (obj.casefold(), counter.casefold()):
            localised.append(f"{p.object}\\{p.counter} = {obj}\\{counter}")
    for p in header.paths:
        if p is not None and p.host not in by_host:
            by_host[p.host] = {}
    return by_host, localised


def _cpu_columns(table: dict) -> tuple[list[int], str, bool] | None:
    """The columns of the preferred CPU counter, its path as shown, and whether they are
    per-CPU columns to average (no ``_Total``)."""
    for obj, counter in CPU_COUNTERS:
        columns = table.get((obj, counter), [])
        total = [c for c, instance in columns if instance is not None and instance.casefold() == TOTAL]
        if total:
            return total[:1], f"\\{obj}(_Total)\\{counter}", False
        per_cpu = [c for c, instance in columns if instance is not None and TOTAL not in instance.casefold()]
        if per_cpu:
            return per_cpu, f"\\{obj}(N)\\{counter}", True
    return None


def _logical_cpus(table: dict) -> int:
    """The per-CPU instances of the processor objects (0 when the log has only ``_Total``)."""
    for obj in (PROCESSOR, PROCESSOR_INFORMATION):
        instances = {instance for (o, _), columns in table.items() if o == obj for _, instance in columns
                     if instance is not None and TOTAL not in instance.casefold()}
        if instances:
            return len(instances)
    return 0


def _utc(rows: PdhRows, header: PdhHeader, timezone: str | None, counts: dict[str, int], conversions: Counter,
         notes: list[str]) -> np.ndarray:
    """The rows' local times as UTC ns: by ``--timezone`` if given, else by the header's bias."""
    where = f"{header.path}, column {shown(header.names[0])}"

    def locate(i: int) -> str:
        return line_of(header, rows.time_text[i])

    bias = header.bias_min
    if timezone is not None:
        ns = to_utc_ns(pa.array(rows.local_ns, type=pa.timestamp("ns")), timezone=timezone, where=where, locate=locate,
                       counts=counts)
        conversions[f"local times to UTC in --timezone {literal(timezone)}: {{n:,}} timestamps"] += len(ns)
        east_min = int(pd.Timestamp(int(ns[0]), tz="UTC").tz_convert(timezone).utcoffset().total_seconds() // 60)
        if bias is not None and east_min != -bias:
            notes.append(f"{header.path.name}: --timezone {timezone} ({utc_offset_text(-east_min)} at the first sample) "
                         f"overrides the header's zone, {header.zone} ({utc_offset_text(bias)})")
        return ns
    if bias is None:
        raise InputError(
            f"{header.path}: the first column's name {shown(header.names[0])} does not give the zone of the local times "
            f"(a whole one reads '(PDH-CSV 4.0) (India Standard Time)(-330)'); {TIMEZONE_HINT}"
        )
    ns = to_utc_ns(pa.array(rows.local_ns + bias * NS_PER_MIN, type=pa.timestamp("ns")), timezone=None, where=where,
                   locate=locate, counts=counts)
    zone = literal(header.zone or "unnamed")
    if bias:
        conversions[f"local times to UTC by the header's zone, {zone}, {bias} min west of UTC "
                    f"({utc_offset_text(bias)}): {{n:,}} timestamps"] += len(ns)
    else:
        conversions[f"times read as UTC (the header's zone, {zone}, has bias 0): {{n:,}} timestamps"] += len(ns)
    return ns


FORMAT = TraceFormat("perfmon", "Windows perfmon / typeperf / relog PDH-CSV", perfmon_samples, looks=looks_perfmon,
                     reads="both", takes=("timezone",))
