"""Write a plan's files into its output folder, all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs
from consolidate.report.plandata import REPLAY_FILE, PlanData, from_plan, replay_frame

REPORT_FILE = "report.html"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def summary_json(summary: dict) -> str:
    """summary.json text: plain JSON, NaN as null."""
    return json.dumps(_jsonable(summary), indent=2)


def write_files(out_dir: str | os.PathLike, files: dict[str, callable]) -> Path:
    """Write each ``name -> writer(path)`` into ``out_dir`` through a temporary folder.

    A name may hold sub-folders (``host-001/srv-1.cfg``). Every file is written first; only then are they renamed into place, so a failure leaves the
    folder as it was.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".consolidate-", dir=out))
    except OSError as exc:
        raise InputError(f"cannot write to {out}: {exc.strerror}; choose another --out") from None
    try:
        for name, writer in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            writer(staging / name)
        for name in files:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def write_plan(plan, out_dir: str | os.PathLike, business: BusinessInputs | None = None) -> Path:
    """placement.csv, hosts.csv, summary.json, replay.parquet and report.html of ``plan`` into ``out_dir``.

    summary.json is :meth:`Plan.report_summary <consolidate.planner.Plan.report_summary>`: the
    plan's summary with the utilisation histograms, the estate's facts and the business case
    for ``business`` (default inputs if None).
    """
    data = from_plan(plan, business, name=Path(out_dir).resolve().name)
    return write_plan_data(data, out_dir)


def write_plan_data(data: PlanData, out_dir: str | os.PathLike) -> Path:
    """The plan folder of ``data`` (see :mod:`consolidate.report.plandata`), all or nothing."""
    from consolidate.report.html import (
        render_report,  # matplotlib: only for commands that draw
    )

    return write_files(
        out_dir,
        {
            "placement.csv": lambda p: data.placement.to_csv(p, index=False),
            "hosts.csv": lambda p: data.hosts.to_csv(p, index=False),
            "summary.json": lambda p: p.write_text(summary_json(data.summary) + "\n", encoding="utf-8"),
            REPLAY_FILE: lambda p: replay_frame(data).to_parquet(p, index=False),
            REPORT_FILE: lambda p: p.write_text(render_report([data]), encoding="utf-8"),
        },
    )


def write_report(scenarios: list[PlanData], path: str | os.PathLike) -> Path:
    """report.html comparing ``scenarios`` (one or more plans) at ``path``, written atomically."""
    from consolidate.report.html import render_report

    target = Path(path)
    write_files(target.parent, {target.name: lambda p: p.write_text(render_report(scenarios), encoding="utf-8")})
    return target
