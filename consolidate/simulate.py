"""Replay a placement on full-resolution traces: host load, overload and utilisation.

Every figure a plan reports comes from here, never from the sized demand the packer saw.
A host-interval is one host during one grid interval; the overload shares are counted over
all host-intervals of the replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.jit import njit
from consolidate.models.fleet import Fleet
from consolidate.models.trace import TraceSet
from consolidate.models.workload import Workload

#: Host-interval utilisation percentiles every replay reports.
UTIL_PERCENTILES = (50, 95, 99)


@njit
def host_load_kernel(demand: np.ndarray, assignment: np.ndarray, n_hosts: int) -> np.ndarray:
    """Sum each VM's series onto its host: float64 (hosts, steps); VMs with host -1 are skipped.

    Used for CPU (GHz) and memory in use (GB) alike. Accumulates in float64 so that an
    independent float64 replay agrees to rounding.
    """
    n_vms, n_steps = demand.shape
    load = np.zeros((n_hosts, n_steps), dtype=np.float64)
    for vm in range(n_vms):
        host = assignment[vm]
        if host < 0:
            continue
        for t in range(n_steps):
            load[host, t] += demand[vm, t]
    return load


@njit
def host_stats_kernel(load: np.ndarray, target_ghz: np.ndarray, capacity_ghz: np.ndarray):
    """One pass over a host-load array (hosts, steps), per host.

    ``target_ghz`` and ``capacity_ghz`` are float64 (hosts,): each host's own CPU target and
    full capacity. Returns ``(over_target, over_capacity, unmet, peak, total)``: intervals above
    the target and above the capacity (int64), demand above the capacity summed over
    the intervals (GHz x intervals), the peak and the sum of the load (GHz, GHz x intervals).
    """
    n_hosts, n_steps = load.shape
    over_target = np.zeros(n_hosts, dtype=np.int64)
    over_capacity = np.zeros(n_hosts, dtype=np.int64)
    unmet = np.zeros(n_hosts)
    peak = np.zeros(n_hosts)
    total = np.zeros(n_hosts)
    for h in range(n_hosts):
        for t in range(n_steps):
            x = load[h, t]
            total[h] += x
            if x > peak[h]:
                peak[h] = x
            if x > target_ghz[h]:
                over_target[h] += 1
            if x > capacity_ghz[h]:
                over_capacity[h] += 1
                unmet[h] += x - capacity_ghz[h]
    return over_target, over_capacity, unmet, peak, total


@dataclass(frozen=True)
class HostStats:
    """Per-host results of :func:`host_stats_kernel`: interval counts and GHz sums, each (hosts,)."""

    over_target: np.ndarray
    over_capacity: np.ndarray
    unmet_ghz_intervals: np.ndarray
    peak_ghz: np.ndarray
    total_ghz_intervals: np.ndarray


@dataclass(frozen=True)
class Replay:
    """Host load from a replay of a placement on a :class:`~consolidate.models.fleet.Fleet`.

    ``cpu_ghz`` float64 (hosts, steps) effective GHz; ``mem_gb`` float64 (hosts,) planned memory,
    GB; ``interval_s`` the grid spacing; ``mem_used_gb`` float64 (hosts, steps) memory in use, GB,
    when the traces carry it. Each host is measured against its own model's capacity and target.
    """

    cpu_ghz: np.ndarray
    fleet: Fleet
    mem_gb: np.ndarray
    interval_s: int
    mem_used_gb: np.ndarray | None = None

    @property
    def cpu_capacity_ghz(self) -> np.ndarray:
        """Each host's full capacity (after hypervisor overhead, before the target), GHz (hosts,)."""
        return self.fleet.cpu_full_ghz

    @property
    def cpu_target(self) -> float:
        return self.fleet.cpu_target

    @property
    def mem_usable_gb(self) -> np.ndarray:
        """What each host's memory offers at its target, GB (hosts,)."""
        return self.fleet.mem_usable_gb

    @property
    def n_hosts(self) -> int:
        return self.cpu_ghz.shape[0]

    @property
    def n_steps(self) -> int:
        return self.cpu_ghz.shape[1]

    @property
    def cpu_util(self) -> np.ndarray:
        """Host CPU utilisation as a fraction of full capacity, (hosts, steps)."""
        return self.cpu_ghz / self.cpu_capacity_ghz[:, None]

    @cached_property
    def stats(self) -> HostStats:
        """Per-host overload counts, unmet demand, peak and total load (one kernel pass)."""
        return HostStats(*host_stats_kernel(np.ascontiguousarray(self.cpu_ghz), self.cpu_target_ghz, self.cpu_capacity_ghz))

    @property
    def cpu_target_ghz(self) -> np.ndarray:
        """Each host's CPU target, GHz (hosts,)."""
        return self.fleet.cpu_target_ghz

    @property
    def host_intervals(self) -> int:
        return self.cpu_ghz.size

    def over_target_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the target, in percent."""
        return _share_pct(self.stats.over_target.sum(), self.host_intervals)

    def over_capacity_pct(self) -> float:
        """Share of host-intervals whose CPU load exceeds the full capacity, in percent."""
        return _share_pct(self.stats.over_capacity.sum(), self.host_intervals)

    def unmet_cpu_ghz_h(self) -> float:
        """CPU demand above full capacity, integrated over time, GHz·h."""
        return float(self.stats.unmet_ghz_intervals.sum() * self.interval_s / 3600.0)

    def worst_host(self) -> int:
        """Index of the host with the most intervals over the target (ties: the highest peak); -1 without hosts."""
        if not self.n_hosts:
            return -1
        s = self.stats
        return int(np.lexsort((-s.peak_ghz, -s.over_target))[0])

    def util_percentiles_pct(self, percentiles: Sequence[float] = UTIL_PERCENTILES) -> dict[str, float]:
        """Percentiles of the host-interval CPU utilisation, % of full capacity, keyed ``cpu_util_pNN_pct``."""
        if not self.n_hosts:
            return {f"cpu_util_p{q:g}_pct": 0.0 for q in percentiles}
        values = np.percentile(self.cpu_util, percentiles)
        return {f"cpu_util_p{q:g}_pct": float(100.0 * v) for q, v in zip(percentiles, values)}

    def figures(self, host_names: Sequence[str] | None = None) -> dict:
        """The replay's headline figures, JSON-ready.

        ``host_names`` names the hosts (default ``host-1`` ...). Shares are % of host-intervals;
        utilisation is % of a host's full CPU capacity; memory is % of its usable memory, and a
        planned memory above 100 % is an over-commit.
        """
        names = list(host_names) if host_names is not None else [f"host-{h + 1}" for h in range(self.n_hosts)]
        s = self.stats
        worst = self.worst_host()
        cap = self.cpu_capacity_ghz
        steps = max(self.n_steps, 1)
        mem_pct = 100.0 * self.mem_gb / self.mem_usable_gb if self.n_hosts else np.zeros(0)
        out = {
            "hosts": self.n_hosts,
            "host_intervals": self.host_intervals,
            "over_target_pct": self.over_target_pct(),
            "over_capacity_pct": self.over_capacity_pct(),
            "unmet_cpu_ghz_h": self.unmet_cpu_ghz_h(),
            "hosts_over_target": int((s.over_target > 0).sum()),
            "hosts_over_capacity": int((s.over_capacity > 0).sum()),
            "cpu_util_mean_pct": float((100.0 * s.total_ghz_intervals / cap).sum() / max(self.host_intervals, 1)),
            "cpu_util_peak_pct": float((100.0 * s.peak_ghz / cap).max(initial=0.0)),
            **self.util_percentiles_pct(),
            "worst_host": names[worst] if worst >= 0 else "",
            "worst_host_over_target_pct": float(100.0 * s.over_target[worst] / steps) if worst >= 0 else 0.0,
            "worst_host_over_capacity_pct": float(100.0 * s.over_capacity[worst] / steps) if worst >= 0 else 0.0,
            "worst_host_peak_pct": float(100.0 * s.peak_ghz[worst] / cap[worst]) if worst >= 0 else 0.0,
            "mem_planned_max_pct": float(mem_pct.max(initial=0.0)),
            "hosts_over_memory": [names[h] for h in np.flatnonzero(self.mem_gb > self.mem_usable_gb)],
        }
        if self.mem_used_gb is not None:
            used = self.mem_used_gb
            usable = self.mem_usable_gb[:, None]
            out["mem_used_peak_pct"] = float(100.0 * (used / usable).max(initial=0.0))
            out["over_memory_pct"] = _share_pct(int((used > usable).sum()), used.size)
        return out


def _share_pct(count: int, total: int) -> float:
    return float(100.0 * count / total) if total else 0.0


def replay(workload: Workload, assignment: np.ndarray, fleet: Fleet) -> Replay:
    """Replay ``workload`` (full resolution) on the hosts of ``assignment`` ((vms,) host index, -1
    for a VM that is not placed) in ``fleet``."""
    assignment = np.ascontiguousarray(assignment, dtype=np.int64)
    n_hosts = fleet.n_hosts
    load = host_load_kernel(workload.cpu_ghz, assignment, n_hosts)
    used = None
    if workload.mem_used_gb is not None:
        used = host_load_kernel(workload.mem_used_gb, assignment, n_hosts)
    placed = assignment >= 0
    mem = np.bincount(assignment[placed], weights=workload.mem_gb[placed], minlength=n_hosts)
    return Replay(load, fleet, mem, workload.interval_s, used)


def simulate_placement(traces: TraceSet, placement: pd.DataFrame | str, **model_options) -> dict:
    """Replay any placement (``server_id,host_id``; empty host = not placed) on ``traces``.

    ``model_options`` are the model's options of :func:`consolidate.make_settings` (``host``,
    ``hypervisor``, ``smt_gain``, ``cpu_target``, ``mem_target``). Every host is of model
    ``host``, unless the placement's ``host_model`` column names several models (a mixed plan):
    then each host is of the catalogue model it names. The VMs are those a plan makes of the
    traces (:func:`consolidate.estate.estate_vms`). Returns the replay's figures
    (:meth:`Replay.figures`): over-target and over-capacity shares (%), unmet CPU (GHz·h),
    utilisation mean, peak and percentiles, the worst host, planned memory against the usable
    amount (over-commit) and, where the traces carry it, memory in use.
    """
    from consolidate.estate import estate_vms
    from consolidate.io.placement import read_placement
    from consolidate.models import hypervisor
    from consolidate.models.fleet import host_capacity
    from consolidate.settings import make_settings

    settings = make_settings(**model_options)
    frame = read_placement(placement)
    index = pd.Index(traces.server_ids)
    missing = index.difference(frame["server_id"])
    extra = pd.Index(frame["server_id"]).difference(index)
    if len(missing) or len(extra):
        raise InputError(
            f"placement and traces name different servers ({len(missing)} only in the traces, e.g. "
            f"{list(missing[:3])}; {len(extra)} only in the placement, e.g. {list(extra[:3])}); use the traces the plan was made from"
        )
    frame = frame.set_index("server_id").loc[index].reset_index()
    host_ids = frame["host_id"].fillna("").astype(str).to_numpy()
    names, assignment = np.unique(host_ids, return_inverse=True)
    if names[0] == "":
        assignment = assignment - 1
        names = names[1:]
    per_host = _placement_models(frame, placement, names)
    models = per_host if per_host is not None else [settings.host_model] * len(names)
    profile = hypervisor.get_profile(settings.hypervisor)
    kinds = list(dict.fromkeys(m.name for m in models)) or [settings.host_model.name]
    by_name = {m.name: m for m in models} or {settings.host_model.name: settings.host_model}
    capacities = tuple(
        host_capacity(by_name[k], profile, settings.smt_gain, settings.cpu_target, settings.mem_target) for k in kinds
    )
    fleet = Fleet(capacities, np.array([kinds.index(m.name) for m in models], dtype=np.int64))
    vms = estate_vms(traces, settings, models[0] if models else settings.host_model)
    rep = replay(vms.workload, assignment, fleet)
    return {
        "servers": traces.n_servers,
        "placed": int((assignment >= 0).sum()),
        "host_model": settings.host_model.name if per_host is None else fleet.label(),
        **rep.figures([str(n) for n in names]),
        **allocation_changes(frame, traces),
    }


def allocation_changes(frame: pd.DataFrame, traces: TraceSet) -> dict:
    """The servers whose provisioned cores or RAM in ``traces`` exceed what the placement was
    planned with (its ``source_cores`` / ``source_ram_gb``): ``servers_cores_grown``,
    ``cores_grown``, ``servers_ram_grown``, ``ram_grown_gb`` and ``servers_grown`` (their ids).
    The replay packs their new allocation, so a host they overfill is in ``hosts_over_memory``;
    empty when the placement does not say what it planned."""
    inv = traces.inventory
    out: dict = {}
    grown = np.zeros(traces.n_servers, dtype=bool)
    for column, now, key, unit in (("source_cores", inv.cores, "cores", "cores_grown"),
                                   ("source_ram_gb", inv.ram_gb, "ram", "ram_grown_gb")):
        if column not in frame.columns:
            continue
        planned = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        more = np.nan_to_num(now - planned, nan=0.0)
        more[more <= 1e-6 * np.abs(planned)] = 0.0
        out[f"servers_{key}_grown"] = int((more > 0).sum())
        out[unit] = float(more.sum())
        grown |= more > 0
    if out:
        out["servers_grown"] = [traces.server_ids[i] for i in np.flatnonzero(grown)]
    return out


def _placement_models(frame: pd.DataFrame, placement, host_ids: np.ndarray) -> list | None:
    """Each host's catalogue model when the placement's ``host_model`` column names several; None otherwise."""
    from consolidate.models import catalog

    if "host_model" not in frame.columns:
        return None
    named = frame.loc[frame["host_id"].fillna("").astype(str) != "", ["host_id", "host_model"]].astype(str)
    if named["host_model"].nunique() < 2:
        return None
    where = "placement" if isinstance(placement, pd.DataFrame) else str(placement)
    by_host = named.drop_duplicates()
    clash = by_host["host_id"][by_host["host_id"].duplicated()]
    if len(clash):
        raise InputError(f"{where}: host {clash.iloc[0]} is given two host_model values; each host has one model")
    model_of = dict(zip(by_host["host_id"], by_host["host_model"]))
    known = {}
    for name in sorted(set(model_of.values())):
        try:
            known[name] = catalog.get_host(name)
        except InputError:
            raise InputError(
                f"{where}: host_model {name!r} is not in the catalogue; a placement of several models "
                "is replayed on the catalogue's models (`consolidate catalog` lists them)"
            ) from None
    return [known[model_of[str(h)]] for h in host_ids]
