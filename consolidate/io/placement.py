"""Read a placement: ``server_id,host_id`` and, where given, ``host_model`` (a plan's placement.csv)."""

from __future__ import annotations

import pandas as pd

from consolidate.errors import InputError

#: The columns a placement is read with; ``host_model`` is optional.
COLUMNS = ("server_id", "host_id", "host_model")


def read_placement(placement: pd.DataFrame | str) -> pd.DataFrame:
    """A placement table with ``server_id``, ``host_id`` and, when given, ``host_model`` (from a DataFrame or a CSV path)."""
    if isinstance(placement, pd.DataFrame):
        frame = placement
    else:
        try:
            frame = pd.read_csv(placement, dtype={c: str for c in COLUMNS}, keep_default_na=False)
        except FileNotFoundError:
            raise InputError(f"{placement}: no such placement file; give the placement.csv a plan wrote") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{placement}: not a readable CSV ({exc}); give the placement.csv a plan wrote") from None
    missing = {"server_id", "host_id"} - set(frame.columns)
    if missing:
        raise InputError(f"{placement}: missing column(s) {', '.join(sorted(missing))}; a placement needs server_id,host_id")
    if frame["server_id"].duplicated().any():
        dup = frame["server_id"][frame["server_id"].duplicated()].iloc[0]
        raise InputError(f"{placement}: server {dup} appears more than once; each server goes to one host")
    return frame[[c for c in COLUMNS if c in frame.columns]]
