"""Prometheus /api/v1/query_range responses: the shared exports, fixtures recorded with the Debian
packages (data/samples/formats/prometheus/PROVENANCE.md), and variants built from the API's layout."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.io import read_traces
from consolidate.io.detect import head_bytes
from consolidate.io.prometheus import looks_prometheus, read_prometheus

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
HERE = SAMPLES / "formats" / "prometheus"
CPU_PCT = HERE / "local-query_range-cpu_busy_pct.json"
COUNTERS = HERE / "local-query_range-node_cpu_seconds_total.json"
MEMORY = HERE / "local-query_range-memory_bytes.json"
SCRAPE = HERE / "node_exporter-1.5.0-metrics-head.txt"
NODE_5S = HERE / "debian12-node-step5s.json"
BUSY_15S = HERE / "debian12-cpu_busy_pct-step15s.json"
STEP_2S = HERE / "debian12-node_cpu-step2s.json"
RAW = HERE / "debian12-raw-range-selector.json"
GIB = 1024**3
T0 = 1_796_000_000


def result(path: Path) -> list[dict]:
    return json.loads(path.read_text())["data"]["result"]


def response(series: list[dict]) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": series}}


def write(tmp_path: Path, name: str, doc) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def series(labels: dict, times, values) -> dict:
    stamps = [int(t) if float(t).is_integer() else float(t) for t in times]
    return {"metric": labels, "values": [[t, v if isinstance(v, str) else repr(float(v))] for t, v in zip(stamps, values)]}


def counters(instance: str, rates: dict[str, float], n: int = 20, step: int = 15, cpus=("0", "1"), start: float = 0.0,
             name: str = "node_cpu_seconds_total", cpu_label: str = "cpu") -> list[dict]:
    """Counters growing at ``rates`` (seconds per second per mode) on each CPU."""
    times = T0 + step * np.arange(n)
    return [series({"__name__": name, cpu_label: cpu, "instance": instance, "job": "node", "mode": mode},
                   times, start + rate * step * np.arange(n)) for cpu in cpus for mode, rate in rates.items()]


def span_busy_pct(path: Path, instance: str) -> float:
    """Mean busy % of a host over a response, from the first and last counter values alone:
    100 x (1 - idle and iowait seconds gained / (CPUs x seconds elapsed))."""
    idle_s, elapsed_s, cpus = 0.0, 0.0, set()
    for s in result(path):
        m = s["metric"]
        if m["instance"] != instance or "mode" not in m:
            continue
        cpus.add(m["cpu"])
        (t0, v0), (t1, v1) = s["values"][0], s["values"][-1]
        if m["mode"] in ("idle", "iowait"):
            idle_s += float(v1) - float(v0)
        elapsed_s = float(t1) - float(t0)
    return 100.0 * (1.0 - idle_s / (len(cpus) * elapsed_s))


def one_line_error(path, **kw) -> str:
    with pytest.raises(InputError) as err:
        read_traces(path, **kw)
    message = str(err.value)
    assert "\n" not in message
    return message


# --- the shared exports ------------------------------------------------------------------------


def test_computed_cpu_pct_is_read_as_it_is():
    values = [float(v) for _, v in result(CPU_PCT)[0]["values"]]
    times = [t for t, _ in result(CPU_PCT)[0]["values"]]
    ts = read_traces(CPU_PCT)
    assert ts.source.startswith("prometheus:")
    assert ts.server_ids == ("127.0.0.1",)
    assert ts.interval_s == 15
    assert 0 <= times[0] * 10**9 - ts.start.value < 15 * 10**9  # the grid starts at a whole interval
    assert ts.cpu_pct.shape == (1, len(values))
    assert ts.cpu_pct.mean() == pytest.approx(np.mean(values), abs=1e-4)
    assert ts.cpu_pct.max() == pytest.approx(max(values), abs=1e-4)
    assert any("cpu_busy_pct" in c and f"{len(values)} samples" in c for c in ts.quality.conversions)
    assert any("127.0.0.1:9100 -> 127.0.0.1" in c for c in ts.quality.conversions)


def test_counters_become_busy_pct_per_host():
    ts = read_traces(COUNTERS)
    assert ts.server_ids == ("127.0.0.1",)
    assert ts.interval_s == 15
    assert ts.cpu_pct.shape == (1, 43)  # 44 counter samples give 43 intervals
    assert ts.cpu_pct.mean() == pytest.approx(span_busy_pct(COUNTERS, "127.0.0.1:9100"), abs=0.01)
    # the same host's busy % computed by Prometheus over the same span
    assert ts.cpu_pct.mean() == pytest.approx(read_traces(CPU_PCT).cpu_pct.mean(), abs=0.5)
    assert ts.inventory.cores[0] == ts.inventory.threads[0] == 2
    assert ts.quality.counts["prometheus_counter_resets"] == 0
    assert any("node_cpu_seconds_total counters of 2 CPU(s) on 1 host(s)" in c for c in ts.quality.conversions)


def test_a_cpu_file_and_a_memory_file_merge_per_host(tmp_path):
    folder = tmp_path / "prom"
    folder.mkdir()
    shutil.copy(COUNTERS, folder)
    shutil.copy(MEMORY, folder)
    by_name = {s["metric"]["__name__"]: [float(v) for _, v in s["values"]] for s in result(MEMORY)}
    used_gb = (np.array(by_name["node_memory_MemTotal_bytes"]) - np.array(by_name["node_memory_MemAvailable_bytes"])) / GIB
    ts = read_traces(folder)
    assert ts.server_ids == ("127.0.0.1",)
    assert ts.quality.counts["cpu_empty_values"] == 0  # memory-only samples would be empty CPU values
    assert ts.cpu_pct.mean() == pytest.approx(read_traces(COUNTERS).cpu_pct.mean(), abs=1e-5)
    assert ts.mem_gb.max() == pytest.approx(used_gb.max(), rel=1e-5)
    assert ts.mem_gb.min() == pytest.approx(used_gb.min(), rel=1e-5)
    assert ts.inventory.ram_gb[0] == pytest.approx(max(by_name["node_memory_MemTotal_bytes"]) / GIB)
    assert ts.inventory.cores[0] == 2
    assert any("MemTotal_bytes - node_memory_MemAvailable_bytes" in c for c in ts.quality.conversions)


def test_a_scrape_in_a_folder_is_skipped_and_named(tmp_path):
    for f in (COUNTERS, SCRAPE):
        shutil.copy(f, tmp_path)
    ts = read_traces(tmp_path)
    assert any("skipped 1 /metrics scrape" in w and SCRAPE.name in w for w in ts.quality.warnings)


# --- fixtures recorded with prometheus 2.42 and node_exporter 1.5.0 ------------------------------


def test_one_query_of_cpu_counters_and_memory_two_hosts_and_a_missed_window():
    ts = read_traces(NODE_5S)
    assert ts.server_ids == ("db01", "web01")
    assert ts.interval_s == 5
    web = ts.server_ids.index("web01")
    assert ts.cpu_pct[web].mean() == pytest.approx(span_busy_pct(NODE_5S, "web01:9100"), abs=0.05)
    assert ts.quality.counts["gaps_filled"] >= 10  # db01's exporter was stopped for 60 s
    assert ts.mem_gb is not None and np.all(ts.mem_gb > 0)
    assert np.all(ts.inventory.cores == 2)
    # against the busy % Prometheus computed for the same hosts (rate over 1 min, so means only)
    computed = read_traces(BUSY_15S)
    for host in ("db01", "web01"):
        assert ts.cpu_pct[ts.server_ids.index(host)].mean() == pytest.approx(
            computed.cpu_pct[computed.server_ids.index(host)].mean(), abs=1.0)


def test_a_step_shorter_than_the_scrape_interval_leaves_out_repeated_scrapes():
    ts = read_traces(STEP_2S)
    counts = ts.quality.counts
    assert counts["prometheus_repeated_steps"] > 0
    assert any("no counter moved" in w for w in ts.quality.warnings)
    # a repeated scrape read as an interval would be 0 idle seconds, 100 % busy
    assert ts.cpu_pct.mean() == pytest.approx(span_busy_pct(STEP_2S, "web01:9100"), abs=0.5)


def test_raw_samples_of_a_range_selector_keep_each_targets_phase():
    raw = result(RAW)
    stamps = {s["metric"]["instance"]: s["values"][0][0] for s in raw}
    assert any(t != int(t) for t in stamps.values())  # millisecond scrape times
    ts = read_traces(RAW)
    assert ts.server_ids == ("db01", "web01")
    assert ts.interval_s == 5
    assert ts.quality.counts["gaps_filled"] > 0


# --- variants of the API's layout ----------------------------------------------------------------


@pytest.mark.parametrize("shape", ["data", "result", "indented", "gzip"])
def test_envelope_or_not_pretty_or_gzipped(tmp_path, shape):
    doc = json.loads(COUNTERS.read_text())
    path = tmp_path / "r.json"
    if shape == "data":
        path.write_text(json.dumps(doc["data"]))
    elif shape == "result":
        path.write_text(json.dumps(doc["data"]["result"]))
    elif shape == "indented":
        path.write_text(json.dumps(doc, indent=2))
    else:
        path = tmp_path / "r.json.gz"
        path.write_bytes(gzip.compress(COUNTERS.read_bytes()))
    assert looks_prometheus(path, head_bytes(path))
    ts = read_traces(path)
    assert ts.cpu_pct.mean() == pytest.approx(read_traces(COUNTERS).cpu_pct.mean(), abs=1e-6)


def test_nan_and_inf_strings_are_missing_samples(tmp_path):
    values = ["10", "NaN", "30", "+Inf", "-Inf", "50", "20", "40"]
    path = write(tmp_path, "cpu_busy_pct.json",
                 response([series({"instance": "a:9100"}, T0 + 60 * np.arange(8), values)]))
    ts = read_traces(path)
    assert ts.quality.counts["prometheus_nonfinite_values"] == 3
    assert ts.cpu_pct.max() == 50
    assert any('"NaN"' in c for c in ts.quality.conversions)


def test_counter_resets_are_restarts_from_zero(tmp_path):
    rates = {"idle": 0.5, "iowait": 0.1, "user": 0.3, "system": 0.1}
    before = counters("h:9100", rates, n=10, start=5000.0)
    after = counters("h:9100", rates, n=10)  # rebooted: counting from 0 again
    for b, a in zip(before, after):
        b["values"] += [[t + 135, v] for t, v in a["values"][1:]]  # 15 s after the last sample before
    ts = read_traces(write(tmp_path, "reset.json", response(before)))
    assert ts.quality.counts["prometheus_counter_resets"] == 8  # 4 modes x 2 CPUs
    np.testing.assert_allclose(ts.cpu_pct, 40.0, atol=1e-4)


def test_windows_exporter(tmp_path):
    rates = {"idle": 0.7, "user": 0.2, "privileged": 0.08, "interrupt": 0.01, "dpc": 0.01}
    cpu = counters("win01:9182", rates, name="windows_cpu_time_total", cpu_label="core", cpus=("0,0", "0,1", "0,2", "0,3"))
    times = T0 + 15 * np.arange(20)
    total = series({"__name__": "windows_cs_physical_memory_bytes", "instance": "win01:9182"}, times, [16 * GIB] * 20)
    free = series({"__name__": "windows_os_physical_memory_free_bytes", "instance": "win01:9182"}, times,
                  np.linspace(10, 4, 20) * GIB)
    ts = read_traces(write(tmp_path, "win.json", response([*cpu, total, free])))
    assert ts.server_ids == ("win01",)
    np.testing.assert_allclose(ts.cpu_pct, 30.0, atol=1e-4)
    np.testing.assert_allclose(ts.mem_gb[0], 16 - np.linspace(10, 4, 20)[1:], atol=1e-4)
    assert ts.inventory.cores[0] == 4 and ts.inventory.ram_gb[0] == 16


def test_other_series_of_the_node_families_are_skipped_and_named(tmp_path):
    doc = json.loads(COUNTERS.read_text())
    free = dict(result(MEMORY)[0], metric={"__name__": "node_memory_MemFree_bytes", "instance": "127.0.0.1:9100"})
    doc["data"]["result"].append(free)
    ts = read_traces(write(tmp_path, "r.json", doc))
    assert ts.quality.counts["prometheus_series_skipped"] == 1
    assert any("node_memory_MemFree_bytes" in w for w in ts.quality.warnings)


def test_columns_server_id_names_the_host_label(tmp_path):
    doc = json.loads(CPU_PCT.read_text())
    doc["data"]["result"][0]["metric"]["nodename"] = "web-7"
    path = write(tmp_path, "cpu_busy_pct.json", doc)
    assert read_traces(path, columns={"server_id": "nodename"}).server_ids == ("web-7",)
    assert "no 'pod' label" in one_line_error(path, columns={"server_id": "pod"})
    assert "only server_id" in one_line_error(path, columns={"cpu_pct": "value"})


@pytest.mark.parametrize("instance, host", [("web01:9100", "web01"), ("[::1]:9100", "::1"), ("10.0.0.5", "10.0.0.5"),
                                            ("db.example.com:9182", "db.example.com"), ("::1", "::1")])
def test_the_port_is_dropped_from_instance(tmp_path, instance, host):
    path = write(tmp_path, "cpu_busy_pct.json", response([series({"instance": instance}, T0 + 60 * np.arange(5), [1] * 5)]))
    assert read_traces(path).server_ids == (host,)


def test_the_node_mixin_ratio_rule_is_read_as_percent(tmp_path):
    rule = {"__name__": "instance:node_cpu_utilisation:rate5m", "instance": "a:9100"}
    path = write(tmp_path, "r.json", response([series(rule, T0 + 60 * np.arange(5), [0.25] * 5)]))
    np.testing.assert_allclose(read_traces(path).cpu_pct, 25.0, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(idle=st.floats(0.0, 0.9), iowait=st.floats(0.0, 0.1), user=st.floats(0.0, 1.0), step=st.sampled_from([5, 15, 60]),
       reset_at=st.integers(2, 8))
def test_busy_is_100_minus_idle_and_iowait_per_second(tmp_path_factory, idle, iowait, user, step, reset_at):
    rates = {"idle": idle, "iowait": iowait, "user": user, "system": 0.01, "steal": 0.0}
    doc = counters("h:9100", rates, n=10, step=step, start=1e6)
    for s in doc:  # one CPU restarts from 0 before sample reset_at
        if s["metric"]["cpu"] == "1":
            rate = rates[s["metric"]["mode"]]
            for k in range(reset_at, 10):
                s["values"][k][1] = repr(rate * step * (k - reset_at + 1))
    path = write(tmp_path_factory.mktemp("p"), "r.json", response(doc))
    ts = read_prometheus(path, interval_s=step)
    np.testing.assert_allclose(ts.cpu_pct, 100.0 * (1 - idle - iowait), atol=1e-3)


# --- refusals: one line, naming what was found and what to export --------------------------------


def _rewrite(tmp_path, source: Path, name: str, change) -> Path:
    doc = json.loads(source.read_text())
    change(doc)
    return write(tmp_path, name, doc)


ERRORS = {
    "scrape": (lambda d: SCRAPE, ["/metrics scrape", "curl -G", "query_range"]),
    "instant": (lambda d: HERE / "debian12-instant-up.json", ["instant query", "vector", "query_range"]),
    "status error": (lambda d: HERE / "debian12-error-bad_data.json", ["Prometheus error", "bad_data", "missing unit"]),
    "up": (lambda d: HERE / "debian12-up-range.json", ["up is not a CPU or memory metric", "leave up out"]),
    "unnamed": (lambda d: HERE / "debian12-rate-per-cpu-mode.json", ["without __name__", "cpu_busy_pct", "rate()"]),
    "memory only": (lambda d: MEMORY, ["no CPU series", "node_memory_MemTotal_bytes", "node_cpu_seconds_total"]),
    "empty": (lambda d: write(d, "e.json", response([])), ["matched no series"]),
    "cut short": (lambda d: write_text(d, "cut.json", COUNTERS.read_text()[:3000]), ["not valid JSON", "line 1"]),
    "not json": (lambda d: write_text(d, "t.json", "time,cpu\n1,2\n"), ["not a Prometheus API response"]),
    "scalar": (lambda d: write(d, "s.json", {"status": "success", "data": {"resultType": "scalar", "result": [T0, "1"]}}),
               ["resultType 'scalar'"]),
    "not a pct": (lambda d: write(d, "x-cpu_busy_pct.json", response([series({"instance": "a:1"}, [T0, T0 + 60], [50, 200])])),
                  ["not a busy % of all the host's CPUs", "avg by(instance)"]),
    "bad value": (lambda d: write(d, "cpu_busy_pct.json", response([series({"instance": "a:1"}, [T0, T0 + 60], ["1", "x"])])),
                  ["point 2", "'x'"]),
    "bad time": (lambda d: write(d, "cpu_busy_pct.json", response([
        series({"instance": "a:1"}, [T0, T0 + 60, 9e12], ["1", "2", "3"])])), ["series 1", "point 3", "trace times must fall"]),
    "no instance": (lambda d: write(d, "cpu_busy_pct.json", response([series({"job": "n"}, [T0, T0 + 60], [1, 2])])),
                    ["no 'instance' label", "labels: job", "--columns server_id=LABEL"]),
    "two per host": (lambda d: write(d, "cpu_busy_pct.json", response([
        series({"instance": "a:1", "job": "x"}, [T0, T0 + 60], [1, 2]),
        series({"instance": "a:1", "job": "y"}, [T0, T0 + 60], [1, 2])])), ["second series", "label(s) job", "aggregate"]),
    "idle only": (lambda d: write(d, "i.json", response(counters("a:1", {"idle": 0.5}))),
                  ["has mode(s) idle but not user, system", "without a mode filter"]),
    "one sample": (lambda d: write(d, "o.json", response(counters("a:1", {"idle": 0.5, "user": 0.2, "system": 0.1}, n=1))),
                   ["hold no usable sample"]),
}


def write_text(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_refusals_are_one_line_and_say_what_to_do(tmp_path, case):
    make, words = ERRORS[case]
    path = make(tmp_path)
    message = one_line_error(path, format="prometheus")
    for word in words:
        assert word in message
    if case in ("scrape", "instant", "up", "memory only", "status error"):
        assert one_line_error(path) == message  # auto-detection picks this reader, which refuses


# --- detection -------------------------------------------------------------------------------------


def test_the_sniffer_claims_every_response_and_scrape():
    for path in HERE.iterdir():
        if path.suffix in (".json", ".txt"):
            assert looks_prometheus(path, head_bytes(path)), path.name


def test_the_sniffer_rejects_every_other_sample_file():
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and HERE not in p.parents]
    assert len(others) > 10
    for path in others:
        try:
            head = head_bytes(path)
        except InputError:  # a zip (xlsx) or other compression: not read as traces at all
            continue
        assert not looks_prometheus(path, head), path


@pytest.mark.parametrize("text", ['{"name": "x", "values": [1, 2]}', "[1, 2, 3]", '[{"metric": 1}]',
                                  "# a comment\ntime,cpu\n", ""])
def test_the_sniffer_rejects_other_json_and_text(tmp_path, text):
    path = write_text(tmp_path, "x.json", text)
    assert not looks_prometheus(path, head_bytes(path))


# --- the command line --------------------------------------------------------------------------------


def test_cli_inspect_json(capsys):
    assert main(["inspect", str(NODE_5S), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "prometheus"
    assert report["servers"] == 2
    assert report["interval_s"] == 5
    traces = read_traces(NODE_5S)
    assert report["cpu_mean_grid_pct"] == pytest.approx(traces.cpu_pct.mean(), abs=1e-3)
    assert report["cpu_mean_pct"] == pytest.approx(traces.quality.cpu_mean_measured_pct)
    # db01's outage is 12 filled cells: the samples' mean leaves them out
    assert traces.quality.counts["gaps_filled"] == 12 and report["cpu_mean_pct"] != report["cpu_mean_grid_pct"]


def test_cli_refuses_columns_other_than_server_id(capsys):
    assert main(["inspect", str(NODE_5S), "--columns", "cpu_pct=x"]) == 2
    assert "only server_id" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_plan_places_every_server(tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", str(NODE_5S), "--out", str(out), "--quiet"]) == 0
    placement = (out / "placement.csv").read_text().splitlines()
    rows = [line.split(",") for line in placement[1:]]
    assert sorted(r[0] for r in rows) == ["db01", "web01"]
    assert all(r[3] == "placed" for r in rows)
