"""Read a placement: ``server_id,host_id`` and, where given, ``host_model`` and the source servers'
provisioned ``source_cores`` and ``source_ram_gb`` when planned (a plan's placement.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from consolidate.errors import InputError
from consolidate.io.detect import one_line, os_error, shown

#: The columns a placement is read with; all but the first two are optional.
COLUMNS = ("server_id", "host_id", "host_model", "source_cores", "source_ram_gb")

HINT = "give the placement.csv a plan wrote"


def read_placement(placement: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A placement table with ``server_id``, ``host_id`` and, when given, ``host_model`` (from a DataFrame or a CSV path).

    A CSV is read as trace files are (gzip, encodings: :func:`consolidate.io.tabular.read_text_table`).
    """
    try:
        return _read(placement)
    except InputError as err:
        raise InputError(one_line(str(err))) from None
    except OSError as err:
        raise os_error(Path(str(placement)), err) from None


def _read(placement: pd.DataFrame | str | Path) -> pd.DataFrame:
    from consolidate.io.tabular import read_text_table

    if isinstance(placement, pd.DataFrame):
        frame = placement
    else:
        path = Path(placement)
        if not path.exists():
            raise InputError(f"{placement}: no such placement file; {HINT}")
        if path.is_dir():
            inside = path / "placement.csv"
            raise InputError(f"{placement}: is a folder; --placement takes the CSV file"
                             + (f" ({inside})" if inside.is_file() else f"; {HINT}"))
        frame, _ = read_text_table(path, "placement", HINT)
        frame = frame.rename(columns={c: c.lower() for c in frame.columns if c.lower() in COLUMNS})
    missing = {"server_id", "host_id"} - set(map(str, frame.columns))
    if missing:
        found = ", ".join(shown(str(c))[1:-1] for c in list(frame.columns)[:12])
        raise InputError(f"{placement}: missing column(s) {', '.join(sorted(missing))} (found: {found}); a placement needs server_id,host_id")
    if frame["server_id"].duplicated().any():
        dup = frame["server_id"][frame["server_id"].duplicated()].iloc[0]
        raise InputError(f"{placement}: server {shown(dup)} appears more than once; each server goes to one host")
    return frame[[c for c in COLUMNS if c in frame.columns]]
