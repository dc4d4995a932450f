"""RVTools workbooks: the VMs and hosts of a vCenter as an inventory (``rvtools``).

RVTools (Dell, formerly Robware; Windows) reads a vCenter Server or an ESXi host through the
vSphere API and shows one tab per kind of object; its export is an xlsx workbook with one sheet
per tab: ``File > Export all to Excel`` in the program, or from the command line ::

    RVTools.exe -s vcenter.example.com -u USER -p PASSWORD -c ExportAll2xlsx -d C:\\exports -f rvtools.xlsx

(``-passthroughAuth`` instead of ``-u``/``-p`` logs in as the Windows user). The workbook is an
inventory snapshot, no time series: beside traces it gives their servers' hardware
(``--inventory``); alone it is planned by allocation or by the one utilisation figure below.

What is taken (column names match ignoring case and blanks: :data:`VINFO`, :data:`VHOST`,
:data:`VCPU`, :data:`VMEMORY`; the column sets differ between RVTools versions, from 14 to 92
vInfo columns; missing columns leave NaN, a sheet's empty rows are skipped):

- ``vInfo``, one row per VM (templates included): ``VM`` is the ``server_id``, as written (VM
  names must be unique in the sheet); ``Powerstate`` (``poweredOn``; ``poweredOff`` and
  ``suspended`` are not powered on; an empty cell is taken as powered on, counted);
  ``Template`` (``True``/``False``, as text or as Excel booleans); ``SRM Placeholder`` VMs (the
  stand-ins of a Site Recovery Manager recovery site, not servers of their own) are left out,
  counted; ``CPUs`` -> ``vcpus`` = ``cores`` = ``threads`` (a VM's CPU is its vCPUs);
  ``Memory`` in MiB -> ``ram_gb`` = MiB / 1024 [2]_; ``Host``, ``Cluster``, ``Datacenter``;
  ``OS according to the VMware Tools`` (else ``... to the configuration file``) -> ``os``, and
  ``model`` (``"VM on <host CPU model>"`` where no OS is named).
- ``vHost``, one row per ESXi host: ``Speed`` (MHz) / 1000 -> ``ghz``, of the host and of the
  VMs it runs (looked up by ``Host``; a VM whose host is not in vHost takes the speed its
  cluster's hosts all share, counted, else NaN and the stated default); ``# Cores`` (else
  ``# CPU`` x ``Cores per CPU``), ``threads`` = ``# CPU Threads``, else 2 x cores where ``HT
  Active``; ``# Memory`` (MiB) / 1024 -> ``ram_gb``; ``CPU Model``, ``Vendor``, ``Model`` ->
  ``model``; ``CPU usage %`` and ``Memory usage %`` (numbers, or text such as ``"42 %"``).
- ``vCPU``: ``CPUs`` where vInfo's cell is empty; ``Overall`` / ``Max`` x 100 ->
  ``cpu_util_pct`` of a powered-on VM: ``Overall`` is the VM's CPU use in MHz and ``Max`` the
  most it may use [1]_ (its vCPUs at its host's clock; its CPU limit where that is lower, and
  then the figure overstates the share of its vCPUs), both at the moment RVTools ran.
- ``vMemory``: ``Size MiB`` where vInfo's memory is empty; (``Consumed`` - ``Consumed
  Overhead``) / ``Size MiB`` x 100 -> ``mem_util_pct`` of a powered-on VM: the host memory that
  backs the guest's memory at that moment [1]_ (capped at 100, counted). Consumed rather than
  active memory: it is what a host must hold for the VM without reclaiming memory.

The utilisation figures are one instant each: they cannot show when the VMs peak, which
time-aware packing needs traces for (stated in the notes). The vCPU and vMemory rows are
matched to vInfo's by VM name.

References
----------
.. [1] VMware, vSphere Web Services API reference: ``VirtualMachineQuickStats``
   (``overallCpuUsage``, MHz; ``hostMemoryUsage``, consumed memory including overhead, MB) and
   ``VirtualMachineRuntimeInfo.maxCpuUsage`` (MHz).
.. [2] VMware, vSphere Web Services API reference: ``VirtualMachineConfigSummary.memorySizeMB``
   and ``HostHardwareSummary.memorySize``. vSphere's "MB" are 2**20 bytes (a 4 GB VM shows 4096):
   the columns RVTools headed ``MB`` before version 4 hold the numbers it now heads ``MiB``, so
   both are divided by 1024 (GB here are GiB, as everywhere in this tool).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.detect import os_error, shown
from consolidate.io.inventory import (
    DEFAULT_GHZ,
    HOST_COLUMNS,
    PLAUSIBLE_MAX,
    SERVER_COLUMNS,
    InventoryExport,
    cell_text,
    check_unique,
    find_column,
    fold_name,
    name_list,
    number_values,
)

ZIP_MAGIC = b"PK\x03\x04"
#: An OLE2 compound file: an Excel 97-2003 workbook, or an xlsx encrypted with a password.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The parts every xlsx workbook has.
XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")

#: Raw column names (folded: :func:`consolidate.io.inventory.fold_name`) by what they give, in
#: order of preference; one entry per name RVTools versions (and CSV-to-xlsx re-saves) use. With
#: ``-DBColumnNames`` RVTools heads the columns with its database names, the sheet's name and
#: the column's (``vInfoVMName``, ``vInfoCPUs``, ``vHostCpuMhz``): matched without the prefix.
VINFO = {
    "vm": ("vm", "vmname", "name"),
    "powerstate": ("powerstate",),
    "template": ("template",),
    "placeholder": ("srmplaceholder",),
    "cpus": ("cpus", "numcpu", "numcpus", "vcpus", "vcpu"),
    "memory": ("memory", "memorymib", "memory(mib)", "memorymb", "memory(mb)"),
    "host": ("host", "esxhost"),
    "cluster": ("cluster",),
    "datacenter": ("datacenter",),
    "os_tools": ("osaccordingtothevmwaretools", "ostools"),
    "os_config": ("osaccordingtotheconfigurationfile", "guestos", "os"),
}
VHOST = {
    "host": ("host", "hostname", "name"),
    "speed_mhz": ("speed", "speedmhz", "speed(mhz)", "cpuspeed", "cpumhz"),
    "sockets": ("#cpu", "cpusockets", "numcpu"),
    "cores_per_socket": ("corespercpu",),
    "cores": ("#cores", "numcpucores"),
    "threads": ("#cputhreads", "numcputhreads"),
    "ht_active": ("htactive",),
    "memory": ("#memory", "#memorymib", "#memorymb", "memorysize", "memory"),
    "cpu_model": ("cpumodel",),
    "vendor": ("vendor",),
    "model": ("model",),
    "cpu_pct": ("cpuusage%", "cpuusage"),
    "mem_pct": ("memoryusage%", "memoryusage"),
    "cluster": ("cluster",),
    "datacenter": ("datacenter",),
}
VCPU = {"vm": VINFO["vm"], "cpus": VINFO["cpus"], "overall_mhz": ("overall", "overallmhz"), "max_mhz": ("max", "maxmhz")}
VMEMORY = {
    "vm": VINFO["vm"],
    "size": ("sizemib", "size(mib)", "sizemb", "size(mb)", "size"),
    "consumed": ("consumed", "consumedmib", "consumedmb"),
    "consumed_overhead": ("consumedoverhead", "consumedoverheadmib", "consumedoverheadmb"),
}

#: ``Powerstate`` values (folded) and whether they are powered on.
POWER_STATES = {"poweredon": True, "poweredoff": False, "suspended": False}
#: Boolean cells as text (folded), as RVTools and office programs write them.
BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}

MIB_PER_GB = 1024.0
MHZ_PER_GHZ = 1000.0
#: The most a VM may have, in the file's units.
MOST_MIB = PLAUSIBLE_MAX["ram_gb"] * MIB_PER_GB
MOST_MHZ = PLAUSIBLE_MAX["ghz"] * MHZ_PER_GHZ
#: Hardware threads per core where ``HT Active``: two on every x86 server ESXi runs on.
THREADS_PER_CORE_HT = 2

EXPORT_HINT = "export all tabs with RVTools (File > Export all to Excel, or RVTools.exe -c ExportAll2xlsx)"


@dataclass(frozen=True)
class Sheet:
    """A worksheet's rows with data: header names as columns (first of a repeated name kept),
    cells as openpyxl gives them, and each row's number in the workbook."""

    label: str
    cells: pd.DataFrame
    rows: np.ndarray
    prefix: str

    def row_of(self, i: int) -> str:
        return f"row {self.rows[i]}"

    def column(self, names: tuple[str, ...]) -> str | None:
        return find_column(self.cells.columns, names, self.prefix)

    def text(self, names: tuple[str, ...]) -> pd.Series:
        """The first matching column as stripped text ("" where empty or absent)."""
        column = self.column(names)
        if column is None:
            return pd.Series("", index=self.cells.index, dtype=object)
        return self.cells[column].map(cell_text)

    def numbers(self, names: tuple[str, ...], **checks) -> pd.Series:
        """The first matching column as checked numbers (NaN where empty or absent)."""
        column = self.column(names)
        if column is None:
            return pd.Series(np.nan, index=self.cells.index)
        return number_values(self.cells[column], column, self.label, self.row_of, **checks)

    def flags(self, names: tuple[str, ...]) -> pd.Series:
        """The first matching column as booleans (False where empty or absent)."""
        column = self.column(names)
        if column is None:
            return pd.Series(False, index=self.cells.index)
        text = self.cells[column].map(cell_text).str.lower()
        known = text.isin(list(BOOLEANS)) | (text == "")
        if not known.all():
            i = int(np.argmax(~known.to_numpy()))
            raise InputError(f"{self.label}, {self.row_of(i)}, column {column!r}: {shown(text.iloc[i])} is not True or False; "
                             "write True, False or leave the cell empty")
        return text.map(BOOLEANS).fillna(False).astype(bool)


def looks_rvtools(path: Path) -> bool:
    """An Excel workbook: an xlsx (a zip file with the xlsx parts), or an OLE2 file (an Excel
    97-2003 workbook or an encrypted xlsx, which :func:`read_rvtools` refuses saying so)."""
    try:
        with open(path, "rb") as raw:
            magic = raw.read(8)
        if magic == OLE2_MAGIC:
            return True
        if not magic.startswith(ZIP_MAGIC):
            return False
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return all(part in names for part in XLSX_PARTS)


def read_rvtools(path: str | Path) -> InventoryExport:
    """Read an RVTools xlsx workbook into an :class:`~consolidate.io.inventory.InventoryExport`.

    Returns
    -------
    ``servers``: one row per VM of ``vInfo`` (templates and powered-off VMs flagged, SRM
    placeholders left out); ``hosts``: one row per ``vHost`` host; counts, conversions and notes
    as the module docstring says.

    Raises
    ------
    InputError, on one line: not an xlsx workbook (an Excel 97-2003 or encrypted one is named),
    no ``vInfo`` sheet (naming the sheets there are), no ``VM`` column, no VM, a VM listed twice,
    no vCPU count or memory size anywhere, a value that is not a number, a boolean or a known
    power state (naming the sheet, row and column).
    """
    p = Path(path)
    with open(p, "rb") as raw:
        if raw.read(8) == OLE2_MAGIC:
            raise InputError(f"{p}: is an Excel 97-2003 workbook or a password-protected one, which is not read; "
                             "save it as an .xlsx workbook without a password")
    sheets = _read_sheets(p)
    info = sheets["vinfo"]
    vms, unnamed = _vms(info, sheets.get("vcpu"), sheets.get("vmemory"))
    hosts, ht_hosts = _hosts(sheets["vhost"]) if "vhost" in sheets else (pd.DataFrame(columns=list(HOST_COLUMNS)), 0)
    memory_column = info.column(VINFO["memory"]) or ""
    return _export(p, vms, hosts, "vhost" in sheets,
                   {"rows_without_vm_name": unnamed, "ht_hosts": ht_hosts, "memory_column": memory_column})


def _read_sheets(path: Path) -> dict[str, Sheet]:
    """The vInfo sheet and, where present, the vHost, vCPU and vMemory sheets, by folded name
    (``tabvInfo`` as older RVTools versions named them is ``vinfo`` too)."""
    import openpyxl  # a dependency only reading workbooks needs

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            by_key = {_sheet_key(name): name for name in reversed(workbook.sheetnames)}
            if "vinfo" not in by_key:
                raise InputError(f"{path}: this workbook has no vInfo sheet, so it is not an RVTools export "
                                 f"(its sheets: {name_list(workbook.sheetnames)}); {EXPORT_HINT}, or give an inventory "
                                 "CSV with server_id,cores,ghz,ram_gb")
            return {key: _read_sheet(workbook[by_key[key]], f"{path}, sheet {by_key[key]}", key)
                    for key in ("vinfo", "vhost", "vcpu", "vmemory") if key in by_key}
        finally:
            workbook.close()
    except OSError as err:
        raise os_error(path, err) from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError, ParseError) as err:
        if isinstance(err, InputError):
            raise
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: cannot be read as an xlsx workbook ({shown(detail)[1:-1]}); "
                         "re-export it with RVTools, or open and save it again as .xlsx") from None


def _sheet_key(name: str) -> str:
    key = fold_name(name)
    return key[3:] if key.startswith("tab") else key


def _read_sheet(worksheet, label: str, key: str) -> Sheet:
    """The rows of a worksheet that hold a value; the first is the header. ``key``: the sheet's
    folded name, the prefix of its database column names."""
    # An office program re-saving the workbook writes its dimension as the whole sheet
    # (A1:CL1048576): without resetting it, openpyxl pads every row to it.
    worksheet.reset_dimensions()
    header: list[str] | None = None
    data: list[tuple] = []
    numbers: list[int] = []
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if not row or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # the empty rows a sheet is padded with
        if header is None:
            header = [cell_text(v) for v in row]
            continue
        data.append(row)
        numbers.append(number)
    if header is None:
        raise InputError(f"{label}: the sheet is empty; {EXPORT_HINT}")
    width = len(header)
    first = [i for i, name in enumerate(header) if name and name not in header[:i]]
    rows = [tuple(r[:width]) + (None,) * (width - len(r)) for r in data]
    cells = pd.DataFrame(rows, columns=range(width), dtype=object)[first] if rows else pd.DataFrame(columns=first)
    cells.columns = [header[i] for i in first]
    return Sheet(label, cells.reset_index(drop=True), np.asarray(numbers, dtype=np.int64), key)


def _vms(info: Sheet, vcpu: Sheet | None, vmemory: Sheet | None) -> tuple[pd.DataFrame, int]:
    """vInfo's VMs, with the vCPU and vMemory figures matched by VM name (the raw columns that
    :func:`_export` counts kept), and how many vInfo rows had no VM name."""
    if info.column(VINFO["vm"]) is None:
        raise InputError(f"{info.label}: has no VM column (found: {name_list(list(info.cells.columns))}); {EXPORT_HINT}")
    names = info.text(VINFO["vm"])
    named = (names != "").to_numpy()
    vms = pd.DataFrame({"server_id": names})
    vms["power_text"] = info.text(VINFO["powerstate"]).str.lower()
    vms["template"] = info.flags(VINFO["template"])
    vms["placeholder"] = info.flags(VINFO["placeholder"])
    vms["vcpus"] = info.numbers(VINFO["cpus"], most=PLAUSIBLE_MAX["cores"])
    vms["memory_mib"] = info.numbers(VINFO["memory"], most=MOST_MIB)
    for key in ("host", "cluster", "datacenter"):
        vms[key] = info.text(VINFO[key])
    tools, config = info.text(VINFO["os_tools"]), info.text(VINFO["os_config"])
    vms["os"] = tools.where(tools != "", config)
    vms["row"] = info.rows
    unknown = ~vms["power_text"].isin(list(POWER_STATES)) & (vms["power_text"] != "") & named
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy()))
        column = info.column(VINFO["powerstate"])
        raise InputError(f"{info.label}, {info.row_of(i)}, column {column!r}: {shown(vms['power_text'].iloc[i])} is not a "
                         "power state; RVTools writes poweredOn, poweredOff or suspended")
    vms = vms[named].reset_index(drop=True)
    if vms.empty:
        raise InputError(f"{info.label}: lists no VM (a header and no row with a VM name); {EXPORT_HINT}")
    check_unique(vms["server_id"], info.label, lambda i: f"row {vms['row'].iloc[i]}",
                 "keep one row per VM (VM names key the inventory)", what="VM")
    vms["powered_on"] = vms["power_text"].map(POWER_STATES).fillna(True).astype(bool)
    _add_vcpu(vms, info, vcpu)
    _add_vmemory(vms, info, vmemory)
    return vms, int((~named).sum())


def _by_vm(sheet: Sheet, vms: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """``columns`` of a per-VM sheet, lined up with ``vms`` by VM name (the first row of a name)."""
    frame = pd.DataFrame(columns).assign(vm=sheet.text(VINFO["vm"]))
    frame = frame[frame["vm"] != ""].drop_duplicates("vm").set_index("vm")
    return frame.reindex(vms["server_id"]).reset_index(drop=True)


def _add_vcpu(vms: pd.DataFrame, info: Sheet, vcpu: Sheet | None) -> None:
    """vCPUs where vInfo has none; ``cpu_util_pct`` = Overall / Max MHz of powered-on VMs."""
    vms["cpus_from_vcpu"] = False
    vms["cpu_util_pct"] = np.nan
    if vcpu is None:
        if info.column(VINFO["cpus"]) is None:
            raise InputError(f"{info.label}: has no CPUs column and the workbook no vCPU sheet, so no VM's vCPUs are "
                             f"known; {EXPORT_HINT}")
        return
    figures = _by_vm(vcpu, vms, {
        "cpus": vcpu.numbers(VCPU["cpus"], most=PLAUSIBLE_MAX["cores"]),
        "overall": vcpu.numbers(VCPU["overall_mhz"], zero_ok=True),
        "max": vcpu.numbers(VCPU["max_mhz"], zero_ok=True),
    })
    vms["cpus_from_vcpu"] = vms["vcpus"].isna() & figures["cpus"].notna()
    vms["vcpus"] = vms["vcpus"].fillna(figures["cpus"])
    running = vms["powered_on"] & (figures["max"] > 0)
    vms["cpu_util_pct"] = (100.0 * figures["overall"] / figures["max"]).where(running).clip(upper=100.0)


def _add_vmemory(vms: pd.DataFrame, info: Sheet, vmemory: Sheet | None) -> None:
    """Memory where vInfo has none; ``mem_util_pct`` = consumed (less its overhead) / size."""
    vms["memory_from_vmemory"] = False
    vms["mem_util_pct"] = np.nan
    vms["mem_util_capped"] = False
    if vmemory is None:
        if info.column(VINFO["memory"]) is None:
            raise InputError(f"{info.label}: has no Memory column and the workbook no vMemory sheet, so no VM's memory "
                             f"is known; {EXPORT_HINT}")
        return
    figures = _by_vm(vmemory, vms, {
        "size": vmemory.numbers(VMEMORY["size"], most=MOST_MIB),
        "consumed": vmemory.numbers(VMEMORY["consumed"], zero_ok=True),
        "overhead": vmemory.numbers(VMEMORY["consumed_overhead"], zero_ok=True),
    })
    vms["memory_from_vmemory"] = vms["memory_mib"].isna() & figures["size"].notna()
    vms["memory_mib"] = vms["memory_mib"].fillna(figures["size"])
    guest = figures["consumed"] - figures["overhead"].fillna(0.0)
    pct = (100.0 * guest / figures["size"]).where(vms["powered_on"] & (figures["size"] > 0))
    vms["mem_util_capped"] = pct > 100.0
    vms["mem_util_pct"] = pct.clip(lower=0.0, upper=100.0)


def _hosts(sheet: Sheet) -> tuple[pd.DataFrame, int]:
    """vHost's hosts with :data:`HOST_COLUMNS`, and how many of them have HT active."""
    names = sheet.text(VHOST["host"])
    cores = sheet.numbers(VHOST["cores"], most=PLAUSIBLE_MAX["cores"])
    sockets = sheet.numbers(VHOST["sockets"], most=PLAUSIBLE_MAX["cores"])
    per_socket = sheet.numbers(VHOST["cores_per_socket"], most=PLAUSIBLE_MAX["cores"])
    cores = cores.fillna(sockets * per_socket)
    threads = sheet.numbers(VHOST["threads"], most=PLAUSIBLE_MAX["threads"])
    ht = sheet.flags(VHOST["ht_active"])
    threads = threads.fillna(cores.where(~ht, cores * THREADS_PER_CORE_HT))
    speed_mhz = sheet.numbers(VHOST["speed_mhz"], most=MOST_MHZ)
    cpu_model, vendor, model = (sheet.text(VHOST[k]) for k in ("cpu_model", "vendor", "model"))
    box = (vendor + " " + model).str.strip()
    hosts = pd.DataFrame({
        "host": names,
        "cores": cores,
        "threads": threads,
        "ghz": speed_mhz / MHZ_PER_GHZ,
        "ram_gb": sheet.numbers(VHOST["memory"], most=MOST_MIB) / MIB_PER_GB,
        "model": cpu_model.where(box == "", cpu_model + ", " + box).str.strip(", "),
        "cpu_util_pct": sheet.numbers(VHOST["cpu_pct"], percent=True),
        "mem_util_pct": sheet.numbers(VHOST["mem_pct"], percent=True),
        "cluster": sheet.text(VHOST["cluster"]),
        "datacenter": sheet.text(VHOST["datacenter"]),
    })
    listed = (names != "").to_numpy()
    return hosts[listed].drop_duplicates("host").reset_index(drop=True), int(ht[listed].sum())


def _host_ghz(vms: pd.DataFrame, hosts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each VM's clock: its host's, else the one all the hosts of its (named) cluster share, as
    DRS may run it on any of them; and which VMs took the cluster's."""
    ghz = vms["host"].map(dict(zip(hosts["host"], hosts["ghz"])))
    clustered = hosts[hosts["cluster"] != ""].groupby(["datacenter", "cluster"])["ghz"]
    shared = clustered.agg(lambda g: g.iloc[0] if g.nunique() == 1 and g.notna().all() else np.nan)
    keys = pd.MultiIndex.from_frame(vms[["datacenter", "cluster"]])
    from_cluster = pd.Series(shared.reindex(keys).to_numpy(dtype=np.float64), index=vms.index)
    took_cluster = ghz.isna() & from_cluster.notna()
    return ghz.fillna(from_cluster), took_cluster


def _export(path: Path, vms: pd.DataFrame, hosts: pd.DataFrame, has_vhost: bool, facts: dict) -> InventoryExport:
    """The servers frame, the counts, conversions and notes; ``facts`` has what the sheets said
    besides the VMs (``rows_without_vm_name``, ``ht_hosts``, ``memory_column``)."""
    placeholder = vms["placeholder"].to_numpy()
    kept = vms[~placeholder].reset_index(drop=True)
    if has_vhost:
        ghz, took_cluster = _host_ghz(kept, hosts)
    else:
        ghz, took_cluster = pd.Series(np.nan, index=kept.index), pd.Series(False, index=kept.index)
    host_model = kept["host"].map(dict(zip(hosts["host"], hosts["model"]))).astype(object).fillna("")
    in_vhost = kept["host"].isin(set(hosts["host"]))
    no_host = kept["host"] == ""
    servers = pd.DataFrame({
        "server_id": kept["server_id"],
        "cores": kept["vcpus"],
        "threads": kept["vcpus"],
        "ghz": ghz,
        "ram_gb": kept["memory_mib"] / MIB_PER_GB,
        "perf": np.nan,
        "model": kept["os"].where(kept["os"] != "", ("VM on " + host_model).where(host_model != "", "")),
        "power_idle_w": np.nan,
        "power_max_w": np.nan,
        "vcpus": kept["vcpus"],
        "powered_on": kept["powered_on"],
        "template": kept["template"],
        "cpu_util_pct": kept["cpu_util_pct"],
        "mem_util_pct": kept["mem_util_pct"],
        "host": kept["host"],
        "cluster": kept["cluster"],
        "datacenter": kept["datacenter"],
        "os": kept["os"],
    })[list(SERVER_COLUMNS)]
    live = ~servers["template"]
    counts = {
        "vms": len(servers),
        "templates": int(servers["template"].sum()),
        "powered_off": int((live & ~servers["powered_on"]).sum()),
        "srm_placeholders_left_out": int(placeholder.sum()),
        "rows_without_vm_name": facts["rows_without_vm_name"],
        "powerstate_empty": int((kept["power_text"] == "").sum()),
        "cpus_from_vcpu_sheet": int(kept["cpus_from_vcpu"].sum()),
        "memory_from_vmemory_sheet": int(kept["memory_from_vmemory"].sum()),
        "host_empty": int(no_host.sum()),
        "host_not_in_vhost": int((~in_vhost & ~no_host).sum()) if has_vhost else 0,
        "ghz_from_cluster": int(took_cluster.sum()),
        "ghz_unknown": int(ghz.isna().sum()),
        "mem_util_capped_at_100": int(kept["mem_util_capped"].sum()),
    }
    conversions = _conversions(servers, hosts, took_cluster, facts)
    notes = _notes(servers, kept, counts, in_vhost | no_host, has_vhost)
    return InventoryExport("rvtools", path, servers, hosts, counts, conversions, notes)


def _conversions(servers: pd.DataFrame, hosts: pd.DataFrame, took_cluster: pd.Series, facts: dict) -> tuple[str, ...]:
    out = []
    n_ram = int(servers["ram_gb"].notna().sum())
    if n_ram:
        column = facts["memory_column"]
        said_mb = "mb" in fold_name(column) and "mib" not in fold_name(column)
        unit = f" (the column {column!r} says MB: vSphere's MB are MiB)" if said_mb else ""
        out.append(f"VM memory MiB / 1024 -> ram_gb for {n_ram} VM(s){unit}")
    n_ghz = int(servers["ghz"].notna().sum())
    if n_ghz:
        cluster = int(took_cluster.sum())
        via = f", {cluster} of them from the speed their cluster's hosts share" if cluster else ""
        out.append(f"host Speed MHz / 1000 -> ghz for {n_ghz} VM(s) from vHost{via}")
    n_cpu = int(servers["cpu_util_pct"].notna().sum())
    if n_cpu:
        out.append(f"vCPU Overall / Max MHz x 100 -> cpu_util_pct for {n_cpu} powered-on VM(s)")
    n_mem = int(servers["mem_util_pct"].notna().sum())
    if n_mem:
        out.append(f"vMemory (Consumed - Consumed Overhead) / Size MiB x 100 -> mem_util_pct for {n_mem} powered-on VM(s)")
    if len(hosts):
        out.append(f"vHost # Memory MiB / 1024 -> ram_gb and Speed MHz / 1000 -> ghz for {len(hosts)} host(s); "
                   f"threads = 2 x cores for the {facts['ht_hosts']} with HT Active")
    return tuple(out)


def _notes(servers: pd.DataFrame, kept: pd.DataFrame, counts: dict[str, int], found: pd.Series,
           has_vhost: bool) -> tuple[str, ...]:
    """``found``: the VMs whose host vHost lists, or that name no host."""
    out = []
    if counts["templates"]:
        out.append(f"{counts['templates']} template(s) counted apart, never planned")
    if counts["powered_off"]:
        out.append(f"{counts['powered_off']} powered-off VM(s) counted apart, not planned unless asked")
    if counts["srm_placeholders_left_out"]:
        out.append(f"{counts['srm_placeholders_left_out']} SRM placeholder VM(s) left out (the stand-ins of a recovery site)")
    if counts["rows_without_vm_name"]:
        out.append(f"{counts['rows_without_vm_name']} vInfo row(s) without a VM name skipped")
    if counts["powerstate_empty"]:
        out.append(f"{counts['powerstate_empty']} VM(s) with an empty Powerstate taken as powered on")
    if not has_vhost:
        out.append(f"no vHost sheet: every VM's clock is unknown and gets the default ({DEFAULT_GHZ} GHz)")
    else:
        if counts["host_not_in_vhost"]:
            missing = sorted(set(kept.loc[~found.to_numpy(), "host"]))
            out.append(f"{counts['host_not_in_vhost']} VM(s) run on hosts that vHost does not list ({name_list(missing)})")
        if counts["host_empty"]:
            out.append(f"{counts['host_empty']} VM(s) name no host")
        if counts["ghz_unknown"]:
            out.append(f"{counts['ghz_unknown']} VM(s) with no host clock known get the default ({DEFAULT_GHZ} GHz)")
    unknown = servers[["cores", "ram_gb"]].isna().any(axis=1)
    if unknown.any():
        out.append(f"{int(unknown.sum())} VM(s) with no vCPU count or memory size get the default server's: "
                   f"{name_list(list(servers.loc[unknown, 'server_id']))}")
    if servers["cpu_util_pct"].notna().any() or servers["mem_util_pct"].notna().any():
        out.append("the utilisation figures (vCPU, vMemory) are one instant, when RVTools ran: they cannot show when "
                   "VMs peak; give traces for time-aware packing")
    else:
        out.append("no utilisation figure (no vCPU Overall/Max, no vMemory Consumed): plan by allocation")
    return tuple(out)
