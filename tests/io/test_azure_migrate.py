"""Azure Migrate "Import using CSV" files as an inventory: the real template and its variants."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.errors import InputError
from consolidate.io import read_inventory, read_traces
from consolidate.io.inventory import FIELDS, HOST, SERVER_COLUMNS, inventory_format, inventory_report, read_inventory_export

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAMPLE = SAMPLES / "formats" / "azure-migrate" / "AzureMigrateimport-01.csv"

HEADER = "*Server name,IP addresses,*Cores,*Memory (In MB),*OS name,OS version,Server type,CPU utilization percentage,Memory utilization percentage\n"
#: The 2019-2020 template: no "*", "IP address", "Memory (in MB)", "Server Type", "Location".
OLD_HEADER = "Server name,IP address,Cores,Memory (in MB),OS name,Server Type,Location,CPU utilization percentage\n"


def write(tmp_path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "import.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_sample_values_as_the_file_gives_them():
    with open(SAMPLE, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    export = read_inventory_export(SAMPLE)
    assert inventory_format(SAMPLE) == "azure-migrate" and export.kind == "azure-migrate"
    servers = export.servers
    assert list(servers.columns) == list(SERVER_COLUMNS)
    assert list(servers["server_id"]) == [r["*Server name"] for r in rows] == ["DC01", "FS01", "WEB01"]
    np.testing.assert_array_equal(servers["vcpus"], [float(r["*Cores"]) for r in rows])
    np.testing.assert_allclose(servers["ram_gb"], [float(r["*Memory (In MB)"]) / 1024 for r in rows])
    np.testing.assert_array_equal(servers["cpu_util_pct"], [float(r["CPU utilization percentage"]) for r in rows])
    np.testing.assert_array_equal(servers["mem_util_pct"], [float(r["Memory utilization percentage"]) for r in rows])
    assert servers["model"].iloc[0] == rows[0]["*OS name"] and servers["ghz"].isna().all()
    assert servers["powered_on"].all() and not servers["template"].any() and export.hosts.empty


def test_sample_report():
    report = inventory_report(read_inventory_export(SAMPLE))
    json.dumps(report)
    assert (report["kind"], report["format"], report["servers"], report["powered_on"], report["templates"]) == (
        "inventory", "azure-migrate", 3, 3, 0)
    assert report["vcpus"] == 3 and report["cores"] == 3 and report["ram_gb"] == 6.0
    assert report["cpu_util_given"] == 3 and report["cpu_util_mean_pct"] == pytest.approx((25 + 50 + 10) / 3)
    assert report["defaulted"] == {"servers": 3, "cores": 0, "ghz": 3, "ram_gb": 0}
    assert report["counts"]["virtual"] == 3 and report["counts"]["short_names"] == 3
    assert any("cannot show when servers peak" in w for w in report["warnings"])
    assert any("MiB" in c for c in report["conversions"])


def test_read_inventory_of_the_sample():
    inv = read_inventory(SAMPLE)
    assert tuple(inv.columns) == (*FIELDS, HOST) and list(inv["ram_gb"]) == [2.0, 2.0, 2.0]
    assert (inv["threads"] == inv["cores"]).all() and (inv["perf"] == 1.0).all()


def test_old_template_fqdns_percent_signs_and_blank_rows(tmp_path):
    text = OLD_HEADER + ("sql01.corp.example,10.0.0.1,8,65536,Windows Server 2019,Physical,Amsterdam,42 %\n"
                         ",,,,,,,\n"
                         "web01,10.0.0.2,2,4096,Ubuntu Linux,Virtual,Amsterdam,\n")
    export = read_inventory_export(write(tmp_path, text, "utf-8"))
    servers = export.servers.set_index("server_id")
    assert list(servers.index) == ["sql01.corp.example", "web01"]  # as written
    assert servers.loc["sql01.corp.example", "cpu_util_pct"] == 42 and np.isnan(servers.loc["web01", "cpu_util_pct"])
    assert servers.loc["sql01.corp.example", "ram_gb"] == 64 and servers.loc["web01", "datacenter"] == "Amsterdam"
    assert servers["mem_util_pct"].isna().all()
    counts = export.counts
    assert (counts["blank_rows_skipped"], counts["physical"], counts["fqdn_names"], counts["short_names"]) == (1, 1, 1, 1)


def test_semicolons_decimal_commas_and_cp1252(tmp_path):
    text = HEADER.replace(",", ";") + "Caf\u00e9;;4;8192;Windows;;Virtual;12,5;30\n"
    export = read_inventory_export(write(tmp_path, text, "cp1252"))
    assert export.servers["server_id"].iloc[0] == "Caf\u00e9" and export.servers["vcpus"].iloc[0] == 4
    assert export.servers["cpu_util_pct"].iloc[0] == 12.5  # the decimal comma of a ";"-separated file
    assert any("cp1252" in n for n in export.notes)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("*Server name,*Memory (In MB),*OS name,Cores count\na,1024,Linux,2\n",
         r"has no '\*Cores' column.*found columns: \*Server name, \*Memory \(In MB\), \*OS name, Cores count"),
        (HEADER + ",,2,2048,Linux,,,,\n", r"line 2: the '\*Server name' cell is empty"),
        (HEADER + "a,,2,2048,Linux,,,,\nb,,2,2048,Linux,,,,\na,,4,2048,Linux,,,,\n",
         r"server 'a' appears twice \(line 2 and line 4\)"),
        (HEADER + "a,,two,2048,Linux,,,,\n", r"line 2, column '\*Cores': 'two' is not a number"),
        (HEADER + "a,,2,-5,Linux,,,,\n", r"column '\*Memory \(In MB\)': -5 must be a positive number"),
        (HEADER + "a,,2,2048,Linux,,,120,\n", "column 'CPU utilization percentage': 120 is above 100 %"),
        (HEADER, "lists no server"),
    ],
)
def test_errors_are_one_line_naming_line_and_column(tmp_path, text, match):
    with pytest.raises(InputError, match=match) as info:
        read_inventory_export(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_sniffer_claims_only_the_template(tmp_path):
    assert inventory_format(write(tmp_path, OLD_HEADER + "a,,1,1024,Linux,,,\n")) == "azure-migrate"
    assert inventory_format(write(tmp_path, "Server name,Cores,Memory\na,1,1\n")) is None  # no unit: not the template
    for path in (SAMPLES / "traces.csv", SAMPLES / "inventory.csv", SAMPLES / "io" / "wide.csv",
                 SAMPLES / "io" / "long_dirty.csv", SAMPLES / "formats" / "rvtools" / "kubev2v-example1-trimmed.xlsx",
                 *sorted((SAMPLES / "bitbrains").rglob("*.gz"))[:1]):
        assert inventory_format(path) != "azure-migrate", path


def test_fqdn_traces_against_short_names_say_so(tmp_path):
    traces = tmp_path / "t.csv"
    traces.write_text("timestamp,server_id,cpu_pct\n" + "".join(
        f"2024-01-01T00:{m:02d}:00Z,{s}.tailwindtraders.org,10\n" for s in ("DC01", "FS01") for m in (0, 5)))
    with pytest.raises(InputError, match="they match without the domain"):
        read_traces(traces, inventory=SAMPLE)


def test_cli_inspect_with_the_csv_as_inventory(tmp_path, capsys):
    from consolidate.cli import main

    traces = tmp_path / "t.csv"
    times = pd.date_range("2024-01-01", periods=12, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.concat(pd.DataFrame({"timestamp": times, "server_id": s, "cpu_pct": 10.0}) for s in ("DC01", "FS01", "WEB01")).to_csv(
        traces, index=False)
    assert main(["inspect", str(traces), "--inventory", str(SAMPLE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["servers"] == 3 and report["ram_total_gb"] == 6.0 and report["inventory_defaulted"] == 3
