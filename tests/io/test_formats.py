"""Each reader on small fixtures and real excerpts; each repair rule counted."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consolidate.io import (
    FORMATS,
    inspect_traces,
    parse_columns,
    read_bitbrains,
    read_long,
    read_planetlab,
    read_traces,
    read_wide,
)
from consolidate.io.inventory import DEFAULT_CORES, DEFAULT_GHZ, DEFAULT_RAM_GB, DEFAULT_THREADS

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
IO = SAMPLES / "io"
PLANETLAB = SAMPLES / "planetlab" / "20110303"
BITBRAINS = SAMPLES / "bitbrains" / "2013-7"
UTC = "UTC"


# --- canonical long CSV ------------------------------------------------------------------

@pytest.fixture(scope="module")
def dirty():
    return read_traces(IO / "long_dirty.csv", inventory=IO / "inventory.csv")


def test_long_grid_values_follow_the_rules(dirty):
    assert dirty.server_ids == ("a", "b", "c")  # d has no CPU value at all: left out, named
    assert dirty.start == pd.Timestamp("2024-01-01", tz=UTC)
    assert dirty.interval_s == 300
    np.testing.assert_array_equal(
        dirty.cpu_pct,
        [[10, 35, 35, 40, 0, 100],  # max of 00:05 and 00:07; gap filled forward; clipped to [0, 100]
         [50, 50, 50, 60, 70, 70],  # late start filled backward, early stop forward
         [5, 5, 7, 8, 9, 10]],  # an empty cell is a gap
    )
    np.testing.assert_array_equal(dirty.mem_gb, [[2, 2, 2, 2, 0, 2], [4] * 6, [1] * 6])
    assert dirty.cpu_pct.dtype == np.float32 and dirty.cpu_pct.flags.c_contiguous
    assert dirty.mem_gb.dtype == np.float32


def test_long_every_repair_is_counted(dirty):
    counts = dirty.quality.counts
    expected = {
        "duplicates_merged": 1,
        "gaps_filled": 2,
        "late_start_filled": 2,
        "early_stop_filled": 1,
        "cpu_below_0_clipped": 1,
        "cpu_above_100_clipped": 1,
        "cpu_empty_values": 3,
        "mem_below_0_clipped": 1,
        "mem_empty_values": 2,
        "servers_dropped_no_samples": 1,
        "inventory_defaulted": 1,
        "inventory_unused": 1,
    }
    assert {k: counts[k] for k in expected} == expected
    assert dirty.quality.samples == 17
    assert dirty.quality.missing_pct == pytest.approx(100 * 5 / 18)
    warnings = " | ".join(dirty.quality.warnings)
    assert "without a single usable CPU value: d" in warnings
    assert "less than a week: weekly peaks (weekends, weekly jobs) are not seen" in warnings
    assert "not in the traces: z" in warnings


def test_long_inventory_aligned_with_defaults(dirty):
    inv = dirty.inventory
    assert list(inv.server_ids) == ["a", "b", "c"]
    np.testing.assert_array_equal(inv.cores, [4, 2, DEFAULT_CORES])
    np.testing.assert_array_equal(inv.threads, [8, 2, DEFAULT_THREADS])  # b: empty threads = cores
    np.testing.assert_array_equal(inv.ghz, [2.5, 3.0, DEFAULT_GHZ])
    np.testing.assert_array_equal(inv.ram_gb, [16, 8, DEFAULT_RAM_GB])
    np.testing.assert_array_equal(inv.perf, [1.1, 1.0, 1.0])
    np.testing.assert_array_equal(inv.defaulted, [False, False, True])
    assert inv.model[0] == "Example R1"
    assert inv.power_idle_w[0] == 100 and np.isnan(inv.power_idle_w[1])


def test_long_gzip_and_parquet_read_the_same(tmp_path, dirty):
    gz = tmp_path / "traces.csv.gz"
    gz.write_bytes(gzip.compress((IO / "long_dirty.csv").read_bytes()))
    frame = pd.read_csv(IO / "long_dirty.csv")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    parquet = tmp_path / "traces.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet)
    for path in (gz, parquet):
        traces = read_traces(path, inventory=IO / "inventory.csv")
        assert traces.source.startswith("long:")
        np.testing.assert_array_equal(traces.cpu_pct, dirty.cpu_pct)
        np.testing.assert_array_equal(traces.mem_gb, dirty.mem_gb)
        assert traces.quality.counts == dirty.quality.counts


def test_long_parquet_with_text_timestamps_and_numeric_ids(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({
        "timestamp": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", "2024-01-01T00:10:00Z"],
        "server_id": [7, 7, 7],
        "cpu_pct": pa.array(["1", "2", "3"]),
    }), path)
    traces = read_long(path)
    assert traces.server_ids == ("7",)
    assert traces.interval_s == 600
    np.testing.assert_array_equal(traces.cpu_pct, [[2, 3]])  # 01:00+01:00 is 00:00Z: merged with the first
    assert traces.quality.counts["duplicates_merged"] == 1


def test_naive_timestamps_are_utc_and_offsets_honoured(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct\n2024-06-01 00:00:00,s,1\n2024-06-01 00:05:00,s,2\n2024-06-01 00:10:00,s,3\n")
    assert read_long(path).start == pd.Timestamp("2024-06-01", tz=UTC)
    local = read_long(path, timezone="Europe/Amsterdam")  # CEST = UTC+2
    assert local.start == pd.Timestamp("2024-05-31 22:00", tz=UTC)
    path.write_text("timestamp,server_id,cpu_pct\n2024-06-01T02:00:00+02:00,s,1\n2024-06-01T00:05:00Z,s,2\n")
    aware = read_long(path, timezone="America/New_York")  # explicit offsets win over --timezone
    assert aware.start == pd.Timestamp("2024-06-01", tz=UTC) and aware.n_steps == 2


def test_epoch_seconds_and_fractional_seconds(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct\n1704067200,s,1\n1704067500,s,2\n")
    assert read_long(path).start == pd.Timestamp("2024-01-01", tz=UTC)
    path.write_text("timestamp,server_id,cpu_pct\n1704067200,s,1\n1704067500.5,s,2\n1704067800,s,3\n")
    traces = read_long(path)  # whole, then fractional seconds further down
    assert traces.start == pd.Timestamp("2024-01-01", tz=UTC) and traces.n_steps == 3
    path.write_text("timestamp,server_id,cpu_pct\n1704067200000,s,1\n1704067500000,s,2\n")
    traces = read_long(path)  # above 1e11: milliseconds
    assert traces.start == pd.Timestamp("2024-01-01", tz=UTC) and traces.interval_s == 300
    path.write_text("timestamp,server_id,cpu_pct\n2024-01-01T00:00:00.250Z,s,1\n2024-01-01T00:04:59.900Z,s,2\n2024-01-01T00:10:00.100Z,s,3\n")
    traces = read_long(path)
    assert traces.interval_s == 300
    np.testing.assert_array_equal(traces.cpu_pct, [[2, 2, 3]])  # 00:04:59.9 floors into 00:00


def test_mixed_naive_and_offset_timestamps(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct\n2024-01-01 00:00:00,s,1\n2024-01-01T00:05:00Z,s,2\n2024-01-01T01:10:00+01:00,s,3\n")
    traces = read_long(path, timezone="Europe/Amsterdam", interval_s=300)  # CET: naive 00:00 is 23:00Z the day before
    assert traces.start == pd.Timestamp("2023-12-31 23:00", tz=UTC)
    assert traces.n_steps == 15


def test_mem_pct_converts_with_inventory_ram(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct,mem_pct\n2024-01-01T00:00:00Z,a,1,50\n2024-01-01T00:05:00Z,a,1,150\n"
                    "2024-01-01T00:00:00Z,b,1,25\n2024-01-01T00:05:00Z,b,1,-3\n")
    traces = read_long(path, inventory=IO / "inventory.csv")
    np.testing.assert_array_equal(traces.mem_gb, [[8, 16], [2, 0]])  # a 16 GB, b 8 GB
    assert traces.quality.counts["mem_above_100_clipped"] == 1
    assert traces.quality.counts["mem_below_0_clipped"] == 1


def test_server_without_memory_values_gets_its_ram(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct,mem_gb\n2024-01-01T00:00:00Z,a,1,3\n2024-01-01T00:05:00Z,a,1,3\n"
                    "2024-01-01T00:00:00Z,b,1,\n2024-01-01T00:05:00Z,b,1,\n")
    traces = read_long(path, inventory=IO / "inventory.csv")
    np.testing.assert_array_equal(traces.mem_gb, [[3, 3], [8, 8]])
    assert traces.quality.counts["mem_servers_without_values"] == 1


def test_interval_given_coarsens_the_grid(dirty):
    traces = read_traces(IO / "long_dirty.csv", interval_s=900)
    np.testing.assert_array_equal(traces.cpu_pct, [[35, 100], [50, 70], [7, 10]])
    assert traces.quality.counts["duplicates_merged"] == (6 - 2) + (3 - 2) + (5 - 2)


def test_dst_end_repeated_hour_is_merged_and_filled():
    traces = read_traces(
        IO / "local_dst_end.csv",
        columns=parse_columns("timestamp=Time, server_id=Host, cpu_pct=CPU"),
        timezone="Europe/Amsterdam",
    )
    # 01:30 CEST = 23:30Z; 02:00 and 02:30 occur twice and are taken as CEST (00:00Z, 00:30Z);
    # 03:00 CET = 02:00Z, so 01:00Z and 01:30Z have no sample
    assert traces.start == pd.Timestamp("2024-10-26 23:30", tz=UTC)
    assert traces.interval_s == 1800
    np.testing.assert_array_equal(traces.cpu_pct, [[10, 25, 35, 35, 35, 40, 50]])
    counts = traces.quality.counts
    assert counts["dst_ambiguous_samples"] == 4
    assert counts["duplicates_merged"] == 2
    assert counts["gaps_filled"] == 2


def test_dst_start_missing_hour_shifts_forward(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp,server_id,cpu_pct\n2024-03-31 01:30:00,s,1\n2024-03-31 02:30:00,s,2\n"
                    "2024-03-31 03:00:00,s,3\n2024-03-31 03:30:00,s,4\n")
    traces = read_long(path, timezone="Europe/Amsterdam", interval_s=1800)
    assert traces.start == pd.Timestamp("2024-03-31 00:30", tz=UTC)
    np.testing.assert_array_equal(traces.cpu_pct, [[1, 3, 4]])
    assert traces.quality.counts["dst_nonexistent_samples"] == 1
    assert traces.quality.counts["duplicates_merged"] == 1


def test_samples_in_any_order(tmp_path, dirty):
    frame = pd.read_csv(IO / "long_dirty.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "shuffled.csv"
    frame.sample(frac=1, random_state=3).to_csv(path, index=False)
    traces = read_traces(path, inventory=IO / "inventory.csv")
    np.testing.assert_array_equal(traces.cpu_pct, dirty.cpu_pct)


# --- wide ----------------------------------------------------------------------------------

def test_wide_reads_one_column_per_server():
    traces = read_traces(IO / "wide.csv")
    assert traces.source.startswith("wide:")
    assert traces.server_ids == ("db1", "web1")
    assert traces.interval_s == 3600
    assert traces.start == pd.Timestamp("2024-03-01", tz=UTC)
    np.testing.assert_array_equal(traces.cpu_pct, [[30, 35, 100, 40], [5, 5, 7, 9]])
    assert traces.quality.counts["cpu_above_100_clipped"] == 1
    assert traces.quality.counts["gaps_filled"] == 1
    assert traces.quality.samples == 8
    assert traces.mem_gb is None


def test_wide_parquet_and_mapped_time_column(tmp_path):
    path = tmp_path / "w.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0], "when": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:01"]), "y": [3, 4]}), path)
    traces = read_wide(path, columns={"timestamp": "when"})
    assert traces.server_ids == ("x", "y") and traces.interval_s == 60
    np.testing.assert_array_equal(traces.cpu_pct, [[1, 2], [3, 4]])


# --- PlanetLab -------------------------------------------------------------------------------

def test_planetlab_excerpt_matches_plain_numpy():
    traces = read_traces(PLANETLAB)
    files = sorted(p for p in PLANETLAB.iterdir())
    expected = np.array([np.loadtxt(f) for f in files])
    assert traces.source.startswith("planetlab:")
    assert traces.server_ids == tuple(f.name for f in files)
    assert traces.start == pd.Timestamp("2011-03-03", tz=UTC)
    assert traces.interval_s == 300 and traces.n_steps == 288
    np.testing.assert_array_equal(traces.cpu_pct, expected.astype(np.float32))
    assert traces.quality.samples == expected.size and traces.quality.missing_pct == 0
    report = inspect_traces(traces)
    assert report["cpu_mean_pct"] == pytest.approx(expected.mean(), rel=1e-12)
    assert report["cpu_std_pct"] == pytest.approx(expected.std(), rel=1e-12)  # population st. dev.
    q1, median, q3 = np.percentile(expected, [25, 50, 75])
    assert (report["cpu_q1_pct"], report["cpu_median_pct"], report["cpu_q3_pct"]) == (q1, median, q3)


def test_planetlab_short_file_and_coarser_grid(tmp_path):
    day = tmp_path / "20200102"
    day.mkdir()
    (day / "vm1").write_text("10\n20\n30\n")
    (day / "vm2").write_text("\n".join(["5"] * 288) + "\n")
    (day / "notes.md").write_text("not a trace")
    traces = read_planetlab(day)
    assert traces.n_steps == 288 and traces.server_ids == ("vm1", "vm2")
    assert traces.quality.counts["early_stop_filled"] == 285
    hourly = read_planetlab(day, interval_s=3600)
    assert hourly.n_steps == 24
    assert hourly.cpu_pct[0, 0] == 30 and hourly.quality.counts["duplicates_merged"] == 2 + (288 - 24)


def test_planetlab_values_clipped(tmp_path):
    day = tmp_path / "20200102"
    day.mkdir()
    (day / "vm").write_text("-1\n101\n50\n")
    traces = read_planetlab(day)
    np.testing.assert_array_equal(traces.cpu_pct[0, :3], [0, 100, 50])
    assert traces.quality.counts["cpu_below_0_clipped"] == 1 and traces.quality.counts["cpu_above_100_clipped"] == 1


# --- Bitbrains -------------------------------------------------------------------------------

def _bitbrains_reference(path: Path, start_s: int):
    frame = pd.read_csv(path, sep=";\t", engine="python")
    frame.columns = [c.strip() for c in frame.columns]
    ram_gb = frame["Memory capacity provisioned [KB]"].max() / 1024**2
    # 0 cores and 0 MHz capacity: no measurement, a gap
    frame = frame[(frame["CPU cores"] != 0) | (frame["CPU capacity provisioned [MHZ]"] != 0)]
    valid = (frame["CPU cores"] > 0) & (frame["CPU capacity provisioned [MHZ]"] > 0)
    cores = frame.loc[valid, "CPU cores"].max()
    capacity = frame.loc[valid, "CPU capacity provisioned [MHZ]"].max()
    col = (frame["Timestamp [ms]"] - start_s) // 300
    usage = frame.groupby(col)["CPU usage [MHZ]"].max()
    mem = frame.groupby(col)["Memory usage [KB]"].max() / 1024**2
    return cores, capacity, ram_gb, usage, mem, frame


def test_bitbrains_excerpt_matches_pandas_reading():
    traces = read_traces(BITBRAINS)
    assert traces.source.startswith("bitbrains:")
    assert traces.server_ids == ("1", "41", "44", "54")  # 38 has no measured row
    assert traces.interval_s == 300
    start_s = int(traces.start.value // 10**9)
    assert start_s % 300 == 0
    above = 0
    for row, sid in enumerate(traces.server_ids):
        cores, capacity, ram_gb, usage, mem, frame = _bitbrains_reference(BITBRAINS / f"{sid}.csv.gz", start_s)
        np.testing.assert_allclose(traces.mem_gb[row, usage.index], mem.to_numpy(), rtol=1e-6)
        assert not traces.inventory.defaulted[row]
        assert traces.inventory.cores[row] == cores == traces.inventory.threads[row]
        assert traces.inventory.ghz[row] == pytest.approx(capacity / cores / 1000)
        assert traces.inventory.ram_gb[row] == pytest.approx(ram_gb)
        np.testing.assert_allclose(traces.cpu_pct[row, usage.index], usage.to_numpy() / capacity * 100, rtol=1e-6)
        above += int((frame["CPU usage [MHZ]"] > capacity).sum())
    counts = traces.quality.counts
    assert counts["cpu_above_capacity"] == above == 218
    assert traces.cpu_pct.max() > 100  # demand above the provisioned capacity is kept
    assert counts["duplicates_merged"] == 0  # server 54's 928 repeated stamps are rows without a measurement
    assert counts["bitbrains_no_measurement_rows"] == 576 + 1503
    assert counts["inventory_defaulted"] == 0


def test_bitbrains_user_inventory_overrides_file_values():
    inventory = pd.DataFrame({"server_id": ["41", "38"], "cores": [16, 2], "ghz": [2.6, 2.0], "ram_gb": [64, 4]})
    plain = read_bitbrains(BITBRAINS)
    traces = read_bitbrains(BITBRAINS, inventory=inventory)
    row41 = traces.server_ids.index("41")
    assert traces.inventory.cores[row41] == 16 and traces.inventory.ram_gb[row41] == 64
    assert not traces.inventory.defaulted.any()
    # the measured MHz stay the demand: cpu_pct is relative to the overriding capacity
    demand_mhz = plain.cpu_pct[row41] / 100 * plain.inventory.cores[row41] * plain.inventory.ghz[row41] * 1000
    np.testing.assert_allclose(traces.cpu_pct[row41] / 100 * 16 * 2.6 * 1000, demand_mhz, rtol=1e-5)


def test_bitbrains_plain_csv_and_negative_usage(tmp_path):
    folder = tmp_path / "bb"
    folder.mkdir()
    header = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t" \
             "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t" \
             "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n"
    rows = ["1372629600;\t0;\t0;\t0;\t0;\t0;\t0;\t0;\t0;\t0;\t0",
            "1372629900;\t2;\t4000;\t-10;\t0;\t1048576;\t524288;\t0;\t0;\t0;\t0",
            "1372630200;\t4;\t6000;\t3000;\t0;\t2097152;\t524288;\t0;\t0;\t0;\t0"]
    (folder / "vm7.csv").write_text(header + "\n".join(rows) + "\n")
    traces = read_traces(folder)
    assert traces.server_ids == ("vm7",)
    assert traces.inventory.cores[0] == 4 and traces.inventory.ghz[0] == pytest.approx(1.5)
    assert traces.inventory.ram_gb[0] == 2.0  # 2097152 KB = 2 GiB
    # the first row says no measurement: a gap before the first sample, filled from it
    np.testing.assert_allclose(traces.cpu_pct[0], [0, 0, 50])
    np.testing.assert_allclose(traces.mem_gb[0], [0.5, 0.5, 0.5])
    assert traces.measured.tolist() == [[1, 3]]
    assert traces.quality.counts["cpu_below_0_clipped"] == 1
    (folder / "vm8.csv").write_text(header)  # a VM file with a header only: left out, named
    traces = read_bitbrains(folder)
    assert traces.server_ids == ("vm7",) and traces.quality.counts["servers_dropped_no_samples"] == 1
    assert any(w.endswith(": vm8") for w in traces.quality.warnings)


# --- detection and the report ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "fmt"),
    [(IO / "long_dirty.csv", "long"), (IO / "wide.csv", "wide"), (PLANETLAB, "planetlab"), (BITBRAINS, "bitbrains")],
)
def test_auto_detection(path, fmt):
    assert read_traces(path).source == f"{fmt}:{path}"
    assert inspect_traces(read_traces(path, format=fmt))["format"] == fmt


def test_every_format_has_a_reader():
    from consolidate.io.formats import trace_formats

    from consolidate.io.inventory import EXPORT_FORMATS

    assert FORMATS == ("auto", *trace_formats(), *EXPORT_FORMATS)


def test_inspect_report_fields(dirty):
    report = inspect_traces(dirty)
    assert report["servers"] == 3 and report["interval_s"] == 300
    assert report["start"] == "2024-01-01T00:00:00Z" and report["end"] == "2024-01-01T00:30:00Z"
    assert report["samples"] == 17
    assert report["repairs"] == dirty.quality.counts
    assert report["inventory_defaulted"] == 1
    cells = dirty.cpu_pct.astype(np.float64)
    assert report["cpu_mean_grid_pct"] == pytest.approx(cells.mean())
    assert report["cpu_mean_pct"] == pytest.approx(dirty.quality.cpu_mean_measured_pct)
    assert report["cpu_std_pct"] == pytest.approx(cells.std())
    assert report["cpu_median_pct"] == pytest.approx(np.median(cells))
    assert report["mem_mean_gb"] == pytest.approx(dirty.mem_gb.mean())
    assert report["warnings"] == list(dirty.quality.warnings)


def test_late_servers_are_named_in_a_warning(tmp_path):
    path = tmp_path / "t.csv"
    times = pd.date_range("2024-01-01", periods=10, freq="5min").strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"{t},full,1" for t in times] + [f"{t},late,1" for t in times[8:]]
    path.write_text("timestamp,server_id,cpu_pct\n" + "\n".join(lines) + "\n")
    warnings = read_long(path).quality.warnings
    assert any("less than 50% of the time span" in w and w.endswith(": late") for w in warnings)



def test_wide_with_a_header_longer_than_the_first_read(tmp_path):
    names = [f"server-with-a-long-name-{i:05d}" for i in range(3000)]  # a ~90 KB header line
    path = tmp_path / "w.csv"
    path.write_text("timestamp," + ",".join(names) + "\n" + "\n".join(
        f"2024-01-01T00:0{m}:00Z," + ",".join([str(m)] * len(names)) for m in (0, 5)) + "\n")
    traces = read_traces(path)
    assert traces.n_servers == 3000 and traces.server_ids[0] == names[0]
    np.testing.assert_array_equal(traces.cpu_pct[:, 1], 5)


def test_byte_order_mark_and_blanks_around_names(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("\ufefftimestamp , server_id ,cpu_pct\n2024-01-01T00:00:00Z, s1 ,3\n2024-01-01T00:05:00Z,s1,4\n".encode())
    traces = read_traces(path)
    assert traces.server_ids == ("s1",)
    np.testing.assert_array_equal(traces.cpu_pct, [[3, 4]])
    inventory = tmp_path / "inv.csv"
    inventory.write_bytes("\ufeffserver_id,cores,ghz,ram_gb\ns1,2,2.0,4\n".encode())
    assert not read_traces(path, inventory=inventory).inventory.defaulted[0]
