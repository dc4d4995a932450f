"""VMware esxtop batch CSV: the files of data/samples/formats/esxtop/, constructed from the
documented layout and published real headers (PROVENANCE.md), and variants derived here.

Expected values come from parsing the raw files with the csv module in the tests, not from
the reader's code."""

import csv
import gzip
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import esxtop as esxtop_module
from consolidate.io import read_traces
from consolidate.io.detect import head_bytes
from consolidate.io.esxtop import looks_esxtop, read_esxtop

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
HERE = SAMPLES / "formats" / "esxtop"
BATCH = HERE / "esx01-batch.csv"
SHEET = HERE / "esx01-spreadsheet.csv"
NO_WORLDS = HERE / "esx02-no-vcpu-worlds.csv"
HOST = "\\\\esx01.example.com\\"


def table(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = [r for r in csv.reader(io.StringIO(path.read_text())) if r]
    return rows[0], rows[1:]


def column(path: Path, name: str) -> np.ndarray:
    names, rows = table(path)
    k = names.index(name)
    return np.array([float(r[k]) for r in rows])


def vcpu_worlds(path: Path, gid: str) -> int:
    """The VM's vCPU worlds in the header, counted by a plain pattern."""
    names, _ = table(path)
    return sum(1 for n in names if re.search(rf"\\Vcpu\({gid}:[^:]+:\d+:vmx-vcpu-\d+:", n))


def one_line_error(path: Path, **options) -> str:
    with pytest.raises(InputError) as err:
        read_traces(path, **options)
    message = str(err.value)
    assert "\n" not in message
    return message


# --- the VMs of a host ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vms():
    return read_traces(BATCH)


def test_each_vm_is_a_server_and_the_hypervisor_groups_are_not(vms):
    assert vms.source == f"esxtop:{BATCH}"
    assert vms.server_ids == ("db01", "web01")  # not system, helper, hostd.2098123, nor the host
    assert vms.start == pd.Timestamp("2024-04-02 07:15:00", tz="UTC")  # 07:15:03 UTC, floored
    assert vms.interval_s == 5
    assert vms.n_steps == 60


def test_where_vcpu_worlds_exist_a_group_without_them_is_not_a_vm(tmp_path):
    names, rows = table(BATCH)
    path = tmp_path / "extra.csv"
    extra = [names + [f"{HOST}Group Cpu(9000:iofilterd)\\% Used"]] + [r + ["1.5"] for r in rows]
    path.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in extra) + "\n")
    traces = read_traces(path)
    assert traces.server_ids == ("db01", "web01")
    assert any("1 CPU group(s) own no vCPU worlds, unlike the VMs, and are not taken as VMs: iofilterd" in w
               for w in traces.quality.warnings)


def test_vm_cpu_is_percent_used_over_its_vcpus(vms):
    for row, (name, gid) in enumerate((("db01", "4100"), ("web01", "4000"))):
        vcpus = vcpu_worlds(BATCH, gid)
        assert vcpus == {"db01": 4, "web01": 2}[name]
        used = column(BATCH, f"{HOST}Group Cpu({gid}:{name})\\% Used")
        assert used.max() > 100 or name == "web01"  # a percentage of one physical CPU: db01 uses more than one
        np.testing.assert_allclose(vms.cpu_pct[row], used / vcpus, rtol=1e-6)
        assert vms.inventory.cores[row] == vcpus and vms.inventory.threads[row] == vcpus
        consumed = column(BATCH, f"{HOST}Group Memory({gid}:{name})\\Memory Consumed Size MBytes")
        np.testing.assert_allclose(vms.mem_gb[row], consumed / 1024, rtol=1e-6)
        size = column(BATCH, f"{HOST}Group Memory({gid}:{name})\\Memory Size MBytes")
        assert vms.inventory.ram_gb[row] == size.max() / 1024


def test_vm_conversions_are_stated(vms):
    conversions = " | ".join(vms.quality.conversions)
    assert "servers = the VMs of the host" in conversions and ": 2 VM(s)" in conversions
    assert "% Used (percent of one physical CPU) / the VM's vCPUs, counted from its vCPU worlds: 120 samples" in conversions
    assert "Memory Consumed Size MBytes / 1024 (MiB to GB): 120 samples" in conversions
    assert "times read as UTC, as esxtop writes them: 60 timestamps" in conversions


def test_only_the_needed_columns_are_parsed(monkeypatch):
    seen = []
    real = esxtop_module.read_rows
    monkeypatch.setattr(esxtop_module, "read_rows", lambda header, columns: seen.append((len(header.names), columns)) or real(header, columns))
    read_esxtop(BATCH)
    width, columns = seen[0]
    assert width > 60 and len(columns) == 6  # % Used, consumed and size of two VMs


def test_a_vm_without_vcpu_worlds_is_a_share_of_the_host():
    traces = read_traces(NO_WORLDS)
    assert traces.server_ids == ("mail01",)
    names, _ = table(NO_WORLDS)
    logical = len({m.group(1) for n in names if (m := re.search(r"\\Physical Cpu\((\d+)\)\\", n))})
    assert logical == 8
    used = column(NO_WORLDS, "\\\\esx02\\Group Cpu(5200:mail01)\\% Used")
    np.testing.assert_allclose(traces.cpu_pct[0], used / logical, rtol=1e-6)
    assert traces.inventory.cores[0] == logical
    assert any("have no vCPU worlds" in w and "mail01" in w for w in traces.quality.warnings)
    assert any("/ the host's logical CPUs" in c for c in traces.quality.conversions)


# --- the host view ---------------------------------------------------------------------------------


def test_the_host_view_reads_physical_cpu_and_machine_memory():
    traces = read_esxtop(BATCH, columns={"server_id": "host"})
    assert traces.server_ids == ("esx01.example.com",)
    np.testing.assert_allclose(traces.cpu_pct[0], column(BATCH, f"{HOST}Physical Cpu(_Total)\\% Util Time"), rtol=1e-6)
    used = column(BATCH, f"{HOST}Memory\\Machine MBytes") - column(BATCH, f"{HOST}Memory\\Free MBytes")
    np.testing.assert_allclose(traces.mem_gb[0], used / 1024, rtol=1e-6)
    inventory = traces.inventory
    assert (inventory.threads[0], inventory.cores[0]) == (4, 2)  # % Core Util Time is written: hyper-threading
    assert inventory.ram_gb[0] == 64
    assert any("servers = the host" in c for c in traces.quality.conversions)


def test_the_host_view_averages_per_cpu_columns_without_total():
    traces = read_traces(NO_WORLDS, columns={"server_id": "host"})
    names, _ = table(NO_WORLDS)
    per_cpu = np.column_stack([column(NO_WORLDS, n) for n in names if re.search(r"Physical Cpu\(\d+\)\\% Util Time", n)])
    np.testing.assert_allclose(traces.cpu_pct[0], per_cpu.mean(axis=1), rtol=1e-5)
    assert traces.inventory.cores[0] == 8 == traces.inventory.threads[0]  # no % Core Util Time: no hyper-threading
    assert any("mean of the per-CPU columns" in c for c in traces.quality.conversions)


# --- a spreadsheet re-save ----------------------------------------------------------------------------


def test_a_spreadsheet_re_save_merges_the_rows_of_a_minute():
    traces = read_traces(SHEET)
    assert traces.server_ids == ("db01", "web01")
    assert traces.interval_s == 60
    _, rows = table(SHEET)
    assert not SHEET.read_text().startswith('"')
    minute = pd.to_datetime([r[0] for r in rows], format="%m/%d/%Y %H:%M")
    used = pd.Series(column(SHEET, f"{HOST}Group Cpu(4100:db01)\\% Used") / 4).groupby(minute).max()
    np.testing.assert_allclose(traces.cpu_pct[0], used.to_numpy(), rtol=1e-6)
    counts = traces.quality.counts
    assert counts["times_without_seconds"] == 60
    assert counts["rows_sharing_a_timestamp"] == 60 - minute.nunique()
    assert counts["duplicates_merged"] == 2 * (60 - minute.nunique())
    conversions = " | ".join(traces.quality.conversions)
    assert "timestamps without seconds" in conversions and "keeping each interval's maximum" in conversions


# --- folders and compression -------------------------------------------------------------------------


def test_a_folder_of_hosts_gzip_included(tmp_path):
    (tmp_path / "esx01.csv.gz").write_bytes(gzip.compress(BATCH.read_bytes()))
    shutil.copy(NO_WORLDS, tmp_path)
    (tmp_path / "run.sh").write_text("esxtop -b -d 5 -n 720 > esx01.csv\n")
    traces = read_traces(tmp_path)
    assert traces.source.startswith("esxtop:")
    assert traces.server_ids == ("db01", "mail01", "web01")
    assert any("left out 1 file(s) that are not exports of this format: run.sh" in w for w in traces.quality.warnings)


# --- what is refused ------------------------------------------------------------------------------


def test_columns_takes_only_the_view(tmp_path):
    assert "server_id=vm" in one_line_error(BATCH, columns={"server_id": "cluster"})
    assert "server_id=vm" in one_line_error(BATCH, columns={"cpu_pct": "x"})
    host_only = tmp_path / "host.csv"
    names, rows = table(BATCH)
    keep = [k for k, n in enumerate(names) if k == 0 or "Physical Cpu" in n or "\\Memory\\" in n]
    host_only.write_text("\n".join(",".join(f'"{r[k]}"' for k in keep) for r in [names, *rows]) + "\n")
    message = one_line_error(host_only, columns={"server_id": "vm"})
    assert "has no VM groups" in message and "leave --columns out" in message
    assert read_traces(host_only).server_ids == ("esx01.example.com",)  # no VM groups: the host


def test_a_file_without_cpu_counters_names_what_it_has(tmp_path):
    names, rows = table(BATCH)
    keep = [k for k, n in enumerate(names) if k == 0 or "Virtual Disk" in n or "Network Port" in n or "Memory\\Free" in n]
    path = tmp_path / "disks.csv"
    path.write_text("\n".join(",".join(f'"{r[k]}"' for k in keep) for r in [names, *rows]) + "\n")
    message = one_line_error(path)
    assert message.startswith(f"{path}: has no CPU counter")
    assert "\\Virtual Disk\\Reads/sec" in message and "\\Network Port\\MBits Transmitted/sec" in message


def test_timezone_does_not_apply():
    assert "--timezone does not apply to the esxtop format" in one_line_error(BATCH, timezone="Europe/Paris")


# --- detection ------------------------------------------------------------------------------------


def test_auto_detection_picks_esxtop_for_every_sample():
    for path in (BATCH, SHEET, NO_WORLDS):
        assert looks_esxtop(path, head_bytes(path)), path.name
        assert read_traces(path).source == f"esxtop:{path}"


def test_the_sniffer_rejects_every_other_sample_file():
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and HERE not in p.parents]
    assert any(p.parent.name == "perfmon" for p in others)  # Windows logs are PDH-CSV too
    for path in others:
        try:
            head = head_bytes(path)
        except InputError:  # a zip (xlsx) or other compression: not read as traces at all
            continue
        assert not looks_esxtop(path, head), path


# --- the command line ------------------------------------------------------------------------------


def test_cli_inspect_json(capsys, vms):
    assert main(["inspect", str(BATCH), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "esxtop"
    assert report["servers"] == 2
    assert report["interval_s"] == 5
    assert report["start"] == "2024-04-02T07:15:00Z"
    cpu = np.concatenate([column(BATCH, f"{HOST}Group Cpu(4100:db01)\\% Used") / 4,
                          column(BATCH, f"{HOST}Group Cpu(4000:web01)\\% Used") / 2])
    assert report["cpu_mean_pct"] == pytest.approx(cpu.mean(), abs=1e-3)
    assert main(["inspect", str(BATCH), "--json", "--columns", "server_id=host"]) == 0
    assert json.loads(capsys.readouterr().out)["servers"] == 1


@pytest.mark.slow
def test_cli_plan_places_every_server(tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", str(BATCH), "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "placement.csv").read_text())))
    assert sorted(r["server_id"] for r in rows) == ["db01", "web01"]
    assert all(r["status"] == "placed" for r in rows)
