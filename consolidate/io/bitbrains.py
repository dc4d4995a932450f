"""GWA-T-12 Bitbrains traces: a folder with one ``;``-separated CSV (plain or .gz) per VM.

Rules (DESIGN.md, "Reading real exports"):

- server id = file name without its extensions (``1.csv.gz`` -> ``1``);
- the ``Timestamp [ms]`` column holds seconds since the Unix epoch despite its header (read as
  epoch numbers: :mod:`consolidate.io.timestamps`);
- CPU demand = ``CPU usage [MHZ]`` as measured, not clipped at the provisioned capacity; a
  negative value becomes 0 (counted as ``cpu_below_0_clipped``);
- a row with 0 cores and 0 MHz capacity says "no measurement" (the VM switched off, or its
  monitoring lost): such rows are counted (``bitbrains_no_measurement_rows``) and named in a
  warning with the servers most affected; they are missing samples (gaps, filled and counted),
  not 0 % CPU: a VM that was off is not an idle one, and its days off are not a profile to plan
  on (a VM with no measured row at all is left out, and named);
- cores and capacity = the largest values in the file, over rows with both above 0; the
  inventory gets ``cores``, ``threads = cores``, ``ghz = capacity_MHz / cores / 1000``;
- allocated memory = the largest ``Memory capacity provisioned [KB]``; memory in use =
  ``Memory usage [KB]``. Both in GB = GiB (KB / 1024**2), as the archive's KB are KiB;
- ``cpu_pct = usage_MHz / (cores x ghz x 1000) x 100`` with the inventory's cores and ghz:
  the file's capacity unless a user inventory overrides it, so the measured MHz demand is kept.
  It may exceed 100 (counted as ``cpu_above_capacity``). A file without any row with cores and
  capacity gets the default server (counted in ``inventory_defaulted``) unless the user's
  inventory names it.

References
----------
.. [1] S. Shen, V. van Beek, A. Iosup, "Statistical characterization of business-critical
   workloads hosted in cloud datacenters", CCGrid 2015 (the GWA-T-12 Bitbrains traces).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, sniff_text, trace_files
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import name_list
from consolidate.io.tabular import name_text, read_csv_columns, sniff_csv, table_note
from consolidate.io.timestamps import to_utc_ns
from consolidate.models.trace import TraceSet

TIME = "Timestamp [ms]"
CORES = "CPU cores"
CAPACITY_MHZ = "CPU capacity provisioned [MHZ]"
USAGE_MHZ = "CPU usage [MHZ]"
MEM_CAPACITY_KB = "Memory capacity provisioned [KB]"
MEM_USAGE_KB = "Memory usage [KB]"
COLUMNS = (TIME, CORES, CAPACITY_MHZ, USAGE_MHZ, MEM_CAPACITY_KB, MEM_USAGE_KB)

#: The archive's KB are KiB; GB here are GiB.
KB_PER_GB = 1024**2



def read_bitbrains(
    folder: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a GWA-T-12 Bitbrains folder (e.g. ``fastStorage/2013-8`` or ``Rnd/2013-7``).

    Parameters
    ----------
    folder : folder of per-VM ``.csv`` or ``.csv.gz`` files.
    inventory : inventory CSV path or DataFrame; its values override those read from the files,
        per server and field.
    interval_s : grid spacing in seconds (default: detected, 300 for the archive).
    """
    p = existing(folder)
    if not p.is_dir():
        raise InputError(f"{p}: the bitbrains format reads a folder of per-VM CSV files, not a file")
    samples = bitbrains_samples(p)
    return assemble(samples, fmt="bitbrains", path=p, inventory=inventory, interval_s=interval_s)


BITBRAINS_MARK = "cpu usage [mhz]"


def looks_bitbrains(path: Path, head: bytes) -> bool:
    """A ``;`` header naming ``CPU usage [MHZ]``."""
    text = sniff_text(head) or ""
    header = text.splitlines()[0].lower() if text.strip() else ""
    return ";" in header and BITBRAINS_MARK in header


def server_id(path: Path) -> str:
    """File name without ``.gz`` and ``.csv``."""
    name = path.name
    for suffix in (".gz", ".csv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def bitbrains_samples(folder: Path) -> Samples:
    files = trace_files(folder)
    ids = [server_id(f) for f in files]
    seen: dict[str, Path] = {}
    for sid, f in zip(ids, files):
        if sid in seen:
            raise InputError(f"{folder}: two files for server {sid!r} ({seen[sid].name}, {f.name}); keep one")
        seen[sid] = f
    parts = [_vm_file(f) for f in files]
    counts: dict[str, int] = {}
    notes = [p.note for p in parts if p.note]
    unmeasured = np.array([p.unmeasured for p in parts], dtype=np.int64)
    rows = np.array([len(p.usage_mhz) for p in parts], dtype=np.int64)
    counts["bitbrains_no_measurement_rows"] = int(unmeasured.sum())
    if unmeasured.any():
        worst = sorted(np.flatnonzero(unmeasured), key=lambda i: (-unmeasured[i] / rows[i], ids[i]))
        named = [f"{ids[i]} ({unmeasured[i]:,} of {rows[i]:,})" for i in worst]
        notes.append(
            f"{unmeasured.sum():,} of {rows.sum():,} rows ({unmeasured.sum() / rows.sum():.1%}) in {len(worst)} VM file(s) "
            f"say no measurement (0 CPU cores and 0 MHz capacity: switched off, or monitoring lost), treated as "
            f"missing samples (gaps, filled and counted); "
            f"most affected: {name_list(named)}"
        )
    time_ns = [
        to_utc_ns(part.time, timezone=None, where=f"{f}, column {TIME!r}", locate=lambda i: f"line {i + 2}", counts=counts)
        for f, part in zip(files, parts)
    ]
    sizes = np.array([len(t) for t in time_ns], dtype=np.int64)
    return Samples(
        server_ids=ids,
        codes=np.repeat(np.arange(len(files), dtype=np.int32), sizes),
        time_ns=np.concatenate(time_ns),
        cpu=np.concatenate([part.usage_mhz for part in parts]),
        cpu_unit="mhz",
        mem=np.concatenate([part.mem_gb for part in parts]),
        mem_unit="gb",
        counts=counts,
        notes=notes,
        derived_inventory=pd.DataFrame([{"server_id": sid, **part.hardware} for sid, part in zip(ids, parts)]),
    )


class VmFile(NamedTuple):
    """One VM file: its time column, CPU use (MHz) and memory in use (GB), float32, and hardware."""

    time: pa.ChunkedArray
    usage_mhz: np.ndarray
    mem_gb: np.ndarray
    hardware: dict
    unmeasured: int = 0
    note: str | None = None


def _vm_file(path: Path) -> VmFile:
    head = sniff_csv(path, need_rows=False)
    for name in COLUMNS:
        if name not in head.names:
            raise InputError(f"{path}: missing column {name!r}; found columns: {name_text(head.names)}; is this a GWA-T-12 Bitbrains file?")
    if not head.rows:
        empty = np.empty(0, dtype=np.float32)
        return VmFile(pa.chunked_array([], type=pa.float64()), empty, empty, _hardware(empty, empty, empty))
    table = read_csv_columns(head, {name: pa.float64() for name in COLUMNS}, None)
    col = {name: table[name].to_numpy() for name in COLUMNS[1:]}
    unmeasured = (col[CORES] == 0) & (col[CAPACITY_MHZ] == 0)
    usage = col[USAGE_MHZ].astype(np.float32)
    mem_gb = (col[MEM_USAGE_KB] / KB_PER_GB).astype(np.float32)
    usage[unmeasured] = np.nan
    mem_gb[unmeasured] = np.nan
    return VmFile(
        time=table[TIME],
        usage_mhz=usage,
        mem_gb=mem_gb,
        hardware=_hardware(col[CORES], col[CAPACITY_MHZ], col[MEM_CAPACITY_KB]),
        unmeasured=int(unmeasured.sum()),
        note=table_note(path, table),
    )


def _hardware(cores: np.ndarray, capacity_mhz: np.ndarray, mem_capacity_kb: np.ndarray) -> dict:
    """Inventory values from a file: the largest cores and capacity over rows with both > 0."""
    valid = (cores > 0) & (capacity_mhz > 0)
    n_cores = float(cores[valid].max()) if valid.any() else np.nan
    mhz = float(capacity_mhz[valid].max()) if valid.any() else np.nan
    known_kb = mem_capacity_kb[np.isfinite(mem_capacity_kb)]
    ram_kb = float(known_kb.max()) if known_kb.size else np.nan
    return {
        "cores": n_cores,
        "threads": n_cores,
        "ghz": mhz / n_cores / 1000.0,
        "ram_gb": ram_kb / KB_PER_GB if ram_kb > 0 else np.nan,
        "perf": np.nan,
        "model": "",
        "power_idle_w": np.nan,
        "power_max_w": np.nan,
    }


FORMAT = TraceFormat("bitbrains", "folder of GWA-T-12 ';'-separated CSVs", bitbrains_samples, looks=looks_bitbrains,
                     reads="folder")
