"""What `report`, `export` and `sample` refuse: one line, 'consolidate: error: ...', exit 2, nothing written."""

import json
import shutil
import xml.etree.ElementTree as ET
from collections import namedtuple
from pathlib import Path

import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.report.plandata import MANIFEST_FILE

PLAN_FILES = ("placement.csv", "hosts.csv", "summary.json", "replay.parquet", "report.html")


def run(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    return code, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("consolidate: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def plan_dir(samples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("errors") / "plan"
    assert main(["plan", str(samples_dir / "traces.csv"), "--inventory", str(samples_dir / "inventory.csv"),
                 "--out", str(out), "--quiet"]) == 0
    return out


def copy_plan(plan_dir: Path, folder: Path, manifest: bool = False) -> Path:
    """The plan's files in ``folder``, without the manifest unless asked: a folder put together by hand."""
    folder.mkdir()
    for name in PLAN_FILES + ((MANIFEST_FILE,) if manifest else ()):
        shutil.copy(plan_dir / name, folder / name)
    return folder


def edit_summary(folder: Path, change) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    change(summary)
    (folder / "summary.json").write_text(json.dumps(summary))


def edit_placement(folder: Path, **values) -> None:
    placement = pd.read_csv(folder / "placement.csv", dtype=str, keep_default_na=False)
    for column, value in values.items():
        placement.loc[2, column] = value
    placement.to_csv(folder / "placement.csv", index=False)


SUMMARY_EDITS = {
    "hosts_after text": (lambda s: s.update(hosts_after="five"), "hosts_after"),
    "assumptions empty": (lambda s: s.update(assumptions={}), "assumptions.host_model"),
    "host without cores": (lambda s: s["assumptions"].update(host={}), "assumptions.host.cores"),
    "estate empty": (lambda s: s.update(estate={}), "host_price_usd"),
    "utilisation empty": (lambda s: s.update(utilisation={}), "utilisation."),
    "business case a list": (lambda s: s.update(business_case=[]), "summary.json"),
    "cost a text": (lambda s: s.update(cost_per_year_before="abc"), "cost_per_year_before"),
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", SUMMARY_EDITS, ids=list(SUMMARY_EDITS))
def test_report_and_export_of_a_summary_with_the_right_keys_and_wrong_content(plan_dir, tmp_path, capsys, edit):
    change, word = SUMMARY_EDITS[edit]
    folder = copy_plan(plan_dir, tmp_path / "plan")
    edit_summary(folder, change)
    before = snapshot(folder)
    code, err = run(capsys, "report", folder, "--quiet")
    assert_one_line_error(code, err, word, "consolidate plan --out")
    code, err = run(capsys, "export", folder, "--format", "xen", "--quiet")
    if edit not in ("utilisation empty", "host without cores"):  # the export does not read those
        assert_one_line_error(code, err, "summary.json")
    if code == 2:
        assert snapshot(folder) == before


@pytest.mark.slow
def test_a_file_changed_after_the_plan_is_refused_by_its_manifest(plan_dir, tmp_path, capsys):
    folder = copy_plan(plan_dir, tmp_path / "plan", manifest=True)
    assert run(capsys, "report", folder, "--out", tmp_path / "r.html", "--quiet")[0] == 0
    edit_summary(folder, lambda s: s.update(hosts_after=s["hosts_after"] + 1))
    code, err = run(capsys, "report", folder, "--quiet")
    assert_one_line_error(code, err, str(folder / "summary.json"), "manifest.json", "consolidate plan --out")
    (folder / "hosts.csv").unlink()
    assert_one_line_error(*run(capsys, "export", folder, "--format", "json"), "hosts.csv", "manifest.json")
    assert not (folder / "export-json").exists()


@pytest.mark.slow
def test_an_interrupted_write_is_refused(plan_dir, tmp_path, capsys):
    folder = copy_plan(plan_dir, tmp_path / "plan", manifest=True)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "complete": False, "writer_pid": 123}))
    assert_one_line_error(*run(capsys, "report", folder), "did not finish", "consolidate plan --out")
    # a plan folder of an older version killed between its renames: no manifest, its staging folder left
    folder = copy_plan(plan_dir, tmp_path / "old")
    (folder / ".consolidate-k2j4_x9a").mkdir()
    assert_one_line_error(*run(capsys, "report", folder), "unfinished write", ".consolidate-k2j4_x9a")


@pytest.mark.slow
def test_report_out_naming_a_folder(plan_dir, tmp_path, capsys):
    before = snapshot(tmp_path)
    assert_one_line_error(*run(capsys, "report", plan_dir, "--out", tmp_path), "is a folder", "report.html")
    assert snapshot(tmp_path) == before


PLACEMENT_EDITS = {
    "ram_gb inf": ({"ram_gb": "inf"}, "column ram_gb"),
    "ram_gb negative": ({"ram_gb": "-4"}, "column ram_gb"),  # memory = -4096
    "vcpus text": ({"vcpus": "abc"}, "column vcpus"),
    "vcpus fraction": ({"vcpus": "1.5"}, "column vcpus"),
    "host_id a path": ({"host_id": "../../etc/cron.d"}, "column host_id"),
    "server_id empty": ({"server_id": ""}, "column server_id"),
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", PLACEMENT_EDITS, ids=list(PLACEMENT_EDITS))
@pytest.mark.parametrize("fmt", ["xen", "libvirt"])
def test_export_of_a_placement_with_a_bad_cell(plan_dir, tmp_path, capsys, edit, fmt):
    values, word = PLACEMENT_EDITS[edit]
    folder = copy_plan(plan_dir, tmp_path / "plan")
    edit_placement(folder, **values)
    code, err = run(capsys, "export", folder, "--format", fmt, "--out", tmp_path / "export")
    assert_one_line_error(code, err, str(folder / "placement.csv"), "line 4", word)
    assert not (tmp_path / "export").exists()


@pytest.mark.slow
def test_a_host_id_with_a_path_in_hosts_csv(plan_dir, tmp_path, capsys):
    folder = copy_plan(plan_dir, tmp_path / "plan")
    for name in ("hosts.csv", "placement.csv"):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame["host_id"] = frame["host_id"].replace("host-001", "../host-001")
        frame.to_csv(folder / name, index=False)
    code, err = run(capsys, "export", folder, "--format", "xen", "--out", tmp_path / "export")
    assert_one_line_error(code, err, str(folder / "hosts.csv"), "column host_id")
    assert not (tmp_path / "export").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("server_id", "words"), [
    ("srv\x01bell\x07", ("control character",)),
    ("x" * 100_000, ("100,000 characters", "32,767")),
])
def test_xlsx_of_ids_a_cell_cannot_hold(plan_dir, tmp_path, capsys, server_id, words):
    folder = copy_plan(plan_dir, tmp_path / "plan")
    edit_placement(folder, server_id=server_id)
    code, err = run(capsys, "export", folder, "--format", "xlsx", "--out", tmp_path / "export")
    assert_one_line_error(code, err, str(folder / "placement.csv"), "line 4", "server_id", "--format json", *words)
    assert not (tmp_path / "export").exists()


@pytest.mark.slow
def test_libvirt_xml_of_awkward_ids_is_well_formed(plan_dir, tmp_path, capsys):
    folder = copy_plan(plan_dir, tmp_path / "plan")
    awkward = "srv\x01<&>\"'\x1f\nnew line]]>"
    edit_placement(folder, server_id=awkward)
    assert run(capsys, "export", folder, "--format", "libvirt", "--out", tmp_path / "export", "--quiet")[0] == 0
    titles = []
    for path in (tmp_path / "export").rglob("*.xml"):
        root = ET.parse(path).getroot()  # well-formed, every one
        titles.append(root.findtext("title"))
        assert "\n" not in root.findtext("title")
    assert "srv\\u0001<&>\"'\\u001f\\u000anew line]]>" in titles


def test_sample_into_proc(tmp_path, capsys):
    assert_one_line_error(*run(capsys, "sample", "--servers", 3, "--days", 1, "--out", "/proc/consolidate-sample"),
                          "/proc/consolidate-sample", "choose another --out")


def test_sample_into_a_read_only_folder(tmp_path, capsys, monkeypatch):
    """The file system refuses the staging folder (as a read-only mount does, even for root)."""
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert_one_line_error(*run(capsys, "sample", "--servers", 3, "--days", 1, "--out", folder), str(folder))
    assert list(folder.iterdir()) == []


def test_sample_past_the_size_limit_is_refused_with_the_rule(tmp_path, capsys):
    out = tmp_path / "huge"
    code, err = run(capsys, "sample", "--servers", 100_000_000, "--days", 365, "--out", out)
    assert_one_line_error(code, err, "10,512,000,000,000 samples", "1,000,000,000 samples", "fewer servers or days")
    assert not out.exists()


def test_sample_larger_than_the_free_space_is_refused(tmp_path, capsys, monkeypatch):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 10**6, 10**6))
    out = tmp_path / "big"
    code, err = run(capsys, "sample", "--servers", 100, "--days", 14, "--out", out)
    assert_one_line_error(code, err, "403,200 samples", "GB free", "another --out")
    assert not out.exists()


def test_a_killed_sample_leaves_no_partial_file_after_the_next_run(tmp_path, capsys):
    stale = tmp_path / ".consolidate-999999999-dead"
    stale.mkdir()
    (stale / "traces.csv").write_text("timestamp,server_id\n" + "x" * 1000)
    (tmp_path / ".traces.csv.999999999.tmp").write_text("half")  # what older versions left
    assert run(capsys, "sample", "--servers", 3, "--days", 1, "--out", tmp_path)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.csv", "traces.csv"]
