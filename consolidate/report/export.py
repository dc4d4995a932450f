"""Exports of a plan folder for the people who carry the plan out.

``consolidate export PLAN_DIR --format FORMAT --out DIR`` writes, all or nothing:

- ``xlsx``: ``plan.xlsx``, sheets summary, business case, placement, hosts, assumptions,
  data quality (and frontier when the plan has one);
- ``xen``: one ``xl`` guest config per placed server, ``<host_id>/<name>.cfg``, with ``name``,
  ``memory`` (MiB) and ``vcpus`` from the right-sized VM and every value only the operator
  knows (disk, network) marked ``FILL IN``; ``RUNBOOK.md`` (host prerequisites for Xen and the
  ``xl create`` commands in migration waves) and ``servers.csv``;
- ``libvirt``: one domain XML per placed server, ``<host_id>/<name>.xml``, with ``RUNBOOK.md``
  (``virsh define`` / ``virsh start`` in waves) and ``servers.csv``;
- ``json``: ``plan.json`` with the summary, the hosts and the placement.

Server ids may hold characters a file name or a domain name cannot: each server gets a safe,
unique ``name`` (:func:`safe_names`), and ``servers.csv`` maps every server id to its name and file.

Migration waves: the quietest servers first (lowest CPU peak: the least to lose if a guest
misbehaves), ``wave_size`` servers a wave; idle retire candidates that were kept in the plan come
last, in a wave of their own, to be confirmed with their owners first.

References
----------
.. [1] Xen Project, xl.cfg(5): guest configuration syntax (``KEY = VALUE``, ``#`` comments);
   xl-disk-configuration; Xen Project best practices: ``dom0_mem``, ``autoballoon``.
.. [2] libvirt, "Domain XML format".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.models.hypervisor import MB_PER_GB, xen_dom0_gb
from consolidate.options import EXPORT, EXPORT_FORMATS, by_name
from consolidate.report.outputs import summary_json, write_files
from consolidate.report.plandata import PlanData, hosts_text, read_plan_dir

FORMATS = EXPORT_FORMATS
DEFAULT_WAVE_SIZE = by_name(EXPORT)["wave_size"].default
NAME_MAX_CHARS = 60
DOM0_MAX_VCPUS = 2  # "dom0 should keep more than 1 vCPU" (Citrix XenServer, REFERENCE.md)
FILL_IN = "FILL IN"


def safe_names(server_ids: list[str]) -> list[str]:
    """A name for each server that is safe as a file name and a domain name, unique in any case.

    Characters outside ``A-Z a-z 0-9 . _ -`` become ``_``; leading and trailing ``. _ -`` go;
    a name longer than 60 characters is cut and ends in 8 hex digits of the id's SHA-1; a name
    that is taken (ignoring case) gets ``-2``, ``-3``, ...
    """
    names: list[str] = []
    taken: set[str] = set()
    for server_id in server_ids:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(server_id)).strip("._-") or "server"
        if len(base) > NAME_MAX_CHARS:
            digest = hashlib.sha1(str(server_id).encode("utf-8")).hexdigest()[:8]
            base = base[: NAME_MAX_CHARS - 9].rstrip("._-") + "-" + digest
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        names.append(name)
    return names


def memory_mib(ram_gb: float) -> int:
    """A VM's memory in MiB (1 GB = 1024 MiB, as the hypervisor profiles count), rounded up."""
    return int(math.ceil(float(ram_gb) * MB_PER_GB - 1e-9))


def guests(data: PlanData) -> pd.DataFrame:
    """The placed servers with their safe name, host folder and sizes, in migration order.

    Columns: server_id, host_id, status, name, host_dir, vcpus, memory_mib, cpu_peak_ghz, wave.
    """
    placement = data.placement
    frame = pd.DataFrame(
        {
            "server_id": placement["server_id"].astype(str),
            "host_id": placement["host_id"].fillna("").astype(str),
            "status": placement.get("status", pd.Series("placed", index=placement.index)).astype(str),
            "vcpus": placement["vcpus"].astype(int),
            "memory_mib": [memory_mib(v) for v in placement["ram_gb"]],
            "cpu_peak_ghz": placement.get("cpu_peak_ghz", pd.Series(0.0, index=placement.index)).astype(float),
        }
    )
    frame["name"] = safe_names(list(frame["server_id"]))
    host_dirs = dict(zip(sorted(set(frame["host_id"]) - {""}), safe_names(sorted(set(frame["host_id"]) - {""}))))
    frame["host_dir"] = frame["host_id"].map(host_dirs).fillna("")
    return frame


def waves(frame: pd.DataFrame, wave_size: int = DEFAULT_WAVE_SIZE) -> list[pd.DataFrame]:
    """The placed servers of :func:`guests` in migration waves (see the module docstring)."""
    if wave_size < 1:
        raise InputError(f"--wave-size {wave_size} must be at least 1")
    placed = frame[frame["host_id"] != ""]
    retire = placed["status"] == "retire-candidate"
    busy = placed[~retire].sort_values(["cpu_peak_ghz", "server_id"], kind="stable")
    found = [busy.iloc[i : i + wave_size] for i in range(0, len(busy), wave_size)]
    if retire.any():
        found.append(placed[retire].sort_values("server_id", kind="stable"))
    return found


def _xl_string(text: str) -> str:
    """A double-quoted xl.cfg string (the name is already safe; this guards the rest)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def xl_config(row, plan_name: str) -> str:
    """One guest's ``xl`` configuration (xl.cfg(5)), ref [1]."""
    source = json.dumps(row.server_id)  # escapes control characters: the id cannot break the comment
    disk = f"format=raw, vdev=xvda, access=rw, target=/var/lib/xen/images/{row.name}.img"
    return "\n".join(
        [
            f"# Xen xl guest configuration for server {source}, planned on {json.dumps(row.host_id)} by consolidate (plan {json.dumps(plan_name)}).",
            f"# Lines marked {FILL_IN} need values only you know; see RUNBOOK.md.",
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
    """One guest's libvirt domain XML, ref [2]; ``domain_type`` is ``xen`` or ``kvm``."""
    domain = ET.Element("domain", type=domain_type)
    ET.SubElement(domain, "name").text = row.name
    ET.SubElement(domain, "title").text = _xml_text(str(row.server_id), one_line=True)  # libvirt: no newlines in a title
    ET.SubElement(domain, "description").text = _xml_text(
        f"server {row.server_id} planned on {row.host_id} by consolidate (plan {plan_name})"
    )
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
        raise InputError(f"the libvirt XML of server {json.dumps(str(row.server_id))[:80]} is not well-formed ({exc}); "
                         "export --format json instead and report this") from None
    return text


def _host_facts(data: PlanData) -> dict:
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
        "## 1. Prepare every host (once)",
        "",
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
        "6. **Configs**: copy the host's folder from here to `/etc/xen/consolidate/` on that host.",
        "",
    ]


def runbook(data: PlanData, frame: pd.DataFrame, fmt: str, wave_size: int) -> str:
    """RUNBOOK.md: what to prepare, then the commands that create the guests, wave by wave."""
    s = data.summary
    facts = _host_facts(data)
    placed = frame[frame["host_id"] != ""]
    lines = [
        f"# Migration run-book: plan {data.name}",
        "",
        f"{len(placed):,} of {s['servers']:,} servers onto {hosts_text(s)} "
        f"({'Xen, xl' if fmt == 'xen' else 'libvirt'}). Each host has a folder here with one "
        f"{'xl config (.cfg)' if fmt == 'xen' else 'domain XML (.xml)'} per guest; `servers.csv` maps each "
        "server id to its guest name and file. Names are the server ids made safe for file and domain names.",
        "",
        f"Before a guest is created, fill in every line marked `{FILL_IN}` in its file: its disk (the "
        "server's disks converted to an image, e.g. with `qemu-img convert` or your P2V tool) and its network.",
        "",
    ]
    if fmt == "xen":
        lines += _xen_prerequisites(facts)
    else:
        lines += [
            "## 1. Prepare every host (once)",
            "",
            f"Install libvirt with the {'Xen (libxl)' if _libvirt_type(facts) == 'xen' else 'QEMU/KVM'} driver, "
            "create the bridge the guests use (the XML says `br0`: FILL IN), and copy the host's folder "
            "from here to the host.",
            "",
        ]
    lines += ["Memory each host is asked for:", "", *_memory_table(frame, facts, fmt == "xen"), ""]
    lines += ["## 2. Migration waves", "",
              f"The quietest servers first (lowest CPU peak), {wave_size} a wave. After each wave: check "
              "`xl list` / `virsh list`, test each application, watch the host's load for a day "
              "(`xl top` / `virt-top`), then power off the source servers of that wave.", ""]
    for number, wave in enumerate(waves(frame, wave_size), start=1):
        retire = (wave["status"] == "retire-candidate").all()
        title = f"### Wave {number}" + (": retire candidates (idle servers): confirm each is still needed; create only those that are" if retire else "")
        lines += [title, ""]
        for host_id, group in wave.groupby("host_id", sort=True):
            lines += [f"On {host_id}:", "", "```sh"]
            for row in group.itertuples(index=False):
                lines.append(_create_command(row, fmt))
            lines += ["```", ""]
    unplaced = frame[frame["host_id"] == ""]
    if len(unplaced):
        lines += ["## Not migrated", "",
                  "These servers are in no host's plan (unplaceable, or retire candidates left out with `--retire-idle`):", ""]
        lines += [f"- {json.dumps(r.server_id)} ({r.status})" for r in unplaced.itertuples(index=False)] + [""]
    return "\n".join(lines)


def _create_command(row, fmt: str) -> str:
    if fmt == "xen":
        return f"xl create /etc/xen/consolidate/{row.name}.cfg"
    return f"virsh define {row.host_dir}/{row.name}.xml && virsh start {row.name}"


def _libvirt_type(facts: dict) -> str:
    return "xen" if facts["hypervisor"] == "xen" else "kvm"


def _mapping(frame: pd.DataFrame, suffix: str) -> str:
    files = np.where(frame["host_id"] != "", frame["host_dir"] + "/" + frame["name"] + suffix, "")
    out = frame[["server_id", "host_id", "status", "name", "vcpus", "memory_mib"]].assign(file=files)
    return out.to_csv(index=False)


def _flatten(prefix: str, value, rows: list[tuple[str, object]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, rows)
    elif isinstance(value, (list, tuple)):
        if len(value) <= 20 and all(not isinstance(v, (dict, list)) for v in value):
            rows.append((prefix, ", ".join(str(v) for v in value)))
        else:
            rows.append((prefix, f"{len(value)} items"))
    else:
        rows.append((prefix, value))


def _key_values(values: dict) -> pd.DataFrame:
    rows: list[tuple[str, object]] = []
    _flatten("", values, rows)
    return pd.DataFrame(rows, columns=["name", "value"])


#: The longest text an Excel cell holds (Excel specifications and limits); longer is cut by Excel.
XLSX_CELL_MAX_CHARS = 32_767
#: Control characters a workbook cannot hold (the XML of the sheets cannot), as openpyxl refuses them.
_NOT_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_SOURCES = {"placement": "placement.csv", "hosts": "hosts.csv"}


def _check_cells(sheets: dict[str, pd.DataFrame], folder: Path | None = None) -> None:
    """Refuse (InputError naming file, line and column) a text an Excel cell cannot hold whole:
    a control character, or more than :data:`XLSX_CELL_MAX_CHARS` characters."""
    for sheet, frame in sheets.items():
        source = _SHEET_SOURCES.get(sheet)
        source = str(folder / source) if source and folder is not None else source
        columns = [str(c) for c in frame.columns]
        for column, values in [("(header)", pd.Series(columns))] + [(c, frame.iloc[:, i]) for i, c in enumerate(columns)]:
            if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
                continue
            text = values.map(lambda v: v if isinstance(v, str) else "")
            for mask, rule in (
                (text.str.contains(_NOT_XLSX), "holds a control character, which an Excel workbook cannot hold"),
                (text.str.len() > XLSX_CELL_MAX_CHARS,
                 f"is longer than the {XLSX_CELL_MAX_CHARS:,} characters an Excel cell holds (Excel would cut it)"),
            ):
                if mask.any():
                    row = int(np.flatnonzero(mask.to_numpy())[0])
                    value = text.iloc[row]
                    where = (f"{source} line {row + 2}, column {column}" if source and column != "(header)"
                             else f"sheet {sheet!r}, row {row + 2}, column {column}")
                    raise InputError(
                        f"{where}: {json.dumps(value[:40])}{'...' if len(value) > 40 else ''} ({len(value):,} characters) "
                        f"{rule}; shorten or clean it, or export --format json"
                    )


def _xlsx_sheets(data: PlanData) -> dict[str, pd.DataFrame]:
    s = data.summary
    headline = {k: v for k, v in s.items() if k not in ("assumptions", "data_quality", "utilisation", "business_case", "frontier", "warnings")}
    assumptions = s["assumptions"]
    settings = _key_values({k: v for k, v in assumptions.items() if k != "sources"})
    sources = pd.DataFrame(
        [(name, json.dumps(f["value"]) if isinstance(f["value"], (list, tuple)) else f["value"], f["unit"], f["source"])
         for name, f in assumptions.get("sources", {}).items()],
        columns=["default", "value", "unit", "source"],
    )
    sheets = {
        "summary": _key_values(headline),
        "business case": _key_values(data.business),
        "placement": data.placement,
        "hosts": data.hosts,
        "assumptions": pd.concat([settings.assign(unit="", source=""), sources.rename(columns={"default": "name"})], ignore_index=True),
        "data quality": _key_values({**s.get("data_quality", {}), "warnings": s.get("warnings", [])}),
    }
    if s.get("frontier"):
        sheets["frontier"] = pd.DataFrame(s["frontier"])
    return sheets


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for column in sheet.columns:
                width = max(len(str(cell.value)) if cell.value is not None else 0 for cell in column[:200])
                sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))


def export_files(data: PlanData, fmt: str, wave_size: int = DEFAULT_WAVE_SIZE, source: str | Path | None = None) -> dict[str, callable]:
    """The files of export ``fmt`` of ``data``: relative name -> writer(path).

    Raises :class:`InputError` (naming the file under ``source``, the plan folder, and the line)
    for a value the format cannot hold: a control character or a text too long for an Excel cell,
    a guest size below 1 MiB or 1 vCPU.
    """
    if fmt == "xlsx":
        sheets = _xlsx_sheets(data)
        _check_cells(sheets, Path(source) if source is not None else None)  # before anything is written
        return {"plan.xlsx": lambda p: _write_xlsx(sheets, p)}
    if fmt == "json":
        document = {
            "summary": data.summary,
            "hosts": data.hosts.to_dict(orient="records"),
            "placement": data.placement.to_dict(orient="records"),
        }
        return {"plan.json": lambda p: p.write_text(summary_json(document) + "\n", encoding="utf-8")}
    if fmt not in ("xen", "libvirt"):
        raise InputError(f"--format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    frame = guests(data)
    waves(frame, wave_size)  # checks the wave size before anything is written
    placed = frame[frame["host_id"] != ""]
    _check_sizes(placed)
    files: dict[str, callable] = {}
    if fmt == "xen":
        suffix = ".cfg"
        for row in placed.itertuples(index=False):
            text = xl_config(row, data.name)
            files[f"{row.host_dir}/{row.name}{suffix}"] = lambda p, text=text: p.write_text(text, encoding="utf-8")
    else:
        suffix = ".xml"
        domain_type = _libvirt_type(_host_facts(data))
        for row in placed.itertuples(index=False):
            text = libvirt_domain(row, data.name, domain_type)
            files[f"{row.host_dir}/{row.name}{suffix}"] = lambda p, text=text: p.write_text(text, encoding="utf-8")
    book = runbook(data, frame, fmt, wave_size)
    mapping = _mapping(frame, suffix)
    files["RUNBOOK.md"] = lambda p: p.write_text(book, encoding="utf-8")
    files["servers.csv"] = lambda p: p.write_text(mapping, encoding="utf-8")
    return files


def _check_sizes(placed: pd.DataFrame) -> None:
    """Every guest gets at least 1 MiB and 1 vCPU (read_plan_dir refuses the placement rows that would not)."""
    for column in ("memory_mib", "vcpus"):
        bad = placed[column] < 1
        if bad.any():
            row = placed[bad].iloc[0]
            raise InputError(f"server {json.dumps(row.server_id)}: {column} = {row[column]} is not a size a guest can have; "
                             "fix its row of placement.csv or run `consolidate plan` again")


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
