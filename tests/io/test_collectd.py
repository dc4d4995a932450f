"""The collectd csv plugin reader, on folders recorded with collectd 5.12 and an excerpt of the
shared research-box folder (data/samples/formats/collectd/PROVENANCE.md).

Expected values are computed here from the raw files with pandas, state file by state file,
not with the reader's code.
"""

import gzip
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.io.collectd import collectd_samples, looks_collectd, looks_collectd_folder, read_collectd
from consolidate.io.detect import head_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
COLLECTD = SAMPLES / "formats" / "collectd"
DAY = "2026-12-01"
GIB = 1024**3


# --- independent calculations from the raw files ----------------------------------------------

def state_files(folder: Path, kind: str) -> dict[str, pd.DataFrame]:
    """``{state: DataFrame(epoch, value)}`` of a plugin folder's ``<kind>-<state>-<day>`` files,
    the day files of one state joined in date order."""
    found: dict[str, list[pd.DataFrame]] = {}
    for f in sorted(folder.glob(f"{kind}-*")):
        state = f.name[len(kind) + 1:].rsplit("-", 3)[0]
        found.setdefault(state, []).append(pd.read_csv(f))
    return {state: pd.concat(parts, ignore_index=True) for state, parts in found.items()}


def busy_share(per_state: dict[str, pd.Series]) -> pd.Series:
    """Every state but idle and wait, over all states, row by row."""
    frame = pd.DataFrame(per_state)
    return frame.drop(columns=["idle", "wait"]).sum(axis=1) / frame.sum(axis=1)


def expected_from_counters(host: Path) -> np.ndarray:
    """Busy % per read: per CPU, the states' counter differences, averaged over the CPUs."""
    shares = []
    for cpu in sorted(host.glob("cpu-*")):
        files = state_files(cpu, "cpu")
        shares.append(busy_share({s: df["value"].diff() for s, df in files.items()}).to_numpy()[1:])
    return 100 * np.mean(shares, axis=0)


def expected_from_rates(host: Path) -> np.ndarray:
    shares = []
    for cpu in sorted(host.glob("cpu-*")):
        files = state_files(cpu, "cpu")
        shares.append(busy_share({s: df["value"] for s, df in files.items()}).to_numpy()[1:])  # first: nan
    return 100 * np.mean(shares, axis=0)


def expected_from_percent(folders: list[Path]) -> np.ndarray:
    shares = [busy_share({s: df["value"] for s, df in state_files(f, "percent").items()}).to_numpy() for f in folders]
    return 100 * np.mean(shares, axis=0)


def host_of(case: str) -> Path:
    (host,) = [p for p in (COLLECTD / case).iterdir() if p.is_dir()]
    return host


def copy_case(case: str, tmp_path: Path) -> Path:
    """A writable copy of a sample DataDir; returns its host folder."""
    target = tmp_path / case
    shutil.copytree(COLLECTD / case, target)
    return target / host_of(case).name


# --- values -----------------------------------------------------------------------------------

def test_default_counters_become_busy_percent_of_all_cpus():
    traces = read_collectd(COLLECTD / "defaults")
    expected = expected_from_counters(host_of("defaults"))
    assert traces.server_ids == ("fixture-defaults",)
    assert traces.interval_s == 5
    assert traces.cpu_pct.shape == (1, len(expected)) == (1, 30)
    np.testing.assert_allclose(traces.cpu_pct[0], expected, atol=1e-4)
    assert float(traces.cpu_pct.max()) == pytest.approx(expected.max(), abs=1e-4)
    first = pd.read_csv(host_of("defaults") / "cpu-0" / f"cpu-idle-{DAY}")["epoch"]
    assert traces.start == pd.Timestamp(int(first.iloc[1] // 5 * 5), unit="s", tz="UTC")  # the first rate
    counts = traces.quality.counts
    assert counts["collectd_counter_first_readings"] == 16  # 2 CPUs x 8 states
    assert counts["collectd_counter_resets"] == 0
    conversions = " ".join(traces.quality.conversions)
    assert "16 file(s) of cumulative counters turned into what each state gained since the previous read" in conversions
    assert "every state but idle and wait" in conversions
    assert "skipped 1 csv file(s)" in " ".join(traces.quality.warnings) and "load (1)" in " ".join(traces.quality.warnings)


def test_memory_used_in_gib_and_ram_and_cpus_into_the_inventory():
    traces = read_collectd(COLLECTD / "defaults")
    memory = state_files(host_of("defaults") / "memory", "memory")
    used = memory["used"].set_index("epoch")["value"] / GIB
    ram_gb = pd.DataFrame({s: df["value"].to_numpy() for s, df in memory.items()}).sum(axis=1).max() / GIB
    cpu_times = pd.read_csv(host_of("defaults") / "cpu-0" / f"cpu-idle-{DAY}")["epoch"].to_numpy()[1:]
    nearest = used.to_numpy()[np.abs(used.index.to_numpy()[None, :] - cpu_times[:, None]).argmin(axis=1)]
    np.testing.assert_allclose(traces.mem_gb[0], nearest, rtol=1e-6)
    assert traces.inventory.ram_gb[0] == pytest.approx(ram_gb)
    assert traces.inventory.cores[0] == traces.inventory.threads[0] == 2
    assert "page cache, buffers and slab are not counted" in " ".join(traces.quality.conversions)


def test_shared_research_box_excerpt():
    traces = read_collectd(COLLECTD / "research-box" / "consolidate-research-box")  # a host folder
    expected = expected_from_counters(host_of("research-box"))
    assert traces.server_ids == ("consolidate-research-box",)
    assert traces.interval_s == 10
    np.testing.assert_allclose(traces.cpu_pct[0], expected, atol=1e-4)
    epoch = pd.read_csv(host_of("research-box") / "cpu-0" / f"cpu-idle-{DAY}")["epoch"]
    assert traces.start == pd.Timestamp(epoch.iloc[1] // 10 * 10, unit="s", tz="UTC")  # the first rate
    assert traces.end == pd.Timestamp(epoch.iloc[-1] // 10 * 10 + 10, unit="s", tz="UTC")


def test_storerates_rates_read_as_they_are():
    traces = read_collectd(COLLECTD / "storerates")
    np.testing.assert_allclose(traces.cpu_pct[0], expected_from_rates(host_of("storerates")), atol=1e-4)
    assert traces.quality.counts["collectd_counter_first_readings"] == 0
    assert "0 file(s) of cumulative counters" in " ".join(traces.quality.conversions)
    assert "16 of rates (the csv plugin's StoreRates true)" in " ".join(traces.quality.conversions)


def test_per_cpu_percentages_averaged_over_cpus():
    host = host_of("percent-percpu")
    traces = read_collectd(COLLECTD / "percent-percpu")
    np.testing.assert_allclose(traces.cpu_pct[0], expected_from_percent([host / "cpu-0", host / "cpu-1"]), atol=1e-4)
    assert traces.inventory.cores[0] == 2
    assert "ValuesPercentage true" in " ".join(traces.quality.conversions)


def test_all_cpu_percentages_and_the_cpu_count_file():
    host = host_of("percent-total")
    traces = read_collectd(COLLECTD / "percent-total")
    np.testing.assert_allclose(traces.cpu_pct[0], expected_from_percent([host / "cpu"]), atol=1e-4)
    assert traces.inventory.cores[0] == 2  # cpu/count, ReportNumCpu true
    # both byte and percent memory files: the bytes are read
    used = state_files(host / "memory", "memory")["used"]["value"] / GIB
    assert traces.mem_gb[0].max() == pytest.approx(used.max(), rel=1e-6)
    assert "ReportByCpu false" in " ".join(traces.quality.conversions)


def test_active_percentages_taken_as_busy_and_said_to_include_wait():
    traces = read_collectd(COLLECTD / "active")
    active = pd.read_csv(host_of("active") / "cpu" / f"percent-active-{DAY}")["value"].to_numpy()
    np.testing.assert_allclose(traces.cpu_pct[0], active, atol=1e-4)
    assert "I/O wait counts as busy here" in " ".join(traces.quality.conversions)


def test_day_rollover_continues_each_counter():
    traces = read_collectd(COLLECTD / "rollover")
    host = host_of("rollover")
    assert len(list((host / "cpu-0").glob("cpu-idle-*"))) == 2
    np.testing.assert_allclose(traces.cpu_pct[0], expected_from_counters(host), atol=1e-4)
    np.testing.assert_allclose(traces.cpu_pct[0], read_collectd(COLLECTD / "defaults").cpu_pct[0], atol=1e-4)
    assert traces.start < pd.Timestamp(DAY, tz="UTC") < traces.end
    counts = traces.quality.counts
    assert counts["collectd_counter_first_readings"] == 16  # one per counter, not per day file
    assert counts["gaps_filled"] == 0


def test_counter_reset_starts_a_new_counter_and_is_counted():
    host = host_of("reset")
    traces = read_collectd(COLLECTD / "reset")
    dropped = 0
    for f in host.glob("cpu-*/cpu-*"):
        values = pd.read_csv(f)["value"]
        dropped += int((values.diff() < 0).sum())
    assert dropped > 0
    assert traces.quality.counts["collectd_counter_resets"] == dropped
    # the read across the reset has no rate (a gap, filled); every other read is the defaults'
    original = read_collectd(COLLECTD / "defaults").cpu_pct[0]
    reset_step = 16  # the 17th reading is the first after the reset: the 16th rate
    keep = np.arange(len(original)) != reset_step - 1
    np.testing.assert_allclose(traces.cpu_pct[0][keep], original[keep], atol=1e-4)
    assert traces.quality.counts["gaps_filled"] == 1


@settings(max_examples=20, deadline=None)
@given(
    increments=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 500)), min_size=3, max_size=8),
    reset_at=st.integers(1, 9),
)
def test_counters_of_any_rates_and_a_reset(increments, reset_at):
    """Counters built from known per-read increments (user, wait, idle of one CPU) give back
    user / (user + wait + idle) at every read but the one across a reset."""
    inc = np.array(increments, dtype=np.int64)
    counters = np.vstack([[1000, 1000, 1000], 1000 + np.cumsum(inc, axis=0)])
    if reset_at < len(counters):  # a reboot: the counters restart from what they counted since
        counters[reset_at:] -= counters[reset_at - 1].copy()
    epoch = 1796083200.25 + 10.0 * np.arange(len(counters))
    with tempfile.TemporaryDirectory() as tmp:
        cpu = Path(tmp) / "h" / "cpu-0"
        cpu.mkdir(parents=True)
        for j, state in enumerate(("user", "wait", "idle")):
            lines = "".join(f"{t:.3f},{v}\n" for t, v in zip(epoch, counters[:, j]))
            (cpu / f"cpu-{state}-{DAY}").write_text("epoch,value\n" + lines)
        samples = collectd_samples(Path(tmp) / "h")
    reading = np.round((samples.time_ns / 1e9 - epoch[0]) / 10).astype(int)
    with_rate = [k for k in range(1, len(counters)) if k != reset_at]
    assert list(reading) == with_rate
    np.testing.assert_allclose(samples.cpu, 100.0 * inc[reading - 1, 0] / inc[reading - 1].sum(axis=1), atol=1e-3)
    assert samples.counts["collectd_counter_resets"] == (3 if reset_at < len(counters) else 0)


# --- layouts, options, repairs ----------------------------------------------------------------

def test_datadir_of_several_hosts_and_one_without_cpu(tmp_path):
    datadir = tmp_path / "csv"
    for case in ("defaults", "percent-total", "load-only"):
        shutil.copytree(host_of(case), datadir / host_of(case).name)
    traces = read_traces(datadir)
    assert traces.source.startswith("collectd:")
    assert traces.server_ids == ("fixture-defaults", "fixture-percent-total")
    warnings = " ".join(traces.quality.warnings)
    assert "left out 1 host(s) without cpu plugin files" in warnings and "fixture-load-only (load)" in warnings


def test_auto_detection_of_datadir_and_host_folder():
    for path in (COLLECTD / "defaults", host_of("percent-percpu")):
        assert read_traces(path).source == f"collectd:{path}"
        assert looks_collectd_folder(path)


def test_memory_percent_only(tmp_path):
    host = copy_case("percent-total", tmp_path)
    for f in (host / "memory").glob("memory-*"):
        f.unlink()
    traces = read_collectd(host, inventory=pd.DataFrame({"server_id": [host.name], "cores": [2], "ghz": [2.0],
                                                        "ram_gb": [10.0]}))
    pct = pd.read_csv(host / "memory" / f"percent-used-{DAY}")["value"]
    assert traces.mem_gb[0].max() == pytest.approx(pct.max() / 100 * 10.0, rel=1e-5)
    assert "percent-used readings (ValuesPercentage true)" in " ".join(traces.quality.conversions)


def test_a_host_with_memory_percentages_only_beside_hosts_with_bytes(tmp_path):
    datadir = tmp_path / "csv"
    for case in ("defaults", "percent-total"):
        shutil.copytree(host_of(case), datadir / host_of(case).name)
    for f in (datadir / "fixture-percent-total" / "memory").glob("memory-*"):
        f.unlink()
    traces = read_collectd(datadir)
    assert traces.server_ids == ("fixture-defaults", "fixture-percent-total")
    assert "report memory only as percentages" in " ".join(traces.quality.warnings)
    assert traces.quality.counts["mem_servers_without_values"] == 1


def test_gzipped_day_file_and_millisecond_epochs(tmp_path):
    host = copy_case("defaults", tmp_path)
    idle = host / "cpu-0" / f"cpu-idle-{DAY}"
    idle.with_name(idle.name + ".gz").write_bytes(gzip.compress(idle.read_bytes()))
    idle.unlink()
    for f in host.glob("*/*"):
        frame = pd.read_csv(f)
        frame["epoch"] = (frame["epoch"] * 1000).round().astype("int64")
        if f.suffix == ".gz":
            f.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
        else:
            frame.to_csv(f, index=False)
    traces = read_collectd(host)
    np.testing.assert_allclose(traces.cpu_pct[0], read_collectd(COLLECTD / "defaults").cpu_pct[0], atol=1e-4)
    assert traces.quality.counts["epoch_milliseconds_timestamps"] > 0


def test_cut_last_line_and_repeated_readings(tmp_path):
    host = copy_case("defaults", tmp_path)
    user = host / "cpu-0" / f"cpu-user-{DAY}"
    user.write_text(user.read_text()[:-4])  # collectd stopped mid-line: the last line is cut
    nice = host / "cpu-0" / f"cpu-nice-{DAY}"
    (host / "cpu-0" / "cpu-nice-2026-11-30").write_text(nice.read_text())  # a copy under another day
    traces = read_collectd(host)
    counts = traces.quality.counts
    assert counts["collectd_cut_last_lines"] == 1
    assert counts["collectd_repeated_readings"] == len(pd.read_csv(nice))
    original = read_collectd(COLLECTD / "defaults").cpu_pct[0]
    np.testing.assert_allclose(traces.cpu_pct[0][:-1], original[:-1], atol=1e-4)  # the last: cpu-1 alone


def test_a_lost_reading_or_state_file_leaves_that_cpu_out(tmp_path):
    host = copy_case("defaults", tmp_path)
    system = host / "cpu-0" / f"cpu-system-{DAY}"
    lines = system.read_text().splitlines(keepends=True)
    system.write_text("".join(lines[:11] + lines[12:]))  # the 11th reading lost
    (host / "cpu-1" / f"cpu-user-{DAY}").unlink()  # cpu-1 has no user file at all
    traces = read_collectd(host)
    readings = len(lines) - 1
    # cpu-1 at every read; cpu-0 at its first, at the lost one and at the next (its gain spans two)
    assert traces.quality.counts["collectd_cpu_readings_left_out"] == readings + 3
    cpu0 = 100 * busy_share({s: df["value"].diff() for s, df in state_files(COLLECTD / "defaults" / "fixture-defaults"
                                                                          / "cpu-0", "cpu").items()}).to_numpy()
    got = traces.cpu_pct[0]
    lost = 11 - 1  # the 11th reading gives the 10th rate; the 12th rate spans two intervals
    keep = ~np.isin(np.arange(len(got)), [lost - 1, lost])
    np.testing.assert_allclose(got[keep], cpu0[1:][keep], atol=1e-4)


def test_an_empty_day_file_adds_nothing(tmp_path):
    host = copy_case("defaults", tmp_path)
    (host / "cpu-0" / "cpu-idle-2026-12-02").write_text("epoch,value\n")
    np.testing.assert_allclose(read_collectd(host).cpu_pct, read_collectd(COLLECTD / "defaults").cpu_pct)


# --- errors: one line, saying what to do -------------------------------------------------------

def one_line_error(path, match):
    with pytest.raises(InputError, match=match) as err:
        read_traces(path, format="collectd")
    assert "\n" not in str(err.value)
    return str(err.value)


def test_load_only_folder_names_its_plugins():
    message = one_line_error(COLLECTD / "load-only", "no collectd cpu plugin files")
    assert "the plugins load" in message and "not CPU utilisation" in message and "LoadPlugin cpu" in message
    with pytest.raises(InputError, match="not CPU utilisation"):
        read_traces(COLLECTD / "load-only")


def test_one_file_or_one_plugin_folder_asks_for_the_host_folder():
    cpu0 = host_of("defaults") / "cpu-0"
    one_line_error(cpu0 / f"cpu-idle-{DAY}", "is one collectd csv file .* give its host folder")
    one_line_error(cpu0, "is a collectd plugin folder .* give its host folder")
    with pytest.raises(InputError, match="is one collectd csv file"):
        read_traces(cpu0 / f"cpu-idle-{DAY}")  # auto: not read as a table of CPU %


def test_other_file_given_as_collectd():
    one_line_error(SAMPLES / "traces.csv", "is a file; the collectd format reads the csv plugin's DataDir")


def test_folder_without_collectd_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "notes.txt").write_text("x")
    one_line_error(tmp_path, "holds no collectd csv files")


def test_files_with_a_header_alone(tmp_path):
    cpu = tmp_path / "h" / "cpu-0"
    cpu.mkdir(parents=True)
    for state in ("idle", "user"):
        (cpu / f"cpu-{state}-{DAY}").write_text("epoch,value\n")
    one_line_error(tmp_path / "h", "holds no samples")


def test_bad_header_and_bad_line_are_named(tmp_path):
    host = copy_case("defaults", tmp_path)
    idle = host / "cpu-0" / f"cpu-idle-{DAY}"
    lines = idle.read_text().splitlines(keepends=True)
    idle.write_text("".join(lines[:5] + ["1796125480.277,abc\n"] + lines[5:]))
    one_line_error(host, r"cpu-idle-2026-12-01: line 6 is '1796125480.277,abc'")
    idle.write_text("time,value,extra\n" + "".join(lines[1:]))
    one_line_error(host, r"cpu-idle-2026-12-01: line 1 is 'time,value,extra'")


def test_epoch_out_of_range_is_named(tmp_path):
    host = copy_case("defaults", tmp_path)
    idle = host / "cpu-0" / f"cpu-idle-{DAY}"
    lines = idle.read_text().splitlines(keepends=True)
    idle.write_text("".join(lines[:3] + ["5.0,63475\n"] + lines[3:]))
    one_line_error(host, r"cpu-0, file cpu-idle-2026-12-01, line 4: .*5\.0.* read as epoch seconds .* is 1970-01-01")


def test_sniffers_reject_other_formats_samples():
    others = [f for f in SAMPLES.rglob("*") if f.is_file() and COLLECTD not in f.parents]
    assert others
    for f in others:
        assert not looks_collectd(f, f.read_bytes()[:65536]), f
    for folder in [d for d in SAMPLES.rglob("*") if d.is_dir() and COLLECTD not in d.parents and d != COLLECTD]:
        assert not looks_collectd_folder(folder), folder
    assert looks_collectd(host_of("defaults") / "load" / f"load-{DAY}", head_bytes(host_of("defaults") / "load" / f"load-{DAY}"))


# --- the command ------------------------------------------------------------------------------

def test_inspect_json(capsys):
    assert main(["inspect", str(COLLECTD / "research-box"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "collectd"
    assert report["servers"] == 1 and report["interval_s"] == 10
    assert report["cpu_mean_pct"] == pytest.approx(expected_from_counters(host_of("research-box")).mean(), abs=0.01)
    assert report["start"] == "2026-12-01T06:25:50Z"


@pytest.mark.slow
def test_plan_places_every_server(tmp_path):
    datadir = tmp_path / "csv"
    for case in ("defaults", "percent-total", "storerates"):
        shutil.copytree(host_of(case), datadir / host_of(case).name)
    assert main(["plan", str(datadir), "--out", str(tmp_path / "plan"), "--quiet"]) == 0
    placement = pd.read_csv(tmp_path / "plan" / "placement.csv")
    assert sorted(placement["server_id"]) == ["fixture-defaults", "fixture-percent-total", "fixture-storerates"]
    assert (placement["status"] == "placed").all()
