"""sysstat sar data: sadf -d exports of four sysstat versions (9.1.6 via sadf -c, 11.4.9, 12.6.1,
12.8.0), their options (-P ALL, -u ALL, -r ALL, -h, -t, -T, -U, a de_DE locale), sysstat's own test
outputs, and binary sa files read through a stand-in for sadf that replays recorded sadf output.

Expected values come from ``raw``, a plain line-by-line reading of the sadf text with pandas, not
from the reader's code.
"""

import gzip
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.io.detect import head_bytes
from consolidate.io.sar import looks_sar, read_sar

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAR = SAMPLES / "formats" / "sar"
VM = SAR / "vm-u-r.csv"  # sysstat 12.6.1, sadf -d -- -u -r
VM_ALL = SAR / "vm-P-ALL-u-ALL-r-ALL.csv"  # the same records, -P ALL -- -u ALL -r ALL
VM_H = SAR / "vm-h-P-ALL.csv"  # the same records, -dh -P ALL -- -u -r
RESTART = SAR / "vm-restart-comment.csv"
PARIS_UTC = SAR / "paris-d.csv"
PARIS_LOCAL = SAR / "paris-dt.csv"
PARIS_EPOCH = SAR / "paris-U.csv"
PARIS_DE = SAR / "paris-d-de_DE.csv"
APP01 = SAR / "app01-12.8.0-d.csv"
APP01_LOCAL = SAR / "app01-12.8.0-dt-P-ALL.csv"
OLD01 = SAR / "old01-11.4.9-P-ALL.csv"
OLD01_H = SAR / "old01-11.4.9-dh.csv"
EXCERPT = SAR / "sysstat-tests-expected-excerpt.sadf-d.csv"
SYSSTAT_DH = SAR / "sysstat-tests-expected.sadf-dh.csv"
SYSSTAT_T = SAR / "sysstat-tests-expected.sadf-d-t-tz.csv"
SYSSTAT_BIG_T = SAR / "sysstat-tests-expected.sadf-d-T-tz.csv"
HOSTS = SAR / "hosts"
WEB01 = HOSTS / "web01.csv"
DB01 = HOSTS / "db01.csv"
WEB01_CPUS = SAR / "web01-P-0-1.csv"
WEB01_CPU1 = SAR / "web01-P-1.csv"
DB01_SA = SAR / "db01-12.6.1.sa"
BIN_916 = SAR / "sysstat-tests-data-9.1.6.bin"
BIN_1200 = SAR / "sysstat-tests-data-12.0.0.bin"
APP01_SA_HEAD = SAR / "app01-12.8.0-header.sa"
TEXTS = (VM, VM_ALL, VM_H, RESTART, PARIS_UTC, PARIS_LOCAL, PARIS_EPOCH, PARIS_DE, APP01, APP01_LOCAL, OLD01, OLD01_H,
         EXCERPT, SYSSTAT_DH, SYSSTAT_T, SYSSTAT_BIG_T, WEB01, DB01, WEB01_CPUS, WEB01_CPU1)

#: MemTotal of the machine the local fixtures were recorded on (/proc/meminfo, see PROVENANCE.md).
MEM_TOTAL_KB = 24683584
KB_PER_GB = 1024**2


# --- an independent reading of the sadf -d text ----------------------------------------------

def raw(path: Path, first_field: str) -> pd.DataFrame:
    """The rows of every vertical block whose header's 4th field is ``first_field`` (``CPU`` or
    ``kbmemfree``), as a DataFrame of floats with ``host`` and ``time`` (UTC or naive) columns."""
    rows, names = [], None
    for line in path.read_text().splitlines():
        if line.startswith("# hostname"):
            names = line[2:].split(";")
            continue
        fields = line.split(";")
        if names is None or names[3] != first_field or fields[1] == "-1":
            continue
        rows.append(dict(zip(names, fields)))
    frame = pd.DataFrame(rows)
    numbers = frame.drop(columns=["hostname", "timestamp"]).apply(lambda c: pd.to_numeric(c.str.replace(",", ".")))
    stamp = frame["timestamp"]
    if stamp.str.fullmatch(r"\d+").all():
        times = pd.to_datetime(stamp.astype(int), unit="s", utc=True)
    elif stamp.str.endswith(" UTC").all():
        times = pd.to_datetime(stamp.str.removesuffix(" UTC"), utc=True)
    else:
        times = pd.to_datetime(stamp.str.replace(r" [A-Z]+$", "", regex=True))
    return numbers.assign(host=frame["hostname"], time=times)


def busy(cpu: pd.DataFrame) -> pd.Series:
    return 100.0 - cpu["%idle"] - cpu["%iowait"]


def cells(traces, host: str, times: pd.Series) -> np.ndarray:
    """The grid values of ``host`` at ``times`` (UTC)."""
    row = traces.server_ids.index(host)
    step = ((pd.DatetimeIndex(times) - traces.start) // pd.Timedelta(seconds=traces.interval_s)).to_numpy()
    return traces.cpu_pct[row, step], (None if traces.mem_gb is None else traces.mem_gb[row, step])


# --- values --------------------------------------------------------------------------------

def test_all_cpu_rows_give_busy_and_time():
    traces = read_traces(VM)
    cpu = raw(VM, "CPU")
    assert traces.source == f"sar:{VM}"
    assert traces.server_ids == ("vm",)
    assert traces.interval_s == 2
    assert traces.start == cpu["time"].min().floor("2s")
    assert traces.end == cpu["time"].max().floor("2s") + pd.Timedelta(seconds=2)
    got, _ = cells(traces, "vm", cpu["time"])
    np.testing.assert_allclose(got, busy(cpu), atol=1e-4)
    assert float(traces.cpu_pct.mean()) == pytest.approx(busy(cpu).mean(), abs=0.5)
    conversions = " | ".join(traces.quality.conversions)
    assert "100 - %idle - %iowait" in conversions and "%steal are busy" in conversions
    assert f"mean {cpu['%iowait'].mean():.2f} pp left out" in conversions
    assert "49 records" in conversions


def test_iowait_is_left_out_and_steal_kept():
    traces = read_traces(VM_ALL)
    cpu = raw(VM_ALL, "CPU")
    every = cpu[cpu["CPU"] == -1]
    got, _ = cells(traces, "vm", every["time"])
    states = ["%usr", "%nice", "%sys", "%steal", "%irq", "%soft", "%guest", "%gnice"]
    np.testing.assert_allclose(got, every[states].sum(axis=1), atol=0.06)  # 8 fields rounded to 0.01


def test_memory_is_ram_total_less_kbavail_and_the_ram_total_is_exact():
    traces = read_traces(VM_ALL)
    mem = raw(VM_ALL, "kbmemfree")
    ram_kb = mem[["kbmemfree", "kbmemused", "kbbuffers", "kbcached", "kbslab"]].sum(axis=1)
    assert (ram_kb == MEM_TOTAL_KB).all()  # sysstat 12.6.1 -r ALL: kbmemused = total - free - buffers - cached - slab
    assert traces.inventory.ram_gb[0] == pytest.approx(MEM_TOTAL_KB / KB_PER_GB)
    assert traces.inventory.cores[0] == traces.inventory.threads[0] == 2
    _, got = cells(traces, "vm", mem["time"])
    np.testing.assert_allclose(got, (MEM_TOTAL_KB - mem["kbavail"]) / KB_PER_GB, rtol=1e-6)
    conversions = " | ".join(traces.quality.conversions)
    assert "RAM total - kbavail" in conversions
    assert "RAM total = kbmemfree + kbmemused + kbbuffers + kbcached + kbslab" in conversions
    assert "per-CPU rows (-P ALL)" in conversions


def test_ram_total_from_memused_when_no_sum_gives_it():
    traces = read_traces(VM)  # -r without ALL: no kbslab, so only kbmemused / %memused
    assert traces.inventory.ram_gb[0] == pytest.approx(MEM_TOTAL_KB / KB_PER_GB, rel=0.003)
    assert "kbmemused / %memused" in " | ".join(traces.quality.conversions)
    assert any("no CPU count" in w for w in traces.quality.warnings)


def test_sysstat_12_8_kbmemused_is_total_less_kbavail():
    traces = read_traces(APP01)
    mem = raw(APP01, "kbmemfree")
    assert traces.inventory.ram_gb[0] == MEM_TOTAL_KB / KB_PER_GB
    _, got = cells(traces, "app01", mem["time"])
    np.testing.assert_allclose(got, mem["kbmemused"] / KB_PER_GB, rtol=1e-6)
    assert "RAM total = kbmemused + kbavail" in " | ".join(traces.quality.conversions)


def test_old_sysstat_kbmemused_includes_buffers_and_cache():
    traces = read_traces(OLD01)  # sysstat 11.4.9: no kbavail, kbmemused = total - free
    mem = raw(OLD01, "kbmemfree")
    assert traces.inventory.ram_gb[0] == MEM_TOTAL_KB / KB_PER_GB
    _, got = cells(traces, "old01", mem["time"])
    np.testing.assert_allclose(got, (mem["kbmemused"] - mem["kbbuffers"] - mem["kbcached"]) / KB_PER_GB, rtol=1e-6)
    assert "kbmemused - kbbuffers - kbcached" in " | ".join(traces.quality.conversions)


@pytest.mark.parametrize("horizontal, vertical", [(VM_H, VM), (OLD01_H, OLD01)], ids=["12.6.1", "11.4.9"])
def test_one_line_per_record_reads_as_the_blocks(horizontal, vertical):
    h, v = read_traces(horizontal), read_traces(vertical)
    np.testing.assert_array_equal(h.cpu_pct, v.cpu_pct)
    np.testing.assert_array_equal(h.mem_gb, v.mem_gb)
    assert h.start == v.start and h.interval_s == v.interval_s


def test_one_line_per_record_with_a_cpu_gone_offline(tmp_path):
    # sysstat 12 leaves an offline CPU's group out of a -h line: here CPU 1 of the third record;
    # and the file ends without a newline
    lines = VM_H.read_text().splitlines()
    width = len(["CPU", "%user", "%nice", "%system", "%iowait", "%steal", "%idle"])
    fields = lines[3].split(";")
    cpu1 = 3 + 2 * width
    assert fields[cpu1] == "1"
    lines[3] = ";".join(fields[:cpu1] + fields[cpu1 + width:])
    path = tmp_path / "offline-h.csv"
    path.write_text("\n".join(lines))
    h, v = read_traces(path), read_traces(VM)
    np.testing.assert_array_equal(h.cpu_pct, v.cpu_pct)
    np.testing.assert_array_equal(h.mem_gb, v.mem_gb)
    assert h.inventory.cores[0] == 2


def test_sysstat_horizontal_output_with_interrupts_after_the_cpus():
    traces = read_traces(SYSSTAT_DH)  # -dh -- -Iu ALL -P all,3: the CPU groups, then INTR groups
    cpu = raw(EXCERPT, "CPU")
    every = cpu[cpu["CPU"] == -1]
    got, _ = cells(traces, "SYSSTAT.TEST", every["time"])
    np.testing.assert_allclose(got, busy(every), atol=1e-4)
    assert traces.inventory.cores[0] == 10  # LINUX-RESTART (10 CPU)


def test_restart_and_comment_rows_are_skipped_and_give_the_cpu_count():
    traces = read_traces(EXCERPT)
    counts = traces.quality.counts
    assert counts["sar_restart_rows"] == 2 and counts["sar_comment_rows"] == 1
    assert counts["sar_other_blocks_ignored"] == 8
    assert traces.inventory.cores[0] == 10  # restarts say 9 then 10 CPUs; CPUs 0-9 have rows
    assert any("CPU count changed between restarts" in w for w in traces.quality.warnings)
    assert any("ignored 8 block(s) of other activities (proc/s, tps, kbhugfree, DEV" in c for c in traces.quality.conversions)
    cpu = raw(EXCERPT, "CPU")
    every = cpu[cpu["CPU"] == -1]
    got, _ = cells(traces, "SYSSTAT.TEST", every["time"])
    np.testing.assert_allclose(got, busy(every), atol=1e-4)
    mem = raw(EXCERPT, "kbmemfree")
    assert traces.inventory.ram_gb[0] == (mem["kbmemused"] + mem["kbavail"]).iloc[0] / KB_PER_GB

    restarted = read_traces(RESTART)
    assert restarted.quality.counts["sar_restart_rows"] == 1 and restarted.quality.counts["sar_comment_rows"] == 1
    assert restarted.inventory.cores[0] == 2
    cpu = raw(RESTART, "CPU")
    got, _ = cells(restarted, "vm", cpu[cpu["CPU"] == -1]["time"])
    np.testing.assert_allclose(got, busy(cpu[cpu["CPU"] == -1]), atol=1e-4)


def test_per_cpu_rows_alone_are_averaged_and_said():
    traces = read_traces(WEB01_CPUS)  # sadf -P 0,1: no all-CPU row
    cpu = raw(WEB01_CPUS, "CPU")
    expected = busy(cpu).groupby(cpu["time"]).mean()
    got, _ = cells(traces, "web01", pd.Series(expected.index))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert traces.quality.counts["sar_cpu_averaged_records"] == len(expected)
    assert "mean over the per-CPU rows of 17 records" in " | ".join(traces.quality.conversions)
    assert not any("fewer CPUs" in w for w in traces.quality.warnings)
    # the all-CPU rows of the same records agree with the mean of the two CPUs
    whole = read_traces(WEB01)
    np.testing.assert_allclose(whole.cpu_pct, traces.cpu_pct, atol=0.2)

    one = read_traces(WEB01_CPU1)  # sadf -P 1: half the CPUs
    assert any("cover fewer CPUs than the host has" in w for w in one.quality.warnings)


def test_offline_cpu_rows_of_zeros_are_left_out(tmp_path):
    # sysstat 11.6 and older printed an offline CPU as a row of zeros: here CPU 1 of the first record
    lines = WEB01_CPUS.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.split(";")[3] == "1")
    lines[at] = ";".join(lines[at].split(";")[:4] + ["0.00"] * 6)
    path = tmp_path / "offline.csv"
    path.write_text("\n".join(lines) + "\n")
    traces = read_traces(path)
    assert traces.quality.counts["sar_offline_cpu_rows"] == 1
    cpu0 = raw(WEB01_CPUS, "CPU")
    first = cpu0[(cpu0["CPU"] == 0)].iloc[0]
    assert traces.cpu_pct[0, 0] == pytest.approx(100 - first["%idle"] - first["%iowait"], abs=1e-4)


# --- times -----------------------------------------------------------------------------------

def test_local_times_take_the_timezone():
    utc = read_traces(PARIS_UTC)
    local = read_traces(PARIS_LOCAL, timezone="Europe/Paris")
    assert local.start == utc.start and local.interval_s == utc.interval_s == 5
    np.testing.assert_array_equal(local.cpu_pct, utc.cpu_pct)
    assert local.quality.counts["sar_local_time_records"] == 19
    assert "converted from Europe/Paris to UTC" in " | ".join(local.quality.conversions)

    assumed = read_traces(PARIS_LOCAL)
    assert assumed.start == utc.start + pd.Timedelta(hours=1)  # 12:43 Paris wall clock read as 12:43 UTC
    assert any("local times" in w and "read as if UTC" in w and "--timezone" in w for w in assumed.quality.warnings)


def test_utc_times_ignore_the_timezone_and_say_so():
    traces = read_traces(PARIS_UTC, timezone="Asia/Tokyo")
    assert traces.start == read_traces(PARIS_UTC).start
    assert any("--timezone Asia/Tokyo not used" in w for w in traces.quality.warnings)


def test_epoch_seconds_and_decimal_commas():
    utc = read_traces(PARIS_UTC)
    for other in (PARIS_EPOCH, PARIS_DE):
        traces = read_traces(other)
        assert traces.start == utc.start
        np.testing.assert_array_equal(traces.cpu_pct, utc.cpu_pct)
        np.testing.assert_array_equal(traces.mem_gb, utc.mem_gb)


@pytest.mark.parametrize("path, zone", [(SYSSTAT_T, "Europe/Paris"), (SYSSTAT_BIG_T, "America/New_York"),
                                        (APP01_LOCAL, "America/New_York")], ids=["-t CET", "-T EST", "12.8.0 -t EST"])
def test_zone_labels_are_not_offsets(path, zone):
    # sadf >= 12.7.1 labels local times with the zone's standard name all year: 'CET' in April is UTC+2
    first = raw(path, "CPU")["time"].min()
    traces = read_traces(path, timezone=zone)
    expected = first.tz_localize(zone).tz_convert("UTC")
    assert traces.start == expected.floor(f"{traces.interval_s}s")
    assert any("zone label" in w for w in read_traces(path).quality.warnings)


def test_sysstat_true_time_matches_its_utc_output():
    local = read_traces(SYSSTAT_T, timezone="Europe/Paris")
    cpu = raw(EXCERPT, "CPU")
    assert local.start == cpu["time"].min().floor("10s")  # 15:20:19 CET(S) = 13:20:19 UTC


# --- folders and several hosts -----------------------------------------------------------------

def test_folder_of_hosts():
    traces = read_traces(HOSTS)
    assert traces.source == f"sar:{HOSTS}"
    assert traces.server_ids == ("db01", "web01")
    assert list(traces.inventory.cores) == [2, 2]
    for host, path in (("db01", DB01), ("web01", WEB01)):
        cpu = raw(path, "CPU")
        every = cpu[cpu["CPU"] == -1]
        expected = busy(every).groupby(every["time"].dt.floor(f"{traces.interval_s}s")).max()
        got, _ = cells(traces, host, pd.Series(expected.index))
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_one_file_of_several_hosts_is_the_folder(tmp_path):
    both = tmp_path / "two.csv"
    both.write_text(WEB01.read_text() + DB01.read_text())
    one, folder = read_traces(both), read_traces(HOSTS)
    assert one.server_ids == folder.server_ids
    np.testing.assert_array_equal(one.cpu_pct, folder.cpu_pct)


def test_files_of_one_host_are_one_server(tmp_path):
    lines = VM.read_text().splitlines(keepends=True)
    second = next(i for i, line in enumerate(lines) if line.startswith("# hostname") and i > 0)
    (tmp_path / "a.csv").write_text("".join(lines[:26]) + "".join(lines[second: second + 26]))
    (tmp_path / "b.csv").write_text("".join(lines[:1] + lines[26:second]) + "".join(lines[second:second + 1] + lines[second + 26:]))
    split, whole = read_traces(tmp_path), read_traces(VM)
    assert split.server_ids == ("vm",)
    np.testing.assert_array_equal(split.cpu_pct, whole.cpu_pct)
    np.testing.assert_array_equal(split.mem_gb, whole.mem_gb)


def test_sar_text_reports_in_a_folder_are_skipped(tmp_path):
    shutil.copy(WEB01, tmp_path / "sa01.csv")
    shutil.copy(SAR / "paris-sar-report.txt", tmp_path / "sar01")
    traces = read_traces(tmp_path)
    assert traces.server_ids == ("web01",)
    assert any("skipped 1 sar text report(s)" in w and "sar01" in w for w in traces.quality.warnings)


# --- binary sa files ------------------------------------------------------------------------

FAKE_SADF = """#!{python}
# Stand-in for sysstat's sadf: replays recorded output, logs its arguments.
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SADF_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
if args == ["-V"]:
    print("sysstat version 12.6.1")
    sys.exit(0)
step = "C" if args[0] == "-c" else ("CONVERTED" if args[3].endswith("converted.sa") else "FIRST")
def put(stream, name):
    path = os.environ.get(f"FAKE_SADF_{{step}}_{{name}}")
    if path:
        stream.write(open(path, "rb").read())
put(sys.stdout.buffer, "STDOUT")
put(sys.stderr.buffer, "STDERR")
sys.exit(int(os.environ.get(f"FAKE_SADF_{{step}}_RC", "0")))
"""


@pytest.fixture
def sadf(tmp_path, monkeypatch):
    """A ``sadf`` on an otherwise empty PATH; ``sadf(step, stdout=..., stderr=..., rc=...)`` sets
    what it replays at the first run (FIRST), at ``sadf -c`` (C) and on the converted file (CONVERTED)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sadf"
    script.write_text(FAKE_SADF.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "sadf.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_SADF_LOG", str(log))

    def replay(step="FIRST", stdout=None, stderr=None, rc=0):
        for name, value in (("STDOUT", stdout), ("STDERR", stderr), ("RC", rc)):
            if value is not None:
                monkeypatch.setenv(f"FAKE_SADF_{step}_{name}", str(value))
        return log

    return replay


def test_binary_without_sadf_says_what_to_run(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(InputError) as err:
        read_traces(DB01_SA)
    message = str(err.value)
    assert "\n" not in message
    assert "binary sysstat sa file (written by sysstat 12.6.1)" in message and "sadf is not on the PATH" in message
    assert f"sadf -d -- -u -r {DB01_SA} > {DB01_SA}.csv" in message


def test_binary_is_read_through_sadf(sadf):
    log = sadf(stdout=DB01)  # the recorded output of sadf -d -P ALL db01-12.6.1.sa -- -u -r
    traces = read_traces(DB01_SA)
    text = read_traces(DB01)
    assert traces.server_ids == ("db01",)
    np.testing.assert_array_equal(traces.cpu_pct, text.cpu_pct)
    np.testing.assert_array_equal(traces.mem_gb, text.mem_gb)
    assert log.read_text().split() == ["-d", "-P", "ALL", str(DB01_SA), "--", "-u", "-r"]
    assert "ran sadf -d -P ALL FILE -- -u -r on 1 binary sa file(s): db01-12.6.1.sa" in traces.quality.conversions[0]


def test_gzipped_binary_is_unzipped_for_sadf(sadf, tmp_path):
    log = sadf(stdout=DB01)
    packed = tmp_path / "sa15.gz"
    packed.write_bytes(gzip.compress(DB01_SA.read_bytes()))
    assert read_traces(packed).server_ids == ("db01",)
    assert log.read_text().split()[3].endswith("/sa15")


def test_older_sysstat_format_is_converted_with_sadf_c(sadf):
    # sadf 12.6.1 on sysstat 9.1.6's test file: refused with advice to run sadf -c (recorded);
    # the converted file holds a single record, so the read ends there, naming its host
    log = sadf(stderr=SAR / "sadf-12.6.1-on-data-9.1.6.stderr", rc=3)
    sadf("C", stdout=BIN_916)
    sadf("CONVERTED", stdout=SAR / "sysstat-tests-data-9.1.6.sadf-c.sadf-d-P-ALL.csv")
    with pytest.raises(InputError, match=r"holds one record per host \(kluane.home\)"):
        read_traces(BIN_916)
    calls = log.read_text().splitlines()
    assert calls[1] == f"-c {BIN_916}" and calls[2].split()[3].endswith("converted.sa")


def test_format_sadf_cannot_convert_is_one_line(sadf):
    sadf(stderr=SAR / "sadf-12.6.1-on-data-9.1.6.stderr", rc=3)
    sadf("C", stderr=SAR / "sadf-12.6.1-c-newer-format.stderr", rc=2)
    with pytest.raises(InputError) as err:
        read_traces(BIN_916)
    message = str(err.value)
    assert "\n" not in message
    assert "sadf -c cannot convert" in message and "(written by sysstat 9.1.6)" in message
    assert "Cannot convert the format of this file" in message


def test_sadf_refusal_is_one_line_saying_what_sadf_said(sadf):
    sadf(stderr=SAR / "sadf-12.6.1-on-data-9.1.6.stderr", rc=3)
    sadf("C", stdout=BIN_916)
    sadf("CONVERTED", stderr=SAR / "sadf-12.6.1-on-data-9.1.6.stderr", rc=3)
    with pytest.raises(InputError) as err:
        read_traces(BIN_916)
    message = str(err.value)
    assert "\n" not in message and "sadf said: Invalid system activity file" in message
    assert "cannot read the format of this file (0x2171)" in message


def test_newer_sysstat_file_that_sadf_prints_empty_is_named(sadf):
    sadf(stdout=os.devnull)  # sadf 12.6.1 prints nothing, exit 0, for sysstat 12.8.0's files (recorded)
    with pytest.raises(InputError) as err:
        read_traces(APP01_SA_HEAD)
    message = str(err.value)
    assert "sadf (sysstat 12.6.1) printed no CPU or memory record" in message
    assert "(written by sysstat 12.8.0)" in message and "sadf -d -- -u -r" in message


def test_sa_file_cut_short_reads_the_records_before(sadf):
    sadf(stdout=SAR / "db01-cut.sadf-d-P-ALL.csv", stderr=SAR / "db01-cut.stderr", rc=2)
    traces = read_traces(DB01_SA)
    assert traces.server_ids == ("db01",)
    assert any("ends mid-record" in w for w in traces.quality.warnings)


# --- errors ----------------------------------------------------------------------------------

def edited(tmp_path: Path, source: Path, old: str, new: str, count: int = 1) -> Path:
    path = tmp_path / source.name
    text = source.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))
    return path


def one_line_error(path: Path, **options) -> str:
    with pytest.raises(InputError) as err:
        read_traces(path, **options)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_value_that_is_not_a_number_names_its_line(tmp_path):
    line = VM.read_text().splitlines()[4]
    path = edited(tmp_path, VM, line, line.rsplit(";", 1)[0] + ";4x.1")
    assert re.search(r"line 5, field %idle: '4x.1' is not a number", one_line_error(path))


def test_a_cut_line_names_its_line(tmp_path):
    line = VM.read_text().splitlines()[7]
    path = edited(tmp_path, VM, line, line[:40])
    assert "line 8:" in one_line_error(path) and "fields where its header has 10" in one_line_error(path)


def test_data_before_any_header(tmp_path):
    path = tmp_path / "headless.csv"
    path.write_text("vm;2;2026-12-01 11:43:54 UTC;-1;42.57;0.00;8.56;1.26;0.00;47.61\n" + VM.read_text())
    assert "line 1:" in one_line_error(path, format="sar") and "before any" in one_line_error(path, format="sar")


def test_a_bad_timestamp_names_its_line(tmp_path):
    path = edited(tmp_path, VM, "2026-12-01 11:44:00 UTC", "01/12/2026 11:44:00")
    assert "line 5: cannot read the timestamp '01/12/2026 11:44:00'" in one_line_error(path)


def test_a_one_record_file_cannot_be_planned(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text((SAR / "sysstat-tests-data-12.0.0.sadf-d-P-ALL.csv").read_text())
    assert "holds one record per host (linux.home)" in one_line_error(path)


@pytest.mark.parametrize("name, found", [("paris-d-disks-only.csv", "the file holds: DEV;"),
                                         ("paris-r-only.csv", "the file holds: memory (-r);")])
def test_no_cpu_block_names_what_the_file_holds(name, found):
    message = one_line_error(SAR / name)
    assert "no CPU record" in message and found in message and "sadf -d -P ALL -- -u -r" in message


@pytest.mark.parametrize("name, what", [("paris-sar-report.txt", "a sar text report"), ("paris-j.json", "sadf -j JSON"),
                                        ("paris-x.xml", "sadf -x XML"), ("paris-p.txt", "sadf -p output")])
def test_other_sysstat_outputs_are_refused_with_the_command(name, what):
    message = one_line_error(SAR / name)
    assert message.startswith(f"{SAR / name}: {what}") and "export sadf -d text instead" in message


def test_not_a_sadf_file_under_format_sar(tmp_path):
    message = one_line_error(SAMPLES / "traces.csv", format="sar")
    assert "not a sadf -d export" in message and "sadf -d -P ALL -- -u -r" in message


def test_a_header_naming_a_field_twice(tmp_path):
    path = edited(tmp_path, VM, "%steal;%idle", "%idle;%idle")
    assert "line 1: the header names a field twice" in one_line_error(path)


def test_a_line_without_host_name(tmp_path):
    line = VM.read_text().splitlines()[3]
    path = edited(tmp_path, VM, line, line.removeprefix("vm"))
    assert "line 4:" in one_line_error(path) and "has no host name" in one_line_error(path)


def test_a_time_out_of_range_names_its_line(tmp_path):
    path = edited(tmp_path, VM, "2026-12-01 11:43:58 UTC", "1980-12-01 11:43:58 UTC")
    message = one_line_error(path)
    assert "line 4" in message and "1980" in message


def test_horizontal_lines_that_do_not_split(tmp_path):
    line = VM_H.read_text().splitlines()[2]
    path = edited(tmp_path, VM_H, line, line + ";7")
    assert "line 3:" in one_line_error(path) and "does not split into the fields its sadf -h header names" in one_line_error(path)
    path = edited(tmp_path, VM_H, line, line.replace(";-1;", ";-1;x", 1))
    assert re.search(r"line 3, field %user: 'x[\d.]+' is not a number", one_line_error(path))


def test_horizontal_memory_after_a_device_group_is_not_read(tmp_path):
    lines = SYSSTAT_DH.read_text().splitlines()
    lines = [line + (";kbmemfree;kbmemused;%memused" if line.startswith("#") else "" if ";-1;" in line.split(" UTC")[0]
                     else ";1000;3000;75.00") for line in lines]
    path = tmp_path / "dh-memory.csv"
    path.write_text("\n".join(lines) + "\n")
    traces = read_traces(path)
    assert traces.mem_gb is None
    assert any("memory not read" in w and "ending in CPU*[...]" in w for w in traces.quality.warnings)


def test_crlf_and_gzip_text_read_the_same(tmp_path):
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(VM.read_bytes().replace(b"\n", b"\r\n"))
    packed = tmp_path / "vm.csv.gz"
    packed.write_bytes(gzip.compress(VM.read_bytes()))
    whole = read_traces(VM)
    for path in (crlf, packed):
        traces = read_traces(path)
        np.testing.assert_array_equal(traces.cpu_pct, whole.cpu_pct)
        np.testing.assert_array_equal(traces.mem_gb, whole.mem_gb)


def test_sadf_that_cannot_run(sadf, tmp_path):
    sadf()
    script = tmp_path / "bin" / "sadf"
    script.write_text("#!/nonexistent/interpreter\n")
    message = one_line_error(DB01_SA)
    assert "running" in message and "failed" in message and "sadf -d -- -u -r" in message


# --- recognition -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", TEXTS + (DB01_SA, BIN_916, BIN_1200, APP01_SA_HEAD), ids=lambda p: p.name)
def test_sniffer_claims_sysstat_files(path):
    assert looks_sar(path, head_bytes(path))


def other_samples() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and SAR not in p.parents)


@pytest.mark.parametrize("path", other_samples(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sniffer_rejects_the_other_formats_files(path):
    try:
        head = head_bytes(path)
    except InputError:  # a zip (xlsx) or other compression detection names before any sniffer
        head = path.read_bytes()[:1 << 16]
    assert not looks_sar(path, head)


def test_auto_detection_picks_sar():
    for path in (VM, VM_H, PARIS_EPOCH, HOSTS):
        assert read_traces(path).source.startswith("sar:")
    assert read_sar(VM).server_ids == ("vm",)


# --- the command line ---------------------------------------------------------------------------

def test_cli_inspect_json(capsys):
    from consolidate.cli import main

    assert main(["inspect", str(VM_ALL), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    cpu = raw(VM_ALL, "CPU")
    every = cpu[cpu["CPU"] == -1]
    assert report["format"] == "sar" and report["servers"] == 1 and report["interval_s"] == 2
    assert report["start"] == every["time"].min().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report["cpu_mean_pct"] == pytest.approx(busy(every).mean(), abs=0.5)
    assert report["ram_total_gb"] == pytest.approx(MEM_TOTAL_KB / KB_PER_GB)


def test_cli_binary_without_sadf_exits_2(monkeypatch, capsys):
    from consolidate.cli import main

    monkeypatch.setenv("PATH", "")
    assert main(["inspect", str(DB01_SA)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sadf -d -- -u -r" in err


@pytest.mark.slow
@pytest.mark.parametrize("path", [HOSTS, EXCERPT], ids=lambda p: p.name)
def test_cli_plan_places_every_server(tmp_path, path):
    from consolidate.cli import main

    out = tmp_path / "plan"
    assert main(["plan", str(path), "--out", str(out), "--quiet"]) == 0
    placement = pd.read_csv(out / "placement.csv")
    assert sorted(placement["server_id"]) == sorted(read_traces(path).server_ids)
    assert (placement["status"] == "placed").all()
