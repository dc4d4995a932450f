"""The vSphere reader: PowerCLI Get-Stat CSVs and vSphere Client chart CSVs (data/samples/formats/vsphere)."""

import gzip
import json
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
from consolidate.io.vsphere import looks_vsphere, read_vsphere, vsphere_samples

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
VSPHERE = SAMPLES / "formats" / "vsphere"
EN_US = VSPHERE / "getstat-en-us-realtime.csv"
DE_DE = VSPHERE / "getstat-de-de-300s.csv"
EN_GB = VSPHERE / "getstat-en-gb-rollups.csv"
CHARTS = VSPHERE / "chart-web01"
KB_PER_GB = 1024**2
HEADER = ("Value", "Timestamp", "MetricId", "Unit", "Description", "Entity", "EntityId", "IntervalSecs", "Instance")


def raw_getstat(path, sep=",", skip=0, time_format=None, encoding="utf-8"):
    """The file as pandas reads it, with numbers and UTC times, independently of the reader."""
    raw = pd.read_csv(path, sep=sep, skiprows=skip, dtype=str, keep_default_na=False, encoding=encoding)
    raw["value"] = raw["Value"].str.replace(",", ".").astype(float)
    raw["time"] = pd.to_datetime(raw["Timestamp"], format=time_format).dt.tz_localize("UTC")
    return raw


def cpu_total(raw, metric="cpu.usage.average"):
    return raw[(raw["MetricId"] == metric) & (raw["Instance"] == "")]


def write_getstat(path, rows, *, sep=",", type_line=False, header=HEADER, encoding="utf-8"):
    lines = (["#TYPE VMware.VimAutomation.ViCore.Impl.V1.VimClient.FloatSampleImpl"] if type_line else [])
    lines += [sep.join(f'"{h}"' for h in header)] + [sep.join(f'"{c}"' for c in r) for r in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)
    return path


def row(value, stamp, metric="cpu.usage.average", entity="vm1", entity_id="VirtualMachine-vm-1", interval="300",
        instance="", unit="%"):
    return (value, stamp, metric, unit, "a counter", entity, entity_id, interval, instance)


def series(stamps, values, **kw):
    return [row(v, t, **kw) for t, v in zip(stamps, values)]


def one_line_error(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- the sample files -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def en_us():
    return read_vsphere(EN_US)


def test_en_us_realtime_values_span_and_servers(en_us):
    raw = raw_getstat(EN_US, skip=1, time_format="%m/%d/%Y %I:%M:%S %p")
    cpu = cpu_total(raw)
    assert en_us.server_ids == ("sql01", "web01", "web02")
    assert en_us.interval_s == 20
    assert en_us.start == pd.Timestamp("2024-03-04 23:50:20", tz="UTC") == cpu["time"].min()
    assert en_us.end == cpu["time"].max() + pd.Timedelta(seconds=20)
    assert float(en_us.cpu_pct.mean()) == pytest.approx(cpu["value"].mean(), abs=1e-4)
    peaks = cpu.groupby("Entity")["value"].max()
    np.testing.assert_allclose(en_us.cpu_pct.max(axis=1), peaks[list(en_us.server_ids)], atol=1e-4)
    mem = raw[raw["MetricId"] == "mem.consumed.average"].groupby("Entity")["value"].mean() / KB_PER_GB
    np.testing.assert_allclose(en_us.mem_gb.mean(axis=1), mem[list(en_us.server_ids)], rtol=1e-5)


def test_en_us_states_what_it_did(en_us):
    raw = raw_getstat(EN_US, skip=1, time_format="%m/%d/%Y %I:%M:%S %p")
    counts, conversions = en_us.quality.counts, " | ".join(en_us.quality.conversions)
    assert counts["vsphere_instance_rows_skipped"] == int((raw["Instance"] != "").sum()) == 480
    assert "read month first (M/D/YYYY), the order under which they span 1 day(s) rather than 30" in conversions
    assert "skipped per-instance rows" in conversions and "480 rows" in conversions
    assert "left out cpu.usagemhz.average beside cpu.usage.average: 180 rows" in conversions
    assert "mem.consumed.average KB (KiB) / 1024^2 = GB (GiB): 180 rows" in conversions
    assert any("carry no zone" in w and "--timezone" in w for w in en_us.quality.warnings)


@pytest.fixture(scope="module")
def de_de():
    return read_vsphere(DE_DE)


def test_de_de_decimal_commas_and_semicolons(de_de):
    raw = raw_getstat(DE_DE, sep=";", time_format="%d.%m.%Y %H:%M:%S", encoding="utf-8-sig")
    cpu = cpu_total(raw)
    assert de_de.server_ids == ("app01", "esx01.corp.local", "fs-köln")
    assert de_de.interval_s == 300
    assert de_de.start == pd.Timestamp("2024-03-11 00:05", tz="UTC")
    assert de_de.end == pd.Timestamp("2024-03-12 00:05", tz="UTC")
    assert float(de_de.cpu_pct.mean()) == pytest.approx(cpu["value"].mean(), abs=1e-4)
    mem = raw[raw["MetricId"] == "mem.consumed.average"].groupby("Entity")["value"].mean() / KB_PER_GB
    np.testing.assert_allclose(de_de.mem_gb.mean(axis=1), mem[list(de_de.server_ids)], rtol=1e-5)
    conversions = " | ".join(de_de.quality.conversions)
    commas = int(raw["Value"].str.contains(",").sum())
    assert f"decimal commas (the exporting machine's culture, e.g. de-DE) read as decimal points: {commas:,} rows" in conversions
    assert "read day first (D.M.YYYY or D-M-YYYY, the order of every culture that writes '.' or '-'" in conversions


def test_de_de_warns_that_vms_and_a_host_are_mixed(de_de):
    warnings = " | ".join(de_de.quality.warnings)
    assert "2 VM(s), 1 host(s)" in warnings and "not VMs: esx01.corp.local" in warnings


def test_timezone_places_local_times():
    traces = read_vsphere(DE_DE, timezone="Europe/Berlin")
    assert traces.start == pd.Timestamp("2024-03-10 23:05", tz="UTC")  # CET is UTC+1 in March before the 31st
    assert "local times in Europe/Berlin converted to UTC: 1,728 rows" in " | ".join(traces.quality.conversions)
    assert not any("carry no zone" in w for w in traces.quality.warnings)


def test_appended_rollups_keep_the_finer_rows():
    raw = raw_getstat(EN_GB, time_format="%d/%m/%Y %H:%M:%S")
    raw["step"] = raw["IntervalSecs"].astype(int)
    fine = raw[raw["step"] == 300]
    fine_start = fine.groupby(["Entity", "MetricId"])["time"].min() - pd.Timedelta(seconds=300)
    coarse = raw[raw["step"] == 1800]
    start = coarse.set_index(["Entity", "MetricId"]).index.map(fine_start)
    inside = (coarse["time"].to_numpy() > start.to_numpy()).sum()
    traces = read_vsphere(EN_GB)
    assert traces.quality.counts["vsphere_coarser_rollup_rows_dropped"] == inside == 192
    assert traces.interval_s == 300  # the median spacing: 5-minute rows are the most
    assert any("several rollup intervals (5.0 min: 576 rows, 30.0 min: 192 rows)" in w for w in traces.quality.warnings)
    # on a 30-minute grid, a cell of the last day is the largest of its six 5-minute samples (the
    # first cell also holds the last 30-minute row before them: left out here)
    half_hour = read_vsphere(EN_GB, interval_s=1800)
    web = cpu_total(raw[raw["Entity"] == "web03"])
    last_day = web[web["step"] == 300].set_index("time")["value"]
    expected = last_day.groupby(last_day.index.floor("1800s")).max().iloc[1:]
    row = half_hour.server_ids.index("web03")
    grid = pd.Series(half_hour.cpu_pct[row], index=half_hour.start + pd.to_timedelta(np.arange(half_hour.n_steps) * 1800, "s"))
    np.testing.assert_allclose(grid[expected.index].to_numpy(), expected.to_numpy(), atol=1e-4)
    older = web[(web["step"] == 1800) & (web["time"] < last_day.index.min())].set_index("time")["value"]
    np.testing.assert_allclose(grid[older.index.floor("1800s")].to_numpy()[1:], older.to_numpy()[1:], atol=1e-4)


def test_chart_folder_takes_cpu_and_memory_from_their_charts():
    cpu = pd.read_csv(CHARTS / "web01-cpu.csv")
    memory = pd.read_csv(CHARTS / "web01-memory.csv")
    traces = read_vsphere(CHARTS)
    assert traces.server_ids == ("web01",)
    assert traces.interval_s == 300
    assert traces.start == pd.Timestamp("2024-03-10 23:05", tz="UTC")  # GMT+0100 in the file
    assert float(traces.cpu_pct.mean()) == pytest.approx(cpu["Usage for web01"].mean(), abs=1e-4)
    assert float(traces.mem_gb.mean()) == pytest.approx(memory["Consumed for web01"].mean() / KB_PER_GB, rel=1e-5)
    conversions = " | ".join(traces.quality.conversions)
    assert "times with a UTC offset converted to UTC: 576 rows" in conversions
    assert "left out mem.active.average and mem.usage.average beside mem.consumed.average: 288 rows" in conversions


def test_one_cpu_chart_reads_alone():
    traces = read_vsphere(CHARTS / "web01-cpu.csv")
    assert traces.server_ids == ("web01",) and traces.mem_gb is None  # a CPU chart holds no memory


# --- times ----------------------------------------------------------------------------------

def times_of(tmp_path, stamps, **kw):
    path = write_getstat(tmp_path / "stats.csv", series(stamps, [10 + i for i in range(len(stamps))]))
    samples = vsphere_samples(path, **kw)
    return pd.to_datetime(np.sort(samples.time_ns), utc=True), samples


@pytest.mark.parametrize("stamps, expected, how", [
    (["3/4/2024 11:50:00 PM", "3/4/2024 11:55:00 PM"], "2024-03-04 23:50", "month first (M/D/YYYY with AM/PM"),
    (["04/03/2024 23:50:00", "04/03/2024 23:55:00"], "2024-03-04 23:50", "day first (D/M/YYYY in 24-hour time"),
])
def test_a_date_that_does_not_show_its_order_is_assumed_and_warned(tmp_path, stamps, expected, how):
    times, samples = times_of(tmp_path, stamps)
    assert times[0] == pd.Timestamp(expected, tz="UTC")
    assert any("do not show whether the day or the month comes first" in n and how in n for n in samples.notes)


@pytest.mark.parametrize("stamps, expected, how", [
    (["13/03/2024 08:00:00", "14/03/2024 08:00:00"], "2024-03-13 08:00", "day first (D.M.YYYY: a first number above 12"),
    (["03/13/2024 08:00:00", "03/14/2024 08:00:00"], "2024-03-13 08:00", "month first (M/D/YYYY: a second number above 12"),
    (["2024-03-04T23:50:00.0000000Z", "2024-03-05T00:20:00+01:00"], "2024-03-04 23:20", "UTC offset"),
    (["Mon Mar 11 00:05:00 GMT+0100 2024", "Mon Mar 11 2024 00:10:00 GMT+0100 (CET)"], "2024-03-10 23:05", "UTC offset"),
    (["2024/03/04 23:50:00", "2024/03/04 23:55:00"], "2024-03-04 23:50", "without a zone"),  # ja-JP
    (["2024-03-04 오후 11:50:00", "2024-03-04 오후 11:55:00"], "2024-03-04 23:50", "without a zone"),  # ko-KR
    (["4.3.2024 23.50.00", "5.3.2024 0.05.00"], "2024-03-04 23:50", "day first (D.M.YYYY or D-M-YYYY"),  # fi-FI
    (["4-3-2024 23:50:00", "4-3-2024 23:55:00"], "2024-03-04 23:50", "day first (D.M.YYYY or D-M-YYYY"),  # nl-NL
    (["1/3/2024 08:00:00", "2/3/2024 08:00:00"], "2024-03-01 08:00", "day first (D/M/YYYY), the order under which"),
])
def test_times_in_every_form(tmp_path, stamps, expected, how):
    times, samples = times_of(tmp_path, stamps)
    assert times[0] == pd.Timestamp(expected, tz="UTC")
    assert any(how in c for c in samples.conversions)


CULTURES = {
    "en-US": lambda t: f"{t.month}/{t.day}/{t.year} {t.hour % 12 or 12}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}",
    "de-DE": lambda t: f"{t:%d.%m.%Y %H:%M:%S}",
    "en-GB": lambda t: f"{t:%d/%m/%Y %H:%M:%S}",
    "nl-NL": lambda t: f"{t.day}-{t.month}-{t.year} {t:%H:%M:%S}",
}


@settings(max_examples=25, deadline=None)
@given(start=st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(), max_value=pd.Timestamp("2090-01-01").to_pydatetime()),
       culture=st.sampled_from(sorted(CULTURES)), hours=st.integers(1, 24 * 40))
def test_culture_dates_of_a_regular_series_are_read_exactly(tmp_path_factory, start, culture, hours):
    """Samples every 6 hours from any start, in any of the cultures, are read at their exact times."""
    stamps = pd.date_range(pd.Timestamp(start).floor("s"), periods=max(2, hours // 6), freq="6h")
    path = write_getstat(tmp_path_factory.mktemp("c") / "stats.csv", series([CULTURES[culture](t) for t in stamps],
                                                                            range(len(stamps))))
    got = np.sort(vsphere_samples(path).time_ns)
    np.testing.assert_array_equal(got, stamps.as_unit("ns").asi8)


# --- CPU and memory metrics -----------------------------------------------------------------

def test_mhz_alone_is_read_against_the_inventory(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00", "13/03/2024 08:10:00"]
    path = write_getstat(tmp_path / "mhz.csv", series(stamps, ["1300", "2600", "5200"], metric="cpu.usagemhz.average", unit="MHz"))
    inventory = pd.DataFrame({"server_id": ["vm1"], "cores": [2], "ghz": [2.6], "ram_gb": [8]})
    traces = read_vsphere(path, inventory=inventory)
    np.testing.assert_allclose(traces.cpu_pct[0], [25, 50, 100])
    assert any("cpu.usagemhz.average (MHz) and the file holds no capacity" in w and "--inventory" in w
               for w in traces.quality.warnings)
    assert any("cpu.usagemhz.average in MHz" in c for c in traces.quality.conversions)


def test_percent_in_hundredths_is_divided(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]
    path = write_getstat(tmp_path / "raw.csv", series(stamps, ["2345", "120"]))
    traces = read_vsphere(path)
    np.testing.assert_allclose(traces.cpu_pct[0], [23.45, 1.2], atol=1e-5)
    assert any("hundredths of a percent: divided by 100: 2 rows" in c for c in traces.quality.conversions)


def test_active_memory_is_used_where_consumed_is_absent_and_warned(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]
    rows = (series(stamps, ["10", "20"]) + series(stamps, ["20", "20"], entity="vm2", entity_id="VirtualMachine-vm-2")
            + series(stamps, [str(4 * KB_PER_GB)] * 2, metric="mem.consumed.average", unit="KB")
            + series(stamps, [str(KB_PER_GB)] * 2, metric="mem.active.average", unit="KB")
            + series(stamps, [str(KB_PER_GB // 2)] * 2, metric="mem.active.average", unit="KB", entity="vm2",
                     entity_id="VirtualMachine-vm-2"))
    traces = read_vsphere(write_getstat(tmp_path / "mem.csv", rows))
    np.testing.assert_allclose(traces.mem_gb, [[4, 4], [0.5, 0.5]])
    assert any("memory of 1 server(s) is mem.active.average" in w and "vm2" in w for w in traces.quality.warnings)


def test_memory_percent_is_taken_of_the_inventory(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]
    rows = series(stamps, ["10", "20"]) + series(stamps, ["25", "50"], metric="mem.usage.average")
    inventory = pd.DataFrame({"server_id": ["vm1"], "cores": [2], "ghz": [2.6], "ram_gb": [8]})
    traces = read_vsphere(write_getstat(tmp_path / "pct.csv", rows), inventory=inventory)
    np.testing.assert_allclose(traces.mem_gb[0], [2, 4])
    assert any("mem.usage.average (%), taken of the inventory's RAM" in w for w in traces.quality.warnings)


def test_other_metrics_and_repeated_rows_are_counted(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]
    rows = series(stamps, ["10", "20"]) + series(stamps, ["12", "9"]) + series(stamps, ["300", "400"], metric="disk.usage.average", unit="KBps")
    traces = read_vsphere(write_getstat(tmp_path / "twice.csv", rows))
    np.testing.assert_allclose(traces.cpu_pct[0], [12, 20])  # the larger of the repeated samples
    assert traces.quality.counts["vsphere_duplicate_rows_merged"] == 2
    assert traces.quality.counts["vsphere_other_metric_rows"] == 2
    assert any("not used for planning (disk.usage.average): 2 rows" in c for c in traces.quality.conversions)


def test_one_name_of_two_entity_ids_is_two_servers(tmp_path):
    stamps = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]
    rows = series(stamps, ["10", "20"]) + series(stamps, ["30", "40"], entity_id="VirtualMachine-vm-9")
    traces = read_vsphere(write_getstat(tmp_path / "two.csv", rows))
    assert traces.server_ids == ("vm1 (VirtualMachine-vm-1)", "vm1 (VirtualMachine-vm-9)")
    assert any("told apart as 'name (EntityId)': vm1" in w for w in traces.quality.warnings)


def test_columns_found_by_name_in_any_order_and_extra_columns(tmp_path):
    header = ("Lun", "Entity", "Timestamp", "Value", "MetricId")
    rows = [("Data-Lun11", "vm1", "18-09-2015 10:44:20", "5", "cpu.usage.average"),
            ("Data-Lun11", "vm1", "18-09-2015 10:45:00", "7", "cpu.usage.average")]
    samples = vsphere_samples(write_getstat(tmp_path / "picked.csv", rows, header=header))
    assert samples.server_ids == ["vm1"]
    assert list(pd.to_datetime(samples.time_ns, utc=True)) == [pd.Timestamp("2015-09-18 10:44:20", tz="UTC"),
                                                                pd.Timestamp("2015-09-18 10:45:00", tz="UTC")]


# --- errors ---------------------------------------------------------------------------------

STAMPS = ["13/03/2024 08:00:00", "13/03/2024 08:05:00"]


@pytest.mark.parametrize("rows, words", [
    (series(STAMPS, ["1", "2"], metric="mem.consumed.average", unit="KB")
     + series(STAMPS, ["3", "4"], metric="disk.usage.average", unit="KBps"),
     "holds no CPU metric (found: mem.consumed.average, disk.usage.average)"),
    (series(STAMPS, ["1", "2"], instance="0"), "holds no CPU total (only per-instance rows"),
    (series(STAMPS, ["1", "2"]) + series(STAMPS, ["1", "2"], metric="cpu.usagemhz.average", entity="vm2", entity_id="vm-2"),
     "1 server(s) have only cpu.usage.average (e.g. vm1) and 1 only cpu.usagemhz.average (e.g. vm2)"),
    ([row("abc", STAMPS[0])], "line 2: 'abc' is not a number"),
    ([row("1", "yesterday")], "line 2: cannot read the time 'yesterday'"),
    ([row("1", "31/02/2024 08:00:00")], "is not a date in either order"),
    ([row("1", "13/03/2024 08:00:00"), row("2", "03/14/2024 08:00:00")], "the dates put the day first in some rows"),
    ([row("1", "13/03/2024 25:00:00")], "line 2: '13/03/2024 25:00:00' is not a valid date and time"),
    ([row("1", STAMPS[0], entity="")], "line 2: the Entity is empty"),
])
def test_errors_name_what_is_wrong_on_one_line(tmp_path, rows, words):
    path = write_getstat(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError) as excinfo:
        read_traces(path, format="vsphere")
    assert words in one_line_error(excinfo)


@pytest.mark.parametrize("content, words", [
    ("", "is empty or not a text file"),
    ('"Value","Timestamp","MetricId","Entity"\r\n', "has a header but no samples"),
    ('"Value","Timestamp","Entity"\r\n"1","13/03/2024 08:00:00","vm1"\r\n', "has no column 'MetricId' (found: Value, Timestamp, Entity)"),
    ('"Value","Timestamp","MetricId","Entity"\r\n"1","13/03/2024 08:00:00","cpu.usage.average","vm1","extra"\r\n',
     "a row has 5 fields where the header has 4"),
    ('"Time","Consumed for vm1","Active for vm1"\r\n"2024-03-13 08:00:00","1","2"\r\n',
     "holds no CPU metric (found: Consumed for vm1, Active for vm1)"),
    ('"Time","Usage for vm1"\r\n"2024-03-13 08:00:00","1"\r\n', "a chart's Usage is read as CPU when the chart has Usage in MHz"),
])
def test_file_errors(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError) as excinfo:
        read_traces(path, format="vsphere")
    assert words in one_line_error(excinfo)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "chart.xls"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match="is empty or not a text file"):
        read_vsphere(path)


# --- detection and the command line ---------------------------------------------------------

@pytest.mark.parametrize("path", [EN_US, DE_DE, EN_GB, CHARTS, CHARTS / "web01-memory.csv"])
def test_auto_detection_picks_vsphere(path):
    if path.is_dir():
        assert read_traces(path).server_ids == ("web01",)
    else:
        assert looks_vsphere(path, head_bytes(path))
    if path.name != "web01-memory.csv":
        assert read_traces(path).n_servers > 0


def first_bytes(path):
    """The first 64 KB of a file's content, gunzipped (what the dispatcher hands a sniffer)."""
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)[: 1 << 16]


def test_the_sniffer_rejects_every_other_sample():
    others = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and VSPHERE not in p.parents)
    assert others
    claimed = [p for p in others if looks_vsphere(p, first_bytes(p))]
    assert claimed == []


def test_inspect_json(capsys):
    assert main(["inspect", str(DE_DE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "vsphere" and report["servers"] == 3 and report["interval_s"] == 300
    assert report["start"] == "2024-03-11T00:05:00Z" and report["end"] == "2024-03-12T00:05:00Z"


@pytest.mark.slow
def test_plan_places_every_server(tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", str(EN_US), "--out", str(out), "--quiet"]) == 0
    placement = pd.read_csv(out / "placement.csv")
    assert sorted(placement["server_id"]) == ["sql01", "web01", "web02"]
    assert placement["host_id"].notna().all()


def test_utf16_and_gzip_exports_read_alike(tmp_path):
    """Export-Csv -Encoding Unicode writes UTF-16 with a byte-order mark; a gzipped copy reads the same."""
    text = DE_DE.read_text(encoding="utf-8-sig")
    utf16 = tmp_path / "stats.csv"
    utf16.write_text(text, encoding="utf-16")
    packed = tmp_path / "stats.csv.gz"
    packed.write_bytes(gzip.compress(DE_DE.read_bytes()))
    plain, wide, zipped = read_vsphere(DE_DE), read_vsphere(utf16), read_vsphere(packed)
    np.testing.assert_array_equal(plain.cpu_pct, wide.cpu_pct)
    np.testing.assert_array_equal(plain.cpu_pct, zipped.cpu_pct)
    assert any("read as UTF-16" in w for w in wide.quality.warnings)
