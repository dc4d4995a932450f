"""Placement rules: reading them, contradictions, and every rule holding on the final placement."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from consolidate.cli import main
from consolidate.errors import InputError
from consolidate.solvers.constraints import (
    ANTI_AFFINITY_SHARE,
    Constraints,
    Group,
    Pin,
    _additive_share,
    check_placement,
    read_constraints,
    solve_constrained,
)
from consolidate.solvers.feasibility import effective_caps

PLAIN = ["--hypervisor", "none", "--smt-gain", "0", "--host-spec", "cores=64,ghz=2.5,ram_gb=512,idle_w=100,max_w=400"]


def run(*args):
    return main([str(a) for a in args])


def broken_rules(rules: Constraints, ids, assignment, vcpus, host_cores) -> list[str]:
    """The rules ``assignment`` breaks, checked here independently of the package's checker."""
    host = dict(zip(ids, assignment))
    out = []
    for g in rules.anti_affinity:
        hosts = [host[s] for s in set(g.servers) if host[s] >= 0]
        if len(hosts) != len(set(hosts)):
            out.append(g.label)
    for g in rules.affinity:
        if len({host[s] for s in g.servers}) != 1 or host[g.servers[0]] < 0:
            out.append(g.label)
    for p in rules.pins:
        if host[p.server] != int(p.host_id.split("-")[1]) - 1:
            out.append(p.label)
    placed = [h for h in assignment if h >= 0]
    if rules.max_vms_per_host and placed and max(placed.count(h) for h in set(placed)) > rules.max_vms_per_host:
        out.append("max-vms")
    if rules.vcpu_ratio:
        for h in set(placed):
            if sum(v for v, a in zip(vcpus, assignment) if a == h) > rules.vcpu_ratio * host_cores + 1e-9:
                out.append("vcpu-ratio")
    return out


@st.composite
def instances(draw):
    n = draw(st.integers(16, 30))
    steps = draw(st.integers(1, 10))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    cpu = rng.uniform(0.0, 0.3, (n, steps)).astype(np.float32) * 40.0  # host: 40 GHz, 100 GB
    mem = rng.uniform(1.0, 30.0, n)
    ids = [f"vm-{i:02d}" for i in range(n)]
    perm = [ids[i] for i in rng.permutation(n)]
    affinity = []
    pos = 0
    for k in range(draw(st.integers(0, 2))):
        size = draw(st.integers(2, 3))
        affinity.append(Group("affinity", f"a{k}", tuple(perm[pos:pos + size])))
        pos += size
    anti = []
    for k in range(draw(st.integers(0, 2))):
        size = draw(st.integers(2, 4))
        anti.append(Group("anti-affinity", f"x{k}", tuple(perm[pos:pos + size])))
        pos += size
    pins = tuple(Pin(perm[pos + k], f"host-{k + 1:03d}") for k in range(draw(st.integers(0, 2))))
    rules = Constraints(
        anti_affinity=tuple(anti), affinity=tuple(affinity), pins=pins,
        max_vms_per_host=draw(st.one_of(st.none(), st.integers(3, 8))),
        vcpu_ratio=draw(st.one_of(st.none(), st.sampled_from([1.0, 1.5, 2.0]))),
    )
    vcpus = rng.integers(1, 9, n)
    return cpu, mem, ids, rules, vcpus


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(instances())
def test_every_rule_and_every_capacity_hold_on_the_final_placement(instance):
    cpu, mem, ids, rules, vcpus = instance
    try:
        result = solve_constrained(cpu, mem, 40.0, 100.0, rules, ids, vcpus, 16, time_limit_s=5, method="localsearch")
    except InputError:
        reject()  # a pin beyond the plan's count: the error is tested below
    a = result.assignment
    assert (a >= 0).all()
    assert broken_rules(rules, ids, a.tolist(), vcpus.tolist(), 16) == []
    load = np.zeros((result.n_hosts, cpu.shape[1]))
    np.add.at(load, a, cpu.astype(np.float64))
    assert load.max() <= 40.0
    assert np.bincount(a, weights=mem).max() <= 100.0
    assert result.n_hosts >= result.lower_bound


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.floats(0.5, 5000.0), st.integers(1, 64))
def test_additive_columns_admit_exactly_the_limit(limit, cap_ghz, size):
    """``limit`` units fit a host in float32, ``limit + 1`` do not (under the packers' own margin)."""
    share = _additive_share(np.array([1.0, float(size)]), limit)
    unit = np.float32(share[0] * cap_ghz)
    eff, _ = effective_caps(cap_ghz, 1.0)
    assert float(unit) * limit <= eff
    assert float(unit) * (limit + 1) > cap_ghz
    assert float(np.float32(share[1] * cap_ghz)) == pytest.approx(size * float(unit), rel=1e-6)


def test_anti_affine_share_lets_one_member_in_and_keeps_two_out():
    eff, _ = effective_caps(10.0, 1.0)
    assert ANTI_AFFINITY_SHARE * 10.0 <= eff and 2 * ANTI_AFFINITY_SHARE * 10.0 > 10.0


def test_yaml_and_csv_files_give_the_same_rules(tmp_path):
    yaml_file = tmp_path / "rules.yaml"
    yaml_file.write_text(
        "anti_affinity:\n  - [a, b, c]\n  - {name: db, servers: [d, e]}\naffinity:\n  - {name: app, servers: [f, g]}\n"
        "pin:\n  h: host-002\n"
    )
    csv_file = tmp_path / "rules.csv"
    csv_file.write_text(
        "rule,group,server_id,host_id\nanti-affinity,#1,a,\nanti-affinity,#1,b,\nanti-affinity,#1,c,\n"
        "anti-affinity,db,d,\nanti-affinity,db,e,\naffinity,app,f,\naffinity,app,g,\npin,,h,host-002\n"
    )
    from_yaml, from_csv = read_constraints(yaml_file), read_constraints(csv_file)
    for rules in (from_yaml, from_csv):
        assert [g.servers for g in rules.anti_affinity] == [("a", "b", "c"), ("d", "e")]
        assert [g.name for g in rules.anti_affinity] == ["#1", "db"]
        assert [(g.name, g.servers) for g in rules.affinity] == [("app", ("f", "g"))]
        assert [(p.server, p.host_index) for p in rules.pins] == [("h", 1)]


@pytest.mark.parametrize(
    "text, message",
    [
        ("anti_affinity: [[a]]\n", "fewer than two"),
        ("pin: {a: node-1}\n", "host-001"),
        ("colocate: [[a, b]]\n", "unknown key"),
        ("anti_affinity: [a, b\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_input_errors(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_constraints(path)


def _tiny(n=6):
    cpu = np.full((n, 3), 4.0, dtype=np.float32)
    return cpu, np.full(n, 10.0), [f"s{i}" for i in range(n)], np.full(n, 4)


@pytest.mark.parametrize(
    "rules, names",
    [
        (Constraints(affinity=(Group("affinity", "big", ("s0", "s1", "s2", "s3")),)), ["affinity group 'big'", "GB"]),
        (Constraints(affinity=(Group("affinity", "app", ("s0", "s1", "s2")),), max_vms_per_host=2),
         ["affinity group 'app'", "--max-vms-per-host 2"]),
        (Constraints(affinity=(Group("affinity", "app", ("s0", "s1")),), vcpu_ratio=0.25),
         ["affinity group 'app'", "--vcpu-ratio"]),
        (Constraints(pins=(Pin("s0", "host-001"), Pin("s0", "host-002"))), ["pin s0 -> host-001", "pin s0 -> host-002"]),
        (Constraints(affinity=(Group("affinity", "app", ("s0", "s1")),), pins=(Pin("s0", "host-001"), Pin("s1", "host-002"))),
         ["pin s0 -> host-001", "pin s1 -> host-002", "affinity group 'app'"]),
        (Constraints(affinity=(Group("affinity", "app", ("s0", "s1")),), anti_affinity=(Group("anti-affinity", "ha", ("s1", "s0")),)),
         ["anti-affinity group 'ha'", "affinity group 'app'"]),
        (Constraints(anti_affinity=(Group("anti-affinity", "ha", ("s0", "s1")),), pins=(Pin("s0", "host-001"), Pin("s1", "host-001"))),
         ["anti-affinity group 'ha'", "host-001"]),
        (Constraints(pins=(Pin("s0", "host-009"),)), ["pin s0 -> host-009", "host-001"]),
        (Constraints(anti_affinity=(Group("anti-affinity", "ha", ("s0", "nope", "zilch")),), source="r.yaml"),
         ["r.yaml", "nope", "zilch"]),
    ],
)
def test_contradictions_name_the_rules(rules, names):
    cpu, mem, ids, vcpus = _tiny()
    with pytest.raises(InputError) as err:
        solve_constrained(cpu, mem, 40.0, 35.0, rules, ids, vcpus, 8, time_limit_s=5)
    text = str(err.value)
    assert "\n" not in text
    for name in names:
        assert name in text


def test_pins_renumber_hosts_and_anti_affinity_opens_hosts():
    cpu, mem, ids, vcpus = _tiny()
    rules = Constraints(
        anti_affinity=(Group("anti-affinity", "ha", ("s0", "s1", "s2")),), pins=(Pin("s3", "host-003"), Pin("s4", "host-001")),
    )
    result = solve_constrained(cpu, mem, 40.0, 100.0, rules, ids, vcpus, 8, time_limit_s=5)
    assert result.n_hosts == 3 == result.lower_bound  # everything fits one host but for the group of three
    assert result.assignment[3] == 2 and result.assignment[4] == 0
    assert check_placement(rules, ids, result.assignment, vcpus, 8) == []
    assert broken_rules(rules, ids, result.assignment.tolist(), vcpus.tolist(), 8) == []


def test_check_placement_reports_each_broken_rule():
    ids = ["a", "b", "c"]
    rules = Constraints(
        anti_affinity=(Group("anti-affinity", "x", ("a", "b")),), affinity=(Group("affinity", "y", ("b", "c")),),
        pins=(Pin("c", "host-001"),), max_vms_per_host=1, vcpu_ratio=1.0,
    )
    broken = check_placement(rules, ids, np.array([0, 0, 1]), np.array([4, 4, 4]), 4)
    assert len(broken) == 5


def _write_rules(tmp_path, ids):
    path = tmp_path / "rules.yaml"
    path.write_text(
        f"anti_affinity:\n  - [{ids[1]}, {ids[2]}, {ids[3]}]\naffinity:\n  - {{name: app, servers: [{ids[4]}, {ids[5]}]}}\n"
        f"pin:\n  {ids[6]}: host-002\n  {ids[7]}: host-001\n"
    )
    return path


def test_cli_plan_keeps_every_rule_with_the_default_sizing(samples_dir, tmp_path):
    ids = pd.read_csv(samples_dir / "inventory.csv")["server_id"].tolist()
    rules_file = _write_rules(tmp_path, ids)
    out = tmp_path / "plan"
    code = run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--constraints", rules_file,
               "--max-vms-per-host", 9, "--vcpu-ratio", 3, "--out", out, "--quiet")
    assert code == 0
    placement = pd.read_csv(out / "placement.csv", keep_default_na=False)
    host_index = placement["host_id"].map(lambda h: int(h.split("-")[1]) - 1 if h else -1).tolist()
    rules = read_constraints(rules_file)
    rules = Constraints(rules.anti_affinity, rules.affinity, rules.pins, max_vms_per_host=9, vcpu_ratio=3.0)
    cores = json.loads((out / "summary.json").read_text())["assumptions"]["host"]["cores"]
    assert broken_rules(rules, placement["server_id"].tolist(), host_index, placement["source_threads"].tolist(), cores) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["constraints"]["max_vms_per_host"] == 9
    assert "skipped" in summary["validation"]


def test_cli_n_plus_1_adds_room_until_no_failure_overloads(samples_dir, tmp_path):
    args = ["plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", *PLAIN,
            "--cpu-target", 1, "--mem-target", 1, "--sizing", "timeseries", "--quiet"]
    assert run(*args, "--out", tmp_path / "plain") == 0
    plain = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert plain["failover"]["failures_overloading"]  # without the rule a failure overloads
    assert run(*args, "--n-plus-1", "--out", tmp_path / "n1") == 0
    n1 = json.loads((tmp_path / "n1" / "summary.json").read_text())
    assert n1["failover"]["failures_overloading"] == []
    assert n1["hosts_after"] > plain["hosts_after"]
    # the N+1 bound: one host more than the survivors need; this plan reaches it
    assert n1["lower_bound"] == plain["lower_bound"] + 1 == n1["hosts_after"]
    assert n1["solver"]["status"] == "optimal"


@pytest.mark.parametrize("rules, needle", [
    ("affinity:\n  - {name: all, servers: [IDS]}\n", "affinity group 'all'"),
    ("anti_affinity:\n  - [ghost-1, ghost-2]\n", "ghost-1"),
])
def test_cli_unsatisfiable_rules_exit_2_with_one_line(samples_dir, tmp_path, capsys, rules, needle):
    ids = pd.read_csv(samples_dir / "inventory.csv")["server_id"].tolist()
    path = tmp_path / "rules.yaml"
    path.write_text(rules.replace("IDS", ", ".join(ids)))
    code = run("plan", samples_dir / "traces.csv", "--inventory", samples_dir / "inventory.csv", "--constraints", path,
               "--sizing", "timeseries", "--out", tmp_path / "out", "--quiet")
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("consolidate: error:")
    assert not (tmp_path / "out" / "placement.csv").exists()


def test_rules_on_servers_left_out_of_the_plan_drop_out():
    rules = Constraints(
        anti_affinity=(Group("anti-affinity", "ha", ("a", "b", "c")), Group("anti-affinity", "two", ("a", "d"))),
        affinity=(Group("affinity", "pair", ("c", "d")),),
        pins=(Pin("a", "host-001"), Pin("b", "host-002")),
    )
    kept = rules.restricted(["b", "c", "d"])
    assert [g.servers for g in kept.anti_affinity] == [("b", "c")]
    assert [g.servers for g in kept.affinity] == [("c", "d")]
    assert [p.server for p in kept.pins] == ["b"]


def test_hostile_constraints_files_are_one_line_errors(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["x", "x", "x"]\nb: &b [*a, *a, *a]\nanti_affinity:\n  - *b\n')
    with pytest.raises(InputError, match="aliases"):
        read_constraints(bomb)
    with pytest.raises(InputError, match="is a folder"):
        read_constraints(tmp_path)
    latin = tmp_path / "rules.csv"
    latin.write_bytes(b"rule,group,server_id\nanti-affinity,g,caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_constraints(latin)
