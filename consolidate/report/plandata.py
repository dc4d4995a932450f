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

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs, business_case, estate_facts

REPLAY_FILE = "replay.parquet"
PLAN_FILES = ("summary.json", "placement.csv", "hosts.csv")
#: The last file a plan write puts in place: every file's name, size and SHA-256, and the plan's settings.
MANIFEST_FILE = "manifest.json"
#: Prefix of the hidden folders writers stage files in, ``.consolidate-<pid>-<random>``.
STAGING_PREFIX = ".consolidate-"
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


def file_digest(path: str | Path) -> dict:
    """A file's entry in a manifest: its size in bytes and its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def staging_folders(folder: Path) -> list[Path]:
    """The hidden ``.consolidate-*`` folders a writer stages its files in (see :func:`~consolidate.report.outputs.write_files`)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX) and p.is_dir())
    except OSError:
        return []


def read_manifest(path: Path) -> dict | None:
    """The manifest at ``path``, None when there is none; raises InputError when it cannot be read."""
    if not path.exists():
        return None
    again = f"run `consolidate plan --out {path.parent}` again"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable manifest ({exc}); {again}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("bytes"), int) and isinstance(e.get("sha256"), str) for e in files.values()
    ):
        raise InputError(f"{path}: not a consolidate manifest (no file list with sizes and hashes); {again}")
    return manifest


def check_manifest(folder: Path, required: tuple[str, ...] = PLAN_FILES) -> dict | None:
    """Check that ``folder`` holds one complete write: every file of its manifest.json, of the size and
    SHA-256 the manifest gives.

    Returns the manifest, or None for a folder that has none and no unfinished write (a plan folder put
    together by hand, or written before manifests). Raises :class:`InputError` naming the first file
    that does not match.
    """
    again = f"run `consolidate plan --out {folder}` again to rewrite it"
    manifest = read_manifest(folder / MANIFEST_FILE)
    if manifest is None:
        staged = staging_folders(folder)
        if staged:
            raise InputError(
                f"{folder} has no {MANIFEST_FILE} and holds an unfinished write ({staged[0].name}/): a run was stopped "
                f"while writing it or is writing it now, so its files may be of two plans; {again}"
            )
        return None
    if manifest.get("complete") is not True:
        raise InputError(
            f"{folder / MANIFEST_FILE} says a write into {folder} was under way (process {manifest.get('writer_pid', '?')}) "
            f"and did not finish: its files may be of two plans; {again}"
        )
    missing = [name for name in required if name not in manifest["files"]]
    if missing:
        raise InputError(f"{folder / MANIFEST_FILE} does not list {', '.join(missing)}: it is not a plan's manifest; {again}")
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"{path} is missing, but {MANIFEST_FILE} lists it; {again}")
        if path.stat().st_size != entry["bytes"] or file_digest(path)["sha256"] != entry["sha256"]:
            raise InputError(
                f"{path} is not the file {MANIFEST_FILE} lists (size or SHA-256 differ): it was changed after the plan "
                f"was written, or a write was stopped halfway; {again}"
            )
    return manifest


def read_plan_dir(path: str | Path, business: dict | None = None) -> PlanData:
    """A plan folder written by ``consolidate plan``.

    The folder's files are first checked against its manifest.json (:func:`check_manifest`), so
    that a folder holding parts of two plans (a write stopped halfway, a file changed by hand) is
    refused rather than read. ``business`` overrides the business-case inputs stored in
    summary.json (keys of :class:`BusinessInputs`; None values keep the stored ones). Raises
    :class:`InputError` when ``path`` is not a plan folder, or not one consistent plan.
    """
    folder = Path(path)
    hint = "give a folder that `consolidate plan --out` wrote"
    again = f"run `consolidate plan --out {folder}` again to rewrite it"
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; {hint}")
    missing = [name for name in PLAN_FILES if not (folder / name).is_file()]
    if missing and not (folder / MANIFEST_FILE).exists() and not staging_folders(folder):
        raise InputError(f"{folder} is not a plan folder (no {', '.join(missing)}); {hint}")
    check_manifest(folder)
    if missing:
        raise InputError(f"{folder} is not a plan folder (no {', '.join(missing)}); {hint}")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / 'summary.json'}: not valid JSON ({exc}); {hint}") from None
    needed = ("hosts_after", "assumptions", "estate", "utilisation", "cost_per_year_before")
    if not isinstance(summary, dict) or any(key not in summary for key in needed):
        raise InputError(f"{folder / 'summary.json'} lacks the report's figures; {again}")
    _check_summary(folder / "summary.json", summary, again)
    try:
        placement = pd.read_csv(folder / "placement.csv", dtype={"server_id": str, "host_id": str}, keep_default_na=False)
        hosts = pd.read_csv(folder / "hosts.csv", dtype={"host_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder}: placement.csv or hosts.csv is not a readable CSV ({exc}); {hint}") from None
    for name, frame, columns in (("placement.csv", placement, ("server_id", "host_id", "vcpus", "ram_gb")), ("hosts.csv", hosts, ("host_id",))):
        lacking = [c for c in columns if c not in frame.columns]
        if lacking:
            raise InputError(f"{folder / name}: missing column(s) {', '.join(lacking)}; {hint}")
    placement = _checked_placement(folder, placement, hosts, again)
    load, timestamps = _read_replay(folder / REPLAY_FILE, hosts["host_id"])
    data = PlanData(folder.resolve().name, summary, placement, hosts, load, timestamps)
    try:
        inputs = BusinessInputs.from_dict(summary.get("business_case", {}).get("inputs"), **(business or {}))
        return data.with_business(inputs)
    except InputError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError) as exc:
        raise InputError(f"{folder / 'summary.json'}: its figures are not what `consolidate plan` writes ({_describe(exc)}); {again}") from None


def _describe(exc: BaseException) -> str:
    """An exception in a few words: ``no key 'host'``, or the message."""
    if isinstance(exc, KeyError):
        return f"no key {exc.args[0]!r}" if exc.args else "a key is missing"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


#: summary.json's figures and the types the report reads them as.
_SUMMARY_TYPES = {
    "hosts_after": int, "hosts_before": int, "servers": int, "assumptions": dict, "estate": dict,
    "utilisation": dict, "cost_per_year_before": float, "cost_per_year_after": float,
    "energy_kwh_per_year_before": float, "energy_kwh_per_year_after": float, "trace": dict,
}
_ASSUMPTION_TYPES = {"host_model": str, "host": dict, "hypervisor": str}
_HOST_TYPES = {"cores": int, "threads": int, "ghz": float, "perf": float, "ram_gb": float}
_UTILISATION_TYPES = {
    "bin_pct": float, "before_counts": list, "after_counts": list, "before_p95_pct": float, "before_peak_pct": float,
    "before_median_server_peak_pct": float, "after_p95_pct": float, "after_peak_pct": float,
    "after_median_host_peak_pct": float, "cpu_target_pct": float,
}


def _check_summary(path: Path, summary: dict, again: str) -> None:
    """summary.json's main figures have the types the report and the exports read them as."""
    def check(where: str, table: dict, types: dict) -> None:
        for key, kind in types.items():
            if key not in table:
                if where == "":
                    continue
                raise InputError(f"{path}: no {where}{key}; {again}")
            value = table[key]
            if kind is float:
                ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
            elif kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            else:
                ok = isinstance(value, kind)
            if not ok:
                what = {int: "a whole number of at least 0", float: "a number", dict: "an object", str: "a text",
                        list: "a list"}[kind]
                raise InputError(f"{path}: {where}{key} is {json.dumps(value)[:60]}, not {what}; {again}")

    check("", summary, _SUMMARY_TYPES)
    check("assumptions.", summary["assumptions"], _ASSUMPTION_TYPES)
    check("assumptions.host.", summary["assumptions"]["host"], _HOST_TYPES)
    check("utilisation.", summary["utilisation"], _UTILISATION_TYPES)


def _bad_row(path: Path, frame: pd.DataFrame, mask, column: str, rule: str, again: str) -> InputError:
    row = int(np.flatnonzero(np.asarray(mask))[0])
    value = frame[column].iloc[row]
    return InputError(f"{path} line {row + 2}, column {column}: {str(value)[:60]!r} {rule}; fix that row or {again}")


def _checked_placement(folder: Path, placement: pd.DataFrame, hosts: pd.DataFrame, again: str) -> pd.DataFrame:
    """placement.csv with vcpus and ram_gb as numbers, each checked, and every host_id one of hosts.csv's.

    A row is refused (InputError naming its line and column) when vcpus is not a whole number of at
    least 1, ram_gb not a finite number above 0, or host_id neither empty (not placed) nor a host of
    hosts.csv; a host_id of hosts.csv must be a non-empty name without "/" or "\\", once.
    """
    path, hosts_path = folder / "placement.csv", folder / "hosts.csv"
    host_ids = hosts["host_id"].fillna("").astype(str)
    bad = (host_ids == "") | host_ids.str.contains(r"[/\\\x00-\x1f]", regex=True) | host_ids.isin({".", ".."})
    if bad.any():
        raise _bad_row(hosts_path, hosts, bad, "host_id", 'is not a host name (empty, or holds "/", "\\" or a control character)', again)
    dup = host_ids.duplicated()
    if dup.any():
        raise _bad_row(hosts_path, hosts, dup, "host_id", "is there twice", again)
    server_ids = placement["server_id"].astype(str)
    if (server_ids == "").any():
        raise _bad_row(path, placement, server_ids == "", "server_id", "is empty: every row needs a server id", again)
    unknown = (placement["host_id"] != "") & ~placement["host_id"].isin(set(host_ids))
    if unknown.any():
        raise _bad_row(path, placement, unknown, "host_id", f"is not a host of {hosts_path.name} (nor empty, for a server not placed)", again)
    vcpus = pd.to_numeric(placement["vcpus"], errors="coerce")
    bad = ~np.isfinite(vcpus.to_numpy(dtype=float)) | (vcpus < 1) | (vcpus != np.round(vcpus))
    if bad.any():
        raise _bad_row(path, placement, bad, "vcpus", "is not a whole number of at least 1", again)
    ram = pd.to_numeric(placement["ram_gb"], errors="coerce")
    bad = ~np.isfinite(ram.to_numpy(dtype=float)) | ~(ram > 0)
    if bad.any():
        raise _bad_row(path, placement, bad, "ram_gb", "is not a number of GB above 0", again)
    return placement.assign(vcpus=vcpus.astype(np.int64), ram_gb=ram.astype(float))


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
