"""Windows perfmon / typeperf / relog PDH-CSV: the real excerpt and the constructed files of
data/samples/formats/perfmon/ (PROVENANCE.md), and variants derived from them here.

Expected values come from parsing the raw files with the csv module in the tests, not from
the reader's code."""

import csv
import gzip
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.io.detect import head_bytes
from consolidate.io.pdh import parse_times
from consolidate.io.perfmon import looks_perfmon, read_perfmon

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
HERE = SAMPLES / "formats" / "perfmon"
REAL = HERE / "Narmadha6790-DataCollector01-excerpt.csv"
TWO_HOSTS = HERE / "relog-two-hosts-ist.csv"
GERMAN = HERE / "de-cp1252-per-cpu.csv"
RUSSIAN = HERE / "ru-cp1251.csv"
FRENCH = HERE / "fr-utf16.csv"
TYPEPERF = HERE / "typeperf-console.csv"
GIB = 1024**3


def table(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a PDH-CSV file, by the csv module (the independent parse)."""
    rows = [r for r in csv.reader(io.StringIO(path.read_bytes().decode(encoding).lstrip("\ufeff"))) if r]
    return rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]


def column(path: Path, name: str, encoding: str = "utf-8") -> np.ndarray:
    names, rows = table(path, encoding)
    k = names.index(name)
    return np.array([float(r[k]) if r[k].strip() else np.nan for r in rows])


def filled(values: np.ndarray) -> np.ndarray:
    """A grid row with a missing first sample: filled backward from the next one (late start)."""
    out = values.copy()
    out[0] = out[1] if np.isnan(out[0]) else out[0]
    return out


def one_line_error(path: Path, **options) -> str:
    with pytest.raises(InputError) as err:
        read_traces(path, **options)
    message = str(err.value)
    assert "\n" not in message
    return message


def rewrite_header(tmp_path: Path, first_cell: str, name: str = "log.csv") -> Path:
    lines = TWO_HOSTS.read_bytes().decode().split("\r\n")
    lines[0] = lines[0].replace('"(PDH-CSV 4.0) (India Standard Time)(-330)"', first_cell)
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode())
    return path


# --- two hosts in one relog file, zone in the header ---------------------------------------------


@pytest.fixture(scope="module")
def two_hosts():
    return read_traces(TWO_HOSTS)


def test_two_hosts_are_two_servers_with_their_values(two_hosts):
    assert two_hosts.source == f"perfmon:{TWO_HOSTS}"
    assert two_hosts.server_ids == ("DB01", "WEB01")
    for row, host in enumerate(two_hosts.server_ids):
        cpu = column(TWO_HOSTS, f"\\\\{host}\\Processor(_Total)\\% Processor Time")
        assert np.isnan(cpu[0])  # " ": a rate counter's first reading
        np.testing.assert_allclose(two_hosts.cpu_pct[row], filled(cpu), rtol=1e-6)
        committed = column(TWO_HOSTS, f"\\\\{host}\\Memory\\Committed Bytes")
        np.testing.assert_allclose(two_hosts.mem_gb[row], committed / GIB, rtol=1e-6)
    assert two_hosts.cpu_pct.max() == pytest.approx(max(np.nanmax(column(TWO_HOSTS, f"\\\\{h}\\Processor(_Total)\\% Processor Time"))
                                                        for h in ("DB01", "WEB01")), rel=1e-6)


def test_two_hosts_span_and_interval_in_utc(two_hosts):
    # the first sample is 03/04/2024 09:00:00.119 India Standard Time (bias -330: UTC+05:30)
    assert two_hosts.start == pd.Timestamp("2024-03-04 03:30", tz="UTC")
    assert two_hosts.interval_s == 60
    assert two_hosts.n_steps == 40


def test_two_hosts_conversions_and_counts_are_stated(two_hosts):
    conversions = " | ".join(two_hosts.quality.conversions)
    assert "India Standard Time, -330 min west of UTC (UTC+05:30): 40 timestamps" in conversions
    assert "\\Processor(_Total)\\% Processor Time: 80 samples" in conversions
    assert "Committed Bytes" in conversions and "page file" in conversions
    assert "taken as cores and threads" in conversions
    counts = two_hosts.quality.counts
    assert counts["pdh_blank_cells"] == 2  # the " " of each host's _Total column in the first row
    assert counts["cpu_empty_values"] == 2 and counts["late_start_filled"] == 2
    assert list(two_hosts.inventory.cores) == [2, 2] and list(two_hosts.inventory.threads) == [2, 2]


def test_a_gzip_file_and_a_spreadsheet_re_save_read_alike(tmp_path, two_hosts):
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(TWO_HOSTS.read_bytes()))
    np.testing.assert_array_equal(read_traces(packed).cpu_pct, two_hosts.cpu_pct)
    # a European spreadsheet: ';' separated, ',' decimals, M/D/YYYY H:MM, no quotes
    names, rows = table(TWO_HOSTS, "utf-8")
    sheet = io.StringIO()
    writer = csv.writer(sheet, delimiter=";")
    writer.writerow(names)
    for r in rows:
        t = pd.Timestamp(pd.to_datetime(r[0], format="%m/%d/%Y %H:%M:%S.%f"))
        writer.writerow([f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}"] + [c.strip().replace(".", ",") for c in r[1:]])
    path = tmp_path / "sheet.csv"
    path.write_text(sheet.getvalue())
    traces = read_traces(path)
    np.testing.assert_allclose(traces.cpu_pct, two_hosts.cpu_pct, rtol=1e-6)
    assert traces.quality.counts["times_without_seconds"] == 40
    assert any("without seconds" in c and ": 40" in c for c in traces.quality.conversions)


def test_timezone_overrides_the_header_and_says_so(two_hosts):
    traces = read_traces(TWO_HOSTS, timezone="UTC")
    assert traces.start == pd.Timestamp("2024-03-04 09:00", tz="UTC")
    assert any("overrides the header's zone, India Standard Time (UTC+05:30)" in w for w in traces.quality.warnings)
    np.testing.assert_array_equal(traces.cpu_pct, two_hosts.cpu_pct)


# --- the zone cut short or missing ----------------------------------------------------------------


@pytest.mark.parametrize("first_cell", ['"(PDH-CSV 4.0) (India Standard Time)(-33"', '"(PDH-CSV 4.0) (India Stan"',
                                        '"(PDH-CSV 4.0)"', '""'])
def test_a_cut_or_missing_zone_needs_timezone(tmp_path, two_hosts, first_cell):
    path = rewrite_header(tmp_path, first_cell)
    message = one_line_error(path)
    assert "does not give the zone" in message and "--timezone" in message
    traces = read_traces(path, timezone="Asia/Kolkata")
    assert traces.start == two_hosts.start
    np.testing.assert_array_equal(traces.cpu_pct, two_hosts.cpu_pct)
    assert any("--timezone Asia/Kolkata: 40 timestamps" in c for c in traces.quality.conversions)


def test_typeperf_console_output_blank_line_status_lines_and_no_zone():
    assert "--timezone" in one_line_error(TYPEPERF)
    traces = read_perfmon(TYPEPERF, timezone="Europe/Berlin")
    assert traces.server_ids == ("APP07",)
    assert traces.start == pd.Timestamp("2024-05-06 14:20", tz="UTC")  # 16:20 CEST
    assert traces.interval_s == 5
    np.testing.assert_allclose(traces.cpu_pct[0], column(TYPEPERF, "\\\\APP07\\Processor(_Total)\\% Processor Time"), rtol=1e-6)
    assert traces.quality.counts["pdh_non_data_lines"] == 2  # "Exiting, please wait..." and "The command completed..."
    assert any("left out 2 line(s) that are not samples" in w for w in traces.quality.warnings)


# --- languages and encodings ----------------------------------------------------------------------


def test_german_cp1252_per_cpu_columns_are_averaged():
    assert b"\xe4" in GERMAN.read_bytes()  # "ä" in cp1252, not UTF-8
    traces = read_traces(GERMAN)
    names, _ = table(GERMAN, "cp1252")
    per_cpu = np.column_stack([column(GERMAN, n, "cp1252") for n in names if "Prozessorzeit" in n])
    assert per_cpu.shape[1] == 4
    assert np.isnan(per_cpu[0]).all() and not np.isnan(per_cpu[1:]).any()  # " " in the first row
    np.testing.assert_allclose(traces.cpu_pct[0], filled(per_cpu.mean(axis=1)), rtol=1e-6)
    assert traces.start == pd.Timestamp("2024-01-15 12:30", tz="UTC")  # 13:30 Mitteleuropäische Zeit (-60)
    assert traces.interval_s == 15
    conversions = " | ".join(traces.quality.conversions)
    assert "mean of the per-CPU columns of \\Processor(N)\\% Processor Time (no _Total column)" in conversions
    assert "Prozessor\\Prozessorzeit (%) = Processor\\% Processor Time" in conversions
    assert any("read as cp1252" in w for w in traces.quality.warnings)
    assert traces.inventory.cores[0] == 4
    committed = column(GERMAN, "\\\\RECHNER01\\Arbeitsspeicher\\Zugesicherte Bytes", "cp1252")
    np.testing.assert_allclose(traces.mem_gb[0], committed / GIB, rtol=1e-6)


def test_russian_cp1251_names_and_available_memory_only():
    raw = RUSSIAN.read_bytes()
    assert "Процессор".encode("cp1251") in raw
    traces = read_traces(RUSSIAN)
    assert traces.server_ids == ("SRV-1C",)
    cpu = column(RUSSIAN, "\\\\SRV-1C\\Процессор(_Total)\\% загруженности процессора", "cp1251")
    np.testing.assert_allclose(traces.cpu_pct[0], filled(cpu), rtol=1e-6)
    assert traces.start == pd.Timestamp("2024-02-20 05:00", tz="UTC")  # 08:00 at UTC+03:00
    warnings = " | ".join(traces.quality.warnings)
    assert "read as cp1251 (Windows Cyrillic" in warnings
    assert "Available MBytes but not \\Memory\\Committed Bytes" in warnings
    assert traces.mem_gb is None


def test_french_utf16_with_a_zone_name_holding_parentheses():
    assert FRENCH.read_bytes()[:2] == b"\xff\xfe"
    traces = read_traces(FRENCH)
    assert traces.server_ids == ("SERVEUR-FR",)
    assert traces.start == pd.Timestamp("2024-07-01 08:00", tz="UTC")  # (Paris, Madrid (heure d’été))(-120)
    cpu = column(FRENCH, "\\\\SERVEUR-FR\\Processeur(_Total)\\% temps processeur", "utf-16")
    np.testing.assert_allclose(traces.cpu_pct[0], filled(cpu), rtol=1e-6)
    committed = column(FRENCH, "\\\\SERVEUR-FR\\Mémoire\\Octets validés", "utf-16")
    np.testing.assert_allclose(traces.mem_gb[0], committed / GIB, rtol=1e-6)
    assert any("read as UTF-16" in w for w in traces.quality.warnings)


def test_processor_information_utility_is_taken_without_processor(tmp_path):
    path = tmp_path / "pi.csv"
    path.write_text('"(PDH-CSV 4.0) (UTC)(0)","\\\\H1\\Processor Information(_Total)\\% Processor Utility",'
                    '"\\\\H1\\Processor Information(0,_Total)\\% Processor Utility"\n'
                    '"01/02/2024 00:00:00.000","10.5","10.5"\n"01/02/2024 00:01:00.000","120.0","120.0"\n'
                    '"01/02/2024 00:02:00.000","30.0","30.0"\n')
    traces = read_traces(path)
    np.testing.assert_allclose(traces.cpu_pct[0], [10.5, 100.0, 30.0])
    assert traces.quality.counts["cpu_above_100_clipped"] == 1
    assert any("% Processor Utility (frequency-scaled" in c for c in traces.quality.conversions)


# --- what is refused ------------------------------------------------------------------------------


def test_the_real_log_without_a_processor_counter_names_what_it_has():
    message = one_line_error(REAL)
    assert message.startswith(f"{REAL}: has no processor counter")
    assert "\\LogicalDisk\\Avg. Disk Read Queue Length" in message
    assert "\\LogicalDisk\\Current Disk Queue Length" in message
    assert "\\Processor(*)\\% Processor Time" in message


@pytest.mark.parametrize("name", ["server.blg", "server.csv"])
def test_a_binary_blg_log_says_how_to_convert_it(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x00\x00\x01\x00PDH binary log\x00\x00" * 64)
    message = one_line_error(path, format="perfmon")
    assert f'relog "{name}" -f csv -o "server.csv"' in message
    if name.endswith(".blg"):
        assert one_line_error(path) == message  # auto-detection sends a .blg here


def test_a_header_without_samples_a_bad_value_and_a_bad_time_are_refused(tmp_path):
    lines = TWO_HOSTS.read_bytes().decode().split("\r\n")
    header_only = tmp_path / "header.csv"
    header_only.write_text(lines[0] + "\n")
    assert "has a header but no samples" in one_line_error(header_only)
    cells = lines[5].split(",")
    cells[3] = '"12,5%"'  # WEB01's _Total column, line 6
    bad_value = tmp_path / "value.csv"
    bad_value.write_text("\n".join(lines[:5] + [",".join(cells)] + lines[6:]))
    message = one_line_error(bad_value)
    assert "line 6, column '\\\\WEB01\\Processor(_Total)\\% Processor Time': '12,5%' is not a number" in message
    bad_time = tmp_path / "time.csv"
    bad_time.write_text("\n".join(lines[:5] + [lines[5].replace("03/04/2024", "2024-03-04", 1)] + lines[6:]))
    assert "line 6: cannot read the time '2024-03-04 09:04:00" in one_line_error(bad_time)
    day_first = tmp_path / "day_first.csv"
    day_first.write_text("\n".join(lines[:3] + [lines[3].replace("03/04/2024", "19/04/2024", 1)] + lines[4:]))
    assert "line 4: cannot read the time '19/04/2024" in one_line_error(day_first)


# --- folders --------------------------------------------------------------------------------------


def test_a_folder_of_logs_one_per_server(tmp_path):
    for f in (GERMAN, RUSSIAN):
        shutil.copy(f, tmp_path)
    traces = read_traces(tmp_path)
    assert traces.source.startswith("perfmon:")
    assert traces.server_ids == ("RECHNER01", "SRV-1C")
    assert any("read as cp1251" in w for w in traces.quality.warnings)
    assert any("read as cp1252" in w for w in traces.quality.warnings)


# --- time parsing ----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(), max_value=pd.Timestamp("2099-12-31").to_pydatetime()))
def test_pdh_times_round_trip(when):
    stamp = pd.Timestamp(when).floor("ms")
    texts = np.array([f"{stamp:%m/%d/%Y %H:%M:%S}.{stamp.microsecond // 1000:03d}",
                      f"{stamp.month}/{stamp.day}/{stamp.year} {stamp.hour}:{stamp:%M}",
                      f"{stamp.month}/{stamp.day}/{stamp.year} {(stamp.hour + 11) % 12 + 1}:{stamp:%M:%S} {'PM' if stamp.hour >= 12 else 'AM'}"],
                     dtype=object)
    ns, valid, no_seconds = parse_times(texts)
    assert valid.all()
    assert list(no_seconds) == [False, True, False]
    assert ns[0] == stamp.value
    assert ns[1] == stamp.floor("min").value
    assert ns[2] == stamp.floor("s").value


def test_impossible_times_are_not_times():
    _, valid, _ = parse_times(np.array(["02/30/2024 10:00:00", "01/01/2024 24:00:00", "01/01/2024 13:00 PM",
                                        "13/01/2024 10:00", "Exiting, please wait..."], dtype=object))
    assert not valid.any()


# --- detection ------------------------------------------------------------------------------------


def test_auto_detection_picks_perfmon_for_every_sample():
    for path in (TWO_HOSTS, GERMAN, RUSSIAN, FRENCH):
        assert read_traces(path).source == f"perfmon:{path}"
    assert looks_perfmon(TYPEPERF, head_bytes(TYPEPERF)) and looks_perfmon(REAL, head_bytes(REAL))


def test_the_sniffer_rejects_every_other_sample_file():
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and HERE not in p.parents]
    assert len(others) > 10
    assert any(p.parent.name == "esxtop" for p in others)  # esxtop files are PDH-CSV too
    for path in others:
        try:
            head = head_bytes(path)
        except InputError:  # a zip (xlsx) or other compression: not read as traces at all
            continue
        assert not looks_perfmon(path, head), path


# --- the command line ------------------------------------------------------------------------------


def test_cli_inspect_json(capsys, two_hosts):
    assert main(["inspect", str(TWO_HOSTS), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "perfmon"
    assert report["servers"] == 2
    assert report["interval_s"] == 60
    assert report["start"] == "2024-03-04T03:30:00Z"
    cpu = [column(TWO_HOSTS, f"\\\\{h}\\Processor(_Total)\\% Processor Time") for h in ("DB01", "WEB01")]
    assert report["cpu_mean_pct"] == pytest.approx(np.nanmean(np.concatenate(cpu)), abs=1e-3)  # the samples read
    assert report["cpu_mean_grid_pct"] == pytest.approx(np.concatenate([filled(c) for c in cpu]).mean(), abs=1e-3)


def test_cli_timezone_flag(capsys):
    assert main(["inspect", str(TYPEPERF), "--json"]) == 2
    assert "--timezone" in capsys.readouterr().err
    assert main(["inspect", str(TYPEPERF), "--json", "--timezone", "America/New_York"]) == 0
    assert json.loads(capsys.readouterr().out)["start"] == "2024-05-06T20:20:00Z"


@pytest.mark.slow
def test_cli_plan_places_every_server(tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", str(TWO_HOSTS), "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "placement.csv").read_text())))
    assert sorted(r["server_id"] for r in rows) == ["DB01", "WEB01"]
    assert all(r["status"] == "placed" for r in rows)
