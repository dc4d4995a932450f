"""nmon / AIX topas_nmon recordings: real files of four nmon versions and damaged variants of them.

Expected values are computed here from the raw lines with a plain line-by-line parse (``raw``), not
with the reader's code.
"""

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.io.detect import head_bytes
from consolidate.io.nmon import looks_nmon, read_nmon

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
NMON = SAMPLES / "formats" / "nmon"
DEBIAN16N = NMON / "debian16n_vm_261201_0625.nmon"
NMON13G = NMON / "pynmonanalyzer_13g_the-gibson.nmon.gz"
NMON15H = NMON / "nmon2influxdb_15h_linux_150818_1024.nmon.gz"
AIX = NMON / "aixlpar_topas_nmon.nmon.gz"
RECORDED = NMON / "recorded_vm_261201_1144.nmon"
BATCHRUN = NMON / "recorded_batchrun_vm.nmon.gz"
TWO_RUNS = NMON / "two_runs"
TWO_HOSTS = NMON / "two_hosts"
FILES = (DEBIAN16N, NMON13G, NMON15H, AIX, RECORDED, BATCHRUN)


# --- an independent reading of the raw lines -------------------------------------------------

def text_of(path: Path) -> str:
    return gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()


def raw(path: Path) -> tuple[dict, dict]:
    """Section -> header names, and section -> {snapshot: fields}, from ``text_of(path)``."""
    headers, rows = {}, {}
    for line in text_of(path).splitlines():
        fields = line.split(",")
        if len(fields) < 3:
            continue
        if re.fullmatch(r"T\d+", fields[1]):
            rows.setdefault(fields[0], {}).setdefault(int(fields[1][1:]), fields[2:])
        else:
            headers.setdefault(fields[0], [name.strip() for name in fields[2:]])
    return headers, rows


def snapshot_times(rows: dict) -> dict[int, datetime]:
    return {tag: datetime.strptime(f"{f[0]},{f[1]}", "%H:%M:%S,%d-%b-%Y") for tag, f in rows["ZZZZ"].items()}


def column(headers: dict, rows: dict, section: str, name: str) -> dict[int, float]:
    i = headers[section].index(name)
    return {tag: float(f[i]) if i < len(f) and f[i] else np.nan for tag, f in rows[section].items()}


def busy(path: Path) -> pd.Series:
    """User% + Sys% (+ Steal%) of CPU_ALL by snapshot time (taken as UTC, as the reader does without --timezone)."""
    headers, rows = raw(path)
    when = snapshot_times(rows)
    user, sys = column(headers, rows, "CPU_ALL", "User%"), column(headers, rows, "CPU_ALL", "Sys%")
    steal = column(headers, rows, "CPU_ALL", "Steal%") if "Steal%" in headers["CPU_ALL"] else {}
    tags = sorted(set(user) & set(when))
    # rounded shares can add up to 100.1: the reader clips a percent source at 100
    return pd.Series([min(100.0, user[t] + sys[t] + np.nan_to_num(steal.get(t, 0.0))) for t in tags],
                     index=pd.DatetimeIndex([when[t] for t in tags], tz="UTC"))


def on_grid(traces, series: pd.Series, row: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The grid cells the raw samples fall in: (the trace's values there, the raw maximum per cell)."""
    cell = ((series.index - traces.start) // pd.Timedelta(seconds=traces.interval_s)).to_numpy()
    expected = series.groupby(cell).max()
    return traces.cpu_pct[row, expected.index.to_numpy()], expected.to_numpy()


def variant(tmp_path: Path, source: Path, edit, name: str | None = None) -> Path:
    """``source``'s lines passed through ``edit`` (lines -> lines), written as a new file."""
    lines = text_of(source).split("\n")
    path = tmp_path / (name or source.name.removesuffix(".gz"))
    path.write_text("\n".join(edit(lines)))
    return path


# --- real files: values, interval, span, servers, conversions ----------------------------------

def test_debian_16n_every_snapshot_is_user_plus_sys():
    traces = read_traces(DEBIAN16N)
    expected = busy(DEBIAN16N)
    assert traces.server_ids == ("vm",)
    assert traces.interval_s == 10 and traces.n_steps == 30
    assert traces.start == pd.Timestamp("2026-12-01 06:25:40", tz="UTC")
    np.testing.assert_allclose(traces.cpu_pct[0], expected.to_numpy(), atol=1e-4)
    assert traces.cpu_pct.mean() == pytest.approx(expected.mean(), abs=1e-3)
    assert traces.cpu_pct.max() == pytest.approx(expected.max(), abs=1e-3)


def test_debian_16n_memory_and_hardware():
    traces = read_traces(DEBIAN16N)
    headers, rows = raw(DEBIAN16N)
    mb = {name: column(headers, rows, "MEM", name) for name in ("memtotal", "memfree", "cached", "buffers")}
    used_gb = [(mb["memtotal"][t] - mb["memfree"][t] - mb["cached"][t] - mb["buffers"][t]) / 1024 for t in sorted(rows["MEM"])]
    np.testing.assert_allclose(traces.mem_gb[0], used_gb, rtol=1e-5)
    inv = traces.inventory
    # lscpu (BBBP lines): 2 CPUs, 1 thread per core; memtotal 24105.1 MB.
    assert (inv.cores[0], inv.threads[0]) == (2, 2)
    assert inv.ram_gb[0] == pytest.approx(24105.1 / 1024)
    assert inv.model[0] == "AMD EPYC"


def test_conversions_and_the_time_zone_assumption_are_stated():
    quality = read_traces(DEBIAN16N).quality
    conversions = " | ".join(quality.conversions)
    assert "User% + Sys% (+ Steal% where given) of the CPU_ALL section" in conversions and "Wait%" in conversions
    assert "for 30 snapshot(s) of 1 file(s)" in conversions
    assert "memtotal - memfree - cached - buffers" in conversions
    assert any("taken as UTC" in w and "--timezone" in w for w in quality.warnings)
    assert quality.counts["nmon_cut_lines"] == 0 and quality.counts["nmon_snapshots_without_time"] == 0


def test_timezone_converts_local_times():
    paris = read_traces(DEBIAN16N, timezone="Europe/Paris")  # CET in December: UTC+1
    assert paris.start == pd.Timestamp("2026-12-01 05:25:40", tz="UTC")
    assert any("converted from Europe/Paris to UTC for 30 snapshot(s)" in c for c in paris.quality.conversions)
    assert not any("taken as UTC" in w for w in paris.quality.warnings)


def test_nmon_13g_one_second_snapshots_and_logical_cpus():
    traces = read_traces(NMON13G)
    expected = busy(NMON13G)
    assert traces.server_ids == ("the-gibson",) and traces.interval_s == 1
    got, want = on_grid(traces, expected)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert traces.start == expected.index[0] and traces.end == expected.index[-1] + pd.Timedelta(seconds=1)
    # No lscpu and no AAA,x86 lines: 6 logical CPUs, cores taken as the same, and said so.
    assert (traces.inventory.cores[0], traces.inventory.threads[0]) == (6, 6)
    assert any("cores taken as the logical CPU count" in c for c in traces.quality.conversions)


def test_nmon_15h_host_not_run_name_and_x86_hardware():
    traces = read_traces(NMON15H)
    headers, _ = raw(NMON15H)
    assert headers["CPU_ALL"][0] == "User%" and "test1" in text_of(NMON15H).split("\nCPU_ALL,", 1)[1].split("\n")[0]
    assert traces.server_ids == ("linux",) and traces.interval_s == 30
    got, want = on_grid(traces, busy(NMON15H))
    np.testing.assert_allclose(got, want, atol=1e-4)
    inv = traces.inventory
    assert (inv.cores[0], inv.threads[0], inv.ghz[0]) == (2, 4, 2.5)  # AAA,x86,Cores 2, hyperthreads 2, "@ 2.50GHz"
    assert inv.model[0] == "Intel(R) Core(TM) i5-2520M CPU @ 2.50GHz"


def test_recorded_runs_name_the_host_and_read_gzip():
    assert read_traces(BATCHRUN).server_ids == ("vm",)  # section titles say "batchrun" (-r batchrun)
    traces = read_traces(RECORDED)
    assert traces.interval_s == 2 and traces.n_steps == 30
    np.testing.assert_allclose(traces.cpu_pct[0], busy(RECORDED).to_numpy(), atol=1e-4)


# --- AIX shared-processor LPAR ------------------------------------------------------------------

def lpar_columns() -> dict[str, dict[int, float]]:
    headers, rows = raw(AIX)
    return {name: column(headers, rows, "LPAR", name) for name in ("PhysicalCPU", "virtualCPUs", "entitled", "SharedCPU")}


def test_aix_shared_lpar_busy_is_physical_cpu_over_virtual_processors():
    traces = read_traces(AIX)
    lpar = lpar_columns()
    _, rows = raw(AIX)
    when = snapshot_times(rows)
    assert set(lpar["SharedCPU"].values()) == {1.0} and set(lpar["virtualCPUs"].values()) == {7.0}
    tags = sorted(lpar["PhysicalCPU"])
    expected = pd.Series([lpar["PhysicalCPU"][t] / 7 * 100 for t in tags], index=pd.DatetimeIndex([when[t] for t in tags], tz="UTC"))
    assert traces.server_ids == ("aixlpar",) and traces.interval_s == 300
    got, want = on_grid(traces, expected)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert len(want) == 187  # one snapshot per 5-minute cell
    assert traces.cpu_pct.mean() == pytest.approx(expected.mean(), abs=0.01)
    # The planned capacity x share is PhysicalCPU: 7 virtual processors, one thread each.
    assert (traces.inventory.cores[0], traces.inventory.threads[0]) == (7, 7)
    # Uncapped: consumption above the entitlement, which a share of the entitlement would clip.
    assert max(lpar["PhysicalCPU"][t] / lpar["entitled"][t] for t in tags) > 1.0
    conversions = " | ".join(traces.quality.conversions)
    assert "PhysicalCPU (physical cores consumed) / virtualCPUs" in conversions
    assert "aixlpar (7 virtual processors, entitlement 1.3 cores)" in conversions


def test_aix_day_roll_over_memory_and_cpu_all_not_used():
    traces = read_traces(AIX)
    assert traces.start == pd.Timestamp("2016-02-10 17:25", tz="UTC")
    assert traces.end == pd.Timestamp("2016-02-11 09:00", tz="UTC")  # ZZZZ dates advance past midnight
    headers, rows = raw(AIX)
    total, free = column(headers, rows, "MEM", "Real total(MB)"), column(headers, rows, "MEM", "Real free(MB)")
    used_gb = np.array([(total[t] - free[t]) / 1024 for t in sorted(total)])
    assert traces.mem_gb[0].mean() == pytest.approx(used_gb.mean(), rel=1e-5)
    assert traces.inventory.ram_gb[0] == pytest.approx(43008 / 1024)
    assert "Real total(MB) - Real free(MB)" in " | ".join(traces.quality.conversions)
    # CPU_ALL (a share of the entitlement here) is far above PhysicalCPU / virtualCPUs: not what was read.
    assert busy(AIX).mean() > 2.5 * traces.cpu_pct.mean()


def test_dedicated_lpar_reads_cpu_all(tmp_path):
    dedicated = variant(tmp_path, AIX, lambda lines: [re.sub(r"^(LPAR,T\d+(?:,[^,]*){9}),1,", r"\1,0,", line) for line in lines])
    traces = read_traces(dedicated)
    got, want = on_grid(traces, busy(AIX))
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert (traces.inventory.cores[0], traces.inventory.threads[0]) == (7, 28)  # 7 processors, SMT4


# --- folders: runs of one host merge, hosts are servers -------------------------------------------

def test_folder_of_two_runs_of_one_host_is_one_server():
    traces = read_traces(TWO_RUNS)
    first, second = (busy(path) for path in sorted(TWO_RUNS.iterdir()))
    assert traces.source.startswith("nmon:")
    assert traces.server_ids == ("vm",) and traces.interval_s == 2
    assert traces.start == first.index[0]
    assert traces.end - pd.Timedelta(seconds=2) <= second.index[-1] < traces.end
    assert traces.quality.samples == len(first) + len(second) == 20
    got, want = on_grid(traces, pd.concat([first, second]))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_folder_of_two_hosts():
    traces = read_traces(TWO_HOSTS)
    assert traces.server_ids == ("db01", "web01") and traces.interval_s == 2
    for row, host in enumerate(traces.server_ids):
        got, want = on_grid(traces, busy(TWO_HOSTS / f"{host}.nmon.gz"), row)
        np.testing.assert_allclose(got, want, atol=1e-4)


# --- damaged and unusual files -----------------------------------------------------------------

def test_file_cut_inside_a_line(tmp_path):
    text = RECORDED.read_text()
    last = text.rindex("\nCPU_ALL,T0030,")
    cut = tmp_path / "cut.nmon"
    cut.write_text(text[: last + 18])  # inside the last CPU_ALL line: its number would be wrong
    traces = read_traces(cut)
    counts = traces.quality.counts
    assert counts["nmon_cut_lines"] == 1 and counts["nmon_snapshots_without_cpu"] == 1
    assert traces.quality.samples == 29
    assert any("cut short" in w for w in traces.quality.warnings)
    np.testing.assert_allclose(traces.cpu_pct[0, :29], busy(RECORDED).to_numpy()[:29], atol=1e-4)


def test_missing_and_repeated_zzzz_lines(tmp_path):
    missing = variant(tmp_path, RECORDED, lambda lines: [l for l in lines if not l.startswith("ZZZZ,T0005,")], "missing.nmon")
    traces = read_traces(missing)
    assert traces.quality.counts["nmon_snapshots_without_time"] == 1 and traces.quality.samples == 29
    assert any("ZZZZ time line is missing" in w for w in traces.quality.warnings)
    repeated = variant(tmp_path, RECORDED, lambda lines: [x for l in lines for x in ([l, l] if l.startswith("ZZZZ,T0007,") else [l])],
                       "repeated.nmon")
    traces = read_traces(repeated)
    assert traces.quality.counts["nmon_repeated_time_lines"] == 1 and traces.quality.samples == 30
    np.testing.assert_allclose(traces.cpu_pct[0], busy(RECORDED).to_numpy(), atol=1e-4)


def test_sorted_file_and_crlf_read_the_same(tmp_path):
    reference = read_traces(RECORDED)
    ordered = variant(tmp_path, RECORDED, lambda lines: [*sorted(l for l in lines if l), ""], "sorted.nmon")
    crlf = tmp_path / "crlf.nmon"
    crlf.write_bytes(RECORDED.read_bytes().replace(b"\n", b"\r\n"))
    for path in (ordered, crlf):
        traces = read_traces(path)
        assert traces.server_ids == reference.server_ids and traces.start == reference.start
        np.testing.assert_array_equal(traces.cpu_pct, reference.cpu_pct)
        np.testing.assert_array_equal(traces.mem_gb, reference.mem_gb)


def test_per_cpu_rows_averaged_without_cpu_all(tmp_path):
    path = variant(tmp_path, NMON13G, lambda lines: [l for l in lines if not l.startswith("CPU_ALL,")])
    traces = read_traces(path)
    headers, rows = raw(NMON13G)
    when = snapshot_times(rows)
    cpus = [name for name in headers if re.fullmatch(r"CPU\d+", name)]
    per_cpu = [{t: u + s for (t, u), s in zip(column(headers, rows, c, "User%").items(), column(headers, rows, c, "Sys%").values())}
               for c in cpus]
    tags = sorted(per_cpu[0])
    expected = pd.Series([np.mean([p[t] for p in per_cpu]) for t in tags], index=pd.DatetimeIndex([when[t] for t in tags], tz="UTC"))
    got, want = on_grid(traces, expected)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert traces.inventory.threads[0] == len(cpus) == 6
    assert any("averaged over the CPUs" in c for c in traces.quality.conversions)


def test_reset_rows_and_unreadable_values_are_missing(tmp_path):
    def edit(lines):
        out = []
        for line in lines:
            if line.startswith("CPU_ALL,T0004,"):
                line = "CPU_ALL,T0004,0.0,0.0,0.0,0.0,0.0,,2"  # nmon's reset row
            if line.startswith("CPU_ALL,T0006,"):
                line = line.replace("CPU_ALL,T0006,", "CPU_ALL,T0006,x", 1)
            out.append(line)
        return out

    traces = read_traces(variant(tmp_path, RECORDED, edit, "reset.nmon"))
    counts = traces.quality.counts
    assert counts["nmon_cpu_reset_rows"] == 1 and counts["nmon_values_unreadable"] == 1
    assert counts["cpu_empty_values"] == 2 and counts["gaps_filled"] == 2
    assert any("all zeros as missing" in w for w in traces.quality.warnings)


def test_host_from_the_file_name_without_aaa_host(tmp_path):
    path = variant(tmp_path, RECORDED, lambda lines: [l for l in lines if not l.startswith("AAA,host,")], "web7_261201_1144.nmon")
    traces = read_traces(path, format="nmon")
    assert traces.server_ids == ("web7",)
    assert any("taken from the file name" in w for w in traces.quality.warnings)


# --- errors: one line, naming the file, what it found and what to do --------------------------------

def one_line_error(path: Path, **options) -> str:
    with pytest.raises(InputError) as info:
        read_traces(path, **options)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_error_no_zzzz_line(tmp_path):
    path = variant(tmp_path, RECORDED, lambda lines: [l for l in lines if not l.startswith("ZZZZ,")], "notime.nmon")
    assert "no ZZZZ line" in one_line_error(path)


def test_error_two_runs_in_one_file(tmp_path):
    def edit(lines):
        return [x for l in lines for x in ([l, "ZZZZ,T0003,23:59:59,01-DEC-2026"] if l.startswith("ZZZZ,T0003,") else [l])]

    assert "more than one nmon run" in one_line_error(variant(tmp_path, RECORDED, edit, "joined.nmon"))


def test_error_unreadable_time_names_the_line(tmp_path):
    path = variant(tmp_path, RECORDED, lambda lines: [l.replace("01-DEC-2026", "2026-12-01") if l.startswith("ZZZZ,T0002,") else l
                                                      for l in lines], "badtime.nmon")
    line = next(i for i, l in enumerate(text_of(path).split("\n"), 1) if l.startswith("ZZZZ,T0002,"))
    message = one_line_error(path)
    assert f"line {line}" in message and "DD-MON-YYYY" in message


def test_error_no_cpu_section_names_what_the_file_holds(tmp_path):
    path = variant(tmp_path, RECORDED, lambda lines: [l for l in lines if not re.match(r"CPU(_ALL|\d+),", l)], "nocpu.nmon")
    message = one_line_error(path)
    assert "no CPU section" in message and "DISKBUSY" in message and "MEM" in message and "nmon -f" in message


def test_error_header_missing(tmp_path):
    path = variant(tmp_path, RECORDED, lambda lines: [l for l in lines if not l.startswith("CPU_ALL,CPU Total")], "nohead.nmon")
    assert "no CPU_ALL header line" in one_line_error(path)


def test_error_not_an_nmon_file(tmp_path):
    csv = tmp_path / "traces.csv"
    csv.write_text("timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,a,5\n")
    assert "not an nmon recording" in one_line_error(csv, format="nmon")
    binary = tmp_path / "blob.nmon"
    binary.write_bytes(bytes(range(256)) * 8)
    assert "not an nmon recording" in one_line_error(binary, format="nmon")
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.nmon").write_bytes(RECORDED.read_bytes())
    (folder / "b.csv").write_text(csv.read_text())
    message = one_line_error(folder, format="nmon")
    assert "b.csv" in message and "not an nmon recording" in message


def test_error_unknown_time_zone():
    with pytest.raises(InputError, match="not a known IANA time zone"):
        read_nmon(RECORDED, timezone="Mars/Olympus")


# --- detection ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [*FILES, TWO_RUNS, TWO_HOSTS], ids=lambda p: p.name)
def test_auto_detection_picks_nmon(path):
    assert read_traces(path).source == f"nmon:{path}"


def test_sniffer_rejects_the_other_formats_samples():
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and NMON not in p.parents]
    assert others
    for path in others:
        try:
            head = head_bytes(path)
        except InputError:  # a compression the tool does not read (an xlsx is a zip): never an nmon file
            continue
        assert not looks_nmon(path, head), path


# --- the command line ------------------------------------------------------------------------------

def test_cli_inspect_json(capsys):
    from consolidate.cli import main

    assert main(["inspect", str(AIX), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    lpar = lpar_columns()
    expected_pct = np.mean(list(lpar["PhysicalCPU"].values())) / 7 * 100
    assert report["format"] == "nmon" and report["servers"] == 1 and report["interval_s"] == 300
    assert report["start"] == "2016-02-10T17:25:00Z" and report["end"] == "2016-02-11T09:00:00Z"
    assert report["cpu_mean_pct"] == pytest.approx(expected_pct, abs=0.01)
    assert report["repairs"]["nmon_snapshots_without_time"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", [AIX, TWO_HOSTS], ids=lambda p: p.name)
def test_cli_plan_places_every_server(tmp_path, path):
    from consolidate.cli import main

    out = tmp_path / "plan"
    assert main(["plan", str(path), "--out", str(out), "--quiet"]) == 0
    placement = pd.read_csv(out / "placement.csv")
    assert sorted(placement["server_id"]) == sorted(read_traces(path).server_ids)
    assert (placement["status"] == "placed").all()
