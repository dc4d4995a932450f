"""Write a plan's files into its output folder, all or nothing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from consolidate.errors import InputError
from consolidate.report.business import BusinessInputs
from consolidate.report.plandata import (
    MANIFEST_FILE,
    REPLAY_FILE,
    STAGING_PREFIX,
    PlanData,
    file_digest,
    from_plan,
    manifest_name,
    read_manifest,
    replay_frame,
    staging_folders,
)

REPORT_FILE = "report.html"
_STAGING_PID = re.compile(re.escape(STAGING_PREFIX) + r"(\d+)-")


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


class WriteError(InputError, OSError):
    """A write the file system refused (a full disk, no permission, a read-only folder): an
    :class:`InputError` for the CLI's one line, and an :class:`OSError` for callers that catch those."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    except OSError:
        return False
    return True


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the staging folders of earlier writes into ``out`` that were killed (their process is gone).

    A staging folder is named ``.consolidate-<pid>-<random>``; one whose process still runs is another
    write under way and is left alone; one without a pid (an older version's) is removed.
    """
    removed = []
    for folder in staging_folders(out):
        match = _STAGING_PID.match(folder.name)
        if match and int(match.group(1)) != os.getpid() and _pid_alive(int(match.group(1))):
            continue
        if folder.is_symlink():
            folder.unlink(missing_ok=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _safe_relative(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts and "\\" not in name


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def _remove_files(out: Path, names) -> None:
    """Remove ``names`` (relative to ``out``) and the sub-folders they leave empty."""
    for name in names:
        if not _safe_relative(name):
            continue
        path = out / name
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
        parent = path.parent
        while parent != out and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def write_files(
    out_dir: str | os.PathLike, files: dict[str, callable], *, kind: str | None = None,
    about: dict | None = None, update: bool = False,
) -> Path:
    """Write each ``name -> writer(path)`` into ``out_dir``, all or nothing.

    A name may hold sub-folders (``host-001/srv-1.cfg``). Every file is first written into a
    staging folder ``out_dir/.consolidate-<pid>-<random>/``; a failure there (a writer's error, a
    full disk) leaves ``out_dir`` as it was. Staging folders of earlier writes that were killed are
    removed first.

    With ``kind`` (``"plan"``, ``"sample"``, ``"export-xlsx"``...) the write ends with a manifest,
    :func:`manifest_name` of ``kind``: every file's name, size and SHA-256, ``about`` (the settings
    it was written with) and ``"complete": true``. The switch goes: the manifest is replaced by one
    that says ``"complete": false``, the files are renamed into place, the files the previous
    manifest listed and this write does not are removed, and the full manifest is renamed in last.
    A reader that checks the manifest (:func:`~consolidate.report.plandata.check_manifest`) thus sees
    the previous write whole, the new one whole, or a folder it refuses, wherever the writer is killed.
    ``update=True`` adds the files to the existing manifest instead of replacing it (``report``
    redrawing a plan folder's report.html). Raises :class:`InputError` when ``out_dir`` cannot be
    written.
    """
    out = Path(out_dir)
    where = "--out " + str(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{where} is a file; give a folder to write into")
    manifest_file = manifest_name(kind) if kind else None
    for name in files:
        if not _safe_relative(name) or name == manifest_file or Path(name).parts[0].startswith(STAGING_PREFIX):
            raise InputError(f"cannot write {name!r} into {out}: not a plain relative file name")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    except OSError as exc:
        raise WriteError(f"cannot write to {out}: {exc.strerror or exc}; choose another --out") from None
    done = False
    try:
        name = ""
        try:
            for name, writer in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                writer(staging / name)
        except OSError as exc:
            raise WriteError(
                f"cannot write {out / name}: {exc.strerror or exc}; nothing in {out} was changed: free some space "
                f"or choose another --out"
            ) from None
        try:
            _switch(out, staging, files, manifest_file, kind, about, update)
        except OSError as exc:
            raise WriteError(f"writing into {out} failed halfway ({exc.strerror or exc}); run the command again") from None
        done = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty: the folder this write made, nothing else
    return out


def _switch(out: Path, staging: Path, files: dict, manifest_file: str | None, kind, about, update: bool) -> None:
    """Move the staged files into ``out`` (see :func:`write_files`)."""
    if manifest_file is None:
        for name in files:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, out / name)
        return
    target = out / manifest_file
    try:
        old = read_manifest(target)
    except InputError:
        old = None  # unreadable: replaced below
    entries = {name: file_digest(staging / name) for name in files}
    stale: list[str] = []
    if update and old is not None and old.get("complete") is True:
        entries = {**old["files"], **entries}
        about = old.get("about") if about is None else about
    elif update:
        # no manifest to add to (or an unfinished one): write the files alone, leave the manifest be
        return _switch(out, staging, files, None, kind, about, False)
    elif old is not None and old.get("kind") in (None, kind):
        stale = [name for name in old["files"] if name not in entries]
    import consolidate

    manifest = {
        "manifest": "consolidate",
        "version": 1,
        "kind": kind,
        "consolidate_version": consolidate.__version__,
        "written_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "about": _jsonable(about or {}),
        "files": entries,
    }
    pending = {"complete": False, "writer_pid": os.getpid(), **manifest}
    _write_json(staging / ".pending", pending)
    _write_json(staging / ".manifest", {"complete": True, **manifest})
    os.replace(staging / ".pending", target)  # from here until the end, readers refuse the folder
    for name in files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, out / name)
    _remove_files(out, stale)
    os.replace(staging / ".manifest", target)


def write_plan(plan, out_dir: str | os.PathLike, business: BusinessInputs | None = None) -> Path:
    """placement.csv, hosts.csv, summary.json, replay.parquet and report.html of ``plan`` into ``out_dir``.

    summary.json is :meth:`Plan.report_summary <consolidate.planner.Plan.report_summary>`: the
    plan's summary with the utilisation histograms, the estate's facts and the business case
    for ``business`` (default inputs if None).
    """
    data = from_plan(plan, business, name=Path(out_dir).resolve().name)
    return write_plan_data(data, out_dir)


def plan_about(data: PlanData) -> dict:
    """What a plan folder's manifest says of the plan: its name, size and settings (summary.json's
    ``assumptions`` without the sources)."""
    s = data.summary
    settings = {k: v for k, v in s.get("assumptions", {}).items() if k != "sources"}
    return {"plan": data.name, "servers": s.get("servers"), "hosts_after": s.get("hosts_after"), "settings": settings}


def write_plan_data(data: PlanData, out_dir: str | os.PathLike) -> Path:
    """The plan folder of ``data`` (see :mod:`consolidate.report.plandata`), all or nothing: its
    manifest.json, written last, lists every file with its size and SHA-256 (see :func:`write_files`)."""
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
        kind="plan",
        about=plan_about(data),
    )


def write_report(scenarios: list[PlanData], path: str | os.PathLike) -> Path:
    """report.html comparing ``scenarios`` (one or more plans) at ``path``, written atomically.

    Into a plan folder whose manifest lists the file (``consolidate report PLAN_DIR``), the manifest
    is brought up to date with it, and the plan's summary.json is rewritten in the same write, so
    that its business case is the one the report shows (``report DIR --licence ...``). Raises :class:`InputError` when ``path`` is a folder, or when a
    plan's summary lacks what the report draws (nothing is written then).
    """
    from consolidate.report.html import render_report

    target = Path(path)
    if target.is_dir():
        raise InputError(f"--out {target} is a folder; give the report's file name, e.g. --out {target / REPORT_FILE}")
    try:
        listed = target.name in ((read_manifest(target.parent / MANIFEST_FILE) or {}).get("files") or {})
    except InputError:
        listed = False

    def draw(p: Path) -> None:
        try:
            html = render_report(scenarios)
        except InputError:
            raise
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError) as exc:
            what = f"no key {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else f"{type(exc).__name__}: {exc}"
            names = ", ".join(repr(d.name) for d in scenarios)
            raise InputError(
                f"summary.json of plan {names} lacks what the report draws ({what.splitlines()[0][:200]}); "
                "run `consolidate plan` again to rewrite the folder"
            ) from None
        p.write_text(html, encoding="utf-8")

    files = {target.name: draw}
    if listed and len(scenarios) == 1:
        files["summary.json"] = lambda p: p.write_text(summary_json(scenarios[0].summary) + "\n", encoding="utf-8")
    write_files(target.parent, files, kind="plan" if listed else None, update=listed)
    return target
