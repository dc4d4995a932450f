"""Synthetic sprawl estate: utilisation traces and an inventory like a 2008-2012 server room.

Every server gets a role and a hardware model. Roles shape the CPU and memory series:

- ``web``: interactive applications, busy in business hours on weekdays, with a memory
  leak that a weekly restart (Sunday 03:00 local) clears;
- ``database``: a higher, steadier load, business-hours peaks and a short nightly maintenance;
- ``batch``: backup and ETL jobs that peak between about 00:45 and 06:00 local every night;
- ``infrastructure``: directory, DNS, file and print servers, low and flat;
- ``idle``: comatose servers, CPU and memory below 5 % at every sample (the Azure Migrate
  idle rule [3]_). Koomey & Taylor [4]_ count about 30 % of servers as comatose; the
  generator keeps them at 7 % so that the estate still has work to consolidate.

Local time is UTC shifted by a per-server offset of at most two hours. Each server's load
also drifts slowly (random knots every three hours, interpolated), carries noise that grows
with the load, and has occasional short spikes. The estate's mean CPU comes out near 8 %,
between the 2008 estimate of at most 6 % [1]_ and the 2014 one of 12-18 % [2]_.

Hardware models (cores, clock, per-clock performance, idle/maximum power) are the host
catalogue's sprawl-era source models (``consolidate catalog``), whose power figures are
SPECpower_ssj2008 results [5]_; a quarter of the hyper-threading-capable servers run with
hyper-threading off, as many administrators of that era configured them.

Rows of ``traces.csv`` are ordered by server, then timestamp.

References
----------
.. [1] McKinsey & Company and Uptime Institute, "Revolutionizing Data Center Energy
   Efficiency", 2008: average server utilisation at most 6 %.
.. [2] NRDC, "Data Center Efficiency Assessment", IP:14-08-a, 2014: 12-18 %.
.. [3] Microsoft, Azure Migrate business case documentation, 2024: a server is idle when
   CPU and memory utilisation are below 5 % (and network below 2 %).
.. [4] J. Koomey, J. Taylor (Anthesis), "New data supports finding that 30 percent of
   servers are comatose", 2015.
.. [5] SPEC, power_ssj2008 results; the result ids are in the host catalogue (``hosts.csv``).
"""

from __future__ import annotations

import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from consolidate.errors import InputError
from consolidate.models.catalog import get_host

TRACES_HEADER = ("timestamp", "server_id", "cpu_pct", "mem_gb")
INVENTORY_HEADER = (
    "server_id", "cores", "threads", "ghz", "ram_gb", "perf", "model", "power_idle_w", "power_max_w",
)


@dataclass(frozen=True)
class ServerModel:
    """A sprawl-era source model from the host catalogue, with the RAM sizes it was bought with."""

    catalog_name: str
    ram_options_gb: tuple[int, ...]
    share: float


MODELS = (
    ServerModel("hp-ml110-g5", (4, 8), 0.20),
    ServerModel("ibm-x3250-m3", (8, 16), 0.20),
    ServerModel("ibm-x3550-m3-x5670", (24, 48, 96), 0.15),
    ServerModel("dell-r710", (24, 48, 72, 96), 0.20),
    ServerModel("ibm-x3550-m3-x5675", (48, 96), 0.10),
    ServerModel("dell-r620", (32, 64, 128), 0.15),
)

#: Share of hyper-threading-capable servers that run with it switched off.
HT_OFF_SHARE = 0.25


@dataclass(frozen=True)
class Role:
    """What a server does, as ranges each server draws its own parameters from.

    CPU figures are percentages of all logical CPUs, memory figures shares of the RAM.
    ``*_pct`` ranges with a positive lower end are drawn log-uniformly (a few busy servers,
    many quiet ones), the rest uniformly.
    """

    name: str
    share: float
    base_pct: tuple[float, float]
    day_pct: tuple[float, float]  # extra load at the business-hours plateau on a weekday
    weekend_factor: tuple[float, float]  # business-hours load on Saturday and Sunday, relative
    batch_pct: tuple[float, float]  # extra load inside the nightly batch window
    batch_start_h: tuple[float, float]  # local hour the nightly window opens
    batch_hours: tuple[float, float]
    noise_pct: tuple[float, float]  # standard deviation of the noise at zero load
    noise_rel: float  # extra standard deviation per unit of load
    spikes_per_day: tuple[float, float]
    mem_base: tuple[float, float]
    mem_day: tuple[float, float]
    mem_batch: tuple[float, float]
    mem_leak_per_day: tuple[float, float]


ROLES = (
    Role("web", 0.38, (1.5, 6.0), (6.0, 60.0), (0.15, 0.4), (0.0, 0.0), (1.0, 1.0), (0.0, 0.0),
         (0.3, 1.0), 0.12, (0.5, 2.0), (0.25, 0.55), (0.02, 0.08), (0.0, 0.0), (0.0, 0.02)),
    Role("database", 0.15, (3.0, 12.0), (5.0, 35.0), (0.3, 0.6), (8.0, 30.0), (2.0, 3.0), (0.5, 1.5),
         (0.3, 1.0), 0.10, (0.2, 1.0), (0.55, 0.85), (0.0, 0.03), (0.0, 0.05), (0.0, 0.0)),
    Role("batch", 0.15, (1.0, 3.0), (1.5, 6.0), (0.3, 0.6), (25.0, 75.0), (0.75, 2.5), (1.5, 3.5),
         (0.2, 0.8), 0.10, (0.2, 1.0), (0.2, 0.45), (0.0, 0.02), (0.1, 0.3), (0.0, 0.0)),
    Role("infrastructure", 0.25, (1.5, 8.0), (1.0, 5.0), (0.5, 0.9), (0.0, 0.0), (1.0, 1.0), (0.0, 0.0),
         (0.2, 0.8), 0.10, (0.1, 0.5), (0.15, 0.45), (0.0, 0.02), (0.0, 0.0), (0.0, 0.0)),
    Role("idle", 0.07, (0.3, 1.5), (0.0, 0.0), (1.0, 1.0), (0.0, 0.0), (1.0, 1.0), (0.0, 0.0),
         (0.05, 0.2), 0.0, (0.0, 0.0), (0.015, 0.035), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
)

_ROLE_RANGES = (
    "base_pct", "day_pct", "weekend_factor", "batch_pct", "batch_start_h", "batch_hours", "noise_pct",
    "spikes_per_day", "mem_base", "mem_day", "mem_batch", "mem_leak_per_day",
)
MAX_OFFSET_H = 2.0  # largest shift of a server's local day from UTC
CPU_DRIFT_KNOT_H = 3.0
CPU_DRIFT = 0.25  # standard deviation of the slow relative drift of the load
MEM_DRIFT_KNOT_H = 6.0
MEM_DRIFT = 0.06
MEM_MAX_SHARE = 0.97  # the OS never hands out the last few per cent of RAM
SPIKE_PCT = (15.0, 60.0)
WEEKLY_RESTART_H = 6 * 24 + 3.0  # Sunday 03:00 local, in hours since Monday 00:00
_BLOCK_SAMPLES = 1 << 20  # samples generated at a time: bounds memory, keeps arrays in cache
_BLOCKS_IN_FLIGHT = 4


@dataclass(frozen=True)
class _Grid:
    """The time grid: ``week_h`` is each step's hours since the Monday 00:00 UTC before start."""

    start: pd.Timestamp
    interval_s: int
    steps: int
    week_h: np.ndarray


def _validate(servers: int, days: float, seed: int, interval_s: int, start) -> _Grid:
    """The time grid, after checking every argument (InputError naming the option)."""
    if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 1:
        raise InputError(f"--servers must be a whole number of at least 1 (got {servers!r})")
    if isinstance(days, bool) or not isinstance(days, (int, float, np.number)) or not math.isfinite(days) or days <= 0:
        raise InputError(f"--days must be a number above 0 (got {days!r})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"--seed must be a whole number of at least 0 (got {seed!r})")
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, np.integer)) or interval_s < 1:
        raise InputError(f"interval_s must be a whole number of seconds of at least 1 (got {interval_s!r})")
    steps = int(round(days * 86400 / interval_s))
    if steps < 1:
        raise InputError(f"--days {days} is shorter than one {interval_s} s interval; give more days")
    try:
        start_ts = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise InputError(f"start {start!r} is not a date; give one like 2024-01-01") from None
    if start_ts is pd.NaT:
        raise InputError(f"start {start!r} is not a date; give one like 2024-01-01")
    start_ts = start_ts.tz_localize("UTC") if start_ts.tz is None else start_ts.tz_convert("UTC")
    start_ts = start_ts.floor("s")
    first_h = start_ts.day_of_week * 24 + (start_ts - start_ts.normalize()).total_seconds() / 3600
    week_h = first_h + np.arange(steps, dtype=np.float64) * (interval_s / 3600)
    return _Grid(start_ts, int(interval_s), steps, week_h)


def _quota(shares: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Class index per server, the counts rounded by largest remainder, in random order.

    A quota instead of independent draws makes even a 40-server estate hold every class in
    proportion (for example, some idle servers).
    """
    exact = shares / shares.sum() * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _draw_range(ranges: np.ndarray, rng: np.random.Generator, log: bool) -> np.ndarray:
    """One value per server from its (lo, hi) row, log-uniform where asked and lo > 0."""
    lo, hi = ranges[:, 0], ranges[:, 1]
    u = rng.random(len(ranges))
    if log:
        positive = lo > 0
        ratio = np.where(positive, hi / np.where(positive, lo, 1.0), 1.0)
        return np.where(positive, lo * ratio**u, lo + (hi - lo) * u)
    return lo + (hi - lo) * u


def _server_params(servers: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Inventory (the published columns) and per-server workload parameters, (servers,) each."""
    width = max(4, len(str(servers)))
    server_ids = np.array([f"srv-{i:0{width}d}" for i in range(1, servers + 1)], dtype=object)

    hosts = [get_host(m.catalog_name) for m in MODELS]
    model_idx = _quota(np.array([m.share for m in MODELS]), servers, rng)

    def column(values) -> np.ndarray:
        return np.array(values, dtype=object if isinstance(values[0], str) else None)[model_idx]

    cores = column([h.cores for h in hosts])
    threads = column([h.threads for h in hosts])
    threads = np.where((threads > cores) & (rng.random(servers) < HT_OFF_SHARE), cores, threads)
    ram_options = np.zeros((len(MODELS), max(len(m.ram_options_gb) for m in MODELS)), dtype=np.int64)
    for i, m in enumerate(MODELS):
        ram_options[i, : len(m.ram_options_gb)] = m.ram_options_gb
    n_options = np.array([len(m.ram_options_gb) for m in MODELS])[model_idx]
    ram_gb = ram_options[model_idx, (rng.random(servers) * n_options).astype(np.int64)]
    inventory = pd.DataFrame(
        {
            "server_id": server_ids,
            "cores": cores,
            "threads": threads,
            "ghz": column([h.ghz for h in hosts]),
            "ram_gb": ram_gb,
            "perf": column([h.perf for h in hosts]),
            "model": column([h.name for h in hosts]),
            "power_idle_w": column([h.idle_w for h in hosts]),
            "power_max_w": column([h.max_w for h in hosts]),
        }
    )

    role_idx = _quota(np.array([r.share for r in ROLES]), servers, rng)
    params = {}
    for name in _ROLE_RANGES:
        ranges = np.array([getattr(r, name) for r in ROLES], dtype=np.float64)[role_idx]
        params[name] = _draw_range(ranges, rng, log=name.endswith("_pct"))
    params["noise_rel"] = np.array([r.noise_rel for r in ROLES])[role_idx]
    # most servers within an hour of UTC, none beyond MAX_OFFSET_H
    params["offset_h"] = np.clip(rng.normal(0.0, MAX_OFFSET_H / 2.5, servers), -MAX_OFFSET_H, MAX_OFFSET_H)
    params["ram_gb"] = ram_gb.astype(np.float64)
    return inventory, params


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # the tanh form cannot overflow, unlike 1 / (1 + exp(-x)) far from the edge
    return np.float32(0.5) * (np.float32(1) + np.tanh(np.float32(0.5) * x))


def _office_hours(hour: np.ndarray) -> np.ndarray:
    """Share of the business-hours plateau, 0-1, at a local hour of day (08:30-17:30, lunch dip)."""
    lunch = np.float32(0.15) * np.exp(-(((hour - np.float32(12.5)) / np.float32(0.6)) ** 2))
    return _sigmoid((hour - np.float32(8.5)) / np.float32(0.75)) * _sigmoid((np.float32(17.5) - hour)) * (1 - lunch)


def _window(hour: np.ndarray, start_h: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Soft-edged 0-1 window from ``start_h`` for ``hours`` (one column per server)."""
    edge = np.float32(0.2)
    return _sigmoid((hour - start_h) / edge) * _sigmoid((start_h + hours - hour) / edge)


def _drift(rng: np.random.Generator, servers: int, hours: np.ndarray, knot_h: float) -> np.ndarray:
    """Standard-normal knots every ``knot_h`` hours, linearly interpolated at ``hours`` (from 0)."""
    position = hours / knot_h
    i0 = np.floor(position).astype(np.int64)
    w = (position - i0).astype(np.float32)
    knots = rng.standard_normal((servers, int(i0[-1]) + 2), dtype=np.float32)
    return knots[:, i0] * (1 - w) + knots[:, i0 + 1] * w


def _spikes(rng: np.random.Generator, per_day: np.ndarray, shape: tuple[int, int], interval_s: int) -> np.ndarray:
    """Short CPU spikes in percentage points: a jump that halves at each of the next two steps."""
    chance = (per_day * interval_s / 86400).astype(np.float32)[:, None]
    where = np.flatnonzero(rng.random(shape, dtype=np.float32) < chance)
    jump = np.zeros(shape[0] * shape[1], dtype=np.float32)
    jump[where] = rng.uniform(*SPIKE_PCT, size=len(where)).astype(np.float32)
    jump = jump.reshape(shape)
    spikes = jump.copy()
    spikes[:, 1:] += 0.5 * jump[:, :-1]
    spikes[:, 2:] += 0.25 * jump[:, :-2]
    return spikes


def _series(params: dict[str, np.ndarray], grid: _Grid, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CPU percent and memory GB, float32 (servers, steps), rounded to 2 decimals."""
    servers = len(params["offset_h"])
    col = {name: values.astype(np.float32)[:, None] for name, values in params.items()}

    local_h = (grid.week_h[None, :] - params["offset_h"][:, None]).astype(np.float32)
    hour = np.mod(local_h, np.float32(24))
    weekend = np.mod(np.floor(local_h / np.float32(24)), np.float32(7)) >= 5
    week = np.where(weekend, col["weekend_factor"], np.float32(1))
    office = _office_hours(hour) * week
    batch = _window(hour, col["batch_start_h"], col["batch_hours"])
    elapsed_h = grid.week_h - grid.week_h[0]
    # a night runs from local noon to noon; each gets its own batch volume
    night = np.floor((local_h + np.float32(12)) / np.float32(24)).astype(np.int64)
    night -= night[:, :1]
    night_factor = rng.uniform(0.6, 1.2, (servers, int(night.max()) + 2)).astype(np.float32)
    batch_night = batch * np.take_along_axis(night_factor, night, axis=1)

    drift = np.clip(1 + CPU_DRIFT * _drift(rng, servers, elapsed_h, CPU_DRIFT_KNOT_H), 0.5, 1.5)
    load = (col["base_pct"] + col["day_pct"] * office) * drift + col["batch_pct"] * batch_night
    noise = rng.standard_normal(load.shape, dtype=np.float32) * (col["noise_pct"] + col["noise_rel"] * load)
    spikes = _spikes(rng, params["spikes_per_day"], load.shape, grid.interval_s)
    cpu_pct = np.round(np.clip(load + noise + spikes, 0, 100), 2)

    since_restart_days = np.mod(local_h - np.float32(WEEKLY_RESTART_H), np.float32(168)) / np.float32(24)
    mem_drift = 1 + MEM_DRIFT * np.clip(_drift(rng, servers, elapsed_h, MEM_DRIFT_KNOT_H), -3, 3)
    mem_share = (
        col["mem_base"] * mem_drift + col["mem_day"] * office + col["mem_batch"] * batch
        + col["mem_leak_per_day"] * since_restart_days
    )
    mem_gb = np.round(np.clip(mem_share, 0.005, MEM_MAX_SHARE) * col["ram_gb"], 2)
    return cpu_pct.astype(np.float32), mem_gb.astype(np.float32)


@dataclass(frozen=True)
class _Estate:
    """Everything drawn before the samples: the grid, the inventory, the workload parameters.

    Samples are made block by block (``block`` servers at a time), each block from its own
    child of the seed, so the output depends only on the arguments, never on memory or threads.
    """

    grid: _Grid
    inventory: pd.DataFrame
    params: dict[str, np.ndarray]
    block: int
    block_seeds: tuple[np.random.SeedSequence, ...]

    def block_series(self, index: int) -> tuple[int, np.ndarray, np.ndarray]:
        """First row, CPU percent and memory GB of block ``index``."""
        first = index * self.block
        part = {name: values[first : first + self.block] for name, values in self.params.items()}
        cpu_pct, mem_gb = _series(part, self.grid, np.random.default_rng(self.block_seeds[index]))
        return first, cpu_pct, mem_gb


def _estate(servers: int, days: float, seed: int, interval_s: int, start) -> _Estate:
    """Check the arguments and draw everything but the samples."""
    grid = _validate(servers, days, seed, interval_s, start)
    block = max(1, min(256, _BLOCK_SAMPLES // grid.steps))
    params_seed, *block_seeds = np.random.SeedSequence(seed).spawn(1 + math.ceil(servers / block))
    inventory, params = _server_params(servers, np.random.default_rng(params_seed))
    return _Estate(grid, inventory, params, block, tuple(block_seeds))


def _timestamps_s(grid: _Grid) -> np.ndarray:
    """Unix seconds of each step."""
    return int(grid.start.timestamp()) + np.arange(grid.steps, dtype=np.int64) * grid.interval_s


def generate_estate(
    servers: int, days: float, seed: int = 0, interval_s: int = 300, start: str | pd.Timestamp = "2024-01-01"
) -> tuple[pa.Table, pd.DataFrame]:
    """A synthetic sprawl estate: long-format traces and the inventory.

    Parameters
    ----------
    servers : number of servers, at least 1.
    days : length of the traces in days (> 0); ``round(days * 86400 / interval_s)`` steps.
    seed : the same seed gives the same estate.
    interval_s : sampling interval in seconds.
    start : first timestamp; a naive date or time is taken as UTC.

    Returns
    -------
    traces : pyarrow.Table with ``timestamp`` (timestamp[s, UTC]), ``server_id`` (dictionary
        of strings), ``cpu_pct`` (float32, percent of all logical CPUs, 0-100) and ``mem_gb``
        (float32, memory in use, at most ``ram_gb``), ordered by server, then timestamp.
    inventory : pandas.DataFrame with the columns of ``INVENTORY_HEADER``, one row per server.

    Raises
    ------
    InputError : for servers < 1, days <= 0 or other unusable arguments.
    """
    estate = _estate(servers, days, seed, interval_s, start)
    grid, inventory = estate.grid, estate.inventory
    cpu_pct = np.empty((servers, grid.steps), dtype=np.float32)
    mem_gb = np.empty((servers, grid.steps), dtype=np.float32)
    for index in range(len(estate.block_seeds)):
        first, cpu_block, mem_block = estate.block_series(index)
        cpu_pct[first : first + len(cpu_block)] = cpu_block
        mem_gb[first : first + len(mem_block)] = mem_block
    seconds = pa.array(np.tile(_timestamps_s(grid), servers), type=pa.int64())
    server_index = pa.array(np.repeat(np.arange(servers, dtype=np.int32), grid.steps))
    traces = pa.table(
        {
            "timestamp": seconds.cast(pa.timestamp("s", tz="UTC")),
            "server_id": pa.DictionaryArray.from_arrays(server_index, pa.array(inventory["server_id"], pa.string())),
            "cpu_pct": cpu_pct.ravel(),
            "mem_gb": mem_gb.ravel(),
        }
    )
    return traces, inventory


def _iso_timestamps(grid: _Grid) -> pa.Array:
    """Each step as ISO 8601 UTC text, e.g. ``2024-01-01T00:05:00Z``."""
    text = np.datetime_as_string(_timestamps_s(grid).astype("datetime64[s]"), unit="s")
    return pa.array(np.char.add(text.astype(str), "Z"), pa.string())


def _csv_block(estate: _Estate, index: int, stamps: pa.Array) -> pa.Buffer:
    """Block ``index`` as CSV rows (no header); timestamps and ids are written from dictionaries."""
    first, cpu_pct, mem_gb = estate.block_series(index)
    n, steps = cpu_pct.shape
    server_ids = estate.inventory["server_id"].to_numpy()[first : first + n]
    table = pa.table(
        {
            "timestamp": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(steps, dtype=np.int32), n)), stamps),
            "server_id": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(n, dtype=np.int32), steps)), pa.array(server_ids, pa.string())
            ),
            "cpu_pct": cpu_pct.ravel(),
            "mem_gb": mem_gb.ravel(),
        }
    )
    out = pa.BufferOutputStream()
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False, quoting_style="none"))
    return out.getvalue()


def _write_traces(path: Path, estate: _Estate) -> None:
    """Stream the estate to ``path`` as CSV, in block order.

    Two threads make and format blocks (numpy and Arrow release the GIL) while this one
    writes; at most ``_BLOCKS_IN_FLIGHT`` finished blocks wait in memory.
    """
    stamps = _iso_timestamps(estate.grid)
    with pa.OSFile(str(path), "wb") as sink, ThreadPoolExecutor(max_workers=2) as pool:
        sink.write((",".join(TRACES_HEADER) + "\n").encode())
        pending: deque = deque()
        for index in range(len(estate.block_seeds)):
            pending.append(pool.submit(_csv_block, estate, index, stamps))
            if len(pending) >= _BLOCKS_IN_FLIGHT:
                sink.write(pending.popleft().result())
        while pending:
            sink.write(pending.popleft().result())


def write_sample(
    out_dir: str | os.PathLike,
    servers: int,
    days: float,
    seed: int = 0,
    interval_s: int = 300,
    start: str | pd.Timestamp = "2024-01-01",
) -> tuple[Path, Path]:
    """Write a synthetic sprawl estate as ``out_dir/traces.csv`` and ``out_dir/inventory.csv``.

    The traces are in the canonical long format (``timestamp,server_id,cpu_pct,mem_gb``,
    ISO 8601 UTC timestamps ending in ``Z``), ordered by server, then timestamp; the inventory
    has the columns of ``INVENTORY_HEADER``. Both files are written through
    :func:`consolidate.report.outputs.write_files`: into a staging folder
    (``out_dir/.consolidate-<pid>-<random>/``) first, then renamed into place one right after the
    other, so a failure or a kill while the traces are written leaves ``out_dir`` as it was; the
    staging folder a killed run left is removed by the next write. Arguments are those of
    :func:`generate_estate`; ``out_dir`` is created if missing.

    An estate of more than 1,000,000,000 samples (servers x steps; about 45 bytes of CSV each,
    so 45 GB), or larger than the free space of ``out_dir``'s disk, is refused before anything is
    written.

    Returns
    -------
    The paths of traces.csv and inventory.csv.

    Raises
    ------
    InputError : for unusable arguments, an estate past the size limit, or a folder that cannot be written.
    """
    import shutil

    from consolidate.report.outputs import write_files

    max_samples = 1_000_000_000
    csv_bytes_per_sample = 45
    grid = _validate(servers, days, seed, interval_s, start)  # before anything is drawn or written
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder to write traces.csv and inventory.csv into")
    samples = int(servers) * grid.steps
    per_day = 86400 / grid.interval_s
    size_text = f"--servers {servers:,} x --days {days:g} x {per_day:g} samples a day = {samples:,} samples"
    if samples > max_samples:
        raise InputError(
            f"{size_text}, about {samples * csv_bytes_per_sample / 1e9:,.0f} GB of CSV: more than the {max_samples:,} "
            f"samples (about {max_samples * csv_bytes_per_sample / 1e9:,.0f} GB) a sample estate may have; give fewer "
            "servers or days"
        )
    existing = next((p for p in (out, *out.absolute().parents) if p.exists()), None)
    try:
        usage = shutil.disk_usage(existing) if existing is not None else None
    except OSError:
        usage = None
    free = usage.free if usage is not None and usage.total > 0 else None  # /proc and the like have no size
    needed = samples * csv_bytes_per_sample
    if free is not None and needed > free:
        raise InputError(
            f"{size_text}, about {needed / 1e9:,.1f} GB of CSV, but {existing} has {free / 1e9:,.1f} GB free; "
            "give fewer servers or days, or another --out"
        )
    estate = _estate(servers, days, seed, interval_s, start)
    # older versions wrote .traces.csv.<pid>.tmp beside the output: remove those their (gone) process left
    if out.is_dir():
        for leftover in [*out.glob(".traces.csv.*.tmp"), *out.glob(".inventory.csv.*.tmp")]:
            pid = leftover.name.split(".")[-2]
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), 0)
                except ProcessLookupError:
                    leftover.unlink(missing_ok=True)
                except OSError:
                    pass
    write_files(
        out,
        {
            "traces.csv": lambda p: _write_traces(p, estate),
            "inventory.csv": lambda p: estate.inventory.to_csv(
                p, index=False, columns=list(INVENTORY_HEADER), lineterminator="\n"
            ),
        },
    )
    return out / "traces.csv", out / "inventory.csv"
