"""`consolidate report A B`: plans of different estates are refused unless --force, and then the page says so."""

import pytest

from consolidate.cli import main

pytestmark = pytest.mark.slow


def run(*args):
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def plans(samples_dir, tmp_path_factory):
    """The sample planned on its two weeks, on another host, and on its first week alone."""
    root = tmp_path_factory.mktemp("estates")
    common = (samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--quiet")
    for name, extra in (("weeks", ()), ("r6515", ("--host", "dell-r6515")), ("week", ("--end", "2024-01-07"))):
        assert run("plan", *common, "--out", root / name, *extra) == 0
    return root


def test_plans_of_one_estate_are_compared(plans, tmp_path):
    out = tmp_path / "same.html"
    assert run("report", plans / "weeks", plans / "r6515", "--out", out, "--quiet") == 0
    html = out.read_text()
    assert "2 plans of the same estate" in html and "different estates" not in html


def test_plans_of_different_estates_are_refused(plans, tmp_path, capsys):
    out = tmp_path / "refused.html"
    assert run("report", plans / "weeks", plans / "week", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("consolidate: error: these plans are not of one estate: week's traces cover 2024-01-01 00:00 UTC to")
    assert "give --force" in err and err.count("\n") == 1
    assert not out.exists()


def test_forced_comparison_says_so(plans, tmp_path):
    out = tmp_path / "forced.html"
    assert run("report", plans / "weeks", plans / "week", "--out", out, "--force", "--quiet") == 0
    html = out.read_text()
    assert "plans of <strong>different estates</strong>, compared anyway" in html
    assert "These plans are not of one estate" in html


def test_report_with_other_inputs_rewrites_the_summary_too(plans, tmp_path):
    import json
    import shutil

    from consolidate.report.plandata import read_plan_dir

    folder = tmp_path / "plan"
    shutil.copytree(plans / "weeks", folder)
    before = json.loads((folder / "summary.json").read_text())["business_case"]
    assert run("report", folder, "--licence", "vsphere", "--quiet") == 0
    after = json.loads((folder / "summary.json").read_text())["business_case"]
    assert after["inputs"]["licence"] == "vsphere" and after["yearly_cost_after"]["licences"] > 0
    assert before["yearly_cost_after"]["licences"] == 0
    data = read_plan_dir(folder)  # the manifest lists the rewritten summary.json
    assert data.summary["business_case"]["yearly_cost_after"]["licences"] == after["yearly_cost_after"]["licences"]
