"""Placement constraints: anti-affinity, affinity, pinning, VMs per host, vCPU:pCPU cap.

The constraints are folded into the packing problem the solvers already solve, so every
stage (heuristics, local search, CP-SAT, lower bounds) respects them without a special case:

* **affinity** (and several VMs pinned to one host) merges the VMs into one composite item:
  the sum of their CPU series and of their memory;
* **anti-affinity** of a group becomes one extra "time step" column in which each member
  takes 3/4 of a host's CPU capacity: one member fits, two do not; the VMs pinned to
  different hosts form one more such group;
* **--max-vms-per-host N** and **--vcpu-ratio R** become one additive column each: a VM takes
  ``k x cap x (1 - m) / C`` where ``k`` is its VM count (1) or vCPUs (the source server's
  threads) and ``C`` the limit (``N``, or ``floor(R x host physical cores)``); a host then
  holds at most ``C`` units. The slack ``m`` (at most 1e-3, below ``1 / (2C)``) absorbs the
  float32 rounding and the solvers' own safety margin without ever admitting ``C + 1``.

These columns are real constraints, so the lower bounds computed on the augmented problem
remain valid bounds. After solving, hosts are renumbered so that each pinned item sits on
its host (``host-003`` is index 2), and :func:`check_placement` verifies every rule on the
final placement.

File formats (``--constraints FILE``)
-------------------------------------
YAML (``.yaml``/``.yml``)::

    anti_affinity:            # VMs of a group on different hosts
      - [web-1, web-2, web-3]
      - {name: db, servers: [db-1, db-2]}
    affinity:                 # VMs of a group on one host
      - {name: app, servers: [app-1, cache-1]}
    pin:                      # server -> host id (host-001 is the plan's first host)
      db-1: host-001

CSV (any other name): columns ``rule,group,server_id,host_id``; ``rule`` is
``anti-affinity``, ``affinity`` or ``pin``; rows with the same rule and ``group`` form one
group; ``host_id`` is used by ``pin`` rows only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.solvers.feasibility import REL_MARGIN, effective_caps
from consolidate.solvers.pipeline import SolveResult, solve

#: Share of a host's CPU capacity an anti-affine VM takes in its group's column (one fits, two do not).
ANTI_AFFINITY_SHARE = 0.75
#: Largest slack of an additive (count or vCPU) column, as a share of the capacity.
MAX_SLACK = 1e-3
_HOST_ID = re.compile(r"^host-(\d+)$")
#: Largest constraints file read (a rule per server of a very large estate is well under it).
MAX_RULES_BYTES = 50_000_000
_RULES = ("anti-affinity", "affinity", "pin")


@dataclass(frozen=True)
class Group:
    """A named group of servers (``rule`` is ``anti-affinity`` or ``affinity``)."""

    rule: str
    name: str
    servers: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.rule} group {self.name!r}"


@dataclass(frozen=True)
class Pin:
    """Server ``server`` must run on host ``host_id`` (``host-003``: index 2)."""

    server: str
    host_id: str

    @property
    def host_index(self) -> int:
        return int(_HOST_ID.match(self.host_id).group(1)) - 1

    @property
    def label(self) -> str:
        return f"pin {self.server} -> {self.host_id}"


@dataclass(frozen=True)
class Constraints:
    """Every placement rule of a plan; the empty default constrains nothing.

    ``max_vms_per_host`` caps the VMs per host; ``vcpu_ratio`` caps the vCPUs (each source
    server's threads) per host at that multiple of the host's physical cores; ``n_plus_1``
    asks for spare capacity to absorb any single host failure (checked by the failover replay).
    """

    anti_affinity: tuple[Group, ...] = ()
    affinity: tuple[Group, ...] = ()
    pins: tuple[Pin, ...] = ()
    max_vms_per_host: int | None = None
    vcpu_ratio: float | None = None
    n_plus_1: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        if self.max_vms_per_host is not None and self.max_vms_per_host < 1:
            raise InputError(f"--max-vms-per-host {self.max_vms_per_host} must be at least 1")
        if self.vcpu_ratio is not None and not (np.isfinite(self.vcpu_ratio) and self.vcpu_ratio > 0):
            raise InputError(f"--vcpu-ratio {self.vcpu_ratio} must be a positive number such as 4 (vCPUs per physical core)")

    @property
    def packing(self) -> bool:
        """True when a rule changes what the packer may do (N+1 alone is checked afterwards)."""
        return bool(self.anti_affinity or self.affinity or self.pins or self.max_vms_per_host or self.vcpu_ratio)

    @property
    def active(self) -> bool:
        return self.packing or self.n_plus_1

    def restricted(self, server_ids: Sequence[str]) -> Constraints:
        """The rules as they bear on ``server_ids`` only (e.g. the servers left after --retire-idle).

        Call :func:`check_servers` on the whole estate first: unknown ids are dropped here.
        """
        keep = set(map(str, server_ids))

        def cut(groups):
            kept = (Group(g.rule, g.name, tuple(s for s in g.servers if s in keep)) for g in groups)
            return tuple(g for g in kept if len(set(g.servers)) > 1)

        return replace(
            self, anti_affinity=cut(self.anti_affinity), affinity=cut(self.affinity),
            pins=tuple(p for p in self.pins if p.server in keep),
        )

    def summary(self) -> dict:
        """What summary.json reports under ``constraints``."""
        return {
            "file": self.source,
            "anti_affinity_groups": len(self.anti_affinity),
            "affinity_groups": len(self.affinity),
            "pins": len(self.pins),
            "max_vms_per_host": self.max_vms_per_host,
            "vcpu_ratio": self.vcpu_ratio,
            "n_plus_1": self.n_plus_1,
        }


def read_constraints(path: str | Path) -> Constraints:
    """Groups and pins from a YAML or CSV file (format in the module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the constraints as one YAML or CSV file (see README, Constraints)")
    if not path.is_file():
        raise InputError(f"{path}: no such constraints file; give a YAML or CSV file (see README, Constraints)")
    if path.stat().st_size > MAX_RULES_BYTES:
        raise InputError(f"{path}: {path.stat().st_size:,} bytes is more than a constraints file needs "
                         f"(at most {MAX_RULES_BYTES:,}); give one rule per server or group")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except PermissionError:
        raise InputError(f"{path}: cannot read the constraints file (permission denied); check its permissions") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: byte {exc.start} is not UTF-8; save the constraints file as UTF-8") from None
    groups, pins = _read_yaml(path, text) if path.suffix.lower() in (".yaml", ".yml") else _read_csv(path, text)
    for g in groups:
        if len(set(g.servers)) < 2:
            raise InputError(f"{path}: {g.label} names fewer than two distinct servers; a group needs at least two")
    for p in pins:
        if not _HOST_ID.match(p.host_id) or int(_HOST_ID.match(p.host_id).group(1)) < 1:
            raise InputError(f"{path}: {p.label}: host ids are host-001, host-002, ...; fix the host id")
    return Constraints(
        anti_affinity=tuple(g for g in groups if g.rule == "anti-affinity"),
        affinity=tuple(g for g in groups if g.rule == "affinity"),
        pins=tuple(pins),
        source=str(path),
    )


def _group(path: Path, rule: str, index: int, entry) -> Group:
    if isinstance(entry, dict):
        name, servers = str(entry.get("name", f"#{index + 1}")), entry.get("servers")
    else:
        name, servers = f"#{index + 1}", entry
    if not isinstance(servers, list):
        raise InputError(f"{path}: {rule} group {name!r} must be a list of server ids (or name: ..., servers: [...])")
    return Group(rule, name, tuple(str(s) for s in servers))


def _read_yaml(path: Path, text: str) -> tuple[list[Group], list[Pin]]:
    import yaml

    try:
        # An alias repeats a node without writing it again: nested ones expand without bound
        # (an "alias bomb"), and a list of server ids never needs one.
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise InputError(f"{path}: YAML aliases (*name) are not accepted in a constraints file; write each group out")
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}); see README, Constraints") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: the top level must be a mapping with anti_affinity, affinity and/or pin")
    unknown = set(doc) - {"anti_affinity", "affinity", "pin"}
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; use anti_affinity, affinity, pin")
    groups = []
    for key, rule in (("anti_affinity", "anti-affinity"), ("affinity", "affinity")):
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            raise InputError(f"{path}: {key} must be a list of groups")
        groups += [_group(path, rule, i, e) for i, e in enumerate(entries)]
    pin = doc.get("pin") or {}
    if not isinstance(pin, dict):
        raise InputError(f"{path}: pin must map server ids to host ids, e.g. db-1: host-001")
    return groups, [Pin(str(s), str(h)) for s, h in pin.items()]


def _read_csv(path: Path, text: str) -> tuple[list[Group], list[Pin]]:
    import io

    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); see README, Constraints") from None
    missing = {"rule", "server_id"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; a constraints CSV has rule,group,server_id,host_id")
    frame = frame.assign(rule=frame["rule"].str.strip().str.lower())
    bad = ~frame["rule"].isin(_RULES)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: row {row + 2}, column rule: {frame['rule'].iloc[row]!r} is not one of {', '.join(_RULES)}")
    groups = []
    for rule in ("anti-affinity", "affinity"):
        rows = frame[frame["rule"] == rule]
        names = rows["group"] if "group" in rows else pd.Series("", index=rows.index)
        for name, part in rows.groupby(names, sort=False):
            groups.append(Group(rule, str(name), tuple(part["server_id"].str.strip())))
    pins = frame[frame["rule"] == "pin"]
    if len(pins) and "host_id" not in frame:
        raise InputError(f"{path}: pin rows need a host_id column")
    return groups, [Pin(s.strip(), h.strip()) for s, h in zip(pins["server_id"], pins.get("host_id", []))]


class _Union:
    """Union-find over VM indices that remembers which rules joined each set."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)
        self.rules: dict[int, list[str]] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return int(i)

    def join(self, members: Sequence[int], rule: str) -> None:
        roots = {self.find(i) for i in members}
        top = min(roots)
        rules = [rule]
        for r in roots:
            self.parent[r] = top
            rules += self.rules.pop(r, [])
        self.rules[top] = sorted(set(rules))


@dataclass(frozen=True)
class Compiled:
    """The constraints applied to one set of VMs: composite items and their extra columns.

    ``item_of`` (vms,) the item of each VM; ``columns`` (items, k) float64 shares of a host's CPU
    capacity each item takes in each extra column; ``item_pin`` (items,) host index or -1;
    ``item_rules`` the rules that formed each composite (for messages).
    """

    item_of: np.ndarray
    columns: np.ndarray
    column_names: list[str]
    item_pin: np.ndarray
    item_rules: list[list[str]]

    @property
    def n_items(self) -> int:
        return self.columns.shape[0]


def _additive_share(size: np.ndarray, limit: float) -> np.ndarray:
    """Column shares of an additive limit: ``size x (1 - m) / C`` (module docstring)."""
    cap_units = float(np.floor(limit + 1e-9))
    slack = min(MAX_SLACK, 0.5 / max(cap_units, 1.0))
    return size * (1.0 - slack) / cap_units


def check_servers(constraints: Constraints, server_ids: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the servers the rules mention that ``server_ids`` lacks."""
    named = [s for g in constraints.anti_affinity + constraints.affinity for s in g.servers] + [p.server for p in constraints.pins]
    unknown = sorted(set(named) - set(map(str, server_ids)))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise InputError(f"{constraints.source or 'constraints'}: unknown server id(s) {shown}; use ids from the traces")


def compile_constraints(
    constraints: Constraints, server_ids: Sequence[str], vcpus: np.ndarray, host_cores: int
) -> Compiled:
    """Composite items and extra columns for the VMs ``server_ids`` (in packing order).

    ``vcpus`` (vms,) each VM's vCPUs (its source server's threads); ``host_cores`` the target
    host's physical cores. Raises :class:`InputError` for unknown server ids and for rules
    that contradict each other (naming them).
    """
    check_servers(constraints, server_ids)
    ids = list(map(str, server_ids))
    index = {s: i for i, s in enumerate(ids)}
    n = len(ids)
    union = _Union(n)
    pin_of: dict[int, Pin] = {}
    for p in constraints.pins:
        i = index[p.server]
        if i in pin_of and pin_of[i].host_id != p.host_id:
            raise InputError(f"conflicting rules: {pin_of[i].label} and {p.label} pin one server to two hosts")
        pin_of[i] = p
    for g in constraints.affinity:
        union.join([index[s] for s in g.servers], g.label)
    by_host: dict[str, list[int]] = {}
    for i, p in pin_of.items():
        by_host.setdefault(p.host_id, []).append(i)
    for host_id, members in by_host.items():
        if len(members) > 1:
            union.join(members, f"pins -> {host_id}")
    roots = np.array([union.find(i) for i in range(n)], dtype=np.int64)
    _, item_of = np.unique(roots, return_inverse=True)
    item_of = item_of.astype(np.int64)
    n_items = int(item_of.max()) + 1 if n else 0
    item_rules = [[] for _ in range(n_items)]
    for root, rules in union.rules.items():
        item_rules[item_of[root]] = rules

    item_pin = np.full(n_items, -1, dtype=np.int64)
    item_pin_rule: dict[int, Pin] = {}
    for i, p in pin_of.items():
        k = item_of[i]
        if k in item_pin_rule and item_pin_rule[k].host_id != p.host_id:
            raise InputError(
                f"conflicting rules: {item_pin_rule[k].label} and {p.label}, but {', '.join(item_rules[k])} keep(s) them on one host"
            )
        item_pin_rule[k] = p
        item_pin[k] = p.host_index

    columns, names = [], []
    for g in constraints.anti_affinity:
        members = [index[s] for s in dict.fromkeys(g.servers)]
        items = item_of[members]
        if len(set(items.tolist())) < len(items):
            k = next(int(x) for x in items if (items == x).sum() > 1)
            together = [ids[i] for i in members if item_of[i] == k]
            raise InputError(
                f"conflicting rules: {g.label} separates {', '.join(together)} but {', '.join(item_rules[k])} keep(s) them on one host"
            )
        pinned = item_pin[items]
        hosts, counts = np.unique(pinned[pinned >= 0], return_counts=True)
        if (counts > 1).any():
            host_id = next(p.host_id for p in constraints.pins if p.host_index == hosts[counts > 1][0])
            raise InputError(f"conflicting rules: {g.label} separates servers that pins put on {host_id}")
        col = np.zeros(n_items)
        col[items] = ANTI_AFFINITY_SHARE
        columns.append(col)
        names.append(g.label)
    if (item_pin >= 0).sum() > 1:
        col = np.where(item_pin >= 0, ANTI_AFFINITY_SHARE, 0.0)
        columns.append(col)
        names.append("pins to different hosts")
    if constraints.max_vms_per_host:
        count = np.bincount(item_of, minlength=n_items).astype(np.float64)
        columns.append(_additive_share(count, constraints.max_vms_per_host))
        names.append(f"--max-vms-per-host {constraints.max_vms_per_host}")
    if constraints.vcpu_ratio:
        if constraints.vcpu_ratio * host_cores < 1:
            raise InputError(
                f"--vcpu-ratio {constraints.vcpu_ratio:g} x {host_cores} host cores allows less than one vCPU per host; raise the ratio"
            )
        size = np.bincount(item_of, weights=np.asarray(vcpus, dtype=np.float64), minlength=n_items)
        columns.append(_additive_share(size, constraints.vcpu_ratio * host_cores))
        names.append(f"--vcpu-ratio {constraints.vcpu_ratio:g} ({constraints.vcpu_ratio * host_cores:g} vCPUs per host)")
    table = np.stack(columns, axis=1) if columns else np.zeros((n_items, 0))
    return Compiled(item_of, table, names, item_pin, item_rules)


def check_placement(
    constraints: Constraints, server_ids: Sequence[str], assignment: np.ndarray, vcpus: np.ndarray, host_cores: int
) -> list[str]:
    """Every rule ``assignment`` (host index per server, -1 unplaced) breaks, as sentences; [] when none.

    Unplaced servers break a pin or an affinity group they belong to; the N+1 rule is not checked
    here (it needs the failover replay).
    """
    index = {str(s): i for i, s in enumerate(server_ids)}
    a = np.asarray(assignment)
    broken = []
    for g in constraints.anti_affinity:
        hosts = a[[index[s] for s in dict.fromkeys(g.servers)]]
        hosts = hosts[hosts >= 0]
        if len(np.unique(hosts)) < len(hosts):
            broken.append(f"{g.label}: two members share a host")
    for g in constraints.affinity:
        hosts = a[[index[s] for s in g.servers]]
        if (hosts < 0).any() or len(np.unique(hosts)) > 1:
            broken.append(f"{g.label}: members on different hosts")
    for p in constraints.pins:
        if a[index[p.server]] != p.host_index:
            broken.append(f"{p.label}: the server is on host index {a[index[p.server]]}")
    placed = a[a >= 0]
    if constraints.max_vms_per_host and placed.size and np.bincount(placed).max() > constraints.max_vms_per_host:
        broken.append(f"--max-vms-per-host {constraints.max_vms_per_host}: a host holds {np.bincount(placed).max()} VMs")
    if constraints.vcpu_ratio and placed.size:
        per_host = np.bincount(placed, weights=np.asarray(vcpus, dtype=np.float64)[a >= 0])
        if per_host.max() > constraints.vcpu_ratio * host_cores + 1e-9:
            broken.append(f"--vcpu-ratio {constraints.vcpu_ratio:g}: a host holds {per_host.max():g} vCPUs on {host_cores} cores")
    return broken


def _item_sums(cpu: np.ndarray, mem: np.ndarray, item_of: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's CPU series (float64 (items, T), GHz) and memory (GB): the sums over its VMs."""
    order = np.argsort(item_of, kind="stable")
    starts = np.searchsorted(item_of[order], np.arange(n_items))
    item_cpu = np.add.reduceat(cpu[order], starts, axis=0, dtype=np.float64)
    return item_cpu, np.bincount(item_of, weights=mem, minlength=n_items)


def _check_composites(compiled: Compiled, item_cpu, item_mem, cpu_cap_ghz, mem_cap_gb, server_ids) -> None:
    """An affinity composite (two or more VMs) that no host can hold is a contradiction: name it."""
    sizes = np.bincount(compiled.item_of, minlength=compiled.n_items)
    for k in np.flatnonzero(sizes > 1):
        members = [str(server_ids[i]) for i in np.flatnonzero(compiled.item_of == k)]
        what = []
        if item_cpu[k].max() > cpu_cap_ghz:
            what.append(f"{item_cpu[k].max():.4g} GHz at peak > {cpu_cap_ghz:.4g} GHz")
        if item_mem[k] > mem_cap_gb:
            what.append(f"{item_mem[k]:.4g} GB > {mem_cap_gb:.4g} GB")
        what += [name for name, share in zip(compiled.column_names, compiled.columns[k]) if share > 1.0 - REL_MARGIN]
        if what:
            raise InputError(
                f"conflicting rules: {', '.join(compiled.item_rules[k])} put {len(members)} servers "
                f"({', '.join(members[:4])}{', ...' if len(members) > 4 else ''}) on one host, which breaks "
                f"{'; '.join(what)}; split the group or choose a larger host"
            )


@dataclass(frozen=True)
class Packing:
    """The rules folded into one packing problem (module docstring): ``items`` float32 (items,
    steps + rule columns), each composite item's CPU series (GHz) then its rule columns (GHz of
    a host of plannable CPU ``cpu_cap_ghz``); ``items_gb`` (items,) memory; ``compiled`` the map
    from VMs to items."""

    compiled: Compiled
    items: np.ndarray
    items_gb: np.ndarray


def packing_problem(
    cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float, constraints: Constraints,
    server_ids: Sequence[str], vcpus: np.ndarray, host_cores: int,
) -> Packing:
    """The packing problem of VMs ``cpu_ghz`` (vms, steps) GHz, ``mem_gb`` (vms,) under ``constraints``
    on hosts of plannable ``cpu_cap_ghz`` and ``mem_cap_gb`` (arguments as :func:`solve_constrained`).
    Without packing rules each VM is its own item and there is no rule column."""
    cpu = np.asarray(cpu_ghz, dtype=np.float32)
    cpu = np.ascontiguousarray(cpu[:, None] if cpu.ndim == 1 else cpu)
    mem = np.asarray(mem_gb, dtype=np.float64)
    compiled = compile_constraints(constraints, server_ids, vcpus, host_cores)
    item_cpu, item_mem = _item_sums(cpu, mem, compiled.item_of, compiled.n_items)
    _check_composites(compiled, item_cpu, item_mem, *effective_caps(cpu_cap_ghz, mem_cap_gb), server_ids)
    n_steps = cpu.shape[1]
    augmented = np.empty((compiled.n_items, n_steps + compiled.columns.shape[1]), dtype=np.float32)
    augmented[:, :n_steps] = item_cpu
    augmented[:, n_steps:] = compiled.columns * cpu_cap_ghz
    return Packing(compiled, augmented, item_mem)


def vm_assignment(
    packing: Packing, items: np.ndarray, n_hosts: int, constraints: Constraints, server_ids: Sequence[str],
    vcpus: np.ndarray, host_cores: int,
) -> np.ndarray:
    """Each VM's host, int32 (vms,), from each item's host ``items`` (-1 unplaced) on ``n_hosts``
    hosts: hosts renumbered so that pins hold, every rule checked.

    Raises :class:`InputError` when a pinned server is unplaced or pinned beyond ``n_hosts``.
    """
    compiled = packing.compiled
    pinned = np.flatnonzero(compiled.item_pin >= 0)
    new_index = np.full(n_hosts, -1, dtype=np.int64)
    position = {str(s): i for i, s in enumerate(server_ids)}
    pin_of_item = {int(compiled.item_of[position[p.server]]): p for p in constraints.pins}
    for k in pinned:
        pin = pin_of_item[int(k)]
        if items[k] < 0:
            raise InputError(f"{pin.label}: the server fits no host of this model on its own; remove the pin or choose a larger host")
        if compiled.item_pin[k] >= n_hosts:
            raise InputError(f"{pin.label}: the plan needs only {n_hosts} host(s); pin to host-001 ... host-{n_hosts:03d}")
        new_index[items[k]] = compiled.item_pin[k]
    free = np.setdiff1d(np.arange(n_hosts), new_index[new_index >= 0])
    new_index[new_index < 0] = free
    vm_items = items[compiled.item_of]
    assignment = np.where(vm_items >= 0, new_index[np.maximum(vm_items, 0)], -1).astype(np.int32)
    broken = check_placement(constraints, server_ids, assignment, vcpus, host_cores)
    if broken:
        raise RuntimeError(f"constrained plan breaks its rules: {'; '.join(broken)}")
    return assignment


def solve_constrained(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    cpu_cap_ghz: float,
    mem_cap_gb: float,
    constraints: Constraints,
    server_ids: Sequence[str],
    vcpus: np.ndarray,
    host_cores: int,
    **solve_options,
) -> SolveResult:
    """:func:`consolidate.solvers.pipeline.solve` under ``constraints`` (N+1 aside): a :class:`SolveResult`.

    ``server_ids`` and ``vcpus`` (the source servers' threads) are per VM, in the rows of
    ``cpu_ghz``; ``host_cores`` the target host's physical cores; ``solve_options`` go to
    ``solve``. The lower bound is that of the constrained problem. Hosts are numbered so that
    pins hold. Raises :class:`InputError` naming contradicting rules, and when a pin names a
    host beyond the plan's count or a pinned server fits no host.
    """
    if not constraints.packing:
        cpu = np.asarray(cpu_ghz, dtype=np.float32)
        cpu = np.ascontiguousarray(cpu[:, None] if cpu.ndim == 1 else cpu)
        return solve(cpu, np.asarray(mem_gb, dtype=np.float64), cpu_cap_ghz, mem_cap_gb, **solve_options)
    packing = packing_problem(cpu_ghz, mem_gb, cpu_cap_ghz, mem_cap_gb, constraints, server_ids, vcpus, host_cores)
    result = solve(packing.items, packing.items_gb, cpu_cap_ghz, mem_cap_gb, **solve_options)
    assignment = vm_assignment(packing, result.assignment, result.n_hosts, constraints, server_ids, vcpus, host_cores)
    return replace(result, assignment=assignment, methods=list(result.methods) + ["constraints"])
