"""Azure Migrate "Import using CSV" files: servers with one utilisation figure each (``azure-migrate``).

Azure Migrate (Microsoft's assessment service) takes an inventory of servers to assess from a
CSV template [1]_: in the Azure portal, ``Azure Migrate > Servers, databases and web apps >
Discover``, then ``Import using CSV`` and ``Download`` (or go.microsoft.com/fwlink/?linkid=2109031);
users fill it from a CMDB or a vSphere export (up to 20,000 servers per file). It is an inventory, no time series: beside traces it gives their
servers' hardware (``--inventory``); alone it is planned by allocation or by its one CPU and
memory utilisation figure per server.

The template's header marks mandatory columns with ``*`` and gives units in the names:
``*Server name,IP addresses,*Cores,*Memory (In MB),*OS name,OS version,OS architecture,Server
type,Hypervisor,CPU utilization percentage,Memory utilization percentage,Network adapters,...,
Storage in use (In GB),Disk 1 size (In GB),...``; the file is UTF-8 with a byte-order mark. The
2019-2020 template had the same names without ``*`` (``Server name``, ``IP address``, ``Memory
(in MB)``, ``Location``, ...). Names match ignoring case, blanks and ``*`` (:data:`COLUMNS`).

What is taken:

- ``Server name`` -> ``server_id`` as written: the template asks for the FQDN, users often give
  short names; the id is kept either way (traces must name the server the same way to merge;
  the notes count FQDNs and short names). A name listed twice is an error.
- ``Cores`` ("processor cores allocated to the server") -> ``vcpus`` = ``cores`` = ``threads``
  (the template has no thread count).
- ``Memory (In MB)`` -> ``ram_gb`` = MB / 1024: the template's MB are MiB (its examples are
  2048, 4096, 8192), GB here GiB as everywhere in this tool.
- ``CPU utilization percentage`` and ``Memory utilization percentage`` -> ``cpu_util_pct`` and
  ``mem_util_pct`` (0-100; ``"42 %"`` read as 42; in a ``;``-separated file, a decimal
  comma as in ``12,5``): one figure per server, which cannot show when servers peak (stated in
  the notes).
- ``OS name`` (with ``OS version``) -> ``os`` and ``model``; ``Location`` -> ``datacenter``;
  ``Server type`` (``Physical`` / ``Virtual``) is counted. A physical server's ``Cores`` are its
  cores, with as many threads (the template does not say whether SMT is on).
- Every server is taken as powered on and none as a template (the template has no such
  columns); no clock speed is given: every server gets the default clock (stated).

The disk, network, hypervisor and application columns are not read: the tool plans CPU and
memory. Rows whose cells are all empty are skipped, counted.

References
----------
.. [1] Microsoft, "Tutorial: Assess servers using an imported CSV file", Azure Migrate
   documentation (learn.microsoft.com/azure/migrate/tutorial-discover-import), the table of
   the template's fields.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.inventory import (
    DEFAULT_GHZ,
    HOST_COLUMNS,
    PLAUSIBLE_MAX,
    SERVER_COLUMNS,
    InventoryExport,
    check_unique,
    find_column,
    fold_name,
    name_list,
    number_values,
)
from consolidate.io.tabular import name_text, read_text_table, sniff_csv

#: Raw column names (folded: :func:`consolidate.io.inventory.fold_name`) by what they give, in
#: order of preference (the current template's first).
COLUMNS = {
    "server": ("servername",),
    "cores": ("cores",),
    "memory_mb": ("memory(inmb)",),
    "os": ("osname",),
    "os_version": ("osversion",),
    "server_type": ("servertype",),
    "cpu_pct": ("cpuutilizationpercentage", "cpuutilization(%)", "cpuutilization"),
    "mem_pct": ("memoryutilizationpercentage", "memoryutilization(%)", "memoryutilization"),
    "location": ("location",),
}
#: The columns a file must have, as the template heads them.
MANDATORY = {"server": "*Server name", "cores": "*Cores", "memory_mb": "*Memory (In MB)"}

MIB_PER_GB = 1024.0

HINT = "fill the Azure Migrate template (Discover > Import using CSV > Download) and keep its header row"


def looks_azure_migrate(text: str) -> bool:
    """The first line of ``text`` has the template's ``Server name`` and ``Memory (In MB)``
    columns (with or without ``*``; a missing ``Cores`` is then an error naming it)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    folded = {fold_name(cell.strip().strip('"')) for cell in first.split(_delimiter(first))}
    return all(any(name in folded for name in COLUMNS[key]) for key in ("server", "memory_mb"))


def _delimiter(line: str) -> str:
    """The delimiter of a CSV header line: the most frequent of ``,`` ``;`` and tab (as
    :func:`consolidate.io.tabular.sniff_csv` judges it)."""
    return max((",", ";", "\t"), key=line.count)


def read_azure_migrate(path: str | Path) -> InventoryExport:
    """Read an Azure Migrate import CSV into an :class:`~consolidate.io.inventory.InventoryExport`.

    Returns
    -------
    ``servers``: one row per server (all powered on, none a template); ``hosts``: empty (the
    template names no physical host); counts, conversions and notes as the module docstring says.

    Raises
    ------
    InputError, on one line: a missing mandatory column (naming the columns found), an empty
    server name, a name listed twice, a value that is not a positive number or a percentage
    (naming the line and column).
    """
    p = Path(path)
    raw, encoding_note = read_text_table(p, "Azure Migrate import", HINT)
    found = {key: find_column(raw.columns, names) for key, names in COLUMNS.items()}
    for key, heading in MANDATORY.items():
        if found[key] is None:
            raise InputError(f"{p}: has no {heading!r} column, which the Azure Migrate template requires; "
                             f"found columns: {name_text(tuple(raw.columns))}; {HINT}")
    cells = raw.apply(lambda c: c.str.strip())
    blank = (cells == "").all(axis=1).to_numpy()
    lines = np.flatnonzero(~blank) + 2  # line 1 is the header

    def row_of(i: int) -> str:
        return f"line {lines[i]}"

    cells = cells[~blank].reset_index(drop=True)
    if cells.empty:
        raise InputError(f"{p}: lists no server (a header and no rows); {HINT}")

    def text(key: str) -> pd.Series:
        return cells[found[key]] if found[key] is not None else pd.Series("", index=cells.index, dtype=object)

    # A spreadsheet saved in a locale with a decimal comma writes ";"-separated cells ("12,5").
    decimal_comma = sniff_csv(p, need_rows=False).delimiter != ","

    def numbers(key: str, **checks) -> pd.Series:
        if found[key] is None:
            return pd.Series(np.nan, index=cells.index)
        column = cells[found[key]]
        if decimal_comma:
            column = column.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
        return number_values(column, found[key], str(p), row_of, **checks)

    names = text("server")
    empty = (names == "").to_numpy()
    if empty.any():
        raise InputError(f"{p}, {row_of(int(np.argmax(empty)))}: the {found['server']!r} cell is empty; "
                         "every server needs its name")
    check_unique(names, str(p), row_of, "keep one row per server (Azure Migrate also keys servers by name)")
    cores = numbers("cores", most=PLAUSIBLE_MAX["cores"])
    os_name = (text("os") + " " + text("os_version")).str.strip()
    servers = pd.DataFrame({
        "server_id": names,
        "cores": cores,
        "threads": cores,
        "ghz": np.nan,
        "ram_gb": numbers("memory_mb", most=PLAUSIBLE_MAX["ram_gb"] * MIB_PER_GB) / MIB_PER_GB,
        "perf": np.nan,
        "model": os_name,
        "power_idle_w": np.nan,
        "power_max_w": np.nan,
        "vcpus": cores,
        "powered_on": True,
        "template": False,
        "cpu_util_pct": numbers("cpu_pct", percent=True),
        "mem_util_pct": numbers("mem_pct", percent=True),
        "host": "",
        "cluster": "",
        "datacenter": text("location"),
        "os": os_name,
    })[list(SERVER_COLUMNS)]
    kind = text("server_type").str.lower()
    fqdn = names.str.contains(".", regex=False) & ~names.str.fullmatch(r"[\d.]+")
    counts = {
        "servers": len(servers),
        "blank_rows_skipped": int(blank.sum()),
        "physical": int((kind == "physical").sum()),
        "virtual": int((kind == "virtual").sum()),
        "fqdn_names": int(fqdn.sum()),
        "short_names": int((~fqdn).sum()),
    }
    conversions = (f"Memory (In MB) / 1024 -> ram_gb for {int(servers['ram_gb'].notna().sum())} server(s) "
                   "(the template's MB are MiB)",)
    return InventoryExport("azure-migrate", p, servers, pd.DataFrame(columns=list(HOST_COLUMNS)), counts,
                           conversions, _notes(servers, counts, encoding_note))


def _notes(servers: pd.DataFrame, counts: dict[str, int], encoding_note: str | None) -> tuple[str, ...]:
    out = [encoding_note] if encoding_note else []
    out.append(f"no clock speed in the template: every server gets the default clock ({DEFAULT_GHZ} GHz)")
    out.append(f"server ids kept as written ({counts['fqdn_names']} FQDN(s), {counts['short_names']} short name(s)): "
               "traces must name the servers the same way to be matched")
    if counts["blank_rows_skipped"]:
        out.append(f"{counts['blank_rows_skipped']} empty row(s) skipped")
    unknown = servers[["cores", "ram_gb"]].isna().any(axis=1)
    if unknown.any():
        out.append(f"{int(unknown.sum())} server(s) with no cores or memory get the default server's: "
                   f"{name_list(list(servers.loc[unknown, 'server_id']))}")
    given = servers["cpu_util_pct"].notna() | servers["mem_util_pct"].notna()
    if given.any():
        out.append(f"one utilisation figure per server ({int(given.sum())} of {len(servers)} give one): it cannot show "
                   "when servers peak; give traces for time-aware packing")
    else:
        out.append("no CPU or memory utilization percentage: plan by allocation")
    return tuple(out)
