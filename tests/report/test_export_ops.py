"""The operations exports: guest names xl and virsh cannot misread, xl configs that parse as xl.cfg(5)
says, well-formed libvirt XML, a run-book whose paths are the export's, waves that keep affinity
groups whole, a rollback per wave, and the servers to check flagged."""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import namedtuple
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlcfg import parse_xl_cfg

from consolidate.cli import main
from consolidate.report.export_ops import (
    HOST_DIRS,
    METADATA_NS,
    NAME_MAX_CHARS,
    safe_names,
    with_waves,
    xl_config,
)


def test_the_xl_parser_reads_xl_cfg_syntax_and_refuses_what_xl_would():
    text = 'name = "a\\"b"; memory = 0x400\n# c\nvif = [ "bridge=x",\n  \'mac=1\', ]  # c\nv = 010\nw = 0'
    assert parse_xl_cfg(text) == {"name": 'a"b', "memory": 1024, "vif": ["bridge=x", "mac=1"], "v": 8, "w": 0}
    for broken in ("name = web-1\n", 'name = "a\n', 'disk = [ "a" "b" ]\n', 'name = "a" "b"\n', "= 3\n", 'x = "a"\nx = "b"\n',
                   'vif = [ "a"\n', 'Name = "a"\n', 'x = "a"\r\n', 'x = 1\n# a comment without its newline',
                   'x = "a" ü\n', "x = [ [ 1 ] ]\n", "x = 09\n"):
        with pytest.raises(AssertionError):
            parse_xl_cfg(broken)


# --- names ---

def test_names_xl_and_virsh_cannot_take_for_an_id():
    ids = ["27", "a&b<c>", "ünïcode", "Domain-0", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "0x1F", "-5", "web-01", "vm-27"]
    names = safe_names(ids)
    assert names[:5] == ["vm-27", "a_b_c", "unicode", "vm-Domain-0", "vm-3f2504e0-4f89-11d3-9a0c-0305e82c3301"]
    assert names[5:7] == ["vm-0x1F", "vm-5"]
    assert names[7] == "web-01"  # an id that is already a good name keeps it
    assert names[8] == "vm-27-2"  # taken by "27"'s name: the next free one


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(min_size=1, max_size=90), st.integers(0, 10**12).map(str),
                          st.uuids().map(str)), min_size=1, max_size=12))
def test_safe_names(ids):
    names = safe_names(ids)
    assert len(names) == len(ids)
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]*", name)  # a letter first: never a domain id
        assert len(re.sub("-", "", name)) != 32 or not re.fullmatch(r"[0-9a-fA-F-]+", name)  # never a UUID
        assert name.casefold() != "domain-0"
        assert len(name) <= NAME_MAX_CHARS + 4  # room for a -N suffix
    assert safe_names(ids) == names  # the same ids always give the same names


# --- waves ---

def frame_of(rows):
    """A guests() frame: (server_id, host_id, status, cpu_peak_ghz) rows."""
    frame = pd.DataFrame(rows, columns=["server_id", "host_id", "status", "cpu_peak_ghz"])
    return frame.assign(name=frame["server_id"], host_dir=frame["host_id"], vcpus=1, memory_mib=1024)


def wave_members(frame) -> dict[int, list[str]]:
    return {int(w): sorted(g["server_id"]) for w, g in frame.groupby("wave")}


def test_an_affinity_group_split_by_cpu_peak_moves_in_one_wave():
    # by CPU peak alone, waves of 2 are [a, b], [c, d], [e]: the group {a, e} would be split
    frame = frame_of([(s, "host-001", "placed", peak) for s, peak in zip("abcde", (1.0, 2.0, 3.0, 4.0, 5.0))])
    assert wave_members(with_waves(frame, 2)) == {1: ["a", "b"], 2: ["c", "d"], 3: ["e"]}
    waved = with_waves(frame, 2, [("app", ("a", "e"))])
    assert wave_members(waved) == {1: ["b", "c"], 2: ["d"], 3: ["a", "e"]}
    assert set(waved.loc[waved["server_id"].isin(["a", "e"]), "affinity_group"]) == {"app"}
    assert (waved.loc[~waved["server_id"].isin(["a", "e"]), "affinity_group"] == "").all()


def test_a_group_larger_than_a_wave_overlapping_groups_and_retire_candidates():
    rows = [(s, "host-001", "placed", float(i)) for i, s in enumerate("abcdef")]
    rows += [("idle-1", "host-002", "retire-candidate", 0.1), ("gone", "", "unplaceable", 9.0)]
    waved = with_waves(frame_of(rows), 2, [("g1", ("a", "b")), ("g2", ("b", "c", "zz-not-in-plan"))])
    # a, b, c: one unit (the groups share b), a wave of 3 although waves hold 2; the idle server last; "gone" in none
    assert wave_members(waved) == {0: ["gone"], 1: ["a", "b", "c"], 2: ["d", "e"], 3: ["f"], 4: ["idle-1"]}
    assert set(waved.loc[waved["server_id"].isin(list("abc")), "affinity_group"]) == {"g1+g2"}
    assert list(waved["server_id"])[-1] == "gone"  # the servers not migrated come last


def test_wave_size_below_one_is_refused():
    from consolidate.errors import InputError

    with pytest.raises(InputError, match="--wave-size 0"):
        with_waves(frame_of([("a", "host-001", "placed", 1.0)]), 0)


# --- one guest's files ---

Row = namedtuple("Row", "server_id host_id name host_dir wave vcpus memory_mib ram_gb source_ram_gb ram_reduced inventory_defaulted")


@pytest.mark.parametrize("server_id", ["27", "a&b<c>", "ünïcode", 'q"uote\\back', "line\nbreak\u2028sep # not a comment"])
def test_xl_config_of_any_id_parses_and_names_its_server(server_id):
    row = Row(server_id, "host-001", safe_names([server_id])[0], "host-001", 2, 2, 3072, 3.0, 4.0, True, True)
    text = xl_config(row, "plan")
    values = parse_xl_cfg(text)
    assert values["name"] == row.name and values["memory"] == 3072 == values["maxmem"] and values["vcpus"] == 2
    assert isinstance(values["disk"], list) and isinstance(values["vif"], list)
    first = text.split("\n")[0]
    assert first.startswith("#") and json.loads(first.split("server ", 1)[1].split(", planned")[0]) == server_id
    assert "RAM reduced from 4.00 GB allocated to 3.00 GB" in text and "defaulted inventory" in text


# --- end to end: a crafted estate ---

#: Awkward ids: all digits, XML's special characters, accents, dom0's name, a UUID; QUIET and BUSY
#: are the quietest and the busiest server and one affinity group; MISSING is not in the inventory.
AWKWARD = ["27", "a&b<c>", "ünïcode", "Domain-0", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"]
QUIET, BUSY, MISSING = "quiet one", "busy one", "not-in-inventory"
IDS = AWKWARD + [QUIET, BUSY, MISSING]


@pytest.fixture(scope="module")
def crafted_plan(tmp_path_factory):
    """Eight servers, two days hourly with memory in use, planned with --mem-sizing used-p95 and an
    affinity group of the quietest and the busiest server (waves by CPU peak alone would split it)."""
    folder = tmp_path_factory.mktemp("crafted")
    rng = np.random.default_rng(12)
    steps = 48
    stamps = pd.date_range("2024-03-01", periods=steps, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    peaks = {QUIET: 3.0, BUSY: 60.0}
    cpu = np.vstack([rng.uniform(1, peaks.get(s, 20.0), steps) for s in IDS])
    mem = np.vstack([rng.uniform(1.0, 2.0, steps) for _ in IDS])
    pd.DataFrame({"timestamp": np.tile(stamps, len(IDS)), "server_id": np.repeat(IDS, steps), "cpu_pct": cpu.ravel().round(2),
                  "mem_gb": mem.ravel().round(3)}).to_csv(folder / "traces.csv", index=False)
    known = [s for s in IDS if s != MISSING]
    pd.DataFrame({"server_id": known, "cores": 4, "threads": 8, "ghz": 2.5, "ram_gb": 8}).to_csv(folder / "inventory.csv", index=False)
    (folder / "rules.yaml").write_text(json.dumps({"affinity": [{"name": "app", "servers": [QUIET, BUSY]}]}), encoding="utf-8")
    out = folder / "plan"
    code = main([str(a) for a in ("plan", folder / "traces.csv", "--inventory", folder / "inventory.csv", "--out", out, "--quiet",
                                  "--mem-sizing", "used-p95", "--constraints", folder / "rules.yaml",
                                  "--host-spec", "cores=8,threads=16,ghz=2.5,ram_gb=24,idle_w=100,max_w=250")])
    assert code == 0
    return out


def export(plan, fmt, out, *extra):
    assert main([str(a) for a in ("export", plan, "--format", fmt, "--out", out, "--quiet", *extra)]) == 0
    return out


def runbook_waves(book: str) -> dict[int, str]:
    parts = re.split(r"^### Wave (\d+)", book, flags=re.MULTILINE)
    return {int(n): text.split("\n## ")[0] for n, text in zip(parts[1::2], parts[2::2])}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xen", "libvirt"])
def test_crafted_estate_exports_run(crafted_plan, tmp_path, fmt):
    out = export(crafted_plan, fmt, tmp_path / fmt, "--wave-size", "2")
    placement = pd.read_csv(crafted_plan / "placement.csv", dtype={"server_id": str}, keep_default_na=False).set_index("server_id")
    mapping = pd.read_csv(out / "servers.csv", dtype=str, keep_default_na=False).set_index("server_id")
    assert sorted(mapping.index) == sorted(IDS)
    names = dict(zip(mapping.index, mapping["name"]))
    assert names["27"] == "vm-27" and names["a&b<c>"] == "a_b_c" and names["ünïcode"] == "unicode"
    assert names["Domain-0"] == "vm-Domain-0" and names[AWKWARD[4]] == "vm-" + AWKWARD[4]
    suffix = ".cfg" if fmt == "xen" else ".xml"
    files = sorted(p.relative_to(out).as_posix() for p in out.glob(f"*/*{suffix}"))
    assert files == sorted(mapping["file"])
    for server_id, row in mapping.iterrows():
        text = (out / row["file"]).read_text(encoding="utf-8")
        if fmt == "xen":
            values = parse_xl_cfg(text)
            assert values["name"] == row["name"] and not values["name"].isdigit()
            assert json.dumps(server_id, ensure_ascii=False) in text.split("\n")[0]  # the id, in the first comment
        else:
            root = ET.fromstring(text)
            assert root.findtext("name") == row["name"] and root.findtext("title") == server_id
            assert root.find(f"metadata/{{{METADATA_NS}}}server").get("id") == server_id
        assert int(row["vcpus"]) == placement.loc[server_id, "vcpus"]

    book = (out / "RUNBOOK.md").read_text(encoding="utf-8")
    # every path the run-book's commands use is a file of the export, copied to the host folder it names
    command = r"^\s*(?:xl create|virsh define) "
    used = re.findall(command + re.escape(HOST_DIRS[fmt]) + r"/(host-\d+/[^\s/]+" + re.escape(suffix) + ")", book, flags=re.MULTILINE)
    assert len(used) == len(files)
    assert set(used) == set(files)
    for host_dir in {f.split("/")[0] for f in files}:
        assert f"scp -r {host_dir} root@{host_dir.upper()}-ADDRESS:{HOST_DIRS[fmt]}/" in book
    waves = runbook_waves(book)
    assert sorted(waves) == sorted({int(w) for w in mapping["wave"]})
    for number, text in waves.items():
        members = mapping[mapping["wave"] == str(number)]
        create = "xl create" if fmt == "xen" else "virsh define"
        assert text.count(create) == len(members)
        assert "**Rollback**" in text
        for name in members["name"]:
            rollback = f"xl destroy {name}" if fmt == "xen" else f"virsh destroy {name}"
            assert rollback in text and f"{quoted_id(mapping, name)}" in text
    # the affinity group in one wave, although its servers are the quietest and the busiest
    assert mapping.loc[QUIET, "wave"] == mapping.loc[BUSY, "wave"]
    assert mapping.loc[QUIET, "affinity_group"] == "app"
    # flags: every VM whose RAM was cut below its allocated RAM, and the server with defaulted inventory
    reduced = placement[placement["ram_gb"] < placement["source_ram_gb"] - 1e-3].index
    assert len(reduced) >= 5
    assert sorted(mapping.index[mapping["ram_reduced"] == "True"]) == sorted(reduced)
    checks = book.split("## Check before the waves")[1].split("## 2.")[0]
    assert f"**RAM reduced** ({len(reduced)} servers)" in checks
    assert "**Defaulted inventory** (1 server)" in checks and json.dumps(MISSING) in checks
    for server_id in reduced:
        assert json.dumps(server_id, ensure_ascii=False) in checks


def quoted_id(mapping, name) -> str:
    return json.dumps(mapping.index[mapping["name"] == name][0], ensure_ascii=False)


@pytest.mark.slow
def test_unreadable_rules_are_said_in_the_run_book(crafted_plan, tmp_path):
    plan = tmp_path / "plan"
    shutil.copytree(crafted_plan, plan)
    rules = Path(json.loads((plan / "summary.json").read_text())["constraints"]["file"])
    rules.rename(rules.with_suffix(".moved"))
    try:
        book = (export(plan, "xen", tmp_path / "xen") / "RUNBOOK.md").read_text(encoding="utf-8")
    finally:
        rules.with_suffix(".moved").rename(rules)
    assert "**Affinity groups**: The plan kept 1 affinity group(s) on one host each, but its rules cannot be read now" in book
    assert "no such constraints file" in book


def test_the_domain_of_any_id_is_well_formed_xml_naming_it():
    from consolidate.report.export_ops import libvirt_domain

    ids = ["27", "a&b<c>", "ünïcode", "srv\x01<&>\"'\x1f\nnew line]]>", "--x--", "\ud800 lone surrogate"]
    for server_id in ids:
        row = Row(server_id, "host-001", safe_names([server_id])[0], "host-001", 1, 1, 1024, 1.0, 1.0, False, False)
        root = ET.fromstring(libvirt_domain(row, "plan <&>", "kvm").encode("utf-8"))
        assert root.tag == "domain" and root.findtext("name") == safe_names([server_id])[0], server_id


@pytest.mark.slow
def test_a_rules_file_changed_since_the_plan_is_said_in_the_run_book(crafted_plan, tmp_path):
    rules = Path(json.loads((crafted_plan / "summary.json").read_text())["constraints"]["file"])
    original = rules.read_text(encoding="utf-8")
    placement = pd.read_csv(crafted_plan / "placement.csv", dtype=str, keep_default_na=False)
    apart = placement.drop_duplicates("host_id")["server_id"].head(2).tolist()  # two servers on different hosts
    rules.write_text(json.dumps({"affinity": [{"name": "moved", "servers": apart}]}), encoding="utf-8")
    try:
        out = export(crafted_plan, "xen", tmp_path / "xen")
    finally:
        rules.write_text(original, encoding="utf-8")
    book = (out / "RUNBOOK.md").read_text(encoding="utf-8")
    assert "has changed since the plan" in book and '"moved"' in book
    mapping = pd.read_csv(out / "servers.csv", dtype=str, keep_default_na=False).set_index("server_id")
    assert mapping.loc[apart[0], "wave"] == mapping.loc[apart[1], "wave"]
