"""Exports of a plan folder for the people who carry the plan out.

``consolidate export PLAN_DIR --format FORMAT --out DIR`` writes, all or nothing:

- ``xlsx``: ``plan.xlsx``, the tables an operations or finance team works in, with the business
  case as formulas over its inputs (:mod:`consolidate.report.export_xlsx`);
- ``xen``: one ``xl`` guest config per placed server, ``<host_id>/<name>.cfg``, ``RUNBOOK.md``
  (host prerequisites, then migration waves with their checks and rollback) and ``servers.csv``
  (:mod:`consolidate.report.export_ops`);
- ``libvirt``: one domain XML per placed server, ``<host_id>/<name>.xml``, with ``RUNBOOK.md``
  and ``servers.csv``;
- ``json``: ``plan.json`` with the summary, the hosts and the placement.
"""

from __future__ import annotations

from pathlib import Path

from consolidate.errors import InputError
from consolidate.options import EXPORT_FORMATS
from consolidate.report.export_ops import DEFAULT_WAVE_SIZE, ops_files
from consolidate.report.export_xlsx import xlsx_files
from consolidate.report.outputs import summary_json, write_files
from consolidate.report.plandata import PlanData, read_plan_dir

FORMATS = EXPORT_FORMATS


def export_files(data: PlanData, fmt: str, wave_size: int = DEFAULT_WAVE_SIZE, source: str | Path | None = None) -> dict[str, callable]:
    """The files of export ``fmt`` of ``data``: relative name -> writer(path).

    Raises :class:`InputError` (naming the file under ``source``, the plan folder, and the line)
    for a value the format cannot hold: a control character or a text too long for an Excel cell,
    a guest size below 1 MiB or 1 vCPU; and for a wave size below 1.
    """
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    if wave_size < 1:
        raise InputError(f"--wave-size {wave_size} must be at least 1")
    if fmt == "xlsx":
        return xlsx_files(data, wave_size, source)
    if fmt == "json":
        document = {
            "summary": data.summary,
            "hosts": data.hosts.to_dict(orient="records"),
            "placement": data.placement.to_dict(orient="records"),
        }
        return {"plan.json": lambda p: Path(p).write_text(summary_json(document) + "\n", encoding="utf-8")}
    return ops_files(data, fmt, wave_size)


def export_plan(plan_dir: str | Path, fmt: str, out_dir: str | Path, wave_size: int = DEFAULT_WAVE_SIZE) -> list[Path]:
    """Export the plan folder ``plan_dir`` as ``fmt`` (xlsx, xen, libvirt, json) into ``out_dir``.

    Returns the files written. Raises :class:`InputError` for a folder that is not a plan, an
    unknown format or a wave size below 1.
    """
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    data = read_plan_dir(plan_dir)
    try:
        files = export_files(data, fmt, wave_size, source=plan_dir)
        about = {"plan": str(Path(plan_dir).resolve()), "format": fmt, "wave_size": wave_size}
        out = write_files(out_dir, files, kind=f"export-{fmt}", about=about)
    except InputError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        what = f"no key {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else f"{type(exc).__name__}: {exc}"
        raise InputError(
            f"{Path(plan_dir) / 'summary.json'}: lacks what the {fmt} export needs ({what.splitlines()[0][:200]}); "
            f"run `consolidate plan --out {plan_dir}` again to rewrite it"
        ) from None
    return [out / name for name in files]
