"""Write a plan's files into its output folder, all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from consolidate.errors import InputError


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

    Every file is written first; only then are they renamed into place, so a failure leaves the
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
            writer(staging / name)
        for name in files:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def write_plan(plan, out_dir: str | os.PathLike) -> Path:
    """placement.csv, hosts.csv and summary.json of ``plan`` into ``out_dir``."""
    return write_files(
        out_dir,
        {
            "placement.csv": lambda p: plan.placement_frame().to_csv(p, index=False),
            "hosts.csv": lambda p: plan.hosts_frame().to_csv(p, index=False),
            "summary.json": lambda p: p.write_text(summary_json(plan.summary) + "\n"),
        },
    )
