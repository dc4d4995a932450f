"""A plan as the report and the exports see it, from a :class:`~consolidate.planner.Plan` in memory
or from the folder ``consolidate plan`` wrote.

A plan folder holds everything the report needs, so that ``consolidate report PLAN_DIR`` redraws
it without the traces:

- ``summary.json``: the plan's summary plus ``utilisation`` (histograms of CPU utilisation before
  and after, in :data:`UTIL_BIN_PCT` bins), ``estate`` (rack units, hardware price and licensed
  cores before and after, see :func:`consolidate.report.business.estate_facts`) and
  ``business_case``;
- ``placement.csv`` and ``hosts.csv``;
- ``replay.parquet``: the replayed host CPU load, % of each host's full capacity, float32, one
  column per host (named by ``host_id``) and one row per time step, with a ``timestamp`` column (UTC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs, business_case, estate_facts

REPLAY_FILE = "replay.parquet"
PLAN_FILES = ("summary.json", "placement.csv", "hosts.csv")
UTIL_BIN_PCT = 2.0
UTIL_BINS = int(round(100 / UTIL_BIN_PCT))


@dataclass(frozen=True)
class PlanData:
    """One plan's tables and figures.

    ``summary`` is summary.json's content; ``host_load_pct`` float32 (hosts, steps) the replayed
    host CPU load in % of full capacity, with ``timestamps`` its UTC grid (both None when a plan
    folder has no replay.parquet).
    """

    name: str
    summary: dict
    placement: pd.DataFrame
    hosts: pd.DataFrame
    host_load_pct: np.ndarray | None = None
    timestamps: pd.DatetimeIndex | None = None

    def with_business(self, inputs: BusinessInputs) -> "PlanData":
        """The same plan with its business case worked out again for ``inputs``."""
        return replace(self, summary={**self.summary, "business_case": business_case(self.summary, inputs)})

    @property
    def business(self) -> dict:
        return self.summary["business_case"]


def histogram_pct(values_pct: np.ndarray, bin_pct: float = UTIL_BIN_PCT) -> list[int]:
    """Counts of ``values_pct`` in bins of ``bin_pct`` from 0 to 100 %, then one bin above 100 %.

    Values below 0 count in the first bin, exactly 100 % in the last bin under 100; NaN is skipped.
    """
    values = np.asarray(values_pct).ravel()
    values = values[np.isfinite(values)]
    bins = int(round(100 / bin_pct))
    above = values > 100.0
    index = np.clip(np.floor(values[~above] / bin_pct), 0, bins - 1).astype(np.int64)
    counts = np.bincount(index, minlength=bins)
    return [int(c) for c in counts] + [int(above.sum())]


def utilisation(cpu_pct_before: np.ndarray, host_load_pct: np.ndarray, cpu_target: float, after: dict) -> dict:
    """summary.json's ``utilisation``: CPU utilisation before (per server-interval) and after
    (per host-interval), as histograms and percentiles, in %.

    ``after`` holds the replay's own ``after_p95_pct``, ``after_peak_pct`` and
    ``after_median_host_peak_pct``, so that the report quotes the replay's figures, not copies.
    """
    before = np.asarray(cpu_pct_before)
    stats_before = {"before_p95_pct": 0.0, "before_peak_pct": 0.0, "before_median_server_peak_pct": 0.0}
    if before.size:
        stats_before = {
            "before_p95_pct": float(np.nanpercentile(before, 95)),
            "before_peak_pct": float(np.nanmax(before)),
            "before_median_server_peak_pct": float(np.median(np.nanmax(before, axis=1))),
        }
    return {
        "bin_pct": UTIL_BIN_PCT,
        "before_counts": histogram_pct(before),
        "after_counts": histogram_pct(host_load_pct),
        "before_what": "server-intervals: CPU busy, % of the server's logical CPUs",
        "after_what": "host-intervals: CPU load, % of the host's full capacity (after hypervisor overhead)",
        **stats_before,
        **after,
        "cpu_target_pct": 100.0 * cpu_target,
    }


def host_text(assumptions: dict) -> str:
    """The plan's target hosts in words: the model, or for a mix the hosts per model
    (``3 x dell-r6515 + 2 x hpe-dl380-gen10plus``)."""
    if len(assumptions.get("host_models", ())) > 1:
        return assumptions["host_mix"]
    return assumptions["host_model"]


def hosts_text(summary: dict) -> str:
    """``5 dell-r6515 hosts``, or for a mix ``5 hosts (3 x dell-r6515 + 2 x hpe-dl380-gen10plus)``."""
    a = summary["assumptions"]
    if len(a.get("host_models", ())) > 1:
        return f"{summary['hosts_after']:,} hosts ({a['host_mix']})"
    return f"{summary['hosts_after']:,} {a['host_model']} hosts"


def report_facts(plan) -> dict:
    """The report's figures of ``plan`` (a :class:`~consolidate.planner.Plan`) that do not depend on the business case."""
    rep = plan.replay
    load_pct = (100.0 * rep.cpu_util).astype(np.float32)
    counts = plan.model_counts()
    figures = plan.summary["replay"]
    peaks_pct = 100.0 * rep.stats.peak_ghz / rep.cpu_capacity_ghz
    after = {
        "after_p95_pct": figures["cpu_util_p95_pct"],
        "after_peak_pct": figures["cpu_util_peak_pct"],
        "after_median_host_peak_pct": float(np.median(peaks_pct)) if peaks_pct.size else 0.0,
    }
    return {
        "utilisation": utilisation(plan.traces.cpu_pct, load_pct, plan.settings.cpu_target, after),
        "estate": estate_facts(
            plan.traces.inventory, plan.settings.host_model, plan.hosts_after,
            [(m, counts[m.name]) for m in plan.settings.models if counts.get(m.name, 0)],
        ),
        "host_load_pct": load_pct,
    }


def from_plan(plan, business: BusinessInputs | None = None, name: str | None = None) -> PlanData:
    """The report's view of ``plan`` (a :class:`~consolidate.planner.Plan`) and its business case."""
    facts = plan.report_facts
    summary = {**plan.summary, "utilisation": facts["utilisation"], "estate": facts["estate"]}
    summary["business_case"] = business_case(summary, business)
    return PlanData(
        name=name or (plan.summary["assumptions"]["host_mix"] if plan.settings.is_mix else plan.settings.host_model.name),
        summary=summary,
        placement=plan.placement_frame(),
        hosts=plan.hosts_frame(),
        host_load_pct=facts["host_load_pct"],
        timestamps=plan.traces.timestamps(),
    )


def replay_frame(data: PlanData) -> pd.DataFrame:
    """replay.parquet's table: ``timestamp`` then one float32 column of load % per host."""
    load = data.host_load_pct if data.host_load_pct is not None else np.zeros((0, 0), np.float32)
    columns = {"timestamp": data.timestamps}
    columns.update({str(h): load[i] for i, h in enumerate(data.hosts["host_id"])})
    return pd.DataFrame(columns)


def read_plan_dir(path: str | Path, business: dict | None = None) -> PlanData:
    """A plan folder written by ``consolidate plan``.

    ``business`` overrides the business-case inputs stored in summary.json (keys of
    :class:`BusinessInputs`; None values keep the stored ones). Raises :class:`InputError` when
    ``path`` is not a plan folder.
    """
    folder = Path(path)
    hint = "give a folder that `consolidate plan --out` wrote"
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; {hint}")
    missing = [name for name in PLAN_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder} is not a plan folder (no {', '.join(missing)}); {hint}")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / 'summary.json'}: not valid JSON ({exc}); {hint}") from None
    needed = ("hosts_after", "assumptions", "estate", "utilisation", "cost_per_year_before")
    if not isinstance(summary, dict) or any(key not in summary for key in needed):
        raise InputError(f"{folder / 'summary.json'} lacks the report's figures; run `consolidate plan` again to rewrite {folder}")
    try:
        placement = pd.read_csv(folder / "placement.csv", dtype={"server_id": str, "host_id": str}, keep_default_na=False)
        hosts = pd.read_csv(folder / "hosts.csv", dtype={"host_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder}: placement.csv or hosts.csv is not a readable CSV ({exc}); {hint}") from None
    for name, frame, columns in (("placement.csv", placement, ("server_id", "host_id", "vcpus", "ram_gb")), ("hosts.csv", hosts, ("host_id",))):
        lacking = [c for c in columns if c not in frame.columns]
        if lacking:
            raise InputError(f"{folder / name}: missing column(s) {', '.join(lacking)}; {hint}")
    load, timestamps = _read_replay(folder / REPLAY_FILE, hosts["host_id"])
    inputs = BusinessInputs.from_dict(summary.get("business_case", {}).get("inputs"), **(business or {}))
    data = PlanData(folder.resolve().name, summary, placement, hosts, load, timestamps)
    return data.with_business(inputs)


def _read_replay(path: Path, host_ids: pd.Series) -> tuple[np.ndarray | None, pd.DatetimeIndex | None]:
    if not path.is_file():
        return None, None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}); run `consolidate plan` again") from None
    lacking = [h for h in host_ids if h not in frame.columns]
    if "timestamp" not in frame.columns or lacking:
        raise InputError(f"{path} does not match hosts.csv (no column for {lacking[:3] or 'timestamp'}); run `consolidate plan` again")
    load = np.ascontiguousarray(frame[list(host_ids)].to_numpy(dtype=np.float32).T)
    return load, pd.DatetimeIndex(frame["timestamp"])
