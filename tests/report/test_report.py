"""report.html and the plan folder it is drawn from: `consolidate plan` and `consolidate report`."""

import base64
import contextlib
import io
import json
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from consolidate.cli import main
from consolidate.report.plandata import REPLAY_FILE, histogram_pct, read_plan_dir

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow

EMBEDDED_SVG = re.compile(r'<img[^>]+src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def run(*args):
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def planned(samples_dir, tmp_path_factory):
    """The sample planned once: its folder and what `plan --json` printed."""
    out = tmp_path_factory.mktemp("report") / "sample-plan"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", out, "--json",
                   "--licence", "windows", "--discount-rate", "0.1")
    assert code == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def plan_dir(planned):
    return planned[0]


@pytest.fixture(scope="module")
def second_plan_dir(samples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r6515-target-0.6"
    assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", out, "--quiet",
               "--host", "dell-r6515", "--cpu-target", "0.6") == 0
    return out


def embedded_svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(base64.b64decode(data)) for data in EMBEDDED_SVG.findall(html)]


def test_plan_writes_a_self_contained_report(plan_dir):
    assert {p.name for p in plan_dir.iterdir()} >= {"placement.csv", "hosts.csv", "summary.json", REPLAY_FILE, "report.html"}
    html = (plan_dir / "report.html").read_text(encoding="utf-8")
    svgs = embedded_svgs(html)
    # utilisation, cash flow, energy and cost, heat map, peaks: the frontier was not computed
    assert len(svgs) >= 5
    assert all(svg.tag.endswith("svg") for svg in svgs)
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "@import" not in html and "url(http" not in html
    assert "frontier was not computed" in html
    assert "@media print" in html and "@page" in html
    for heading in ("Before and after", "Business case", "Assumptions", "Data quality"):
        assert f">{heading}<" in html


def test_summary_holds_the_report_figures(plan_dir):
    summary = json.loads((plan_dir / "summary.json").read_text())
    hosts = pd.read_csv(plan_dir / "hosts.csv")
    util = summary["utilisation"]
    assert sum(util["after_counts"]) == summary["hosts_after"] * 4032
    assert sum(util["before_counts"]) == summary["servers"] * 4032
    assert util["after_peak_pct"] == pytest.approx(hosts["cpu_replay_peak_pct"].max(), abs=0.01)
    bc = summary["business_case"]
    assert bc["inputs"]["licence"] == "windows" and bc["inputs"]["discount_rate"] == 0.1
    assert bc["capital_cost"] == summary["hosts_after"] * summary["estate"]["host_price_usd"]
    assert bc["yearly_saving"] == pytest.approx(bc["yearly_cost_before"]["total"] - bc["yearly_cost_after"]["total"])
    assert summary["estate"]["rack_units_before"] > summary["estate"]["rack_units_after"]
    assert "discount_rate" in summary["assumptions"]["sources"]


def test_replay_parquet_is_the_replayed_host_load(plan_dir):
    frame = pd.read_parquet(plan_dir / REPLAY_FILE)
    hosts = pd.read_csv(plan_dir / "hosts.csv")
    assert list(frame.columns) == ["timestamp", *hosts["host_id"]]
    assert len(frame) == 4032 and str(frame["timestamp"].dt.tz) == "UTC"
    load = frame[list(hosts["host_id"])]
    assert (load.dtypes == np.float32).all()
    np.testing.assert_allclose(load.max().to_numpy(), hosts["cpu_replay_peak_pct"], atol=0.01)
    np.testing.assert_allclose(load.mean().to_numpy(), hosts["cpu_replay_mean_pct"], atol=0.01)


def test_report_redraws_from_the_folder_alone(plan_dir, tmp_path, capsys):
    out = tmp_path / "again.html"
    assert run("report", plan_dir, "--out", out, "--discount-rate", "0.2") == 0
    printed = capsys.readouterr()
    assert f"wrote {out}" in printed.out
    assert printed.err == ""  # no progress bars when stderr is not a terminal
    html = out.read_text()
    assert len(EMBEDDED_SVG.findall(html)) >= 5
    assert "at 20.0 %" in html
    data = read_plan_dir(plan_dir, {"discount_rate": 0.2})
    assert data.business["inputs"]["licence"] == "windows"  # stored inputs carry over
    assert data.business["npv_5y"] < json.loads((plan_dir / "summary.json").read_text())["business_case"]["npv_5y"]


def test_progress_bars_on_a_terminal(plan_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert run("report", plan_dir, "--out", tmp_path / "r.html") == 0
    printed = capsys.readouterr()
    assert "reading plan folders" in printed.err and "drawing report.html" in printed.err
    assert "reading" not in printed.out
    assert run("report", plan_dir, "--out", tmp_path / "r.html", "--quiet") == 0
    assert capsys.readouterr().err == ""


def test_scenarios_side_by_side(plan_dir, second_plan_dir, tmp_path):
    out = tmp_path / "compare.html"
    assert run("report", plan_dir, second_plan_dir, "--out", out, "--quiet") == 0
    html = out.read_text()
    assert "Scenarios side by side" in html
    assert html.count('class="scenario"') == 2
    assert "sample-plan" in html and "r6515-target-0.6" in html
    # the plans were made with different licences: the report says so
    assert "inputs differ" in html and "licence after: sample-plan windows, r6515-target-0.6 none" in html
    assert len(embedded_svgs(html)) >= 11
    assert not EXTERNAL.search(html)


def test_frontier_is_drawn_when_the_summary_has_one(plan_dir, tmp_path):
    folder = tmp_path / "with-frontier"
    folder.mkdir()
    for name in ("placement.csv", "hosts.csv", REPLAY_FILE):
        (folder / name).write_bytes((plan_dir / name).read_bytes())
    summary = json.loads((plan_dir / "summary.json").read_text())
    summary["frontier"] = [
        {"hosts": h, "over_target_pct_in_sample": r, "over_target_pct_validated": r * 1.5}
        for h, r in ((2, 0.0), (3, 0.0), (1, 12.5))
    ]
    (folder / "summary.json").write_text(json.dumps(summary))
    assert run("report", folder, "--quiet") == 0
    html = (folder / "report.html").read_text()
    assert 'id="s0-frontier"' in html and "frontier was not computed" not in html


def test_report_without_replay_says_why(plan_dir, tmp_path):
    folder = tmp_path / "no-replay"
    folder.mkdir()
    for name in ("placement.csv", "hosts.csv", "summary.json"):
        (folder / name).write_bytes((plan_dir / name).read_bytes())
    assert run("report", folder, "--quiet") == 0
    html = (folder / "report.html").read_text()
    assert "no replay.parquet" in html and 'id="s0-heatmap"' not in html


def test_not_a_plan_folder_is_a_user_error(tmp_path, capsys):
    assert run("report", tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a plan folder" in err[0]
    (tmp_path / "summary.json").write_text("{not json")
    (tmp_path / "placement.csv").write_text("server_id,host_id,vcpus,ram_gb\n")
    (tmp_path / "hosts.csv").write_text("host_id\n")
    assert run("report", tmp_path) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert run("report", tmp_path / "missing") == 2


def test_bad_business_option_is_a_user_error(samples_dir, tmp_path, capsys):
    code = run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", tmp_path, "--discount-rate", "8")
    assert code == 2
    assert "--discount-rate" in capsys.readouterr().err
    assert not (tmp_path / "summary.json").exists()


def test_plan_json_prints_the_full_summary(planned):
    folder, text = planned
    printed = json.loads(text)
    assert printed == json.loads((folder / "summary.json").read_text())
    assert {"utilisation", "estate", "business_case"} <= set(printed)


def test_histogram_bins_by_hand():
    counts = histogram_pct(np.array([0.0, 1.99, 2.0, 50.0, 99.9, 100.0, 100.5, -3.0, np.nan]), bin_pct=2.0)
    assert len(counts) == 51
    assert counts[0] == 3  # 0, 1.99 and -3 (below 0 counts in the first bin)
    assert counts[1] == 1 and counts[25] == 1
    assert counts[49] == 2  # 99.9 and exactly 100
    assert counts[50] == 1  # above 100 %
    assert sum(counts) == 8  # NaN skipped


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 400, allow_nan=False, width=32), max_size=300))
def test_histogram_counts_every_value_once(values):
    array = np.array(values, dtype=np.float32)
    counts = histogram_pct(array)
    assert sum(counts) == len(values)
    assert counts[-1] == int((array > 100).sum())


def test_plan_object_in_python(samples_dir):
    import consolidate
    from matplotlib.figure import Figure

    traces = consolidate.read_traces(samples_dir / "traces.csv", inventory=samples_dir / "inventory.csv")
    p = consolidate.plan(traces, seed=0)
    html = p._repr_html_()
    assert "<table>" in html and f"{p.hosts_after} {p.settings.host_model.name} hosts" in html
    for chart in (p.utilisation_chart(), p.heatmap_chart(), p.peaks_chart(), p.energy_cost_chart(), p.cashflow_chart()):
        assert isinstance(chart, Figure) and chart.axes
    assert p.frontier_chart() is None
    summary = p.report_summary()
    assert summary["utilisation"]["after_peak_pct"] == pytest.approx(p.hosts_frame()["cpu_replay_peak_pct"].max(), abs=0.01)
    plain, windows = p.business_case(), p.business_case(licence="windows", licence_before="windows")
    assert plain["yearly_cost_before"]["licences"] == 0
    assert windows["yearly_cost_before"]["licences"] > windows["yearly_cost_after"]["licences"] > 0
    # the hosts' licence alone: bare-metal sources ran none, so the licence only adds to after
    hosts_only = p.business_case(licence="windows")
    assert hosts_only["yearly_cost_before"]["licences"] == 0 < hosts_only["yearly_cost_after"]["licences"]
    assert windows["capital_cost"] == plain["capital_cost"] == p.hosts_after * p.settings.host_model.price_usd
