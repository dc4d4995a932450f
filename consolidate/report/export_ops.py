"""The operations exports of a plan folder: Xen ``xl`` guest configs or libvirt domain XML, one per
placed server in a folder per target host, with ``RUNBOOK.md`` and ``servers.csv``.

Guest names (:func:`safe_names`) are the server ids made safe for a file name and a domain name:
``A-Z a-z 0-9 . _ -`` only, starting with a letter, unique ignoring case. ``xl`` and ``virsh``
take a domain id, a UUID or a name in the same argument, so a name that reads as an id
(``xl shutdown 27`` shuts down domain id 27) or as a UUID, or that is dom0's ``Domain-0``, is
never given: such names get the prefix ``vm-``. Every guest file names its server id in a
comment (xl) or in ``<title>`` and ``<metadata>`` (libvirt), and ``servers.csv`` and the
run-book map each id to its guest name, host, wave and file.

Migration waves (:func:`with_waves`): the quietest servers first (lowest CPU peak: the least to
lose if a guest misbehaves), ``wave_size`` servers a wave; the servers of an affinity group of the
plan's rules (which run on one host, as they talk to each other) move in one wave, a wave taking
a whole group even when it then holds more than ``wave_size`` servers; idle retire candidates
that were kept in the plan come last, in a wave of their own, to be confirmed with their owners
first. Each wave in the run-book: the table of its guests with their flags, the commands that
create them, the checks, the rollback (stop the new guests, start the sources again), and the
retirement of the sources once the wave is accepted.

Flags: a VM whose RAM is below the source's allocated RAM (``--mem-sizing used-*`` sized it from
the memory in use) and a server whose hardware was not in the inventory (its size defaulted) are
listed in the run-book before the waves and in their wave, and noted in their guest file.

References
----------
.. [1] Xen Project, xl.cfg(5): guest configuration syntax (``KEY = VALUE``, ``#`` comments,
   strings quoted, lists in brackets); xl(1): ``create``, ``shutdown -w``, ``destroy`` take a
   domain id or name; xl-disk-configuration; Xen Project best practices: ``dom0_mem``,
   ``autoballoon``.
.. [2] libvirt, "Domain XML format" (``<title>``, ``<description>``, ``<metadata>`` in its own
   namespace); virsh(1): a domain argument is tried as an id, then a UUID, then a name.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.models.hypervisor import MB_PER_GB, xen_dom0_gb
from consolidate.options import EXPORT, by_name
from consolidate.report.plandata import PlanData, hosts_text

DEFAULT_WAVE_SIZE = by_name(EXPORT)["wave_size"].default
NAME_MAX_CHARS = 60
#: Put before a guest name that xl or virsh would read as a domain id or UUID, or that is not a letter first.
NAME_PREFIX = "vm-"
DOM0_MAX_VCPUS = 2  # "dom0 should keep more than 1 vCPU" (Citrix XenServer, REFERENCE.md)
FILL_IN = "FILL IN"
#: Where the run-book has each host's folder of this export copied to, on that host.
HOST_DIRS = {"xen": "/etc/xen/consolidate", "libvirt": "/var/lib/libvirt/consolidate"}
SUFFIXES = {"xen": ".cfg", "libvirt": ".xml"}
#: Seconds a guest is given to shut down cleanly in a rollback before it is destroyed.
SHUTDOWN_TIMEOUT_S = 300
#: The namespace of the ``<metadata>`` element that keeps a libvirt guest's server id.
METADATA_NS = "urn:consolidate:export:1"
#: Placement RAM is rounded to 3 decimals: a VM whose RAM is this far below the source's is "reduced".
_RAM_TOLERANCE_GB = 5e-4
_UUID_LIKE = re.compile(r"[0-9a-fA-F]{32}")


def _reads_as_domain_id(name: str) -> bool:
    """True for an ASCII name that ``xl`` or ``virsh`` could take for something else: not a letter
    first (``27`` is a domain id), 32 hex digits with dashes (a UUID), or dom0's ``Domain-0``."""
    return (not re.match("[A-Za-z]", name) or _UUID_LIKE.fullmatch(name.replace("-", "")) is not None
            or name.casefold() == "domain-0")


def safe_names(server_ids: list[str]) -> list[str]:
    """A name for each server that is safe as a file name and as an ``xl`` / libvirt domain name,
    unique in any case.

    Accents are dropped (``ünïcode`` -> ``unicode``); other characters outside ``A-Z a-z 0-9 .
    _ -`` become ``_``; leading and trailing ``. _ -`` go; a name that does not start with a letter,
    reads as a UUID or is ``Domain-0`` gets :data:`NAME_PREFIX` (``27`` -> ``vm-27``); a name longer
    than 60 characters is cut and ends in 8 hex digits of the id's SHA-1; a name that is taken
    (ignoring case) gets ``-2``, ``-3``, ...
    """
    names: list[str] = []
    taken: set[str] = set()
    for server_id in server_ids:
        text = unicodedata.normalize("NFKD", str(server_id))
        text = "".join(c for c in text if not unicodedata.combining(c))
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "server"
        if _reads_as_domain_id(base):
            base = NAME_PREFIX + base
        if len(base) > NAME_MAX_CHARS:
            digest = hashlib.sha1(str(server_id).encode("utf-8", "surrogatepass")).hexdigest()[:8]
            base = base[: NAME_MAX_CHARS - 9].rstrip("._-") + "-" + digest
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        names.append(name)
    return names


#: Characters that would end a line or a file's text early: they are written as \\uXXXX.
_NOT_ONE_LINE = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]")


def quoted(text: str) -> str:
    """``text`` in double quotes on one line, for a comment or the run-book: quotes and backslashes
    escaped and every control or line-separator character as ``\\uXXXX`` (JSON string syntax), the
    other characters as they are (``"ünïcode"``)."""
    body = json.dumps(str(text), ensure_ascii=False)
    return _NOT_ONE_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)


def memory_mib(ram_gb: float) -> int:
    """A VM's memory in MiB (1 GB = 1024 MiB, as the hypervisor profiles count), rounded up."""
    return int(math.ceil(float(ram_gb) * MB_PER_GB - 1e-9))


def _column(placement: pd.DataFrame, name: str, default) -> pd.Series:
    """A placement.csv column, or ``default`` for a plan folder written before the column existed."""
    return placement[name] if name in placement.columns else pd.Series(default, index=placement.index)


def _true(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin({"true", "1", "yes"})


def guests(data: PlanData) -> pd.DataFrame:
    """Every server of the plan with its guest name, host folder, sizes and flags, in placement order.

    Columns: server_id, host_id, host_model, status, name, host_dir, vcpus, ram_gb, memory_mib,
    source_ram_gb (NaN where unknown), ram_reduced (bool: the VM has less RAM than the source's
    allocated RAM), inventory_defaulted (bool), cpu_peak_ghz, cpu_mean_ghz.
    """
    placement = data.placement
    ram = placement["ram_gb"].astype(float)
    source_ram = pd.to_numeric(_column(placement, "source_ram_gb", np.nan), errors="coerce").astype(float)
    frame = pd.DataFrame(
        {
            "server_id": placement["server_id"].astype(str),
            "host_id": placement["host_id"].fillna("").astype(str),
            "host_model": _column(placement, "host_model", "").fillna("").astype(str),
            "status": _column(placement, "status", "placed").astype(str),
            "vcpus": placement["vcpus"].astype(int),
            "ram_gb": ram,
            "memory_mib": [memory_mib(v) for v in ram],
            "source_ram_gb": source_ram,
            "ram_reduced": (ram < source_ram - _RAM_TOLERANCE_GB).to_numpy(),
            "inventory_defaulted": _true(_column(placement, "inventory_defaulted", False)).to_numpy(),
            "cpu_peak_ghz": pd.to_numeric(_column(placement, "cpu_peak_ghz", 0.0), errors="coerce").fillna(0.0).astype(float),
            "cpu_mean_ghz": pd.to_numeric(_column(placement, "cpu_mean_ghz", np.nan), errors="coerce").astype(float),
        }
    )
    frame["name"] = safe_names(list(frame["server_id"]))
    host_ids = sorted(set(frame["host_id"]) - {""})
    frame["host_dir"] = frame["host_id"].map(dict(zip(host_ids, safe_names(host_ids)))).fillna("")
    return frame


def flags(row) -> list[str]:
    """What the operator must check of one server before its guest is created, in words."""
    out = []
    if row.ram_reduced:
        out.append(f"RAM reduced from {row.source_ram_gb:,.2f} GB allocated to {row.ram_gb:,.2f} GB (sized from the memory in use)")
    if row.inventory_defaulted:
        out.append("size from defaulted inventory (the server was not in the inventory): check its real cores and RAM")
    return out


class _Union:
    """Union-find over server ids: overlapping affinity groups become one unit."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def affinity_groups(summary: dict) -> tuple[list[tuple[str, tuple[str, ...]]], str | None]:
    """The plan's affinity groups, ``(name, server ids)``, read from the rules file the plan names
    (``summary["constraints"]["file"]``), and a caveat for the run-book when the plan had groups
    that cannot be read now (the file moved or changed)."""
    rules = summary.get("constraints") or {}
    if not rules.get("affinity_groups"):
        return [], None
    path = str(rules.get("file") or "")
    # the rules' own reader, imported only for a plan with affinity groups
    from consolidate.solvers.constraints import read_constraints

    try:
        read = read_constraints(path) if path else None
    except InputError as exc:
        read, reason = None, str(exc)
    else:
        reason = "the plan does not name its rules file"
    if read is None or len(read.affinity) != rules["affinity_groups"]:
        if read is not None:
            reason = f"{path} now has {len(read.affinity)} affinity group(s), the plan had {rules['affinity_groups']}"
        return [], (f"The plan kept {rules['affinity_groups']} affinity group(s) on one host each, but its rules cannot be "
                    f"read now ({reason}): the waves below do not know the groups. Move each group's servers in one wave.")
    return [(g.name, g.servers) for g in read.affinity], None


def with_waves(frame: pd.DataFrame, wave_size: int = DEFAULT_WAVE_SIZE,
               groups: list[tuple[str, tuple[str, ...]]] = ()) -> pd.DataFrame:
    """``frame`` (of :func:`guests`) with its migration wave (``wave``, 1, 2, ...; 0 = not
    migrated) and affinity group (``affinity_group``, the group names joined by ``+`` where groups
    overlap; empty for none), rows in migration order: see the module docstring."""
    if wave_size < 1:
        raise InputError(f"--wave-size {wave_size} must be at least 1")
    placed_ids = set(frame.loc[frame["host_id"] != "", "server_id"])
    union, names = _Union(), {}
    for name, servers in groups:
        members = [s for s in dict.fromkeys(servers) if s in placed_ids]
        for a, b in itertools.pairwise(members):
            union.join(a, b)
        for s in members:
            names.setdefault(s, []).append(name)
    frame = frame.assign(unit=[union.find(s) if s in names else s for s in frame["server_id"]])
    group_names = {}
    for s, found in names.items():
        group_names.setdefault(union.find(s), set()).update(found)
    frame["affinity_group"] = [("+".join(sorted(group_names[u])) if u in group_names else "") for u in frame["unit"]]
    units: dict[str, dict] = {}  # per unit: its highest CPU peak, first id, size, and whether all are retire candidates
    for row in frame[frame["host_id"] != ""].itertuples(index=False):
        unit = units.setdefault(row.unit, {"peak": -math.inf, "first": row.server_id, "size": 0, "retire": True})
        unit["peak"], unit["first"] = max(unit["peak"], row.cpu_peak_ghz), min(unit["first"], row.server_id)
        unit["size"] += 1
        unit["retire"] &= row.status == "retire-candidate"
    wave_of: dict[str, int] = {}
    number, filled = 0, wave_size  # a full "wave 0" so that the first unit opens wave 1
    for key in sorted((k for k, u in units.items() if not u["retire"]), key=lambda k: (units[k]["peak"], units[k]["first"])):
        if filled + units[key]["size"] > wave_size and filled > 0:
            number, filled = number + 1, 0
        wave_of[key] = number
        filled += units[key]["size"]
    for key in (k for k, u in units.items() if u["retire"]):
        wave_of[key] = number + 1
    frame["wave"] = [wave_of.get(u, 0) if h != "" else 0 for u, h in zip(frame["unit"], frame["host_id"])]
    frame["last"] = frame["wave"] == 0  # the servers not migrated after the waves
    frame = frame.sort_values(["last", "wave", "cpu_peak_ghz", "server_id"], kind="stable")
    return frame.drop(columns=["unit", "last"]).reset_index(drop=True)


def waves(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """The migration waves of a frame of :func:`with_waves`, first to last."""
    placed = frame[frame["wave"] > 0]
    return [wave for _, wave in placed.groupby("wave", sort=True)]


def _xl_string(text: str) -> str:
    """A double-quoted xl.cfg string (the name is already safe; this guards the rest)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def xl_config(row, plan_name: str) -> str:
    """One guest's ``xl`` configuration (xl.cfg(5)), ref [1]."""
    disk = f"format=raw, vdev=xvda, access=rw, target=/var/lib/xen/images/{row.name}.img"
    notes = [f"# CHECK: {flag}." for flag in flags(row)]
    return "\n".join(
        [
            f"# Xen xl guest configuration for server {quoted(row.server_id)}, planned on {quoted(row.host_id)} "
            f"(migration wave {row.wave}) by consolidate (plan {quoted(plan_name)}).",
            f"# Lines marked {FILL_IN} need values only you know; see RUNBOOK.md.",
            *notes,
            f"name = {_xl_string(row.name)}",
            'type = "hvm"  # a physical server converted to a disk image boots unchanged as HVM; "pvh" if its kernel supports it',
            f"memory = {row.memory_mib}  # MiB, the right-sized VM",
            f"maxmem = {row.memory_mib}",
            f"vcpus = {row.vcpus}  # right-sized for the server's peak CPU demand",
            f"disk = [ {_xl_string(disk)} ]  # {FILL_IN}: the server's converted disk (image file, or phy LV target)",
            f'vif = [ "bridge=xenbr0" ]  # {FILL_IN}: the bridge of the server\'s network; add mac=... to keep its MAC address',
            'serial = "pty"',
            'on_poweroff = "destroy"',
            'on_reboot = "restart"',
            'on_crash = "restart"',
            f'# bootloader = "pygrub"  # {FILL_IN} only for type = "pv": boots the kernel inside the guest\'s disk',
            "",
        ]
    )


#: Characters XML 1.0 cannot hold, even escaped (its Char production), and line breaks for one-line text.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML_LINE = re.compile("[^\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str, one_line: bool = False) -> str:
    """``text`` with every character XML 1.0 cannot hold written as ``\\uXXXX`` (ElementTree escapes
    ``& < >`` and quotes itself, but passes control characters through, which makes the document
    not well-formed)."""
    return (_NOT_XML_LINE if one_line else _NOT_XML).sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def libvirt_domain(row, plan_name: str, domain_type: str) -> str:
    """One guest's libvirt domain XML, ref [2]; ``domain_type`` is ``xen`` or ``kvm``.

    The server id is the ``<title>`` (one line) and the ``id`` of ``<metadata><consolidate:server>``.
    """
    domain = ET.Element("domain", type=domain_type)
    ET.SubElement(domain, "name").text = row.name
    ET.SubElement(domain, "title").text = _xml_text(str(row.server_id), one_line=True)  # libvirt: no newlines in a title
    checks = "".join(f" CHECK: {flag}." for flag in flags(row))
    ET.SubElement(domain, "description").text = _xml_text(
        f"server {row.server_id} planned on {row.host_id} (migration wave {row.wave}) by consolidate (plan {plan_name}).{checks}"
    )
    metadata = ET.SubElement(domain, "metadata")
    ET.SubElement(metadata, "consolidate:server", {
        "xmlns:consolidate": METADATA_NS, "id": _xml_text(str(row.server_id)), "host": _xml_text(row.host_id),
        "wave": str(row.wave), "plan": _xml_text(plan_name),
    })
    ET.SubElement(domain, "memory", unit="MiB").text = str(row.memory_mib)
    ET.SubElement(domain, "currentMemory", unit="MiB").text = str(row.memory_mib)
    ET.SubElement(domain, "vcpu", placement="static").text = str(row.vcpus)
    os_element = ET.SubElement(domain, "os")
    ET.SubElement(os_element, "type", arch="x86_64").text = "hvm"
    ET.SubElement(os_element, "boot", dev="hd")
    features = ET.SubElement(domain, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "restart")):
        ET.SubElement(domain, event).text = action
    devices = ET.SubElement(domain, "devices")
    driver_note = "" if domain_type == "xen" else "; virtio needs the guest's virtio drivers (else bus='sata')"
    devices.append(ET.Comment(f" {FILL_IN}: the server's converted disk image{driver_note} "))
    disk = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="raw")
    ET.SubElement(disk, "source", file=f"/var/lib/libvirt/images/{row.name}.img")
    if domain_type == "xen":
        ET.SubElement(disk, "target", dev="xvda", bus="xen")
    else:
        ET.SubElement(disk, "target", dev="vda", bus="virtio")
    devices.append(ET.Comment(f" {FILL_IN}: the bridge of the server's network; add <mac address='...'/> to keep its MAC "))
    interface = ET.SubElement(devices, "interface", type="bridge")
    ET.SubElement(interface, "source", bridge="br0")
    if domain_type != "xen":
        ET.SubElement(interface, "model", type="virtio")
    ET.SubElement(devices, "serial", type="pty")
    ET.SubElement(devices, "console", type="pty")
    ET.indent(domain)
    text = ET.tostring(domain, encoding="unicode", xml_declaration=False) + "\n"
    try:
        ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"the libvirt XML of server {quoted(row.server_id)[:80]} is not well-formed ({exc}); "
                         "export --format json instead and report this") from None
    return text


def host_facts(data: PlanData) -> dict:
    """The hypervisor, each host's model and, per model used, RAM, cores and Xen dom0 memory."""
    a = data.summary["assumptions"]
    specs = a.get("models") or {a["host_model"]: a["host"]}
    host_model = dict(zip(data.hosts["host_id"], data.hosts["host_model"]))
    models = {}
    for name in dict.fromkeys(host_model.values()) or [a["host_model"]]:
        spec = specs[name]
        models[name] = {
            "ram_gb": float(spec["ram_gb"]),
            "cores": spec["cores"],
            "threads": spec["threads"],
            "dom0_mib": int(round(xen_dom0_gb(float(spec["ram_gb"])) * MB_PER_GB)),
        }
    return {"hypervisor": a["hypervisor"], "host_model": host_model, "models": models}


def libvirt_type(facts: dict) -> str:
    return "xen" if facts["hypervisor"] == "xen" else "kvm"


def _memory_table(frame: pd.DataFrame, facts: dict, with_dom0: bool) -> list[str]:
    lines = ["| host | model | guests | guest memory, MiB | " + ("dom0, MiB | " if with_dom0 else "") + "host RAM, MiB |",
             "| --- | --- | ---: | ---: | " + ("---: | " if with_dom0 else "") + "---: |"]
    placed = frame[frame["host_id"] != ""]
    for host_id, group in placed.groupby("host_id", sort=True):
        model = facts["host_model"][host_id]
        spec = facts["models"][model]
        dom0 = f"{spec['dom0_mib']:,} | " if with_dom0 else ""
        host_mib = int(round(spec["ram_gb"] * MB_PER_GB))
        lines.append(f"| {host_id} | {model} | {len(group)} | {int(group['memory_mib'].sum()):,} | {dom0}{host_mib:,} |")
    return lines


def _copy_step(frame: pd.DataFrame, fmt: str) -> list[str]:
    """The commands that put each host's folder of this export where the run-book's commands read it."""
    remote = HOST_DIRS[fmt]
    lines = ["   ```sh"]
    for host_dir in sorted(set(frame.loc[frame["wave"] > 0, "host_dir"])):
        target = f"root@{host_dir.upper()}-ADDRESS"
        lines.append(f"   ssh {target} mkdir -p {remote} && scp -r {host_dir} {target}:{remote}/")
    return lines + ["   ```", "", f"   (`HOST-NNN-ADDRESS`: {FILL_IN} each host's address.)"]


def _xen_prerequisites(facts: dict) -> list[str]:
    note = "" if facts["hypervisor"] == "xen" else (
        f" The plan was made with the {facts['hypervisor']} overhead profile; plan again with "
        "`--hypervisor xen` so that it reserves exactly this memory."
    )
    models = facts["models"]
    several = len(models) > 1
    grub: list[str] = []
    for name, m in models.items():
        grub += [f"   # on the {name} hosts"] if several else []
        grub.append(f'   GRUB_CMDLINE_XEN_DEFAULT="dom0_mem={m["dom0_mib"]}M,max:{m["dom0_mib"]}M dom0_max_vcpus={DOM0_MAX_VCPUS}"')
    dom0_text = "; ".join(
        f"{m['dom0_mib']} MiB on a {name} ({m['ram_gb']:,.0f} GB)" for name, m in models.items()
    )
    return [
        *[f"- {name}: {m['cores']} cores / {m['threads']} threads, {m['ram_gb']:,.0f} GB RAM; dom0 {m['dom0_mib']} MiB."
          for name, m in models.items()],
        "",
        "1. **Xen**: install the hypervisor and its tools (Debian: `apt-get install xen-system-amd64`; "
        "RHEL-family: the distribution's or the vendor's Xen packages).",
        "2. **Boot entry**: make the GRUB entry that boots Xen (\"... with Xen hypervisor\") the default, "
        "and give dom0 its memory and vCPUs on the Xen command line, in `/etc/default/grub` "
        "(Debian: `/etc/default/grub.d/xen.cfg`):",
        "",
        "   ```sh",
        *grub,
        "   ```",
        "",
        "   then `update-grub` (RHEL-family: `grub2-mkconfig -o /boot/grub2/grub.cfg`), reboot, and check "
        "with `xl info` that Xen is running and `xl list` that Domain-0 has the memory given.",
        f"3. **dom0 memory**: {dom0_text}: the control-domain memory of the Xen overhead profile for the "
        f"host's RAM (Citrix XenServer memory-usage table), which the plan kept free.{note} "
        "With dom0's memory fixed, turn ballooning off: `autoballoon=\"off\"` in `/etc/xen/xl.conf`. "
        f"dom0 keeps {DOM0_MAX_VCPUS} vCPUs (more than one), within the CPU overhead the plan reserved.",
        "4. **SELinux** (RHEL-family hosts): `getenforce`. If it says `Enforcing`, keep guest disks under "
        "`/var/lib/xen/images` (labelled `xen_image_t` by the policy) and run "
        "`restorecon -Rv /var/lib/xen/images` after copying images in; or set `Permissive` for the "
        "migration (`setenforce 0`, `SELINUX=permissive` in `/etc/selinux/config`) and go back to "
        "`Enforcing` afterwards. Debian and Ubuntu hosts ship with SELinux disabled: nothing to do.",
        "5. **Network**: a bridge for each network the guests need (the configs say `bridge=xenbr0`: "
        f"{FILL_IN}).",
    ]


def guest_path(row, fmt: str) -> str:
    """Where the run-book's commands read a guest's file on its host (the export's ``host_dir/name`` file, copied)."""
    return f"{HOST_DIRS[fmt]}/{row.host_dir}/{row.name}{SUFFIXES[fmt]}"


def _create_command(row, fmt: str) -> str:
    if fmt == "xen":
        return f"xl create {guest_path(row, fmt)}"
    return f"virsh define {guest_path(row, fmt)} && virsh start {row.name}"


def _rollback_command(row, fmt: str) -> str:
    """Stop one new guest, cleanly if it will within :data:`SHUTDOWN_TIMEOUT_S`, and forget it (its disk image stays)."""
    if fmt == "xen":
        return f"timeout {SHUTDOWN_TIMEOUT_S} xl shutdown -w {row.name} || xl destroy {row.name}"
    wait = f"timeout {SHUTDOWN_TIMEOUT_S} sh -c 'until virsh domstate {row.name} | grep -q \"shut off\"; do sleep 5; done'"
    return f"virsh shutdown {row.name}; {wait} || virsh destroy {row.name}; virsh undefine {row.name}"


def _guest_table(wave: pd.DataFrame) -> list[str]:
    """A wave's guests as a fixed-width table in a code block (server ids quoted, so any id prints as it is)."""
    rows = [("guest", "host", "vCPUs", "MiB", "server id", "check")]
    for row in wave.itertuples(index=False):
        group = [f"affinity group {row.affinity_group}"] if row.affinity_group else []
        rows.append((row.name, row.host_id, str(row.vcpus), f"{row.memory_mib:,}", quoted(row.server_id),
                     "; ".join(group + flags(row))))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r[:5], widths)) + ("  " + r[5] if r[5] else "") for r in rows]
    return ["```text", *(line.rstrip() for line in lines), "```"]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _wave_section(number: int, wave: pd.DataFrame, fmt: str) -> list[str]:
    retire = (wave["status"] == "retire-candidate").all()
    hosts = sorted(set(wave["host_id"]))
    groups = sorted(set(wave["affinity_group"]) - {""})
    title = f"### Wave {number}: {_count(len(wave), 'server')} onto {', '.join(hosts)}"
    lines = [title + (" (retire candidates)" if retire else ""), ""]
    if retire:
        lines += ["Idle servers (retire candidates): confirm with each owner that the server is still needed, "
                  "and create only those that are.", ""]
    if groups:
        lines += [f"Affinity group(s) {', '.join(groups)}: moved whole in this wave (the plan keeps each on one host).", ""]
    lines += [*_guest_table(wave), "",
              "1. Stop the applications and shut the wave's source servers down; convert their disks to the images "
              f"the guest files name ({FILL_IN}). Leave the sources' disks as they are: they are the rollback.",
              "2. Create the guests:", ""]
    for host_id, group in wave.groupby("host_id", sort=True):
        lines += [f"   On {host_id}:", "", "   ```sh", *[f"   {_create_command(r, fmt)}" for r in group.itertuples(index=False)],
                  "   ```", ""]
    lister = "xl list" if fmt == "xen" else "virsh list"
    watcher = "xl top" if fmt == "xen" else "virt-top"
    lines += [f"3. Check: `{lister}` shows each guest running; test each application; watch the host's load (`{watcher}`).",
              "4. **Rollback** (a guest fails its checks): stop the wave's new guests (their disk images stay), then "
              "power the wave's source servers on again, unchanged:", ""]
    for host_id, group in wave.groupby("host_id", sort=True):
        lines += [f"   On {host_id}:", "", "   ```sh", *[f"   {_rollback_command(r, fmt)}" for r in group.itertuples(index=False)],
                  "   ```", ""]
    lines += ["5. Accepted: keep the source servers off and intact until the wave has run a full business cycle, "
              "then retire them.", ""]
    return lines


def _checks_section(frame: pd.DataFrame, summary: dict, caveat: str | None) -> list[str]:
    """The flagged servers, before the waves: reduced RAM and defaulted inventory."""
    placed = frame[frame["wave"] > 0]
    reduced, defaulted = placed[placed["ram_reduced"]], placed[placed["inventory_defaulted"]]
    if not (len(reduced) or len(defaulted) or caveat):
        return []
    lines = ["## Check before the waves", ""]
    if caveat:
        lines += [f"**Affinity groups**: {caveat}", ""]
    sizing = summary.get("assumptions", {}).get("mem_sizing", "")
    for what, rows, why, detail in (
        ("RAM reduced", reduced, f"the plan sized their memory from the memory in use (`--mem-sizing {sizing}`), below the "
         "RAM the source servers have: watch them for swapping after the move, and give a guest its allocated RAM "
         "(`memory` and `maxmem` in its file, then create it again) if it needs it.",
         lambda r: f"  {r.source_ram_gb:,.2f} GB allocated -> {r.ram_gb:,.2f} GB"),
        ("Defaulted inventory", defaulted, "these servers were not in the inventory, so their cores and RAM are the "
         "defaults: check each one's real size and correct its guest file (`vcpus`, `memory`) before creating it.",
         lambda r: ""),
    ):
        if len(rows):
            lines += [f"**{what}** ({_count(len(rows), 'server')}): {why}", "", "```text",
                      *[f"wave {r.wave:<3} {r.name}  {quoted(r.server_id)}{detail(r)}" for r in rows.itertuples(index=False)],
                      "```", ""]
    return lines


def runbook(data: PlanData, frame: pd.DataFrame, fmt: str, wave_size: int, caveat: str | None = None) -> str:
    """RUNBOOK.md: what to prepare, the flagged servers, then the waves with their rollback."""
    s = data.summary
    facts = host_facts(data)
    placed = frame[frame["wave"] > 0]
    remote = HOST_DIRS[fmt]
    lines = [
        f"# Migration run-book: plan {data.name}",
        "",
        f"{len(placed):,} of {s['servers']:,} servers onto {hosts_text(s)} "
        f"({'Xen, xl' if fmt == 'xen' else 'libvirt'}). Each host has a folder here, `host-NNN/`, with one "
        f"{'xl config (.cfg)' if fmt == 'xen' else 'domain XML (.xml)'} per guest; `servers.csv` maps each "
        "server id to its guest name, host, wave and file. Guest names are the server ids made safe for file and "
        f"domain names, starting with a letter (an id such as `27` becomes `{NAME_PREFIX}27`, which `xl` and `virsh` "
        "cannot take for a domain id).",
        "",
        f"Before a guest is created, fill in every line marked `{FILL_IN}` in its file: its disk (the "
        "server's disks converted to an image, e.g. with `qemu-img convert` or your P2V tool) and its network.",
        "",
        "## 1. Prepare every host (once)",
        "",
    ]
    if fmt == "xen":
        lines += _xen_prerequisites(facts)
        step = "6"
    else:
        lines += [f"1. Install libvirt with the {'Xen (libxl)' if libvirt_type(facts) == 'xen' else 'QEMU/KVM'} driver "
                  f"and create the bridge the guests use (the XML says `br0`: {FILL_IN})."]
        step = "2"
    lines += [f"{step}. **Guest files**: copy each host's folder of this export to `{remote}/` on that host, so that "
              f"`host-001/NAME{SUFFIXES[fmt]}` here is `{remote}/host-001/NAME{SUFFIXES[fmt]}` there (the path the commands below use):",
              "", *_copy_step(frame, fmt), ""]
    lines += ["Memory each host is asked for:", "", *_memory_table(frame, facts, fmt == "xen"), ""]
    lines += _checks_section(frame, s, caveat)
    lines += ["## 2. Migration waves", "",
              f"The quietest servers first (lowest CPU peak), {wave_size} a wave; the servers of an affinity group move in "
              "one wave; idle retire candidates last. Each wave has its rollback: the new guests are stopped and the "
              "untouched source servers started again.", ""]
    for wave in waves(frame):
        lines += _wave_section(int(wave["wave"].iloc[0]), wave, fmt)
    unplaced = frame[frame["wave"] == 0]
    if len(unplaced):
        lines += ["## Not migrated", "",
                  "These servers are in no host's plan (unplaceable, or retire candidates left out with `--retire-idle`); "
                  "they stay on their own machines:", "", "```text",
                  *[f"{quoted(r.server_id)} ({r.status})" for r in unplaced.itertuples(index=False)], "```", ""]
    return "\n".join(lines)


def mapping_csv(frame: pd.DataFrame, fmt: str) -> str:
    """servers.csv: every server's id, host, status, guest name, wave, size, file and flags."""
    suffix = SUFFIXES[fmt]
    files = np.where(frame["wave"] > 0, frame["host_dir"] + "/" + frame["name"] + suffix, "")
    out = frame[["server_id", "host_id", "status", "name", "wave", "affinity_group", "vcpus", "memory_mib", "ram_gb",
                 "source_ram_gb", "ram_reduced", "inventory_defaulted"]].assign(file=files)
    return out.to_csv(index=False)


def check_sizes(placed: pd.DataFrame) -> None:
    """Every guest gets at least 1 MiB and 1 vCPU (read_plan_dir refuses the placement rows that would not)."""
    for column in ("memory_mib", "vcpus"):
        bad = placed[column] < 1
        if bad.any():
            row = placed[bad].iloc[0]
            raise InputError(f"server {quoted(row.server_id)}: {column} = {row[column]} is not a size a guest can have; "
                             "fix its row of placement.csv or run `consolidate plan` again")


def planned_guests(data: PlanData, wave_size: int) -> tuple[pd.DataFrame, str | None]:
    """:func:`guests` with their waves (the plan's affinity groups kept together), and the run-book's
    caveat when the plan's affinity groups cannot be read."""
    groups, caveat = affinity_groups(data.summary)
    frame = guests(data)
    host_of = dict(zip(frame["server_id"], frame["host_id"]))
    split = [name for name, servers in groups if len({host_of[s] for s in servers if host_of.get(s)}) > 1]
    if split:  # the plan keeps a group on one host: a file whose group is not is not the plan's
        caveat = (f"The rules file {data.summary['constraints']['file']} has changed since the plan: its affinity group(s) "
                  f"{', '.join(map(quoted, split))} are on several hosts of the plan. The waves keep each of its groups together; "
                  "check them against the rules the plan was made with.")
    return with_waves(frame, wave_size, groups), caveat


def ops_files(data: PlanData, fmt: str, wave_size: int) -> dict[str, callable]:
    """The files of the ``xen`` or ``libvirt`` export of ``data``: relative name -> writer(path)."""
    frame, caveat = planned_guests(data, wave_size)
    placed = frame[frame["wave"] > 0]
    check_sizes(placed)
    files: dict[str, callable] = {}
    domain_type = libvirt_type(host_facts(data))
    for row in placed.itertuples(index=False):
        text = xl_config(row, data.name) if fmt == "xen" else libvirt_domain(row, data.name, domain_type)
        files[f"{row.host_dir}/{row.name}{SUFFIXES[fmt]}"] = lambda p, text=text: Path(p).write_text(text, encoding="utf-8")
    book = runbook(data, frame, fmt, wave_size, caveat)
    mapping = mapping_csv(frame, fmt)
    files["RUNBOOK.md"] = lambda p: Path(p).write_text(book, encoding="utf-8")
    files["servers.csv"] = lambda p: Path(p).write_text(mapping, encoding="utf-8")
    return files
