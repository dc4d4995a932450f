"""The data-quality report of a trace set (``consolidate inspect``)."""

from __future__ import annotations

import numpy as np

from consolidate.options import TRACE_FORMATS as FORMATS
from consolidate.models.trace import TraceSet

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def inspect_traces(traces: TraceSet) -> dict:
    """What was read and repaired, and the utilisation statistics.

    ``cpu_mean_pct`` is the mean over the grid cells that held a sample (the samples as read,
    one per interval: no filled cell), the figure an independent reading of the file gives;
    ``cpu_mean_grid_pct`` and the other CPU statistics are over all grid cells of all servers
    (the filled ones too, as a plan sees them), as the published PlanetLab table gives them [1]:
    mean, population standard deviation and numpy's default (linear) percentiles, in percent. Memory figures appear when the traces have memory.

    Returns
    -------
    dict with ``format``, ``source``, ``servers``, ``interval_s``, ``steps``, ``duration_days``,
    ``start`` and ``end`` (ISO 8601 UTC, end exclusive), ``samples`` (raw samples read),
    ``missing_pct``, ``cpu_mean_pct``, ``cpu_mean_grid_pct``, ``cpu_std_pct``, ``cpu_q1_pct``, ``cpu_median_pct``,
    ``cpu_q3_pct``, ``cpu_max_pct``, [``mem_mean_gb``, ``mem_max_gb``, ``mem_mean_pct``,]
    ``ram_total_gb``, ``repairs`` (the repair counts), ``inventory_defaulted``, ``conversions`` and
    ``warnings``.

    References
    ----------
    .. [1] A. Beloglazov, R. Buyya, Concurrency and Computation: Practice and Experience 24(13),
       2012, workload characteristics table.
    """
    fmt, sep, path = traces.source.partition(":")
    if not sep or fmt not in FORMATS:
        fmt, path = "", traces.source
    cpu = traces.cpu_pct
    q1, median, q3 = (float(v) for v in np.percentile(cpu, [25, 50, 75]))
    quality = traces.quality
    report = {
        "format": fmt,
        "source": path,
        "servers": traces.n_servers,
        "interval_s": traces.interval_s,
        "steps": traces.n_steps,
        "duration_days": traces.duration_days,
        "start": traces.start.strftime(ISO_UTC),
        "end": traces.end.strftime(ISO_UTC),
        "samples": quality.samples,
        "missing_pct": quality.missing_pct,
        "cpu_mean_pct": float(np.mean(cpu, dtype=np.float64)) if quality.cpu_mean_measured_pct is None
        else quality.cpu_mean_measured_pct,
        "cpu_mean_grid_pct": float(np.mean(cpu, dtype=np.float64)),
        "cpu_std_pct": float(np.std(cpu, dtype=np.float64)),
        "cpu_q1_pct": q1,
        "cpu_median_pct": median,
        "cpu_q3_pct": q3,
        "cpu_max_pct": float(cpu.max()),
    }
    ram_gb = traces.inventory.ram_gb
    if traces.mem_gb is not None:
        mem = traces.mem_gb
        report["mem_mean_gb"] = float(np.mean(mem, dtype=np.float64))
        report["mem_max_gb"] = float(mem.max())
        report["mem_mean_pct"] = float(np.mean(mem.mean(axis=1, dtype=np.float64) / ram_gb) * 100.0)
    report["ram_total_gb"] = float(ram_gb.sum())
    report["repairs"] = dict(quality.counts)
    report["inventory_defaulted"] = int(traces.inventory.defaulted.sum())
    report["conversions"] = list(quality.conversions)
    report["warnings"] = list(quality.warnings)
    return report
