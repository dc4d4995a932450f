"""Prometheus HTTP API range-query responses: ``/api/v1/query_range`` JSON, one file or a folder.

Prometheus [1]_ (and the servers speaking its API: Thanos, Cortex, Mimir, VictoriaMetrics)
answers a range query with ``{"status": "success", "data": {"resultType": "matrix", "result":
[{"metric": {labels}, "values": [[unix_seconds, "value"], ...]}, ...]}}`` [2]_. Export CPU and
memory of every host scraped by node_exporter [3]_ in one file with::

    curl -G http://PROMETHEUS:9090/api/v1/query_range \\
      --data-urlencode 'query={__name__=~"node_cpu_seconds_total|node_memory_MemTotal_bytes|node_memory_MemAvailable_bytes"}' \\
      -d start=2024-05-01T00:00:00Z -d end=2024-05-08T00:00:00Z -d step=60 -o node.json

Prometheus returns at most 11,000 points per series (a week at ``step=60``): export a longer
span as several files into one folder, which is read as one source.

What is taken, and how
----------------------
- The whole response, its ``data`` object (``jq .data``) or its ``result`` list
  (``jq .data.result``). A ``status: error`` response is refused showing its error; an instant
  query (``resultType`` vector, scalar or string) and a ``/metrics`` scrape (text exposition
  format: one instant) are refused with the command above. Response ``warnings`` are kept.
- One series per label set. Host = the ``instance`` label without its port (``web01:9100`` ->
  ``web01``, ``[::1]:9100`` -> ``::1``), or the label that ``--columns server_id=LABEL`` names,
  as it is (``instance`` still loses its port). Two series of one measure and host in one file
  are refused naming the labels that tell them apart (aggregate them in the query).
- Values are strings; ``"NaN"``, ``"+Inf"`` and ``"-Inf"`` are missing samples, counted
  (``prometheus_nonfinite_values``). Every series keeps its own timestamps (scrape offsets differ
  per target; a missed scrape is a missing point, filled later by the grid and counted there).
- CPU counters (:data:`CPU_COUNTERS`: ``node_cpu_seconds_total``, windows_exporter's
  ``windows_cpu_time_total``): per CPU and sample, busy % = 100 - 100 x (increase of the idle
  modes' seconds) / (seconds elapsed since the CPU's previous sample), as Prometheus' own
  ``100 - rate(...{mode="idle"})*100`` computes it; the idle modes are ``idle`` and ``iowait``
  (time waiting for I/O is idle CPU, as the sar reader counts it; windows has no iowait); steal
  counts as busy. The host's busy % is the mean over its CPUs. A counter that decreases
  restarted from 0 (Prometheus' rule for ``rate``), counted (``prometheus_counter_resets``). A
  step where no counter of a CPU moved repeats the previous scrape (a query step shorter than
  the scrape interval) and is left out, counted (``prometheus_repeated_steps``), so that it is
  not read as 100 % busy; for that test each CPU needs the counters of every mode (``idle``,
  ``user`` and ``system`` at least; a query filtered to ``mode="idle"`` is refused). The host's
  CPU count (cores = threads: the response cannot tell hyper-threads apart) is the number of
  distinct ``cpu`` (``core``) labels.
- A CPU busy % computed by the query, such as
  ``100 - avg by(instance)(rate(node_cpu_seconds_total{mode="idle"}[5m]))*100``, has no
  ``__name__``, and the response does not carry the query: such a series is read only from a
  file whose name says what it holds (:data:`FILE_MARKERS`: ``cpu_busy_pct``, a % of all the
  host's CPUs; ``mem_used_bytes``, memory in use in bytes), else refused saying so. Values of
  a ``cpu_busy_pct`` file outside :data:`PCT_SANE` are refused (a sum over the CPUs reaches
  100 x their count). The node-mixin recording rule ``instance:node_cpu_utilisation:rate5m`` (a 0-1
  ratio, steal counted as idle) is read x 100.
- Memory in use = total - available (:data:`MEMORY_TOTAL`, :data:`MEMORY_AVAILABLE`: node_exporter's
  ``MemTotal``/``MemAvailable``, windows_exporter's physical memory gauges), bytes to GB (GiB,
  1024**3); the largest total is the host's RAM in the inventory. Memory is put onto the CPU
  samples' timestamps (the nearest memory sample within the longer of the two sampling
  intervals), so that each sample has both; a host with memory but no CPU series is left out,
  named.
- Other series of the node and windows CPU and memory families (:data:`SKIPPED_FAMILIES`, e.g.
  ``node_memory_MemFree_bytes``) are skipped, counted and named; a series of any other metric
  (``up``, ``node_load1``) is refused naming it.

References
----------
.. [1] Prometheus, https://prometheus.io/ (version 2.42, Debian 12, for the fixtures).
.. [2] Prometheus, "HTTP API: range queries", https://prometheus.io/docs/prometheus/latest/querying/api/
.. [3] Prometheus node_exporter (collector/cpu_linux.go, collector/meminfo.go) and
   prometheus-community windows_exporter (cpu, cs, os and memory collectors).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    HEAD_BYTES,
    encoding_note,
    existing,
    file_text,
    head_bytes,
    shown,
    sniff_text,
    trace_files,
)
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import FIELDS, name_list
from consolidate.io.timestamps import to_utc_ns
from consolidate.models.trace import TraceSet

NAME_LABEL = "__name__"
HOST_LABEL = "instance"

#: The command that exports what the reader needs, quoted where a file cannot be read.
RANGE_QUERY = (
    "curl -G http://PROMETHEUS:9090/api/v1/query_range --data-urlencode "
    "'query={__name__=~\"node_cpu_seconds_total|node_memory_MemTotal_bytes|node_memory_MemAvailable_bytes\"}' "
    "-d start=2024-05-01T00:00:00Z -d end=2024-05-08T00:00:00Z -d step=60 -o node.json"
)


@dataclass(frozen=True)
class CpuCounter:
    """A cumulative CPU-seconds counter: the label naming the CPU, the modes that are idle
    time, and the modes without which the busy share cannot be told."""

    cpu_label: str
    idle_modes: tuple[str, ...]
    needed_modes: tuple[str, ...]


_NODE_CPU = CpuCounter("cpu", ("idle", "iowait"), ("idle", "user", "system"))
_WINDOWS_CPU = CpuCounter("core", ("idle",), ("idle", "user", "privileged"))

#: Raw CPU counters (seconds per CPU and mode) by metric name.
CPU_COUNTERS = {
    "node_cpu_seconds_total": _NODE_CPU,
    "node_cpu": _NODE_CPU,  # node_exporter before 0.16
    "windows_cpu_time_total": _WINDOWS_CPU,
    "wmi_cpu_time_total": _WINDOWS_CPU,  # wmi_exporter, windows_exporter's former name
}

#: Recording rules of CPU busy as a 0-1 ratio (the node-mixin's), read x 100.
CPU_RATIO_RULE = re.compile(r"instance:node_cpu_utilisation:rate\w+")

#: Memory gauges in bytes; where a host has several, the first listed is used.
MEMORY_TOTAL = ("node_memory_MemTotal_bytes", "node_memory_MemTotal", "windows_cs_physical_memory_bytes",
                "windows_memory_physical_total_bytes", "wmi_cs_physical_memory_bytes")
MEMORY_AVAILABLE = ("node_memory_MemAvailable_bytes", "node_memory_MemAvailable", "windows_memory_available_bytes",
                    "windows_os_physical_memory_free_bytes", "windows_memory_physical_free_bytes",
                    "wmi_os_physical_memory_free_bytes")

#: What a series without ``__name__`` holds, told by a word in its file's name.
FILE_MARKERS = {"cpu_busy_pct": "cpu_pct", "mem_used_bytes": "mem_used"}

#: A ``cpu_busy_pct`` series must stay in this range (rate jitter may pass 0 and 100 a little,
#: clipped and counted later); beyond it the values are not a percentage of all CPUs.
PCT_SANE = (-10.0, 110.0)

#: Metric families of which the series the reader does not use are skipped, not refused.
SKIPPED_FAMILIES = ("node_cpu_", "node_memory_", "windows_cpu_", "windows_memory_", "windows_os_", "windows_cs_",
                    "wmi_cpu_", "wmi_memory_", "wmi_os_", "wmi_cs_")

BYTES_PER_GB = 1024**3

#: ``host:port`` and ``[v6]:port`` instance values.
PORT = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):\d+")

_API_KEYS = re.compile(r'"(?:resultType|errorType)"\s*:|"status"\s*:\s*"(?:success|error)"')
_SERIES_KEYS = (re.compile(r'"metric"\s*:\s*\{'), re.compile(r'"values?"\s*:\s*\['))
_EXPOSITION = re.compile(r"^# (?:HELP|TYPE) [A-Za-z_:][A-Za-z0-9_:]* ", re.MULTILINE)


def read_prometheus(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    columns: dict[str, str] | None = None,
) -> TraceSet:
    """Read Prometheus ``/api/v1/query_range`` responses (a JSON file or a folder of them).

    Parameters
    ----------
    path : a response file (plain or .gz) or a folder of them (e.g. a CPU and a memory query).
    inventory : inventory CSV path or DataFrame; overrides the CPU count and RAM read from the
        responses, per server and field.
    interval_s : grid spacing in seconds (default: detected, the query's ``step``).
    columns : ``{"server_id": LABEL}``: the label that names the host (default ``instance``).
    """
    p = existing(path)
    return assemble(prometheus_samples(p, columns=columns), fmt="prometheus", path=p, inventory=inventory,
                    interval_s=interval_s)


def looks_prometheus(path: Path, head: bytes) -> bool:
    """A JSON API response (its keys), or a ``/metrics`` scrape (``# HELP``/``# TYPE`` lines,
    claimed so that it is refused saying what to export)."""
    text = (sniff_text(head) or "").lstrip()
    if text[:1] in ("{", "["):
        if _API_KEYS.search(text):
            return True
        return text[:1] == "[" and all(key.search(text) for key in _SERIES_KEYS)
    return _EXPOSITION.search(text) is not None


class Series(NamedTuple):
    """One series of a response: its labels, UTC ns times and float64 values (NaN: missing)."""

    labels: dict[str, str]
    time_ns: np.ndarray
    values: np.ndarray
    where: str


class _Rows:
    """Series of one kind gathered over every file: a table of their labels (one row per
    series, a "part") and their points."""

    def __init__(self, **labels: str) -> None:
        self.meta: list[dict] = []
        self.parts: list[Series] = []
        self.dtypes = labels

    def add(self, series: Series, **labels) -> None:
        self.meta.append(labels)
        self.parts.append(series)

    def table(self) -> pd.DataFrame:
        """One row per series: its labels as gathered."""
        return pd.DataFrame(self.meta, columns=list(self.dtypes)).astype(self.dtypes)

    def points(self) -> pd.DataFrame:
        """Every point: the index of its series (``part``), UTC ns and value."""
        sizes = [len(s.time_ns) for s in self.parts]
        return pd.DataFrame({
            "part": np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
            "time_ns": np.concatenate([s.time_ns for s in self.parts]) if sizes else np.empty(0, dtype=np.int64),
            "value": np.concatenate([s.values for s in self.parts]) if sizes else np.empty(0),
        })

    def frame(self) -> pd.DataFrame:
        """The points with their series' labels (texts as categories: one code per point)."""
        points = self.points()
        table = self.table()
        part = points["part"].to_numpy()
        labels = {name: pd.Categorical(table[name]).take(part) if dtype == "str" else table[name].to_numpy()[part]
                  for name, dtype in self.dtypes.items()}
        return pd.DataFrame({**labels, **points})


@dataclass
class _Found:
    """What the files hold, sorted by kind."""

    counters: _Rows = field(default_factory=lambda: _Rows(name="str", host="str", cpu="str", mode="str", idle=bool))
    cpu: _Rows = field(default_factory=lambda: _Rows(host="str", source="str"))
    memory: _Rows = field(default_factory=lambda: _Rows(host="str", name="str", role="str", rank=np.int64))
    skipped: Counter = field(default_factory=Counter)
    nonfinite: int = 0
    ports_dropped: int = 0
    example_port: str = ""
    notes: list[str] = field(default_factory=list)


def prometheus_samples(path: Path, columns: dict[str, str] | None = None) -> Samples:
    """Every file's series, sorted by kind, turned into CPU busy % with memory at the same times."""
    host_label = _host_label(columns)
    files = trace_files(path) if path.is_dir() else [path]
    found = _Found()
    scrapes = [f for f in files if len(files) > 1 and _is_scrape(f)]
    if scrapes:
        found.notes.append(f"skipped {len(scrapes)} /metrics scrape file(s), one instant each, not a time series: "
                           f"{name_list([f.name for f in scrapes])}")
    for f in (f for f in files if f not in scrapes):
        for_file: dict[tuple, Series] = {}
        for series in _read_response(f, found.notes):
            _sort(f, series, host_label, found, for_file)
        _check_modes(f, for_file)
    counts = {"prometheus_nonfinite_values": found.nonfinite}
    conversions: list[str] = []
    if found.nonfinite:
        conversions.append(f'values "NaN", "+Inf" and "-Inf" read as missing samples: {found.nonfinite:,}')
    if found.ports_dropped:
        conversions.append(f"host = the {HOST_LABEL} label without its port (e.g. {found.example_port}): "
                           f"{found.ports_dropped:,} series")
    cpu = _computed_cpu(found.cpu.frame(), conversions)
    counters = found.counters.table()
    cpus_per_host = counters[counters["cpu"] != ""].groupby("host")["cpu"].nunique()
    if len(counters):
        busy = _counter_busy(found.counters.points(), counters, counts, found.notes, conversions)
        cpu = pd.concat([cpu, busy], ignore_index=True) if len(cpu) else busy
    memory, ram_gb = _memory(found.memory.frame(), found.notes, conversions)
    counts["prometheus_series_skipped"] = sum(found.skipped.values())
    if found.skipped:
        found.notes.append(f"skipped {sum(found.skipped.values())} series of metrics the reader does not use: "
                           f"{name_list(sorted(found.skipped))}")
    if cpu.empty:
        raise _no_cpu(path, found)
    memory = _memory_without_cpu(memory, cpu, found.notes)
    return _samples(cpu, memory, cpus_per_host, ram_gb, counts, found.notes, conversions)


def _host_label(columns: dict[str, str] | None) -> str:
    """The label naming the host: ``instance``, or the one ``--columns server_id=LABEL`` gives."""
    for key in columns or {}:
        if key != "server_id":
            raise InputError(
                f"--columns {key}=...: the prometheus format takes only server_id=LABEL (the label that names the host, "
                f"default {HOST_LABEL}); what a series measures comes from its metric name; leave {key} out"
            )
    return (columns or {}).get("server_id", HOST_LABEL).strip()


def _read_response(path: Path, notes: list[str]) -> list[Series]:
    """The series of one response file, values and times as arrays."""
    text, encoding = file_text(path)
    note = encoding_note(path, encoding)
    if note:
        notes.append(note)
    if text.lstrip()[:1] not in ("{", "["):
        if _EXPOSITION.search(text[:HEAD_BYTES]):
            raise InputError(f"{path}: a /metrics scrape (Prometheus text exposition format) is one instant, not a time "
                             f"series; export a range query from the Prometheus server: {RANGE_QUERY}")
        raise InputError(f"{path}: not a Prometheus API response (JSON); export one with: {RANGE_QUERY}")
    try:
        doc = json.loads(text, object_hook=_values_hook(path))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}); the response "
                         "may be cut short: export it again") from None
    entries = _result(path, doc, notes)
    return _utc(path, [_entry(path, k, entry) for k, entry in enumerate(entries)])


def _is_scrape(path: Path) -> bool:
    """A ``/metrics`` text scrape, not an API response (in a folder, skipped)."""
    text = (sniff_text(head_bytes(path)) or "").lstrip()
    return text[:1] not in ("{", "[") and _EXPOSITION.search(text) is not None


def _values_hook(path: Path):
    """A json object hook that turns each series' ``values`` into two arrays as soon as it is
    parsed, so a large response never holds all its points as Python objects at once."""

    def hook(obj: dict) -> dict:
        values = obj.get("values")
        if isinstance(values, list) and isinstance(obj.get("metric"), dict):
            obj["values"] = _pairs(path, obj["metric"], values)
        return obj

    return hook


def _pairs(path: Path, labels: dict, values: list) -> tuple[np.ndarray, np.ndarray]:
    """``[[unix_s, "value"], ...]`` as float64 seconds and float64 values (NaN, +-inf kept)."""
    try:
        if set(map(len, values)) - {2}:
            raise TypeError
        seconds = np.fromiter(map(float, map(itemgetter(0), values)), dtype=np.float64, count=len(values))
        numbers = np.fromiter(map(float, map(itemgetter(1), values)), dtype=np.float64, count=len(values))
    except (TypeError, ValueError, KeyError):
        bad = next((i for i, p in enumerate(values) if not _is_pair(p)), 0)
        raise InputError(f"{path}: series {shown(_labels_text(labels))}, point {bad + 1}: {shown(values[bad])} is not "
                         '[unix_seconds, "value"]; export the response again') from None
    return seconds, numbers


def _is_pair(pair) -> bool:
    """``[number, "number"]``, as the pairs are read above."""
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (int, float)) and not isinstance(pair[0], bool)):
        return False
    try:
        float(str(pair[1]))
    except ValueError:
        return False
    return True


def _result(path: Path, doc, notes: list[str]) -> list:
    """The ``result`` list of a response, envelope or not; InputError for what is not a range result."""
    if isinstance(doc, list):
        return _nonempty(path, doc)
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a Prometheus API response (JSON {type(doc).__name__}); export one with: {RANGE_QUERY}")
    if doc.get("status") == "error":
        kind = doc.get("errorType", "error")
        raise InputError(f"{path}: the response is a Prometheus error ({kind}: {shown(str(doc.get('error', '')))}); "
                         "fix the query and export it again")
    warned = doc.get("warnings") or []
    notes += [f"{path.name}: Prometheus warned: {shown(str(w))}" for w in ([warned] if isinstance(warned, str) else warned)]
    data = doc.get("data", doc)
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise InputError(f"{path}: not a Prometheus API response (no data.result list); export one with: {RANGE_QUERY}")
    kind = data.get("resultType", "matrix")
    if kind != "matrix":
        raise InputError(f"{path}: the response is an instant query (resultType {shown(kind)}: one value per series at one "
                         f"time), not a time series; export a range query with /api/v1/query_range: {RANGE_QUERY}")
    return _nonempty(path, data["result"])


def _nonempty(path: Path, result: list) -> list:
    if not result:
        raise InputError(f"{path}: the query matched no series (an empty result); check the metric names, the labels "
                         f"and the start/end times of the query: {RANGE_QUERY}")
    return result


def _entry(path: Path, k: int, entry) -> tuple[dict, np.ndarray, np.ndarray, str]:
    """One result entry as labels, float seconds, values and the words locating it."""
    labels = entry.get("metric") if isinstance(entry, dict) else None
    if not isinstance(labels, dict):
        raise InputError(f"{path}: result entry {k + 1} has no metric labels ({shown(entry)}); export the response again")
    where = f"{path}, series {k + 1} {shown(_labels_text(labels))}"
    values = entry.get("values")
    if not isinstance(values, tuple):
        if "value" in entry:
            raise InputError(f"{where}: holds one value (an instant query), not a time series; export a range query "
                             f"with /api/v1/query_range: {RANGE_QUERY}")
        if "histograms" in entry:
            raise InputError(f"{where}: a native histogram series, which holds no CPU or memory value; leave it out of the query")
        raise InputError(f"{where}: has no values list; export the response again")
    return {str(k): str(v) for k, v in labels.items()}, values[0], values[1], where


def _utc(path: Path, entries: list[tuple]) -> list[Series]:
    """Times of every series of a file to UTC ns in one call (range-checked, naming the point)."""
    seconds = np.concatenate([e[1] for e in entries])
    ends = np.cumsum([len(e[1]) for e in entries])

    def locate(i: int) -> str:
        k = int(np.searchsorted(ends, i, side="right"))
        return f"series {k + 1} {shown(_labels_text(entries[k][0]))}, point {i - (ends[k] - len(entries[k][1])) + 1}"

    time_ns = to_utc_ns(pa.array(seconds, type=pa.float64()), timezone=None, where=str(path), locate=locate, counts={})
    return [Series(e[0], t, e[2], e[3]) for e, t in zip(entries, np.split(time_ns, ends[:-1]))]


def _labels_text(labels: dict) -> str:
    """``name{a="1",b="2"}`` as PromQL writes a series."""
    name = labels.get(NAME_LABEL, "")
    rest = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != NAME_LABEL)
    return f"{name}{{{rest}}}"


def _sort(path: Path, series: Series, host_label: str, found: _Found, for_file: dict[tuple, Series]) -> None:
    """File one series under its kind (counter, CPU %, memory), or skip it, or refuse it."""
    name = series.labels.get(NAME_LABEL)
    if name is None:
        kind = _marked(path, series)
    elif name in CPU_COUNTERS:
        kind = "counter"
    elif CPU_RATIO_RULE.fullmatch(name):
        kind = "cpu_ratio"
    elif name in MEMORY_TOTAL or name in MEMORY_AVAILABLE:
        kind = "memory"
    elif name.startswith(SKIPPED_FAMILIES):
        found.skipped[name] += 1
        return
    else:
        raise InputError(
            f"{series.where}: {name} is not a CPU or memory metric the reader takes; it reads "
            f"{', '.join(CPU_COUNTERS)} (CPU), {MEMORY_TOTAL[0]} and {MEMORY_AVAILABLE[0]} (memory, or their windows_exporter "
            f"counterparts), or a computed CPU busy % in a file named ...cpu_busy_pct.json; leave {name} out of the query"
        )
    host = _host(series, host_label, found)
    found.nonfinite += int(np.count_nonzero(~np.isfinite(series.values)))
    if kind == "counter":
        spec = CPU_COUNTERS[name]
        mode = series.labels.get("mode")
        if mode is None:
            raise InputError(f"{series.where}: a {name} series without a mode label; export the counters of every mode "
                             f"(query {name} without aggregating it)")
        cpu = series.labels.get(spec.cpu_label, "")
        _once(for_file, (name, host, cpu, mode), series, f"{name} of CPU {cpu!r} mode {mode!r}", host)
        found.counters.add(series, name=name, host=host, cpu=cpu, mode=mode, idle=mode in spec.idle_modes)
    elif kind in ("cpu_pct", "cpu_ratio"):
        _once(for_file, ("cpu", host), series, "CPU busy %", host)
        scaled = series if kind == "cpu_pct" else series._replace(values=series.values * 100.0)
        found.cpu.add(scaled, host=host, source=name or f"{path.name} (cpu_busy_pct)")
    else:
        role, rank = _memory_role(name)
        _once(for_file, ("memory", name, host), series, name or "memory in use", host)
        found.memory.add(series, host=host, name=name or f"{path.name} (mem_used_bytes)", role=role, rank=rank)


def _memory_role(name: str | None) -> tuple[str, int]:
    """(``total``/``available``/``used``, rank among the gauges of that role; lower is used first)."""
    if name is None:
        return "used", 0
    if name in MEMORY_TOTAL:
        return "total", MEMORY_TOTAL.index(name)
    return "available", MEMORY_AVAILABLE.index(name)


def _marked(path: Path, series: Series) -> str:
    """What a series without ``__name__`` holds, as its file's name says (:data:`FILE_MARKERS`)."""
    stem = re.sub(r"[^a-z0-9]+", "_", path.name.lower())
    for marker, kind in FILE_MARKERS.items():
        if re.search(rf"(?:^|_){marker}(?:_|$)", stem):
            if kind == "cpu_pct":
                _check_pct(path, series)
                return kind
            return "memory"
    hint = ("; its cpu and mode labels suggest rate() of the raw counters: query node_cpu_seconds_total itself, "
            "which the reader turns into busy %" if {"cpu", "mode"} <= series.labels.keys() else "")
    raise InputError(
        f"{series.where}: a series without __name__ (the result of an expression) and the response does not say what "
        f"was computed; if it is CPU busy % of all the host's CPUs (0-100), put cpu_busy_pct in the file's name "
        f"(e.g. web-cpu_busy_pct.json); for memory in use in bytes, mem_used_bytes; or query the raw metrics: "
        f"{RANGE_QUERY}{hint}"
    )


def _check_pct(path: Path, series: Series) -> None:
    """InputError where a ``cpu_busy_pct`` series cannot be a percentage of all CPUs."""
    known = series.values[np.isfinite(series.values)]
    low, high = PCT_SANE
    if known.size and (known.min() < low or known.max() > high):
        raise InputError(
            f"{series.where}: values from {known.min():g} to {known.max():g} are not a busy % of all the host's CPUs "
            f"(0-100) as the name cpu_busy_pct says; average over the CPUs in the query "
            "(100 - avg by(instance)(rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))*100) or rename the file"
        )


def _host(series: Series, host_label: str, found: _Found) -> str:
    """The server id of a series: its host label's value, without the port for ``instance``."""
    value = series.labels.get(host_label, "").strip()
    if not value:
        has = ", ".join(sorted(k for k in series.labels if k != NAME_LABEL)) or "none"
        raise InputError(f"{series.where}: no {host_label!r} label to name the host (labels: {has}); keep {host_label} "
                         f"in the query (e.g. avg by({host_label})) or give --columns server_id=LABEL")
    if host_label != HOST_LABEL:
        return value
    match = PORT.fullmatch(value)
    if match is None:
        return value
    host = match["v6"] or match["host"]
    found.ports_dropped += 1
    found.example_port = found.example_port or f"{value} -> {host}"
    return host


def _once(for_file: dict[tuple, Series], key: tuple, series: Series, what: str, host: str) -> None:
    """InputError when one file has two series of one measure for one host."""
    other = for_file.setdefault(key, series)
    if other is series:
        return
    differ = sorted(k for k in set(other.labels) | set(series.labels) if other.labels.get(k) != series.labels.get(k))
    raise InputError(
        f"{series.where}: a second series of {what} for host {host!r}, told apart only by label(s) {', '.join(differ)} "
        f"(the other: {shown(_labels_text(other.labels))}); aggregate them in the query (e.g. avg by(instance)), filter one "
        "out, or name the hosts by a label that tells them apart (--columns server_id=LABEL)"
    )


def _computed_cpu(rows: pd.DataFrame, conversions: list[str]) -> pd.DataFrame:
    """CPU busy % series read as they are (a ratio rule already x 100)."""
    for source, n in rows.groupby("source", observed=True).size().items():
        if CPU_RATIO_RULE.fullmatch(source):
            conversions.append(f"{source} (CPU busy as a 0-1 ratio) x 100 to %: {n:,} samples")
        else:
            conversions.append(f"{source}: series without __name__ read as CPU busy % of all the host's CPUs, as the file "
                               f"name says: {n:,} samples")
    return rows.rename(columns={"value": "cpu_pct"})[["host", "time_ns", "cpu_pct"]]


SERIES_KEY = ["name", "host", "cpu", "mode"]
CPU_KEY = ["name", "host", "cpu"]


def _counter_busy(points: pd.DataFrame, parts: pd.DataFrame, counts: dict[str, int], notes: list[str],
                  conversions: list[str]) -> pd.DataFrame:
    """Busy % per host and sample from per-CPU, per-mode cumulative seconds (``points`` of the
    series ``parts``)."""
    # integer ids from the small table of series, so that the points are grouped by numbers
    series_of = parts.groupby(SERIES_KEY, sort=False).ngroup().to_numpy()
    cpu_of = parts.groupby(CPU_KEY, sort=False).ngroup().to_numpy()
    host_of = parts.groupby(["name", "host"], sort=False).ngroup().to_numpy()
    hosts = parts.drop_duplicates(["name", "host"])[["name", "host"]].reset_index(drop=True)
    part = points["part"].to_numpy()
    point = pd.DataFrame({"series": series_of[part], "cpu": cpu_of[part], "time_ns": points["time_ns"].to_numpy(),
                          "value": points["value"].to_numpy(), "idle": parts["idle"].to_numpy(bool)[part],
                          "iowait": (parts["mode"] == "iowait").to_numpy(bool)[part]})
    point = point[np.isfinite(point["value"].to_numpy())].sort_values(["series", "time_ns"], kind="stable")
    # the same counter from two files of overlapping spans is one series
    point = point[~point.duplicated(["series", "time_ns"])]
    # a step where no counter of the CPU moved is the previous scrape again, not a busy interval
    still = point.assign(still=_increases(point)[0] == 0).groupby(["cpu", "time_ns"])["still"].transform("all").to_numpy()
    counts["prometheus_repeated_steps"] = int(point[still].groupby(["cpu", "time_ns"]).ngroups)
    point = point[~still]
    increase, elapsed_s, reset = _increases(point)
    counts["prometheus_counter_resets"] = int(reset.sum())
    modes = point.groupby("cpu")["series"].nunique()
    per_cpu = point.assign(idle_s=np.where(point["idle"].to_numpy(), increase, 0.0), known=np.isfinite(increase),
                           iowait_s=np.where(point["iowait"].to_numpy(), increase, 0.0), elapsed_s=elapsed_s)
    per_cpu = per_cpu.groupby(["cpu", "time_ns"]).agg(idle_s=("idle_s", "sum"), iowait_s=("iowait_s", "sum"),
                                                      known=("known", "sum"), elapsed_s=("elapsed_s", "max")).reset_index()
    per_cpu = per_cpu[per_cpu["known"].to_numpy() == modes.reindex(per_cpu["cpu"]).to_numpy()]
    iowait_pct = 100.0 * per_cpu["iowait_s"].sum() / max(per_cpu["elapsed_s"].sum(), 1e-9)
    host_of_cpu = np.zeros(cpu_of.max() + 1, dtype=np.int64)
    host_of_cpu[cpu_of] = host_of
    per_host = per_cpu.assign(cpu_pct=100.0 * (1.0 - per_cpu["idle_s"] / per_cpu["elapsed_s"]),
                              host_id=host_of_cpu[per_cpu["cpu"].to_numpy()])
    per_host = per_host.groupby(["host_id", "time_ns"])["cpu_pct"].mean().reset_index()
    per_host["name"] = hosts["name"].to_numpy()[per_host["host_id"]]
    per_host["host"] = hosts["host"].to_numpy()[per_host["host_id"]]
    conversions += _counter_sentences(per_host, parts, counts["prometheus_counter_resets"], iowait_pct)
    if counts["prometheus_repeated_steps"]:
        notes.append(f"left out {counts['prometheus_repeated_steps']:,} CPU step(s) where no counter moved: they repeat the "
                     "previous scrape (the query step is shorter than the scrape interval); give step= the scrape interval or more")
    return per_host[["host", "time_ns", "cpu_pct"]]


def _counter_sentences(per_host: pd.DataFrame, parts: pd.DataFrame, resets: int, iowait_pct: float) -> list[str]:
    """The conversion of each counter metric, with its CPUs, hosts and samples."""
    cpus = parts.drop_duplicates(CPU_KEY)
    sentences = []
    for name, samples in per_host.groupby("name"):
        n_cpus = cpus[cpus["name"] == name].groupby("host").size()
        idle_modes = CPU_COUNTERS[name].idle_modes
        iowait = (f"; iowait, idle time waiting for I/O, averaged {iowait_pct:.2f} % of CPU time; steal is busy"
                  if "iowait" in idle_modes else "")
        sentences.append(
            f"{name} counters of {int(n_cpus.sum())} CPU(s) on {len(n_cpus)} host(s) turned into busy %: per CPU, "
            f"100 - 100 x the increase of {' + '.join(idle_modes)} seconds / the seconds elapsed since the CPU's "
            f"previous sample, then the mean over the host's CPUs: {len(samples):,} samples "
            f"({resets} counter reset(s) read as restarts from 0{iowait})"
        )
    return sentences


def _increases(point: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point of counters sorted by series and time: the increase since the series' previous
    point (NaN for its first; a decrease is a restart from 0), the seconds elapsed, and where a
    reset was read."""
    series = point["series"].to_numpy()
    value = point["value"].to_numpy()
    first = np.ones(len(series), dtype=bool)
    first[1:] = series[1:] != series[:-1]
    increase = np.diff(value, prepend=np.nan)
    increase[first] = np.nan
    reset = increase < 0
    increase[reset] = value[reset]
    elapsed_s = np.diff(point["time_ns"].to_numpy(), prepend=0) / 1e9
    elapsed_s[first] = np.nan
    return increase, elapsed_s, reset


def _check_modes(path: Path, for_file: dict[tuple, Series]) -> None:
    """InputError for a CPU whose counters in a file lack a mode that busy time needs (a filtered query)."""
    modes: dict[tuple, set[str]] = {}
    for key in for_file:
        if key[0] in CPU_COUNTERS:
            modes.setdefault(key[:3], set()).add(key[3])
    for (name, host, cpu), have in modes.items():
        missing = [m for m in CPU_COUNTERS[name].needed_modes if m not in have]
        if missing:
            raise InputError(
                f"{path}: {name} of host {host!r} CPU {cpu!r} has mode(s) {', '.join(sorted(have))} but not "
                f"{', '.join(missing)}; busy % needs the counters of every mode: query {name} without a mode filter"
            )


def _memory(rows: pd.DataFrame, notes: list[str], conversions: list[str]) -> tuple[pd.DataFrame | None, pd.Series]:
    """Memory in use (GB) per host and time, and the RAM (GB) each host's total gauge gives."""
    rows = rows[np.isfinite(rows["value"].to_numpy())].astype({"host": str, "name": str, "role": str})
    rows = rows[rows["rank"] == rows.groupby(["host", "role"])["rank"].transform("min")]
    by_role = {role: part.sort_values("time_ns") for role, part in rows.groupby("role")}
    empty = rows.iloc[:0]
    total, available, used = (by_role.get(role, empty) for role in ("total", "available", "used"))
    ram_gb = total.groupby("host")["value"].max() / BYTES_PER_GB
    parts = []
    if len(available):
        paired = pd.merge_asof(available, total[["host", "time_ns", "value", "name"]], on="time_ns", by="host",
                               direction="nearest", suffixes=("", "_total"))
        lone = sorted(set(paired.loc[paired["value_total"].isna(), "host"]))
        if lone:
            notes.append(f"{len(lone)} host(s) have available memory but no total, so no memory in use: {name_list(lone)}")
        paired = paired.dropna(subset=["value_total"])
        for (avail_name, total_name), n in paired.groupby(["name", "name_total"]).size().items():
            conversions.append(f"memory in use = {total_name} - {avail_name}, bytes to GB (GiB, 1024^3): {n:,} values")
        parts.append(paired.assign(value=paired["value_total"] - paired["value"]))
    if len(used):
        for name, n in used.groupby("name").size().items():
            conversions.append(f"{name}: memory in use in bytes to GB (GiB, 1024^3): {n:,} values")
        parts.append(used)
    if not parts:
        return None, ram_gb
    memory = pd.concat(parts, ignore_index=True)
    return pd.DataFrame({"host": memory["host"], "time_ns": memory["time_ns"].astype(np.int64),
                         "mem_gb": memory["value"].to_numpy(np.float64) / BYTES_PER_GB}), ram_gb


def _memory_without_cpu(memory: pd.DataFrame | None, cpu: pd.DataFrame, notes: list[str]) -> pd.DataFrame | None:
    """Memory of the hosts that have CPU samples; the others are named and left out."""
    if memory is None:
        return None
    with_cpu = memory["host"].isin(cpu["host"].unique())
    alone = sorted(memory.loc[~with_cpu, "host"].unique())
    if alone:
        notes.append(f"left out {len(alone)} host(s) with memory series but no CPU series: {name_list(alone)}")
    return memory[with_cpu]


def _no_cpu(path: Path, found: _Found) -> InputError:
    if found.counters.parts or found.cpu.parts:
        return InputError(f"{path}: its CPU series hold no usable sample (every value missing, or a single sample per "
                          f"counter where a rate needs two); export a longer range: {RANGE_QUERY}")
    memory = found.memory.frame()
    held = sorted(set(memory["name"])) + sorted(found.skipped)
    what = f"series of {name_list(held)}" if held else "no series"
    return InputError(f"{path}: holds {what} but no CPU series; planning needs CPU use: export node_cpu_seconds_total "
                      f"(or a CPU busy % in a file named ...cpu_busy_pct.json) as well: {RANGE_QUERY}")


def _step_ns(frame: pd.DataFrame) -> int:
    """The median over hosts of each host's median spacing of samples (0 for single samples)."""
    spacing = frame.sort_values(["host", "time_ns"]).groupby("host", observed=True)["time_ns"].diff()
    per_host = spacing[spacing > 0].groupby(frame["host"], observed=True).median()
    return int(per_host.median()) if len(per_host) else 0


def _samples(cpu: pd.DataFrame, memory: pd.DataFrame | None, cpus_per_host: pd.Series, ram_gb: pd.Series,
             counts: dict[str, int], notes: list[str], conversions: list[str]) -> Samples:
    """CPU samples with the nearest memory sample of their host, and the hardware the series state."""
    cpu = cpu.astype({"host": str}).sort_values("time_ns", kind="stable").reset_index(drop=True)
    mem = None
    if memory is not None and len(memory):
        tolerance = max(_step_ns(memory), _step_ns(cpu))
        merged = pd.merge_asof(cpu, memory.astype({"host": str}).sort_values("time_ns"), on="time_ns", by="host", direction="nearest",
                               tolerance=tolerance)
        mem = merged["mem_gb"].to_numpy(np.float32)
        conversions.append(f"memory put onto the CPU samples' timestamps (the nearest memory sample within "
                           f"{tolerance / 1e9:g} s): {int(np.isfinite(mem).sum()):,} of {len(mem):,} CPU samples got a value")
    codes, hosts = pd.factorize(cpu["host"])
    ids = [str(h) for h in hosts]
    inventory = pd.DataFrame({name: np.nan for name in FIELDS[1:]}, index=pd.Index(ids, name="server_id"))
    inventory["model"] = ""
    inventory["cores"] = inventory["threads"] = cpus_per_host.reindex(ids).to_numpy(np.float64)
    inventory["ram_gb"] = ram_gb.reindex(ids).to_numpy(np.float64)
    return Samples(
        server_ids=ids,
        codes=codes.astype(np.int32),
        time_ns=cpu["time_ns"].to_numpy(np.int64),
        cpu=cpu["cpu_pct"].to_numpy(np.float32),
        mem=mem,
        mem_unit=None if mem is None else "gb",
        counts=counts,
        derived_inventory=inventory.reset_index()[list(FIELDS)],
        notes=notes,
        conversions=conversions,
    )


FORMAT = TraceFormat("prometheus", "Prometheus /api/v1/query_range JSON responses", prometheus_samples,
                     looks=looks_prometheus, reads="both", takes=("columns",))
