"""The source-server inventory: reading and checking it, and lining it up with the traces.

An inventory is a CSV of ``server_id,cores,ghz,ram_gb`` (plus optional columns), or an
inventory export of a tool: an RVTools workbook (:mod:`consolidate.io.rvtools`) or an Azure
Migrate "Import using CSV" file (:mod:`consolidate.io.azure_migrate`). An export is read into an
:class:`InventoryExport` (:func:`read_inventory_export`): every VM or machine it lists, with its
power state, template flag and the one utilisation figure it may give; :func:`read_inventory`
keeps the servers to plan, :func:`inventory_report` is what ``consolidate inspect`` shows.

A server the inventory does not describe (or describes with an empty cell) gets the stated
default below, is flagged in ``Inventory.defaulted`` and counted as ``inventory_defaulted``.

Servers that are VMs today name the physical machine they run on in the optional ``host``
column (an RVTools export: vInfo's Host). A row of the inventory whose ``server_id`` is such a
host describes that machine (an RVTools export: its vHost row); the hosts are what the estate
runs on before consolidation (:attr:`consolidate.models.trace.TraceSet.source_hosts`). A host
named but not described gets the default server, flagged.

References
----------
.. [1] SPEC, SPECpower_ssj2008 result power_ssj2008-20100727-00278: Dell PowerEdge R710,
   2x Intel Xeon X5670 (6 cores, 12 threads, 2.93 GHz each), 2010.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.detect import existing, head_bytes, shown, sniff_text
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
#: The optional text column naming the physical machine a server runs on as a VM ("": its own box).
HOST = "host"

#: The largest value a source server's field can really have (a larger one is refused).
PLAUSIBLE_MAX = {"cores": 4096.0, "threads": 16384.0, "ghz": 10.0, "ram_gb": 65536.0, "perf": 100.0,
                 "power_idle_w": 1e5, "power_max_w": 1e5}

#: The columns of :attr:`InventoryExport.servers`: :data:`FIELDS`, then ``vcpus`` (the
#: server's virtual CPUs; its cores for a physical machine), ``powered_on`` and ``template``
#: (bool), ``cpu_util_pct`` and ``mem_util_pct`` (the one utilisation figure the file gives,
#: 0-100, NaN where it gives none), and ``host``, ``cluster``, ``datacenter``, ``os`` (text, ""
#: where unknown).
SERVER_COLUMNS = FIELDS + ("vcpus", "powered_on", "template", "cpu_util_pct", "mem_util_pct",
                           "host", "cluster", "datacenter", "os")

#: The columns of :attr:`InventoryExport.hosts`, the physical hosts the VMs run on: ``cores``,
#: ``threads`` (hardware threads), ``ghz`` (nominal clock), ``ram_gb``, ``model`` (CPU model and
#: server model), ``cpu_util_pct`` / ``mem_util_pct`` (the host's load when the file was written).
HOST_COLUMNS = ("host", "cores", "threads", "ghz", "ram_gb", "model", "cpu_util_pct", "mem_util_pct",
                "cluster", "datacenter")

#: The inventory exports :func:`read_inventory_export` reads, as ``InventoryExport.kind`` names them.
EXPORT_FORMATS = ("rvtools", "azure-migrate")

#: An inventory naming fewer than this share of the traced servers is warned about loudly
#: (naming none of them is an error).
MATCH_SHARE_WARNED = 0.5

#: How many server names a warning lists before "...".
NAMES_SHOWN = 5

#: What column-name matching ignores besides case: blanks, underscores and the ``*`` that marks
#: a mandatory column in the Azure Migrate template.
_NAME_NOISE = re.compile(r"[\s_*]+")
#: A server id that is an IPv4 address (it has no domain to drop).
_IPV4 = re.compile(r"[\d.]+")


@dataclass(frozen=True)
class InventoryExport:
    """What an inventory export holds: every server it lists, the hosts, and what reading it did.

    Attributes
    ----------
    kind : ``"rvtools"`` or ``"azure-migrate"``.
    path : the file read.
    servers : one row per VM or machine, templates included (flagged), with the columns of
        :data:`SERVER_COLUMNS`; NaN where the file gives no value (:func:`read_inventory` and
        :func:`align_inventory` then apply the stated defaults).
    hosts : the physical hosts (RVTools ``vHost``), columns :data:`HOST_COLUMNS`; empty when the
        file lists none.
    counts : what was counted while reading (snake_case names, ints).
    conversions : one sentence per conversion made (MiB to GB, MHz to GHz...), with its count.
    notes : warnings: what the file lacks, what was left out or defaulted.
    """

    kind: str
    path: Path
    servers: pd.DataFrame
    hosts: pd.DataFrame
    counts: dict[str, int]
    conversions: tuple[str, ...]
    notes: tuple[str, ...]


def inventory_format(path: str | Path) -> str | None:
    """The inventory export a file is (one of :data:`EXPORT_FORMATS`), or None; never raises.

    Every Excel workbook (xlsx; an Excel 97-2003 file too, which is then refused saying so) is
    taken as RVTools, the one workbook the tool reads; a CSV whose header has the Azure Migrate
    template's ``Server name`` and ``Memory (In MB)`` columns is ``azure-migrate``.
    Ask this before reading a file as traces: a workbook is a zip file, which the trace readers
    refuse as compressed.
    """
    from consolidate.io.azure_migrate import looks_azure_migrate
    from consolidate.io.rvtools import looks_rvtools

    p = Path(path)
    try:
        if not p.is_file():
            return None
        if looks_rvtools(p):
            return "rvtools"
        text = sniff_text(head_bytes(p))
    except (InputError, OSError):
        return None
    return "azure-migrate" if text is not None and looks_azure_migrate(text) else None


def read_inventory_export(path: str | Path) -> InventoryExport:
    """Read an RVTools workbook or an Azure Migrate import CSV (:func:`inventory_format`).

    Returns
    -------
    The :class:`InventoryExport`: every server the file lists (templates and powered-off VMs
    included and flagged), the hosts, and the counts, conversions and warnings of the reading.
    Give it to :func:`planned_servers` for the servers to plan, to :func:`inventory_report` for
    what ``consolidate inspect FILE --json`` shows.

    Raises
    ------
    InputError, on one line, for a file that is neither, a workbook without a ``vInfo`` sheet
    (naming the sheets it has), a missing mandatory column, a value that is not a number or not
    plausible (naming the sheet or line, and the column), a server listed twice.
    """
    p = existing(path)
    kind = inventory_format(p)
    if kind == "rvtools":
        from consolidate.io.rvtools import read_rvtools

        return read_rvtools(p)
    if kind == "azure-migrate":
        from consolidate.io.azure_migrate import read_azure_migrate

        return read_azure_migrate(p)
    raise InputError(f"{p}: is neither an RVTools workbook (xlsx) nor an Azure Migrate import CSV (columns *Server name, "
                     "*Cores, *Memory (In MB)); give one of those, or an inventory CSV with server_id,cores,ghz,ram_gb")


def planned_servers(export: InventoryExport, *, powered_off: bool = False) -> pd.DataFrame:
    """The servers of an export to plan: never templates; powered-off VMs only with ``powered_off``.

    Returns the rows of ``export.servers`` (all :data:`SERVER_COLUMNS`), index reset.
    """
    servers = export.servers
    keep = ~servers["template"] & (servers["powered_on"] | powered_off)
    return servers[keep.to_numpy()].reset_index(drop=True)


def inventory_report(export: InventoryExport, *, powered_off: bool = False) -> dict:
    """What ``consolidate inspect FILE --json`` reports of an inventory export.

    ``servers`` counts the VMs and machines that are not templates (powered-off ones included);
    ``vcpus``, ``cores`` and ``ram_gb`` (GB = GiB: MiB / 1024) add up the values the file gives
    for them. ``planned`` and the ``planned_*`` totals are those of the servers a plan takes
    (:func:`planned_servers` with ``powered_off``); ``defaulted`` counts, among those, the servers
    whose cores, clock or RAM the file does not give, which get ``default_server``'s values.

    Returns
    -------
    dict with ``kind`` (``"inventory"``), ``format``, ``source``, ``servers``, ``powered_on``,
    ``powered_off``, ``templates``, ``vcpus``, ``cores``, ``ram_gb``, ``planned``,
    ``planned_vcpus``, ``planned_ram_gb``, ``cpu_util_given`` / ``mem_util_given`` (servers with
    a utilisation figure) and ``cpu_util_mean_pct`` / ``mem_util_mean_pct`` (their mean; None
    without any), ``hosts``, ``host_cores``, ``host_threads``, ``host_ram_gb`` (the physical hosts
    listed), ``defaulted`` (``servers``, ``cores``, ``ghz``, ``ram_gb``), ``default_server``,
    ``counts``, ``conversions`` and ``warnings``.
    """
    everything = export.servers
    servers = everything[~everything["template"].to_numpy()]
    planned = planned_servers(export, powered_off=powered_off)
    hosts = export.hosts
    powered_on = int(servers["powered_on"].sum())
    missing = planned[["cores", "ghz", "ram_gb"]].isna()
    return {
        "kind": "inventory",
        "format": export.kind,
        "source": str(export.path),
        "servers": len(servers),
        "powered_on": powered_on,
        "powered_off": len(servers) - powered_on,
        "templates": int(everything["template"].sum()),
        "vcpus": _total(servers["vcpus"]),
        "cores": _total(servers["cores"]),
        "ram_gb": _total(servers["ram_gb"]),
        "planned": len(planned),
        "planned_vcpus": _total(planned["vcpus"]),
        "planned_ram_gb": _total(planned["ram_gb"]),
        "cpu_util_given": int(servers["cpu_util_pct"].notna().sum()),
        "mem_util_given": int(servers["mem_util_pct"].notna().sum()),
        "cpu_util_mean_pct": _mean(servers["cpu_util_pct"]),
        "mem_util_mean_pct": _mean(servers["mem_util_pct"]),
        "hosts": len(hosts),
        "host_cores": _total(hosts["cores"]),
        "host_threads": _total(hosts["threads"]),
        "host_ram_gb": _total(hosts["ram_gb"]),
        "defaulted": {"servers": int(missing.any(axis=1).sum()), **{k: int(v) for k, v in missing.sum().items()}},
        "default_server": DEFAULT_DESCRIPTION,
        "counts": dict(export.counts),
        "conversions": list(export.conversions),
        "warnings": list(export.notes),
    }


def _total(values: pd.Series) -> float:
    return float(values.astype(np.float64).sum(skipna=True))


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if values.notna().any() else None


def read_inventory(path_or_frame: str | Path | pd.DataFrame, *, powered_off: bool = False) -> pd.DataFrame:
    """Read and check an inventory: ``server_id,cores,ghz,ram_gb`` plus optional columns, or an
    inventory export (an RVTools workbook, an Azure Migrate import CSV).

    Parameters
    ----------
    path_or_frame : a CSV file (``,`` ``;`` or tab separated) or a DataFrame with columns
        ``server_id, cores, ghz, ram_gb`` and optionally ``threads, perf, model,
        power_idle_w, power_max_w, host`` (names match ignoring case; other columns are ignored); or
        the path of an RVTools xlsx or an Azure Migrate CSV (:func:`read_inventory_export`).
    powered_off : for an export, keep the powered-off VMs too (templates are never kept).

    Returns
    -------
    DataFrame with the columns of :data:`FIELDS` and :data:`HOST`, one row per server (and per
    host the servers run on, where the inventory describes it): ``server_id`` as text,
    ``cores`` and ``threads`` (hardware threads; ``cores`` where empty), ``ghz`` (nominal clock,
    GHz), ``ram_gb`` (GB), ``perf`` (per-clock performance, 1.0 where empty), ``model`` (text),
    ``power_idle_w`` / ``power_max_w`` (W, NaN where empty), ``host`` (text, "" for a server on
    its own box). An empty ``cores``, ``ghz`` or ``ram_gb`` cell stays NaN: :func:`align_inventory`
    gives it the default. For an export, the servers of :func:`planned_servers` (a VM's cores and
    threads are its vCPUs) and the hosts it lists (:func:`host_rows`).

    Raises
    ------
    InputError for a missing column, an empty or repeated server id, and a value that is not a
    positive number (naming the line and column), or threads < cores, or idle above max power;
    for an export, also when it lists no server to plan.
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
            raise InputError(f"{path}: is a folder; --inventory takes one file (an inventory CSV, an RVTools xlsx "
                             "or an Azure Migrate CSV)")
        path = existing(path)
        if inventory_format(path) is not None:
            return _export_fields(read_inventory_export(path), powered_off)
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
    check_unique(out["server_id"], label, row_of, "keep one row per server")
    for name in NUMERIC:
        out[name] = (number_values(raw[name], name, label, row_of, most=PLAUSIBLE_MAX.get(name))
                     if name in raw.columns else np.nan)
    out["threads"] = out["threads"].fillna(out["cores"])
    out["perf"] = out["perf"].fillna(DEFAULT_PERF)
    for name in ("model", HOST):
        out[name] = raw[name].astype(str).str.strip() if name in raw.columns else ""
    own = out[HOST] == out["server_id"]
    out.loc[own, HOST] = ""  # a machine "on itself" is a box of its own
    nested = out[HOST].isin(set(out.loc[out[HOST] != "", "server_id"])).to_numpy() & (out[HOST] != "").to_numpy()
    if nested.any():
        row = int(np.argmax(nested))
        raise InputError(f"{label}, {row_of(row)}: {out['server_id'].iloc[row]!r} runs on host {out[HOST].iloc[row]!r}, "
                         "which itself names a host; the host column names the physical machine a VM runs on")
    few = (out["threads"] < out["cores"]).to_numpy()
    if few.any():
        raise InputError(f"{label}, {row_of(int(np.argmax(few)))}: threads is below cores; threads counts hardware threads (= cores without SMT)")
    hot = (out["power_idle_w"] > out["power_max_w"]).to_numpy()
    if hot.any():
        raise InputError(f"{label}, {row_of(int(np.argmax(hot)))}: power_idle_w is above power_max_w; give idle then full-load watts")
    return out[[*FIELDS, HOST]]


def _export_fields(export: InventoryExport, powered_off: bool) -> pd.DataFrame:
    """The :data:`FIELDS` of an export's servers to plan, threads and perf filled as for a CSV."""
    planned = planned_servers(export, powered_off=powered_off)
    if planned.empty:
        servers = export.servers
        templates = int(servers["template"].sum())
        off = len(servers) - templates - int((servers["powered_on"] & ~servers["template"]).sum())
        hint = "; ask for powered-off VMs to be planned too (powered_off=True)" if off else ""
        raise InputError(f"{export.path}: lists no server to plan ({len(servers)} listed: {off} powered off, "
                         f"{templates} template(s), which are never planned){hint}")
    out = with_hosts(export, planned)
    out["threads"] = out["threads"].fillna(out["cores"])
    out["perf"] = out["perf"].fillna(DEFAULT_PERF)
    return out


def with_hosts(export: InventoryExport, servers: pd.DataFrame) -> pd.DataFrame:
    """``servers`` (rows of ``export.servers``) as inventory rows (:data:`FIELDS`, :data:`HOST`),
    then the export's hosts (RVTools vHost, ``host`` ""), but a host named like one of the servers
    (it cannot be described twice)."""
    rows = servers[[*FIELDS, HOST]]
    hosts = export.hosts
    if hosts.empty:
        return rows.reset_index(drop=True)
    hosts = hosts[~hosts["host"].isin(set(servers["server_id"]))]
    described = pd.DataFrame({"server_id": hosts["host"].astype(str)})
    for name in NUMERIC:
        described[name] = hosts[name].astype(np.float64) if name in hosts.columns else np.nan
    described["model"] = hosts["model"].fillna("").astype(str)
    described[HOST] = ""
    return pd.concat([rows, described[[*FIELDS, HOST]]], ignore_index=True)


def fold_name(name: object) -> str:
    """A column name as names are matched: lower case, without blanks, ``_`` or ``*``."""
    return _NAME_NOISE.sub("", str(name)).lower()


def find_column(columns, names: tuple[str, ...], prefix: str = "") -> str | None:
    """The first of ``columns`` whose :func:`fold_name` is one of ``names`` (folded, in order of
    preference), or None. With ``prefix`` (folded), a column named ``prefix`` + a name matches
    too, after the columns named as such (RVTools' database names: ``vInfoCPUs`` for ``CPUs``)."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(fold_name(column), column)
    for column in columns:
        folded = fold_name(column)
        if prefix and folded.startswith(prefix) and len(folded) > len(prefix):
            by_name.setdefault(folded[len(prefix):], column)
    return next((by_name[n] for n in names if n in by_name), None)


def cell_text(value: object) -> str:
    """A cell as text: "" for an empty one, a whole float without ``.0`` (a spreadsheet stores
    every number as a float), anything else as ``str``, stripped."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_unique(ids: pd.Series, label: str, row_of: Callable[[int], str], fix: str, what: str = "server") -> None:
    """InputError naming the first id of ``ids`` that appears twice, with both of its rows."""
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        rows = np.flatnonzero(ids.to_numpy() == ids.to_numpy()[np.argmax(repeated)])
        raise InputError(f"{label}: {what} {shown(ids.iloc[rows[0]])} appears twice ({row_of(rows[0])} and {row_of(rows[1])}); {fix}")


def number_values(
    cells: pd.Series,
    name: str,
    label: str,
    row_of: Callable[[int], str],
    *,
    zero_ok: bool = False,
    most: float | None = None,
    percent: bool = False,
) -> pd.Series:
    """A column of numbers, checked; empty cells become NaN.

    Numbers must be positive (with ``zero_ok``: not negative) and at most ``most``. With
    ``percent`` a trailing ``%`` is dropped (``"42 %"``) and the value must be 0-100. InputError,
    naming ``label``, the row (``row_of``) and the column ``name``, for the first cell that is not so.
    """
    text = cells.map(cell_text).astype(str)
    if percent:
        text = text.str.replace(r"\s*%$", "", regex=True)
        zero_ok, most = True, 100.0
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(np.float64)
    given = (text != "").to_numpy()
    v = values.to_numpy()
    limit = np.inf if most is None else most
    too_much = ("is above 100 %; a utilisation is a share of the whole server (0-100)" if percent
                else f"is more than any server has (at most {limit:g}); check the unit and the value")
    checks = (
        (np.isnan(v), "is not a number; write a number or leave the cell empty", True),
        (np.isinf(v), "is not a finite number, which no server has; write a number or leave the cell empty", True),
        (v < 0 if zero_ok else v <= 0, "must not be negative" if zero_ok else "must be a positive number", False),
        (v > limit, too_much, False),
    )
    for bad, why, quoted in checks:
        bad = given & bad
        if bad.any():
            i = int(np.argmax(bad))
            value = shown(text.iloc[i]) if quoted else shown(text.iloc[i])[1:-1]
            raise InputError(f"{label}, {row_of(i)}, column {name!r}: {value} {why}")
    return values


@dataclass(frozen=True)
class Aligned:
    """What :func:`align_inventory` returns: the servers' :class:`Inventory`; the ``hosts`` they run
    on as VMs (an :class:`Inventory`, None without) and the vCPUs of the other VMs the inventory puts
    on each (``untraced_vcpus``, float64 (hosts,)); ``counts`` and ``warnings``."""

    inventory: Inventory
    hosts: Inventory | None
    untraced_vcpus: np.ndarray | None
    counts: dict[str, int]
    warnings: list[str]


def align_inventory(
    server_ids: tuple[str, ...],
    user: pd.DataFrame | None,
    derived: pd.DataFrame | None = None,
) -> Aligned:
    """The inventory in trace row order: values from the files (``derived``), overridden per
    server and field by the user's inventory, then the stated defaults; and the hosts the servers
    run on as VMs, described the same way.

    Parameters
    ----------
    server_ids : the trace set's servers, in row order.
    user : a checked inventory (:func:`read_inventory`), or None.
    derived : inventory values a reader took from the trace files (same columns; :data:`HOST`
        optional), or None.

    Returns
    -------
    :class:`Aligned`: the :class:`Inventory`; the source hosts (the machines the servers' ``host``
    names, but those that are traced servers themselves, by name; None when there are none) and
    the vCPUs of the untraced VMs the inventory puts on them; the counts ``inventory_defaulted``
    (servers that got a default value), ``inventory_unused`` (user rows naming no traced server nor
    its host), and where there are source hosts ``source_hosts``, ``source_hosts_defaulted`` and
    ``untraced_vms_on_source_hosts``; and warnings.
    """
    matched_warning = _check_match(server_ids, user)
    sources = [source for source in (derived, user) if source is not None]
    inventory, missing = _aligned(server_ids, sources)
    names = sorted(set(inventory.host) - {""} - set(server_ids))
    hosts, hosts_missing = _aligned(tuple(names), sources) if names else (None, None)
    hosts_defaulted = [] if hosts is None else list(hosts.server_ids[hosts.defaulted])
    defaulted = inventory.defaulted
    guests = _untraced_guests(names, sources, server_ids)

    unused = [] if user is None else sorted(set(user["server_id"]) - set(server_ids) - set(names) - set(guests.index))
    counts = {"inventory_defaulted": int(defaulted.sum()), "inventory_unused": len(unused)}
    if names:
        counts.update(source_hosts=len(names), source_hosts_defaulted=len(hosts_defaulted), untraced_vms_on_source_hosts=len(guests))
    warnings = [matched_warning] if matched_warning else []
    if not sources:
        warnings.append(f"no inventory given: every server got the default server ({DEFAULT_DESCRIPTION}); pass --inventory")
    elif defaulted.any():
        named = list(np.asarray(server_ids, dtype=object)[defaulted])
        warnings.append(
            f"{len(named)} of {len(server_ids)} server(s) lack inventory values and got those of the default server "
            f"(a 2010 Dell PowerEdge R710): {_filled(missing)}; pass --inventory with them: {name_list(named)}"
        )
    if hosts_defaulted:
        warnings.append(
            f"{len(hosts_defaulted)} of the {len(names)} host(s) the servers run on as VMs lack inventory values and are "
            f"costed as the default server (a 2010 Dell PowerEdge R710): {_filled(hosts_missing)}; add a row for each "
            f"(server_id = the host's name): {name_list(hosts_defaulted)}"
        )
    if len(guests):
        shared = sorted(set(guests))
        warnings.append(
            f"{len(shared)} of the {len(names)} host(s) the servers run on also run {len(guests)} VM(s) the traces do not "
            f"hold, which stay there: only the traced VMs' share of those hosts (by vCPUs) counts as freed: "
            f"{name_list(shared)}")
    if unused:
        warnings.append(f"ignored {len(unused)} inventory row(s) naming servers that are not in the traces: {name_list(unused)}")
    untraced = None
    if hosts is not None:
        vcpus = guests.index.map(_vcpus(sources)).to_numpy(dtype=np.float64)
        untraced = np.bincount(pd.Categorical(guests.to_numpy(), categories=names).codes, weights=vcpus,
                               minlength=len(names)).astype(np.float64) if len(guests) else np.zeros(len(names))
    return Aligned(inventory, hosts, untraced, counts, warnings)


def _untraced_guests(hosts: list[str], sources: list[pd.DataFrame], server_ids: tuple[str, ...]) -> pd.Series:
    """The inventory's rows that are not traced but run on one of ``hosts``: host by server id."""
    if not hosts:
        return pd.Series(dtype=object)
    host_of: dict[str, str] = {}
    for source in sources:
        if HOST in source.columns:
            given = source[source[HOST].fillna("").astype(str) != ""]
            host_of.update(zip(given["server_id"].astype(str), given[HOST].astype(str)))
    traced, named = set(server_ids), set(hosts)
    return pd.Series({s: h for s, h in host_of.items() if s not in traced and h in named}, dtype=object)


def _vcpus(sources: list[pd.DataFrame]) -> dict[str, float]:
    """Each row's vCPUs (threads, else cores, else the default's threads), the later sources' first."""
    out: dict[str, float] = {}
    for source in sources:
        threads = source["threads"].astype(np.float64).fillna(source["cores"].astype(np.float64)).fillna(DEFAULT_THREADS)
        out.update(zip(source["server_id"].astype(str), threads))
    return out


def _aligned(server_ids: tuple[str, ...], sources: list[pd.DataFrame]) -> tuple[Inventory, pd.DataFrame]:
    """The :class:`Inventory` of ``server_ids`` from ``sources`` (each overriding the one before,
    per server and field; empty text is no value), defaults filled; and which of ``cores``, ``ghz``,
    ``ram_gb`` each server lacked (bool frame)."""
    table = pd.DataFrame(np.nan, index=pd.Index(server_ids, name="server_id"), columns=list(NUMERIC))
    text = {name: pd.Series("", index=table.index, dtype=object) for name in ("model", HOST)}
    for source in sources:
        rows = source.set_index("server_id")
        rows = rows.loc[rows.index.intersection(table.index)]
        table.update(rows[list(NUMERIC)].astype(np.float64))
        for name, values in text.items():
            if name in rows.columns:
                given = rows[name].fillna("").astype(str)
                values.update(given[given != ""])
    missing = table[["cores", "ghz", "ram_gb"]].isna()
    known_cores = table["cores"].notna()
    table["threads"] = table["threads"].fillna(table["cores"].where(known_cores, DEFAULT_THREADS))
    table["cores"] = table["cores"].fillna(DEFAULT_CORES)
    table["threads"] = np.maximum(table["threads"], table["cores"])
    table["ghz"] = table["ghz"].fillna(DEFAULT_GHZ)
    table["ram_gb"] = table["ram_gb"].fillna(DEFAULT_RAM_GB)
    table["perf"] = table["perf"].fillna(DEFAULT_PERF)
    inventory = Inventory(
        server_ids=np.asarray(server_ids, dtype=object),
        cores=table["cores"].to_numpy(np.float64),
        threads=table["threads"].to_numpy(np.float64),
        ghz=table["ghz"].to_numpy(np.float64),
        perf=table["perf"].to_numpy(np.float64),
        ram_gb=table["ram_gb"].to_numpy(np.float64),
        model=text["model"].to_numpy(dtype=object),
        power_idle_w=table["power_idle_w"].to_numpy(np.float64),
        power_max_w=table["power_max_w"].to_numpy(np.float64),
        defaulted=missing.any(axis=1).to_numpy(),
        host=text[HOST].to_numpy(dtype=object),
    )
    return inventory, missing


def _filled(missing: pd.DataFrame) -> str:
    """Which defaults were filled in, and for how many servers: ``2.93 GHz for 3; 16 GB for 1``."""
    filled = {"cores": f"{DEFAULT_CORES} cores / {DEFAULT_THREADS} threads", "ghz": f"{DEFAULT_GHZ} GHz",
              "ram_gb": f"{DEFAULT_RAM_GB:g} GB"}
    return "; ".join(f"{filled[k]} for {int(n)}" for k, n in missing.sum().items() if n)


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
    short = {_short_name(s) for s in names}
    if example_trace.strip().lower() in folded:
        hint = " (they match ignoring case or blanks: write the ids as the traces do)"
    elif _short_name(example_trace) in short:
        # An inventory export keeps the names as written: FQDNs on one side, short names on the other.
        hint = " (they match without the domain: write the ids as the traces do, FQDN or short name)"
    else:
        hint = ""
    sides = f"traces: e.g. {shown(example_trace)}; inventory: e.g. {shown(example_inv)}{hint}"
    if matched == 0:
        raise InputError(f"the inventory names none of the {len(server_ids)} traced servers ({sides}); "
                         "key the inventory by the traces' server ids (for a folder, the file names)")
    return (f"THE INVENTORY NAMES ONLY {matched} OF {len(server_ids)} TRACED SERVERS ({share:.0%}, under the "
            f"{MATCH_SHARE_WARNED:.0%} this tool expects; {sides}): the others got the default server")


def _short_name(server_id: object) -> str:
    """A host name without its domain, in lower case (``Web01.corp.example`` -> ``web01``); an
    IPv4 address whole."""
    name = str(server_id).strip().lower()
    return name if _IPV4.fullmatch(name) else name.split(".", 1)[0]


def name_list(names: list[str]) -> str:
    """The first few names, and how many more there are."""
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
