"""Plan folders and other outputs are all or nothing: a reader sees the previous write whole, the new
one whole, or a folder it refuses (report/outputs.py: write_files; report/plandata.py: check_manifest)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.report.outputs import WriteError, remove_stale_staging, write_files
from consolidate.report.plandata import MANIFEST_FILE, STAGING_PREFIX, check_manifest, file_digest, read_plan_dir

NAMES = ("a.txt", "sub/b.txt", "c.txt")


def writers(version: str, names=NAMES) -> dict:
    return {name: (lambda p, name=name: p.write_text(f"{version} {name}\n")) for name in names}


def staged(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_manifest_lists_every_file_with_size_and_hash(tmp_path):
    write_files(tmp_path, writers("v1"), kind="plan", about={"seed": 3})
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["complete"] is True and manifest["kind"] == "plan" and manifest["about"] == {"seed": 3}
    assert set(manifest["files"]) == set(NAMES)
    for name in NAMES:
        assert manifest["files"][name] == file_digest(tmp_path / name)
    assert check_manifest(tmp_path, required=())["files"] == manifest["files"]
    assert staged(tmp_path) == []


def test_a_rewrite_removes_the_files_the_previous_write_had_and_this_one_has_not(tmp_path):
    write_files(tmp_path, writers("v1"), kind="export-xen")
    (tmp_path / "mine.txt").write_text("the user's")
    write_files(tmp_path, writers("v2", ("a.txt",)), kind="export-xen")
    assert not (tmp_path / "sub").exists() and not (tmp_path / "c.txt").exists()
    assert (tmp_path / "a.txt").read_text() == "v2 a.txt\n"
    assert (tmp_path / "mine.txt").read_text() == "the user's"  # never listed: never removed
    assert set(json.loads((tmp_path / "manifest-export-xen.json").read_text())["files"]) == {"a.txt"}


def test_a_failing_writer_leaves_the_folder_as_it_was(tmp_path):
    write_files(tmp_path, writers("v1"), kind="plan")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def broken(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(WriteError) as caught:
        write_files(tmp_path, {**writers("v2"), "c.txt": broken}, kind="plan")
    assert isinstance(caught.value, InputError) and isinstance(caught.value, OSError)
    assert "No space left on device" in str(caught.value) and "\n" not in str(caught.value)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert staged(tmp_path) == []


def test_a_failed_write_into_a_new_folder_leaves_no_folder(tmp_path):
    with pytest.raises(ValueError):
        write_files(tmp_path / "new", {"a.txt": lambda p: (_ for _ in ()).throw(ValueError("boom"))}, kind="plan")
    assert not (tmp_path / "new").exists()


def test_stale_staging_of_a_dead_process_is_removed_a_live_one_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name in (f"{STAGING_PREFIX}{dead.pid}-abc", f"{STAGING_PREFIX}x8k2l_q1", f"{STAGING_PREFIX}{os.getppid()}-live"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "traces.csv").write_text("big")
    write_files(tmp_path, writers("v1"), kind="plan")
    assert staged(tmp_path) == [f"{STAGING_PREFIX}{os.getppid()}-live"]  # the parent runs: a write under way
    assert remove_stale_staging(tmp_path) == []


def test_no_manifest_and_a_staging_folder_is_refused(tmp_path):
    for name in NAMES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("old")
    assert check_manifest(tmp_path, required=()) is None  # a folder put together by hand
    (tmp_path / f"{STAGING_PREFIX}1-x").mkdir()
    with pytest.raises(InputError, match="unfinished write"):
        check_manifest(tmp_path, required=())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("kill_at", range(6))
def test_killed_at_each_rename_the_folder_is_refused_or_whole(tmp_path, kill_at):
    """A child process writes v2 over v1 and dies (os._exit, like SIGKILL: no clean-up runs) just
    before its ``kill_at``-th rename (0: the pending manifest, 1-3: the files, 4: the manifest, 5: no
    kill); the folder is then one whole write, or refused while the switch was under way."""
    write_files(tmp_path, writers("v1"), kind="plan")
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            calls = [0]
            real = os.replace

            def replace(src, dst):
                if calls[0] == kill_at:
                    os._exit(9)
                calls[0] += 1
                real(src, dst)

            os.replace = replace
            write_files(tmp_path, writers("v2"), kind="plan")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    if 1 <= kill_at <= 4:
        with pytest.raises(InputError, match="did not finish") as caught:
            check_manifest(tmp_path, required=())
        assert "\n" not in str(caught.value)
    else:
        manifest = check_manifest(tmp_path, required=())
        versions = {(tmp_path / name).read_text().split()[0] for name in manifest["files"]}
        assert versions == ({"v1"} if kill_at == 0 else {"v2"})
    # the next write removes the killed one's staging folder and makes the folder whole again
    write_files(tmp_path, writers("v3"), kind="plan")
    assert staged(tmp_path) == [] and check_manifest(tmp_path, required=()) is not None


# ---------------------------------------------------------------- end to end, `consolidate plan`

PLAN_SCRIPT = (
    "import os, sys, time\n"
    "real = os.replace\n"
    "def slow(src, dst):\n"  # slows every rename so that kills land between switches
    "    time.sleep(float(os.environ['SWITCH_DELAY_S'])); real(src, dst)\n"
    "os.replace = slow\n"
    "from consolidate.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
SWITCH_DELAY_S = 0.3


def report_of(folder: Path, tmp_path: Path, capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["report", str(folder), "--out", str(tmp_path / "check.html"), "--quiet"])
    return code, capsys.readouterr().err.strip().splitlines()


def assert_one_consistent_plan(folder: Path) -> None:
    manifest = check_manifest(folder)
    assert manifest is not None and manifest["complete"] is True
    summary = json.loads((folder / "summary.json").read_text())
    hosts = pd.read_csv(folder / "hosts.csv")
    assert summary["hosts_after"] == len(hosts) == manifest["about"]["hosts_after"]
    assert summary["assumptions"]["cpu_target"] == manifest["about"]["settings"]["cpu_target"]
    assert set(pd.read_csv(folder / "placement.csv")["host_id"].dropna()) <= set(hosts["host_id"])
    assert list(pd.read_parquet(folder / "replay.parquet").columns[1:]) == list(hosts["host_id"])


@pytest.mark.slow
def test_plan_killed_at_many_moments_leaves_a_folder_report_refuses_or_reads_whole(samples_dir, tmp_path, capsys):
    out = tmp_path / "plan"
    plan = [sys.executable, "-c", PLAN_SCRIPT, "plan", str(samples_dir / "traces.csv"),
            "--inventory", str(samples_dir / "inventory.csv"), "--quiet", "--out", str(out)]
    env = {**os.environ, "SWITCH_DELAY_S": "0"}
    # the earlier plan: another CPU target, so that its files differ from the new plan's
    subprocess.run([*plan, "--cpu-target", "0.5"], env=env, check=True)
    assert_one_consistent_plan(out)
    env["SWITCH_DELAY_S"] = str(SWITCH_DELAY_S)

    def pending() -> bool:
        try:
            return json.loads((out / MANIFEST_FILE).read_text()).get("complete") is False
        except (OSError, ValueError):
            return False

    outcomes = {}
    # before writing; as the staging folder appears; then between the switches (7 renames, 0.3 s each)
    for moment in ("before", "staging", 0.1, 0.7, 1.3):
        process = subprocess.Popen(plan, env=env)
        deadline = time.monotonic() + 120
        if moment == "before":
            time.sleep(1.0)
        else:
            ready = (lambda: staged(out)) if moment == "staging" else pending
            while not ready() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if moment != "staging":
                time.sleep(moment)
        assert process.poll() is None, f"the plan finished before the kill at {moment}"
        process.kill()
        process.wait()
        code, err = report_of(out, tmp_path, capsys)
        if code == 0:
            assert_one_consistent_plan(out)
        else:
            assert code == 2 and len(err) == 1 and err[0].startswith("consolidate: error:"), err
            assert "run `consolidate plan --out" in err[0]
        outcomes[moment] = code
    assert outcomes["before"] == 0 and outcomes["staging"] == 0  # the earlier plan, still whole
    assert 2 in outcomes.values()  # some kill landed between the switches, and was refused

    # the next plan removes what the killed runs left and writes a whole folder
    subprocess.run(plan, env={**env, "SWITCH_DELAY_S": "0"}, check=True)
    assert staged(out) == []
    assert report_of(out, tmp_path, capsys)[0] == 0
    assert_one_consistent_plan(out)


@pytest.mark.slow
def test_report_redrawing_a_plan_folder_keeps_its_manifest_true(samples_dir, tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", str(samples_dir / "traces.csv"), "--inventory", str(samples_dir / "inventory.csv"),
                 "--out", str(out), "--quiet"]) == 0
    before = json.loads((out / MANIFEST_FILE).read_text())
    assert main(["report", str(out), "--discount-rate", "0.2", "--quiet"]) == 0
    after = check_manifest(out)
    redrawn = ("report.html", "summary.json")  # the summary carries the business case the report shows
    assert all(after["files"][name] != before["files"][name] for name in redrawn)
    assert {k: v for k, v in after["files"].items() if k not in redrawn} == {
        k: v for k, v in before["files"].items() if k not in redrawn}
    assert read_plan_dir(out).summary["business_case"]["inputs"]["discount_rate"] == 0.2
    # an export gets its own manifest and leaves the plan's alone
    assert main(["export", str(out), "--format", "json", "--quiet"]) == 0
    assert set(json.loads((out / "export-json" / "manifest-export-json.json").read_text())["files"]) == {"plan.json"}
    assert check_manifest(out) == after
