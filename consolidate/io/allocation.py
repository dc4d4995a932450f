"""Plans from an inventory alone (an RVTools workbook, an Azure Migrate import CSV), without traces.

An inventory says what each server was given, and at most one utilisation figure: when it
peaks, and with which others, it cannot say, so time-aware packing has nothing to work on and
the plan's risk figures cannot be replayed. Each server planned (:func:`consolidate.io.inventory.planned_servers`:
never templates, powered-off VMs on request) becomes one interval of constant demand:

- its CPU utilisation figure where the file gives one (Azure Migrate's ``CPU utilization
  percentage``; RVTools' vCPU ``Overall`` / ``Max`` when the file was written): sizing
  ``one figure``;
- else its allocation: each vCPU busy at 1 / :data:`ALLOCATION_VCPU_RATIO` of a thread, the
  vCPU:pCPU ratio of common sizing rules [1] (``--vcpu-ratio`` also caps each host's vCPUs);
- memory in use = its memory utilisation figure x its RAM where given (for ``--mem-sizing
  used-*``), else the traces carry no memory and memory is planned as allocated.

The trace set says so in its warnings and states the sizing in its conversions.

References
----------
.. [1] ../shared/REFERENCE.md, "Hypervisor overhead": vCPU:pCPU about 4:1 (Azure VMware
   Solution's default 4:1).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.inventory import align_inventory, planned_servers, read_inventory_export, with_hosts
from consolidate.models.trace import QualityReport, TraceSet

#: vCPUs per physical thread assumed for a server the inventory gives no CPU figure for.
ALLOCATION_VCPU_RATIO = 4.0

#: The one interval an inventory plan covers: a single figure stands for a whole day.
INTERVAL_S = 86400

SINGLE_FIGURE_WARNING = (
    "planned from an inventory alone: one utilisation figure (or the allocation) per server cannot show when "
    "servers peak or which peak together, so the plan is not time-aware and its over-target figures are not a "
    "replay of real load; give traces (sar, perfmon, vSphere, Prometheus...) with --inventory for a time-aware plan"
)


def inventory_traces(path: str | Path, *, powered_off: bool = False, servers: Iterable[str] | None = None) -> TraceSet:
    """An inventory export as a one-interval :class:`TraceSet` (module docstring).

    Parameters
    ----------
    path : an RVTools xlsx or an Azure Migrate import CSV.
    powered_off : plan the powered-off VMs too (templates never).
    servers : plan these servers of the export alone (one site's: ``plan --by cluster``).

    Returns
    -------
    TraceSet of one interval (:data:`INTERVAL_S`) starting at 00:00 UTC of the day the file was
    last written, with ``source = "<kind>:<path>"``.
    """
    export = read_inventory_export(path)
    table = planned_servers(export, powered_off=powered_off)
    if servers is not None:
        table = table[table["server_id"].astype(str).isin(set(map(str, servers)))].reset_index(drop=True)
    if table.empty:
        raise InputError(f"{export.path}: no server to plan (every one is a template or powered off); "
                         "pass --include-powered-off to plan the powered-off VMs")
    ids = tuple(table["server_id"].astype(str))
    aligned = align_inventory(ids, None, with_hosts(export, table))
    inventory, counts, warnings = aligned.inventory, aligned.counts, aligned.warnings
    given = table["cpu_util_pct"].to_numpy(dtype=np.float64)
    figure = np.isfinite(given)
    cpu_pct = np.where(figure, np.clip(given, 0.0, 100.0), 100.0 / ALLOCATION_VCPU_RATIO)
    mem_given = table["mem_util_pct"].to_numpy(dtype=np.float64)
    mem_gb = None
    if np.isfinite(mem_given).all():
        mem_gb = (np.clip(mem_given, 0.0, 100.0) / 100.0 * inventory.ram_gb)[:, None].astype(np.float32)
    counts = {**export.counts, **counts, "servers_one_figure": int(figure.sum()),
              "servers_by_allocation": int((~figure).sum())}
    conversions = list(export.conversions) + _sizing_sentences(int(figure.sum()), int((~figure).sum()), mem_gb is not None)
    written = pd.Timestamp(Path(export.path).stat().st_mtime, unit="s", tz="UTC").normalize()
    quality = QualityReport(samples=len(ids), missing_pct=0.0, counts=counts,
                            warnings=(SINGLE_FIGURE_WARNING, *export.notes, *warnings), conversions=tuple(conversions))
    return TraceSet(
        server_ids=ids, start=written, interval_s=INTERVAL_S,
        cpu_pct=np.ascontiguousarray(cpu_pct[:, None], dtype=np.float32), mem_gb=mem_gb,
        inventory=inventory, quality=quality, source=f"{export.kind}:{export.path}",
        source_hosts=aligned.hosts, untraced_vcpus=aligned.untraced_vcpus,
    )


def _sizing_sentences(one_figure: int, by_allocation: int, memory: bool) -> list[str]:
    out = []
    if one_figure:
        out.append(f"{one_figure} server(s) sized by the one CPU utilisation figure the file gives, held all day")
    if by_allocation:
        out.append(f"{by_allocation} server(s) without a CPU figure sized by allocation: each vCPU busy at "
                   f"1/{ALLOCATION_VCPU_RATIO:g} of a thread (a {ALLOCATION_VCPU_RATIO:g}:1 vCPU:pCPU ratio)")
    out.append("memory in use = the memory utilisation figure x RAM" if memory
               else "no memory use figure for every server: memory is planned as allocated")
    return out
