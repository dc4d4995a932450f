"""RVTools workbooks as an inventory: the real (trimmed) export and the variants of other versions."""

import json
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font

from consolidate.errors import InputError
from consolidate.io import read_inventory, read_traces
from consolidate.io.inventory import (
    FIELDS,
    HOST,
    SERVER_COLUMNS,
    inventory_format,
    inventory_report,
    planned_servers,
    read_inventory_export,
)

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAMPLE = SAMPLES / "formats" / "rvtools" / "kubev2v-example1-trimmed.xlsx"

VINFO_OLD = ["VM", "Powerstate", "Template", "Config status", "DNS Name", "Connection state", "Guest state",
             "Heartbeat", "CPUs", "Memory", "NICs", "Disks", "Host", "OS"]
VHOST = ["Host", "Datacenter", "Cluster", "CPU Model", "Speed", "HT Available", "HT Active", "# CPU", "Cores per CPU",
         "# Cores", "CPU usage %", "# Memory", "Memory usage %"]


def workbook(tmp_path: Path, sheets: dict[str, list[list]], name: str = "rvtools.xlsx") -> Path:
    """An xlsx with ``sheets`` (title -> rows; an empty row stays an empty row)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def old_vinfo(*rows: list) -> list[list]:
    return [VINFO_OLD, *rows]


def vm(name, power="poweredOn", template="False", cpus=2, memory=4096, host="esx1", os="Ubuntu Linux (64-bit)"):
    return [name, power, template, "green", f"{name}.corp", "connected", "running", "green", cpus, memory, 1, 1, host, os]


def host(name="esx1", speed=2600, ht="True", sockets=2, per_socket=8, cores=16, cpu_pct=30, mem_mib=262144, mem_pct=50):
    return [name, "DC", "CL", "Intel(R) Xeon(R) E5-2650 v2 @ 2.60GHz", speed, "True", ht, sockets, per_socket, cores,
            cpu_pct, mem_mib, mem_pct]


# --- the real workbook -------------------------------------------------------------------------

@cache
def raw_sheet(name: str) -> pd.DataFrame:
    """A sheet of the sample read plainly: header row, then the rows that hold a value."""
    book = openpyxl.load_workbook(SAMPLE, read_only=True, data_only=True)
    sheet = book[name]
    sheet.reset_dimensions()
    rows = [r for r in sheet.iter_rows(values_only=True) if r and any(v is not None for v in r)]
    book.close()
    width = len(rows[0])
    return pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows[1:]], columns=list(rows[0]))


@pytest.fixture(scope="module")
def export():
    return read_inventory_export(SAMPLE)


def test_sample_is_recognised_and_counted_as_its_sheets_say(export):
    info = raw_sheet("vInfo")
    assert inventory_format(SAMPLE) == "rvtools" and export.kind == "rvtools"
    assert list(export.servers.columns) == list(SERVER_COLUMNS)
    assert list(export.servers["server_id"]) == list(info["VM"])
    on = info["Powerstate"] == "poweredOn"
    report = inventory_report(export)
    assert report["kind"] == "inventory" and report["format"] == "rvtools"
    assert report["servers"] == len(info) == 9 and report["templates"] == 0
    assert report["powered_on"] == on.sum() == 3 and report["powered_off"] == 6
    assert report["planned"] == 3 and inventory_report(export, powered_off=True)["planned"] == 9
    json.dumps(report)  # what inspect --json prints


def test_sample_vcpus_and_memory_from_vinfo_then_vcpu_and_vmemory(export):
    info, vcpu, vmem = raw_sheet("vInfo"), raw_sheet("vCPU"), raw_sheet("vMemory")
    cpus = info["CPUs"].astype(float).fillna(info["VM"].map(vcpu.set_index("VM")["CPUs"]))
    mib = info["Memory"].astype(float).fillna(info["VM"].map(vmem.set_index("VM")["Size MiB"]))
    servers = export.servers.set_index("server_id")
    np.testing.assert_array_equal(servers["vcpus"], cpus)
    np.testing.assert_array_equal(servers["cores"], cpus)
    np.testing.assert_array_equal(servers["threads"], cpus)
    np.testing.assert_allclose(servers["ram_gb"], mib / 1024)
    assert servers.loc["vm-9", "vcpus"] == 18 and servers.loc["vm-9", "ram_gb"] == 40.0
    report = inventory_report(export)
    assert report["vcpus"] == cpus.sum() and report["cores"] == cpus.sum()
    assert report["ram_gb"] == pytest.approx(mib.sum() / 1024)
    assert export.counts["cpus_from_vcpu_sheet"] == 1 and export.counts["memory_from_vmemory_sheet"] == 1


def test_sample_clock_from_the_cluster_when_the_host_is_not_in_vhost(export):
    hosts = raw_sheet("vHost")
    assert hosts["Speed"].nunique() == 1
    servers = export.servers.set_index("server_id")
    with_cluster = servers["cluster"] == "Cluster"
    np.testing.assert_allclose(servers.loc[with_cluster, "ghz"], hosts["Speed"].iloc[0] / 1000)
    assert np.isnan(servers.loc["vm-9", "ghz"])  # no host, no cluster: the default clock
    assert export.counts["ghz_from_cluster"] == 8 and export.counts["ghz_unknown"] == 1
    report = inventory_report(export)
    assert report["defaulted"] == {"servers": 1, "cores": 0, "ghz": 1, "ram_gb": 0}
    assert any("cluster" in c for c in export.conversions)
    assert any("vHost does not list" in n for n in export.notes)


def test_sample_hosts(export):
    raw = raw_sheet("vHost")
    hosts = export.hosts
    assert list(hosts["host"]) == list(raw["Host"])
    np.testing.assert_array_equal(hosts["cores"], raw["# Cores"])
    np.testing.assert_array_equal(hosts["threads"], raw["# Cores"] * 2)  # HT Active
    np.testing.assert_allclose(hosts["ram_gb"], raw["# Memory"] / 1024)
    np.testing.assert_allclose(hosts["cpu_util_pct"], raw["CPU usage %"])
    assert hosts["model"].iloc[0] == "Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz, HPE ProLiant DL380 Gen10"
    assert inventory_report(export)["host_cores"] == raw["# Cores"].sum()


def test_sample_utilisation_is_an_instant_of_vcpu_and_vmemory(export):
    vcpu, vmem = raw_sheet("vCPU").set_index("VM"), raw_sheet("vMemory").set_index("VM")
    servers = export.servers.set_index("server_id")
    on = servers["powered_on"]
    expected_cpu = 100 * vcpu["Overall"] / vcpu["Max"]
    expected_mem = 100 * (vmem["Consumed"] - vmem["Consumed Overhead"]) / vmem["Size MiB"]
    np.testing.assert_allclose(servers.loc[on, "cpu_util_pct"], expected_cpu[on[on].index])
    np.testing.assert_allclose(servers.loc[on, "mem_util_pct"], expected_mem[on[on].index])
    assert servers.loc[~on, ["cpu_util_pct", "mem_util_pct"]].isna().all().all()
    assert any("one instant" in n for n in export.notes)


def test_read_inventory_keeps_the_powered_on_vms_unless_asked(export):
    inv = read_inventory(SAMPLE)
    # The VMs to plan, then vHost's hosts (what the VMs run on today), as rows of their own.
    hosts = list(export.hosts["host"])
    assert tuple(inv.columns) == (*FIELDS, HOST) and list(inv["server_id"]) == ["vm-3", "vm-8", "vm-9", *hosts]
    vms = inv.iloc[:3]
    assert (vms["perf"] == 1.0).all() and (vms["threads"] == vms["cores"]).all()
    assert inv.loc[0, "model"] == "Debian GNU/Linux 9 (64-bit)"  # VMware Tools' OS before the configured one
    assert list(vms[HOST]) == ["10.5.126.198", "10.41.187.30", ""] and (inv.iloc[3:][HOST] == "").all()
    assert len(read_inventory(SAMPLE, powered_off=True)) == 9 + len(hosts)
    assert list(planned_servers(export)["server_id"]) == list(vms["server_id"])


def test_sample_beside_traces(tmp_path):
    traces = tmp_path / "t.csv"
    traces.write_text("timestamp,server_id,cpu_pct\n" + "".join(
        f"2024-01-01T00:{m:02d}:00Z,{s},10\n" for s in ("vm-3", "vm-8") for m in (0, 5, 10)))
    result = read_traces(traces, inventory=SAMPLE)
    np.testing.assert_array_equal(result.inventory.cores, [3, 13])
    np.testing.assert_allclose(result.inventory.ghz, [2.295, 2.295])
    assert not result.inventory.defaulted.any()


# --- other versions and layouts ----------------------------------------------------------------

def test_old_14_column_vinfo_text_booleans_and_padding(tmp_path):
    rows = old_vinfo(vm("web01"), [], [], vm("db01", cpus=8, memory=32768), vm("tpl", template="True"),
                     vm("off1", power="poweredOff"), vm("susp", power="suspended"))
    path = workbook(tmp_path, {"vInfo": rows, "vHost": [VHOST, host()]})
    book = openpyxl.load_workbook(path)
    book["vInfo"].cell(1_048_576, 3).font = Font(bold=True)  # padded down to the last row, as office programs do
    book.save(path)
    export = read_inventory_export(path)
    servers = export.servers.set_index("server_id")
    assert list(servers.index) == ["web01", "db01", "tpl", "off1", "susp"]
    assert servers.loc["db01", "ram_gb"] == 32 and servers.loc["db01", "vcpus"] == 8
    np.testing.assert_allclose(servers["ghz"], 2.6)
    assert servers.loc["tpl", "template"] and not servers.loc["susp", "powered_on"]
    report = inventory_report(export)
    assert (report["servers"], report["templates"], report["powered_on"], report["powered_off"]) == (4, 1, 2, 2)
    assert report["cpu_util_given"] == 0 and any("plan by allocation" in n for n in export.notes)
    assert list(read_inventory(path)["server_id"]) == ["web01", "db01", "esx1"]  # the VMs, then their host
    assert list(read_inventory(path, powered_off=True)["server_id"]) == ["web01", "db01", "off1", "susp", "esx1"]


def test_names_match_ignoring_case_and_blanks_and_mb_units(tmp_path):
    vinfo = [[" vm ", "POWERSTATE", "template", "CPUs", "Memory MB", "host", "OS according to the configuration file"],
             ["a", "poweredOn", False, 4, 8192, "esx1", "Windows Server 2019"],
             ["b", "poweredOn", True, 2, 2048, "esx1", ""]]
    vhost = [["Host", "CPU Model", "speed", "# CPU", "Cores per CPU", "HT Active", "# Memory", "CPU usage %", "Memory usage %"],
             ["esx1", "AMD EPYC 7302", "3000", 2, 16, False, 524288, "42 %", "61%"]]
    path = workbook(tmp_path, {"tabvInfo": vinfo, "tabvHost": vhost})
    export = read_inventory_export(path)
    servers = export.servers.set_index("server_id")
    assert servers.loc["a", "ram_gb"] == 8 and servers.loc["a", "ghz"] == 3.0 and servers.loc["b", "template"]
    assert servers.loc["b", "model"] == "VM on AMD EPYC 7302"
    h = export.hosts.iloc[0]
    assert (h["cores"], h["threads"], h["ram_gb"], h["cpu_util_pct"], h["mem_util_pct"]) == (32, 32, 512, 42, 61)
    assert any("says MB" in c for c in export.conversions)


def test_database_column_names(tmp_path):
    """RVTools -DBColumnNames heads each column with the sheet's name and the column's."""
    vinfo = [["vInfoVMName", "vInfoPowerstate", "vInfoTemplate", "vInfoCPUs", "vInfoMemory", "vInfoHost", "vInfoOS", "vInfoOSTools"],
             ["a", "poweredOn", "False", 4, 8192, "esx1", "Other Linux", "Ubuntu Linux (64-bit)"]]
    vhost = [["vHostName", "vHostCpuMhz", "vHostNumCpu", "vHostCoresPerCPU", "vHostNumCpuCores", "vHostHTActive", "vHostMemorySize"],
             ["esx1", 2200, 2, 10, 20, "True", 393216]]
    vcpu = [["vCPUVMName", "vCPUCPUs", "vCPUMax", "vCPUOverall"], ["a", 4, 8800, 880]]
    export = read_inventory_export(workbook(tmp_path, {"vInfo": vinfo, "vHost": vhost, "vCPU": vcpu}))
    a = export.servers.iloc[0]
    assert (a["server_id"], a["vcpus"], a["ram_gb"], a["ghz"], a["cpu_util_pct"], a["os"]) == (
        "a", 4, 8, 2.2, 10, "Ubuntu Linux (64-bit)")
    h = export.hosts.iloc[0]
    assert (h["host"], h["cores"], h["threads"], h["ram_gb"]) == ("esx1", 20, 40, 384)


def test_vcpu_and_vmemory_sheets_fill_what_vinfo_lacks(tmp_path):
    vinfo = [["VM", "Powerstate", "Template", "Host"], ["a", "poweredOn", "False", "esx1"], ["b", "poweredOff", "False", "esx1"]]
    vcpu = [["VM", "CPUs", "Max", "Overall"], ["a", 4, 10400, 2600], ["b", 2, 0, 0]]
    vmem = [["VM", "Size MB", "Consumed"], ["a", 16384, 20000], ["b", 4096, 0]]
    path = workbook(tmp_path, {"vInfo": vinfo, "vCPU": vcpu, "vMemory": vmem})
    export = read_inventory_export(path)
    servers = export.servers.set_index("server_id")
    assert list(servers["vcpus"]) == [4, 2] and list(servers["ram_gb"]) == [16, 4]
    assert servers.loc["a", "cpu_util_pct"] == 25 and servers.loc["a", "mem_util_pct"] == 100  # capped
    assert np.isnan(servers.loc["b", "cpu_util_pct"])  # powered off: no figure
    assert export.counts["mem_util_capped_at_100"] == 1
    assert np.isnan(servers["ghz"]).all() and any("no vHost sheet" in n for n in export.notes)
    assert np.isnan(read_inventory(path)["ghz"]).all()  # align_inventory gives the default clock


def test_srm_placeholders_and_nameless_rows_are_left_out(tmp_path):
    vinfo = [["VM", "Powerstate", "Template", "SRM Placeholder", "CPUs", "Memory"],
             ["a", "poweredOn", "False", "False", 2, 4096],
             ["a-recovery", "poweredOff", "False", "True", 2, 4096],
             [None, "poweredOn", "False", "False", 2, 4096],
             ["c", "", "False", "False", 1, 1024]]
    export = read_inventory_export(workbook(tmp_path, {"vInfo": vinfo}))
    assert list(export.servers["server_id"]) == ["a", "c"] and export.servers["powered_on"].all()
    assert export.counts["srm_placeholders_left_out"] == 1
    assert export.counts["rows_without_vm_name"] == 1 and export.counts["powerstate_empty"] == 1


# --- errors ------------------------------------------------------------------------------------

VINFO = ["VM", "Powerstate", "Template", "CPUs", "Memory"]


@pytest.mark.parametrize(
    ("sheets", "match"),
    [
        ({"Sheet1": [["a"]], "Data": [["b"]]}, r"no vInfo sheet, so it is not an RVTools export \(its sheets: Sheet1, Data\)"),
        ({"vInfo": [["Name of it", "CPUs"], ["a", 1]]}, "has no VM column"),
        ({"vInfo": [VINFO]}, "lists no VM"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "False", 1, 1024], ["a", "poweredOn", "False", 2, 1024]]},
         r"sheet vInfo: VM 'a' appears twice \(row 2 and row 3\)"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "False", "lots", 1024]]}, r"sheet vInfo, row 2, column 'CPUs': 'lots' is not a number"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "False", -1, 1024]]}, "column 'CPUs': -1 must be a positive number"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "maybe", 1, 1024]]}, r"column 'Template': 'maybe' is not True or False"),
        ({"vInfo": [VINFO, ["a", "on", "False", 1, 1024]]}, "'on' is not a power state"),
        ({"vInfo": [["VM", "Memory"], ["a", 1024]]}, "no CPUs column and the workbook no vCPU sheet"),
        ({"vInfo": [["VM", "CPUs"], ["a", 1]]}, "no Memory column and the workbook no vMemory sheet"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "False", 1, 1024]], "vHost": [VHOST, host(cpu_pct="130 %")]},
         r"sheet vHost, row 2, column 'CPU usage %': 130 is above 100 %"),
        ({"vInfo": [VINFO, ["a", "poweredOn", "False", 1, 2**40]]}, "is more than any server has"),
    ],
)
def test_errors_are_one_line_naming_sheet_row_and_column(tmp_path, sheets, match):
    with pytest.raises(InputError, match=match) as info:
        read_inventory_export(workbook(tmp_path, sheets))
    assert "\n" not in str(info.value)


def test_nothing_to_plan_says_how_to_plan_powered_off_vms(tmp_path):
    path = workbook(tmp_path, {"vInfo": [VINFO, ["a", "poweredOff", "False", 1, 1024], ["t", "poweredOff", "True", 1, 1024]]})
    with pytest.raises(InputError, match=r"no server to plan \(2 listed: 1 powered off, 1 template.*powered_off=True"):
        read_inventory(path)
    assert list(read_inventory(path, powered_off=True)["server_id"]) == ["a"]


def test_old_excel_and_damaged_workbooks(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert inventory_format(xls) == "rvtools"
    with pytest.raises(InputError, match="Excel 97-2003 workbook or a password-protected one.*save it as an .xlsx"):
        read_inventory(xls)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "not xml")
        archive.writestr("xl/workbook.xml", "<workbook")
    with pytest.raises(InputError, match="cannot be read as an xlsx workbook") as info:
        read_inventory_export(broken)
    assert "\n" not in str(info.value)


def test_other_files_are_not_workbooks():
    others = [SAMPLES / "traces.csv", SAMPLES / "inventory.csv", SAMPLES / "io" / "wide.csv",
              *sorted((SAMPLES / "bitbrains").rglob("*.gz"))[:1], *sorted((SAMPLES / "planetlab").rglob("*"))[:3],
              SAMPLES / "formats" / "azure-migrate" / "AzureMigrateimport-01.csv"]
    for path in others:
        if path.is_file():
            assert inventory_format(path) != "rvtools", path


# --- the command line ----------------------------------------------------------------------------

def traces_of(tmp_path: Path, servers: tuple[str, ...]) -> Path:
    path = tmp_path / "traces.csv"
    times = pd.date_range("2024-01-01", periods=288, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    cpu = np.random.default_rng(0).uniform(5, 40, len(times)).round(2)
    pd.concat(pd.DataFrame({"timestamp": times, "server_id": s, "cpu_pct": cpu}) for s in servers).to_csv(path, index=False)
    return path


def test_cli_inspect_with_the_workbook_as_inventory(tmp_path, capsys):
    from consolidate.cli import main

    assert main(["inspect", str(traces_of(tmp_path, ("vm-3", "vm-8"))), "--inventory", str(SAMPLE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["servers"] == 2 and report["inventory_defaulted"] == 0
    assert report["ram_total_gb"] == pytest.approx((3526 + 34321) / 1024)


@pytest.mark.slow
def test_cli_plan_with_the_workbook_as_inventory(tmp_path):
    from consolidate.cli import main

    out = tmp_path / "plan"
    traces = traces_of(tmp_path, ("vm-3", "vm-8", "vm-9"))
    assert main(["plan", str(traces), "--inventory", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    placement = pd.read_csv(out / "placement.csv")
    assert sorted(placement["server_id"]) == ["vm-3", "vm-8", "vm-9"] and (placement["status"] == "placed").all()
