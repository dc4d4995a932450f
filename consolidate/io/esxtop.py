"""VMware esxtop batch output: the CSV of ``esxtop -b``, the PDH-CSV layout of an ESXi host.

esxtop in batch mode writes every counter of every screen as PDH-CSV (:mod:`consolidate.io.pdh`),
one column per ``\\\\host\\Object(Instance)\\Counter`` (thousands of them: only the columns
needed are parsed), one row per refresh, times in UTC (the header reads ``(UTC)(0)``) [1]_.
Export on the host (over SSH), or with ``resxtop --server HOST`` from a vCLI machine::

    esxtop -b -d 5 -n 720 > esx01.csv              # an hour of 5 s samples
    esxtop -b -d 60 -n 10080 | gzip > esx01.csv.gz  # a week of minutes

What is taken:

- servers: the host's VMs where the file has their CPU groups,
  ``\\Group Cpu(<group id>:<VM name>)\\% Used``, each VM a server; the host itself is then not
  a server (its CPU is its VMs' and the hypervisor's, counting both would count it twice).
  ``--columns server_id=host`` reads the host instead, as does a file without VM groups. The
  groups of the hypervisor (:data:`SYSTEM_GROUPS`, and user worlds such as ``hostd.2098123``)
  are not VMs; where the file has vCPU worlds, the VMs are the groups that own them;
- VM CPU: ``% Used`` is a percentage of ONE physical CPU (a busy 4-vCPU VM shows up to
  400 %), so busy % of the VM's vCPUs = ``% Used`` / vCPUs (``% Run`` where ``% Used`` is
  absent). The vCPUs are counted from the VM's vCPU worlds,
  ``\\Vcpu(<gid>:<VM>:<world id>:vmx-vcpu-N:<VM>)`` (``vcpu-N`` before ESXi 5); the group's
  ``Members`` (NWLD) is not that count, as it counts the VM's helper worlds (vmx, mks, svga)
  too. A VM without vCPU worlds in the file gets its CPU as a share of the host's logical
  CPUs, and that count as its cores and threads: its demand in CPUs is kept, and it is named
  in a warning (an inventory giving it other cores would rescale it);
- VM memory in use: ``\\Group Memory(<gid>:<VM>)\\Memory Consumed Size MBytes`` (else Granted,
  else Touched); its RAM: ``Memory Size MBytes``. MB are MiB; GB = MiB / 1024;
- host CPU: ``\\Physical Cpu(_Total)\\% Util Time`` (busy share of the logical CPUs), else
  ``% Core Util Time`` (of the cores; the inventory then gets the cores), else
  ``% Processor Time``; without ``_Total``, the mean of the per-CPU columns. The
  ``Physical Cpu(N)`` instances give the logical CPUs; where ``% Core Util Time`` is written
  (hyper-threading on), the cores are half of them;
- host memory in use: ``\\Memory\\Machine MBytes`` - ``Free MBytes``; its RAM: ``Machine MBytes``;
- times: UTC (no ``--timezone``). A file re-saved by a spreadsheet (no quotes, ``M/D/YYYY
  H:MM``, several rows per minute) is read, the lost seconds and shared stamps counted.

References
----------
.. [1] VMware, "Interpreting esxtop Statistics", VMware Communities document DOC-9279
   (section 2: worlds and groups, %USED, NWLD; section 3.2: machine memory; section 7: batch
   mode), 2010; Broadcom knowledge base article 382249, "Using ESXTop and Interpreting ESXTop
   Statistics", 2024.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing, shown
from consolidate.io.formats import TraceFormat
from consolidate.io.inventory import HOST, name_list
from consolidate.io.pdh import (
    MB_PER_GB,
    NS_PER_MIN,
    CounterPath,
    FileSeries,
    PdhHeader,
    column_mean,
    counter_path,
    hardware,
    head_names,
    line_of,
    literal,
    pdh_files,
    read_header,
    read_rows,
    samples_of,
    server_id,
    spreadsheet_sentences,
    utc_offset_text,
)
from consolidate.io.timestamps import to_utc_ns
from consolidate.models.trace import TraceSet

#: Objects only esxtop writes (compared case-folded): they tell its files from Windows logs.
ESXTOP_OBJECTS = frozenset({"physical cpu", "physical cpu load", "group cpu", "group memory", "vcpu",
                            "physical disk adapter", "physical disk scsi device", "physical disk nfs volume",
                            "network port", "interrupt vector"})

PHYSICAL_CPU, MEMORY, GROUP_CPU, GROUP_MEMORY, VCPU = "physical cpu", "memory", "group cpu", "group memory", "vcpu"

#: Host CPU counters of ``Physical Cpu``, in the order they are preferred.
UTIL, CORE_UTIL, PROCESSOR_TIME = "% Util Time", "% Core Util Time", "% Processor Time"
HOST_CPU_COUNTERS = (UTIL, CORE_UTIL, PROCESSOR_TIME)

#: A VM's CPU counters of ``Group Cpu``, preferred first (percent of one physical CPU).
VM_CPU_COUNTERS = ("% Used", "% Run")

#: A VM's memory in use of ``Group Memory``, preferred first; and its configured size.
VM_MEMORY_COUNTERS = ("Memory Consumed Size MBytes", "Memory Granted Size MBytes", "Touched MBytes")
VM_SIZE = "Memory Size MBytes"

MACHINE, FREE = "Machine MBytes", "Free MBytes"

#: CPU groups of the hypervisor itself, not VMs.
SYSTEM_GROUPS = frozenset({"system", "idle", "helper", "drivers", "ft", "vmotion", "host", "user", "vim", "vmvisor"})

#: A user-world group, ``<process>.<pid>`` (hostd.2098123, sh.2099411): not a VM.
USER_WORLD_GROUP = re.compile(r"^[\w.+-]+\.\d+$")

#: A vCPU world's instance: ``<gid>:<VM>:<world id>:vmx-vcpu-<N>:<VM>`` (``vcpu-<N>`` before ESXi 5).
VCPU_WORLD = re.compile(r"^(?P<gid>\d+):.*?:\d+:(?:vmx-)?vcpu-(?P<index>\d+)(?::|$)", re.IGNORECASE)

#: ``--columns server_id=...``: each VM a server, or the host.
VIEWS = ("vm", "host")


def read_esxtop(
    path: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    columns: dict[str, str] | None = None,
) -> TraceSet:
    """Read an esxtop batch CSV (plain or .gz), or a folder of them (one per host).

    Parameters
    ----------
    path : an ``esxtop -b`` file, or a folder of them.
    inventory : inventory CSV path or DataFrame; overrides the vCPUs, CPUs and RAM read from
        the file, and gives the clock, which esxtop does not write.
    interval_s : grid spacing in seconds (default: the refresh interval detected).
    columns : ``{"server_id": "vm"}`` (each VM a server; the default where the file has VM
        groups) or ``{"server_id": "host"}`` (the host a server).
    """
    p = existing(path)
    return assemble(esxtop_samples(p, columns=columns), fmt="esxtop", path=p, inventory=inventory, interval_s=interval_s)


def looks_esxtop(path: Path, head: bytes) -> bool:
    """A PDH-CSV header with counters of objects only esxtop writes (``Physical Cpu``, ``Group Cpu``...)."""
    names = head_names(head) or []
    return any(_is_esxtop(p) for p in map(counter_path, names[1:]) if p is not None)


def _is_esxtop(path: CounterPath) -> bool:
    return path.object.casefold() in ESXTOP_OBJECTS


def esxtop_samples(path: Path, *, columns: dict[str, str] | None = None) -> Samples:
    view = _view(columns)
    files, notes = pdh_files(path, looks_esxtop)
    return samples_of([_file(f, view) for f in files], notes)


def _view(columns: dict[str, str] | None) -> str | None:
    if not columns:
        return None
    view = columns.get("server_id", "").strip().lower()
    if set(columns) != {"server_id"} or view not in VIEWS:
        raise InputError("--columns: the esxtop format takes server_id=vm (each VM a server, the default where the file "
                         "has VM groups) or server_id=host (the host a server), nothing else")
    return view


@dataclass
class Layout:
    """Where an esxtop file's counters are: column numbers by host, group and counter (case-folded)."""

    host_cpu: dict = field(default_factory=dict)    # host -> counter -> [(column, instance)]
    host_memory: dict = field(default_factory=dict)  # host -> counter -> column
    groups: dict = field(default_factory=dict)       # (host, gid) -> (name, {counter: column})
    group_memory: dict = field(default_factory=dict)  # (host, name) -> {counter: column}
    vcpus: dict = field(default_factory=dict)        # (host, gid) -> {vCPU index}

    def vms(self) -> tuple[list[tuple[str | None, str, str]], list[str]]:
        """(host, gid, VM name) of the groups that are VMs and have a CPU counter: those that own
        vCPU worlds where the file has such worlds, else those not named as the hypervisor's;
        and the names of the groups that only the second rule would have taken."""
        vms, unlike = [], []
        for (host, gid), (name, counters) in self.groups.items():
            named_like_vm = name.casefold() not in SYSTEM_GROUPS and not USER_WORLD_GROUP.match(name)
            is_vm = (host, gid) in self.vcpus if self.vcpus else named_like_vm
            if is_vm and any(c.casefold() in counters for c in VM_CPU_COUNTERS):
                vms.append((host, gid, name))
            elif named_like_vm and not is_vm:
                unlike.append(name)
        return vms, unlike


def _layout(header: PdhHeader) -> Layout:
    layout = Layout()
    for column, p in enumerate(header.paths):
        if p is None:
            continue
        obj, counter = p.object.casefold(), p.counter.casefold()
        if obj == PHYSICAL_CPU:
            layout.host_cpu.setdefault(p.host, {}).setdefault(counter, []).append((column, p.instance))
        elif obj == MEMORY and p.instance is None:
            layout.host_memory.setdefault(p.host, {})[counter] = column
        elif obj == GROUP_CPU and p.instance and ":" in p.instance:
            gid, name = p.instance.split(":", 1)
            layout.groups.setdefault((p.host, gid), (name, {}))[1][counter] = column
        elif obj == GROUP_MEMORY and p.instance and ":" in p.instance:
            layout.group_memory.setdefault((p.host, p.instance.split(":", 1)[1]), {})[counter] = column
        elif obj == VCPU and p.instance and (world := VCPU_WORLD.match(p.instance)):
            layout.vcpus.setdefault((p.host, world["gid"]), set()).add(int(world["index"]))
    return layout


def _logical_cpus(layout: Layout, host: str | None) -> int:
    instances = {instance for columns in layout.host_cpu.get(host, {}).values() for _, instance in columns
                 if instance is not None and instance.isdigit()}
    return len(instances)


def _cpu_counts(layout: Layout, host: str | None) -> tuple[float, int]:
    """The host's cores and logical CPUs (its ``Physical Cpu(N)`` instances; half of them are cores
    where hyper-threading is on)."""
    logical = _logical_cpus(layout, host)
    return (logical / 2 if _hyper_threaded(layout, host) else logical), logical


def _hyper_threaded(layout: Layout, host: str | None) -> bool:
    """esxtop writes ``% Core Util Time`` only where hyper-threading is on."""
    return CORE_UTIL.casefold() in layout.host_cpu.get(host, {})


def _host_cpu(layout: Layout, host: str | None) -> tuple[str, list[int], bool] | None:
    """The preferred host CPU counter, its columns, and whether they are per-CPU columns to average."""
    for counter in HOST_CPU_COUNTERS:
        columns = layout.host_cpu.get(host, {}).get(counter.casefold(), [])
        total = [c for c, instance in columns if instance is not None and instance.casefold() == "_total"]
        if total:
            return counter, total[:1], False
        per_cpu = [c for c, instance in columns if instance is not None and instance.isdigit()]
        if per_cpu:
            return counter, per_cpu, True
    return None


@dataclass
class Server:
    """One server to read: its id, its CPU columns (averaged when several) and the divisor
    that makes them busy % of its CPUs, its memory in use (MiB: the first column less the
    second, if any), the column of its RAM (MiB, the largest value taken), and its hardware."""

    server_id: str
    cpu: list[int]
    cpu_divisor: float
    memory: list[int]
    ram: int | None
    hardware: dict


def _file(path: Path, view: str | None) -> FileSeries:
    header = read_header(path, lambda p: _is_esxtop(p) or p.object.casefold() == MEMORY)
    layout = _layout(header)
    vms, unlike = layout.vms()
    notes = [(f"{path.name}: {len(unlike)} CPU group(s) own no vCPU worlds, unlike the VMs, and are not taken as VMs: "
              f"{name_list(unlike)}")] if vms and unlike else []
    if view == "vm" and not vms:
        raise InputError(f"{path}: has no VM groups (\\Group Cpu(<id>:<VM>)\\% Used); it has {header.found()}; "
                         "leave --columns out to read the host")
    machines = []
    if vms and view != "host":
        servers, per_server = _vm_servers(layout, vms, path, notes)
        machines = [_machine(layout, host, path) for host in dict.fromkeys(host for host, _, _ in vms)]
        what = ("servers = the VMs of the host (its Group Cpu groups); the host itself is not a server, its CPU being "
                "its VMs' and the hypervisor's (--columns server_id=host reads the host): {n:,} VM(s)")
    else:
        servers, per_server = _host_servers(layout, header)
        what = "servers = the host (its Physical Cpu counters): {n:,} host(s)"
    needed = sorted({c for s in servers for c in [*s.cpu, *s.memory, *([s.ram] if s.ram is not None else [])]})
    rows = read_rows(header, needed)
    position = {c: k for k, c in enumerate(needed)}
    counts = dict(rows.counts)
    conversions: Counter = Counter({what: len(servers)})
    time_ns = _utc(rows.local_ns, header, rows.time_text, counts, conversions)
    n = len(time_ns)
    for sentence, k in per_server.items():
        conversions[sentence] += k * n
    cpu = np.empty((n, len(servers)), dtype=np.float32)
    mem = np.full((n, len(servers)), np.nan, dtype=np.float32)
    for k, server in enumerate(servers):
        cpu[:, k] = column_mean(rows.values[:, [position[c] for c in server.cpu]]) / server.cpu_divisor
        if server.memory:
            used = rows.values[:, position[server.memory[0]]]
            if len(server.memory) > 1:
                used = used - rows.values[:, position[server.memory[1]]]
            mem[:, k] = used / MB_PER_GB
        if server.ram is not None:
            ram_mib = rows.values[:, position[server.ram]]
            if np.isfinite(ram_mib).any():
                server.hardware["ram_gb"] = float(np.nanmax(ram_mib)) / MB_PER_GB
    spreadsheet_sentences(counts, conversions)
    return FileSeries([s.server_id for s in servers], time_ns, cpu, mem, [s.hardware for s in servers], counts,
                      notes + rows.notes, conversions, machines)


def _machine(layout: Layout, host: str | None, path: Path) -> dict:
    """The hardware of the host the VMs run on, as the file states it (its CPUs; no clock, RAM or model)."""
    cores, logical = _cpu_counts(layout, host)
    return hardware(server_id(host, path), cores=cores or np.nan, threads=logical or np.nan)


def _vm_servers(layout: Layout, vms: list, path: Path, notes: list[str]) -> tuple[list[Server], Counter]:
    """Each VM a server: CPU = % Used / vCPUs; memory = consumed MiB; and the conversion
    sentences with the number of VMs each applies to."""
    servers, unknown, per_server = [], [], Counter()
    for host, gid, name in vms:
        counters = layout.groups[(host, gid)][1]
        counter = next(c for c in VM_CPU_COUNTERS if c.casefold() in counters)
        vcpus = len(layout.vcpus.get((host, gid), ()))
        if vcpus:
            per_server[f"VM CPU busy % = \\Group Cpu(<id>:<VM>)\\{literal(counter)} (percent of one physical CPU) / "
                       "the VM's vCPUs, counted from its vCPU worlds: {n:,} samples"] += 1
        else:
            vcpus = _logical_cpus(layout, host)
            if not vcpus:
                raise InputError(f"{path}: VM {name!r} has no vCPU worlds (\\Vcpu(...:vmx-vcpu-N...)) and the host no "
                                 "\\Physical Cpu(N) columns, so its CPU cannot be made a share of CPUs; export again "
                                 "with esxtop -b, whose default counters include them")
            unknown.append(name)
            per_server[f"VM CPU busy % = \\Group Cpu(<id>:<VM>)\\{literal(counter)} / the host's logical CPUs (no "
                       "vCPU worlds for the VM in the file: its CPU is a share of the host, whose CPU count is its "
                       "cores): {n:,} samples"] += 1
        memory = layout.group_memory.get((host, name), {})
        used = next((c for c in VM_MEMORY_COUNTERS if c.casefold() in memory), None)
        if used is not None:
            per_server[f"VM memory in use = \\Group Memory(<id>:<VM>)\\{literal(used)} / 1024 (MiB to GB): "
                       "{n:,} samples"] += 1
        servers.append(Server(name, [counters[counter.casefold()]], float(vcpus),
                              [] if used is None else [memory[used.casefold()]], memory.get(VM_SIZE.casefold()),
                              {**hardware(name, cores=vcpus, threads=vcpus), HOST: server_id(host, path)}))
    if unknown:
        notes.append(f"{path.name}: {len(unknown)} VM(s) have no vCPU worlds in the file: their CPU is a share of the host's "
                     f"logical CPUs, and that count their cores (an inventory giving them other cores rescales their CPU): "
                     f"{name_list(unknown)}")
    return servers, per_server


def _host_servers(layout: Layout, header: PdhHeader) -> tuple[list[Server], Counter]:
    """Each host a server: CPU = Physical Cpu busy %; memory = Machine - Free MiB; and the
    conversion sentences with the number of hosts each applies to."""
    servers, per_server = [], Counter()
    for host in layout.host_cpu:
        chosen = _host_cpu(layout, host)
        if chosen is None:
            continue
        counter, columns, averaged = chosen
        cores, logical = _cpu_counts(layout, host)
        if counter == CORE_UTIL:
            logical = cores  # a percentage of the cores: the cores are its CPUs
        how = "the mean of the per-CPU columns \\Physical Cpu(N)" if averaged else "\\Physical Cpu(_Total)"
        per_server[f"host CPU busy % = {how}\\{literal(counter)}: {{n:,}} samples"] += 1
        memory = layout.host_memory.get(host, {})
        machine, free = memory.get(MACHINE.casefold()), memory.get(FREE.casefold())
        used = [machine, free] if machine is not None and free is not None else []
        if used:
            per_server["host memory in use = \\Memory\\Machine MBytes - Free MBytes, / 1024 (MiB to GB): {n:,} samples"] += 1
        sid = server_id(host, header.path)
        servers.append(Server(sid, columns, 1.0, used, machine,
                              hardware(sid, cores=cores or np.nan, threads=logical or np.nan)))
    if not servers:
        raise InputError(
            f"{header.path}: has no CPU counter (\\Physical Cpu(_Total)\\% Util Time, per-CPU columns, or VM groups "
            f"\\Group Cpu(<id>:<VM>)\\% Used); it has {header.found()}; export with esxtop -b, whose default counters "
            "include them"
        )
    return servers, per_server


def _utc(local_ns: np.ndarray, header: PdhHeader, time_text: np.ndarray, counts: dict[str, int],
         conversions: Counter) -> np.ndarray:
    """esxtop's times are UTC; a header that states another bias is honoured."""
    bias = header.bias_min or 0
    ns = to_utc_ns(pa.array(local_ns + bias * NS_PER_MIN, type=pa.timestamp("ns")), timezone=None,
                   where=f"{header.path}, column {shown(header.names[0])}", locate=lambda i: line_of(header, time_text[i]),
                   counts=counts)
    if bias:
        conversions[f"times to UTC by the header's bias, {bias} min west of UTC ({utc_offset_text(bias)}): "
                    f"{{n:,}} timestamps"] += len(ns)
    else:
        conversions["times read as UTC, as esxtop writes them: {n:,} timestamps"] += len(ns)
    return ns


FORMAT = TraceFormat("esxtop", "VMware esxtop batch CSV (esxtop -b)", esxtop_samples, looks=looks_esxtop,
                     reads="both", takes=("columns",))
