"""The source-server inventory: reading and checking it, and lining it up with the traces.

A server the inventory does not describe (or describes with an empty cell) gets the stated
default below, is flagged in ``Inventory.defaulted`` and counted as ``inventory_defaulted``.

References
----------
.. [1] SPEC, SPECpower_ssj2008 result power_ssj2008-20100727-00278: Dell PowerEdge R710,
   2x Intel Xeon X5670 (6 cores, 12 threads, 2.93 GHz each), 2010.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.detect import existing, shown
from consolidate.io.tabular import read_text_table
from consolidate.models.trace import Inventory

# The default source server is a typical sprawl-era (2010) two-socket machine, the Dell
# PowerEdge R710 with two 6-core Xeon X5670 and hyper-threading on [1]. SPEC does not record
# the RAM of the measured box: 16 GB is our assumption of a typical configuration of the time.
DEFAULT_CORES = 12
DEFAULT_THREADS = 24
DEFAULT_GHZ = 2.93
DEFAULT_RAM_GB = 16.0
#: The reference core (per-clock performance 1.0) for every server without a ``perf`` value.
DEFAULT_PERF = 1.0
DEFAULT_DESCRIPTION = (
    f"{DEFAULT_CORES} cores / {DEFAULT_THREADS} threads at {DEFAULT_GHZ} GHz, {DEFAULT_RAM_GB:g} GB, "
    "a 2010 two-socket Dell PowerEdge R710"
)

REQUIRED = ("server_id", "cores", "ghz", "ram_gb")
NUMERIC = ("cores", "threads", "ghz", "ram_gb", "perf", "power_idle_w", "power_max_w")
FIELDS = ("server_id", "cores", "threads", "ghz", "ram_gb", "perf", "model", "power_idle_w", "power_max_w")

#: The largest value a source server's field can really have (a larger one is refused).
PLAUSIBLE_MAX = {"cores": 4096.0, "threads": 16384.0, "ghz": 10.0, "ram_gb": 65536.0, "perf": 100.0,
                 "power_idle_w": 1e5, "power_max_w": 1e5}

#: An inventory naming fewer than this share of the traced servers is warned about loudly
#: (naming none of them is an error).
MATCH_SHARE_WARNED = 0.5

#: How many server names a warning lists before "...".
NAMES_SHOWN = 5


def read_inventory(path_or_frame: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read and check an inventory: ``server_id,cores,ghz,ram_gb`` plus optional columns.

    Parameters
    ----------
    path_or_frame : a CSV file (``,`` ``;`` or tab separated) or a DataFrame with columns
        ``server_id, cores, ghz, ram_gb`` and optionally ``threads, perf, model,
        power_idle_w, power_max_w`` (names match ignoring case; other columns are ignored).

    Returns
    -------
    DataFrame with the columns of :data:`FIELDS`, one row per server: ``server_id`` as text,
    ``cores`` and ``threads`` (hardware threads; ``cores`` where empty), ``ghz`` (nominal clock,
    GHz), ``ram_gb`` (GB), ``perf`` (per-clock performance, 1.0 where empty), ``model`` (text),
    ``power_idle_w`` / ``power_max_w`` (W, NaN where empty). An empty ``cores``, ``ghz`` or
    ``ram_gb`` cell stays NaN: :func:`align_inventory` gives it the default.

    Raises
    ------
    InputError for a missing column, an empty or repeated server id, and a value that is not a
    positive number (naming the line and column), or threads < cores, or idle above max power.
    """
    if isinstance(path_or_frame, pd.DataFrame):
        raw = path_or_frame.reset_index(drop=True).astype(object).where(path_or_frame.notna().to_numpy(), "")
        label = "inventory"
        labels = list(path_or_frame.index)

        def row_of(i: int) -> str:
            return f"row {labels[i]}"
    else:
        path = Path(path_or_frame)
        if path.is_dir():
            raise InputError(f"{path}: is a folder; --inventory takes one CSV file")
        path = existing(path)
        raw, _ = read_text_table(path, "inventory", "give a CSV with server_id,cores,ghz,ram_gb")
        label = str(path)

        def row_of(i: int) -> str:
            return f"line {i + 2}"

    folded = [str(c).strip().lower() for c in raw.columns]
    twice = sorted({c for c in folded if folded.count(c) > 1})
    if twice:
        raise InputError(f"{label}: has the column {twice[0]!r} more than once (names match ignoring case); keep one")
    raw = raw.rename(columns={c: str(c).strip().lower() for c in raw.columns})
    for name in REQUIRED:
        if name not in raw.columns:
            raise InputError(f"{label}: missing column {name!r}; found columns: {', '.join(shown(str(c))[1:-1] for c in raw.columns[:12])}; an inventory needs {','.join(REQUIRED)}")
    out = pd.DataFrame({"server_id": raw["server_id"].astype(str).str.strip()})
    empty = out["server_id"] == ""
    if empty.any():
        raise InputError(f"{label}, {row_of(int(np.argmax(empty.to_numpy())))}: the server_id is empty")
    repeated = out["server_id"].duplicated(keep=False).to_numpy()
    if repeated.any():
        rows = np.flatnonzero(out["server_id"].to_numpy() == out["server_id"].to_numpy()[np.argmax(repeated)])
        raise InputError(f"{label}: server {shown(out['server_id'].iloc[rows[0]])} appears twice ({row_of(rows[0])} and {row_of(rows[1])}); keep one row per server")
    for name in NUMERIC:
        out[name] = _positive(raw[name], name, label, row_of) if name in raw.columns else np.nan
    out["threads"] = out["threads"].fillna(out["cores"])
    out["perf"] = out["perf"].fillna(DEFAULT_PERF)
    out["model"] = raw["model"].astype(str).str.strip() if "model" in raw.columns else ""
    few = (out["threads"] < out["cores"]).to_numpy()
    if few.any():
        raise InputError(f"{label}, {row_of(int(np.argmax(few)))}: threads is below cores; threads counts hardware threads (= cores without SMT)")
    hot = (out["power_idle_w"] > out["power_max_w"]).to_numpy()
    if hot.any():
        raise InputError(f"{label}, {row_of(int(np.argmax(hot)))}: power_idle_w is above power_max_w; give idle then full-load watts")
    return out[list(FIELDS)]


def _positive(cells: pd.Series, name: str, label: str, row_of: Callable[[int], str]) -> pd.Series:
    """A column of positive numbers; empty cells become NaN."""
    text = cells.astype(str).str.strip()
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(np.float64)
    for i, (t, v) in enumerate(zip(text.to_numpy(), values.to_numpy())):
        if t == "":
            continue
        if np.isnan(v):
            raise InputError(f"{label}, {row_of(i)}, column {name!r}: {shown(t)} is not a number; write a number or leave the cell empty")
        if not np.isfinite(v):
            raise InputError(f"{label}, {row_of(i)}, column {name!r}: {shown(t)} is not a finite number, which no server has; "
                             "write a number or leave the cell empty")
        if v <= 0:
            raise InputError(f"{label}, {row_of(i)}, column {name!r}: {shown(t)[1:-1]} must be a positive number")
        limit = PLAUSIBLE_MAX.get(name)
        if limit is not None and v > limit:
            raise InputError(f"{label}, {row_of(i)}, column {name!r}: {shown(t)[1:-1]} is more than any server has "
                             f"(at most {limit:g}); check the unit and the value")
    return values


def align_inventory(
    server_ids: tuple[str, ...],
    user: pd.DataFrame | None,
    derived: pd.DataFrame | None = None,
) -> tuple[Inventory, dict[str, int], list[str]]:
    """The inventory in trace row order: values from the files (``derived``), overridden per
    server and field by the user's inventory, then the stated defaults.

    Parameters
    ----------
    server_ids : the trace set's servers, in row order.
    user : a checked inventory (:func:`read_inventory`), or None.
    derived : inventory values a reader took from the trace files (same columns), or None.

    Returns
    -------
    The :class:`Inventory`, the counts ``inventory_defaulted`` (servers that got a default
    value) and ``inventory_unused`` (user rows naming no traced server), and warnings.
    """
    matched_warning = _check_match(server_ids, user)
    table = pd.DataFrame(np.nan, index=pd.Index(server_ids, name="server_id"), columns=list(NUMERIC))
    model = pd.Series("", index=table.index, dtype=object)
    for source in (derived, user):
        if source is None:
            continue
        rows = source.set_index("server_id")
        rows = rows.loc[rows.index.intersection(table.index)]
        given = rows[list(NUMERIC)].astype(np.float64)
        table.update(given)
        named = rows["model"].astype(str)
        model.update(named[named != ""])
    defaulted = table[["cores", "ghz", "ram_gb"]].isna().any(axis=1).to_numpy()
    known_cores = table["cores"].notna()
    table["threads"] = table["threads"].fillna(table["cores"].where(known_cores, DEFAULT_THREADS))
    table["cores"] = table["cores"].fillna(DEFAULT_CORES)
    table["threads"] = np.maximum(table["threads"], table["cores"])
    table["ghz"] = table["ghz"].fillna(DEFAULT_GHZ)
    table["ram_gb"] = table["ram_gb"].fillna(DEFAULT_RAM_GB)
    table["perf"] = table["perf"].fillna(DEFAULT_PERF)

    unused = [] if user is None else sorted(set(user["server_id"]) - set(server_ids))
    counts = {"inventory_defaulted": int(defaulted.sum()), "inventory_unused": len(unused)}
    warnings = [matched_warning] if matched_warning else []
    if user is None and derived is None:
        warnings.append(f"no inventory given: every server got the default server ({DEFAULT_DESCRIPTION}); pass --inventory")
    elif defaulted.any():
        names = list(np.asarray(server_ids, dtype=object)[defaulted])
        warnings.append(
            f"{len(names)} of {len(server_ids)} server(s) lack inventory values and got the defaults "
            f"({DEFAULT_DESCRIPTION}): {name_list(names)}"
        )
    if unused:
        warnings.append(f"ignored {len(unused)} inventory row(s) naming servers that are not in the traces: {name_list(unused)}")
    inventory = Inventory(
        server_ids=np.asarray(server_ids, dtype=object),
        cores=table["cores"].to_numpy(np.float64),
        threads=table["threads"].to_numpy(np.float64),
        ghz=table["ghz"].to_numpy(np.float64),
        perf=table["perf"].to_numpy(np.float64),
        ram_gb=table["ram_gb"].to_numpy(np.float64),
        model=model.to_numpy(dtype=object),
        power_idle_w=table["power_idle_w"].to_numpy(np.float64),
        power_max_w=table["power_max_w"].to_numpy(np.float64),
        defaulted=defaulted,
    )
    return inventory, counts, warnings


def _check_match(server_ids: tuple[str, ...], user: pd.DataFrame | None) -> str | None:
    """InputError when the user's inventory names none of the traced servers; a loud warning
    when it names fewer than :data:`MATCH_SHARE_WARNED` of them. Both show an id from each side."""
    if user is None or not len(server_ids):
        return None
    names = set(user["server_id"])
    matched = sum(1 for s in server_ids if s in names)
    share = matched / len(server_ids)
    if share >= MATCH_SHARE_WARNED:
        return None
    example_trace = next((s for s in server_ids if s not in names), server_ids[0])
    example_inv = next((s for s in user["server_id"] if s not in set(server_ids)), user["server_id"].iloc[0] if len(user) else "")
    folded = {str(s).strip().lower() for s in names}
    hint = " (they match ignoring case or blanks: write the ids as the traces do)" if example_trace.strip().lower() in folded else ""
    sides = f"traces: e.g. {shown(example_trace)}; inventory: e.g. {shown(example_inv)}{hint}"
    if matched == 0:
        raise InputError(f"the inventory names none of the {len(server_ids)} traced servers ({sides}); "
                         "key the inventory by the traces' server ids (for a folder, the file names)")
    return (f"THE INVENTORY NAMES ONLY {matched} OF {len(server_ids)} TRACED SERVERS ({share:.0%}, under the "
            f"{MATCH_SHARE_WARNED:.0%} this tool expects; {sides}): the others got the default server")


def name_list(names: list[str]) -> str:
    """The first few names, and how many more there are."""
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
