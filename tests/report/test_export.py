"""`consolidate export`: Xen xl configs, libvirt XML and JSON of a plan folder (the workbook:
test_export_xlsx.py; names, waves and the run-book in detail: test_export_ops.py)."""

import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from xlcfg import parse_xl_cfg as parse_xl

from consolidate.cli import main

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow

# Server ids a file system or a domain name cannot take as they are; two pairs collide once made safe.
WEIRD_IDS = ["web/01 prod", "web_01 prod", "../etc/passwd", "DB-01", "db-01", "x" * 100, "naïve-ü", 'a"b#c']
IDLE_ID = "idle box"


def run(*args):
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def sample_plan(samples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sample"
    assert run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--out", out, "--quiet") == 0
    return out


@pytest.fixture(scope="module")
def weird_plan(tmp_path_factory):
    """Eight busy servers with awkward ids and one idle one, two days hourly, left out with --retire-idle.

    Memory binds: three VMs fill a host, so the heuristics meet the lower bound (3 hosts) at once.
    """
    folder = tmp_path_factory.mktemp("weird")
    rng = np.random.default_rng(3)
    stamps = pd.date_range("2024-01-01", periods=48, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = WEIRD_IDS + [IDLE_ID]
    cpu = np.vstack([rng.uniform(2, 15, (len(WEIRD_IDS), 48)), np.full((1, 48), 0.5)])
    pd.DataFrame(
        {"timestamp": np.tile(stamps, len(ids)), "server_id": np.repeat(ids, 48), "cpu_pct": cpu.ravel().round(2)}
    ).to_csv(folder / "traces.csv", index=False)
    pd.DataFrame({"server_id": ids, "cores": 4, "threads": 8, "ghz": 2.5, "ram_gb": [8, 8, 7.5, 8, 8, 6.25, 8, 8, 2]}).to_csv(
        folder / "inventory.csv", index=False
    )
    out = folder / "plan"
    code = run("plan", folder / "traces.csv", "--inventory", folder / "inventory.csv", "--out", out, "--quiet", "--retire-idle",
               "--host-spec", "cores=8,threads=16,ghz=2.5,ram_gb=32,idle_w=100,max_w=250")
    assert code == 0
    return out


def test_xen_configs_one_per_server(sample_plan, tmp_path):
    assert run("export", sample_plan, "--format", "xen", "--out", tmp_path, "--quiet") == 0
    placement = pd.read_csv(sample_plan / "placement.csv", keep_default_na=False)
    configs = sorted(tmp_path.glob("*/*.cfg"))
    assert len(configs) == len(placement) == 40
    by_name = {}
    for path in configs:
        values = parse_xl(path.read_text())
        assert {"name", "memory", "maxmem", "vcpus", "type", "disk", "vif"} <= set(values)
        assert path.stem == values["name"]
        by_name[values["name"]] = (path.parent.name, values)
    for row in placement.itertuples():
        host, values = by_name[row.server_id]
        assert host == row.host_id
        assert values["vcpus"] == row.vcpus
        assert values["memory"] == math.ceil(row.ram_gb * 1024 - 1e-9)
    book = (tmp_path / "RUNBOOK.md").read_text()
    assert book.count("xl create ") == 40
    assert "dom0_mem=4096M,max:4096M" in book  # dom0 of a 1 TB host, Xen profile
    assert "GRUB_CMDLINE_XEN_DEFAULT" in book and "SELinux" in book and "Wave 1" in book
    assert "FILL IN" in configs[0].read_text()


def test_awkward_server_ids_get_safe_unique_names_and_a_mapping(weird_plan, tmp_path):
    assert run("export", weird_plan, "--format", "xen", "--out", tmp_path, "--quiet", "--wave-size", "3") == 0
    mapping = pd.read_csv(tmp_path / "servers.csv", keep_default_na=False)
    assert sorted(mapping["server_id"]) == sorted(WEIRD_IDS + [IDLE_ID])
    placed = mapping[mapping["file"] != ""]
    assert sorted(placed["server_id"]) == sorted(WEIRD_IDS)
    assert mapping.set_index("server_id").loc[IDLE_ID, "host_id"] == ""
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("*/*.cfg"))
    assert files == sorted(placed["file"])
    assert all(re.fullmatch(r"host-\d+/[A-Za-z0-9][A-Za-z0-9._-]*\.cfg", f) for f in files)
    names = [parse_xl((tmp_path / f).read_text())["name"] for f in files]
    assert len({n.casefold() for n in names}) == len(names) == len(WEIRD_IDS)
    assert not any(p.name == "passwd" or ".." in p.parts for p in tmp_path.rglob("*"))
    book = (tmp_path / "RUNBOOK.md").read_text()
    assert "## Not migrated" in book and json.dumps(IDLE_ID) in book
    assert book.count("### Wave") == 3  # 8 servers, 3 a wave


def test_libvirt_domains_parse(weird_plan, tmp_path):
    assert run("export", weird_plan, "--format", "libvirt", "--out", tmp_path, "--quiet") == 0
    placement = pd.read_csv(weird_plan / "placement.csv", keep_default_na=False).set_index("server_id")
    domains = sorted(tmp_path.glob("*/*.xml"))
    assert len(domains) == len(WEIRD_IDS)
    for path in domains:
        root = ET.parse(path).getroot()
        assert root.tag == "domain" and root.get("type") == "xen"  # the plan's hypervisor
        server = placement.loc[root.findtext("title")]
        assert root.findtext("name") == path.stem
        assert root.find("memory").get("unit") == "MiB"
        assert int(root.findtext("memory")) == math.ceil(server["ram_gb"] * 1024 - 1e-9)
        assert int(root.findtext("vcpu")) == server["vcpus"]
        assert root.find("devices/disk/source") is not None
    assert "virsh define" in (tmp_path / "RUNBOOK.md").read_text()


def test_json_export(weird_plan, tmp_path):
    assert run("export", weird_plan, "--format", "json", "--out", tmp_path, "--quiet") == 0
    document = json.loads((tmp_path / "plan.json").read_text())
    assert set(document) == {"summary", "hosts", "placement"}
    assert len(document["placement"]) == len(WEIRD_IDS) + 1
    assert document["summary"]["hosts_after"] == len(document["hosts"])


def test_export_errors(weird_plan, tmp_path, capsys):
    assert run("export", tmp_path, "--format", "xen") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a plan folder" in err[0]
    assert run("export", weird_plan, "--format", "xen", "--out", tmp_path / "x", "--wave-size", "0") == 2
    assert "--wave-size" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())
