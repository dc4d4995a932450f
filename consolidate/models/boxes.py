"""The physical machines the estate runs on today: each server's own box, or the host it is a VM on.

Before consolidation a server is either a machine of its own or a VM on a host (an ESXi host of
an RVTools export; any host the inventory's ``host`` column names). What runs today, and so what
the "before" of the business case costs, is the machines: the servers on boxes of their own and
the hosts. A host's costs (energy, rack space, price, licences) are split among its traced VMs
by their vCPUs, the allocation share chargeback uses, so that sums over any set of servers
(those that leave, the retire candidates, those with defaulted hardware) stay within the whole.
A VM whose host is itself a traced server is counted on that server and has no share of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidate.models.trace import TraceSet


@dataclass(frozen=True)
class Boxes:
    """Where each server runs today.

    Attributes
    ----------
    host_of : int64 (servers,): the row of ``TraceSet.source_hosts`` a VM runs on; -1 for a server
        on a box of its own, or a VM on a traced server.
    share : float64 (servers,): the server's share of its machine: 1 on a box of its own, its vCPUs
        over those of all its host's VMs (traced or not: ``TraceSet.untraced_vcpus``) on a host, 0
        on a traced server (counted there).
    n_hosts : the source hosts (rows of ``TraceSet.source_hosts``; 0 without).
    traced_share : float64 (hosts,): the share of each host its traced VMs take (1 where the
        inventory puts no other VM on it): what the plan can free of it.
    """

    host_of: np.ndarray
    share: np.ndarray
    n_hosts: int
    traced_share: np.ndarray

    @property
    def own(self) -> np.ndarray:
        """(servers,) bool: the servers on boxes of their own."""
        return (self.host_of < 0) & (self.share > 0)

    @property
    def on_host(self) -> np.ndarray:
        """(servers,) bool: the VMs on a source host."""
        return self.host_of >= 0

    @property
    def machines(self) -> int:
        """The physical machines the servers run on today (own boxes and source hosts)."""
        return int(self.own.sum()) + self.n_hosts

    def hosts_of(self, servers: np.ndarray) -> np.ndarray:
        """(hosts,) bool: the source hosts that run at least one of ``servers`` (bool (servers,))."""
        out = np.zeros(self.n_hosts, dtype=bool)
        out[self.host_of[servers & self.on_host]] = True
        return out


def source_boxes(traces: TraceSet) -> Boxes:
    """The :class:`Boxes` of a trace set: from ``inventory.host`` and ``source_hosts``."""
    inv, hosts = traces.inventory, traces.source_hosts
    n = len(inv.server_ids)
    if hosts is None:
        return own_boxes(n)
    row = {name: i for i, name in enumerate(hosts.server_ids)}
    host_of = np.array([row.get(h, -1) for h in inv.host], dtype=np.int64)
    on = host_of >= 0
    traced_vcpus = np.bincount(host_of[on], weights=inv.threads[on], minlength=len(hosts.server_ids))
    all_vcpus = traced_vcpus + (0.0 if traces.untraced_vcpus is None else traces.untraced_vcpus)
    share = np.ones(n)
    share[on] = inv.threads[on] / all_vcpus[host_of[on]]
    share[(inv.host != "") & ~on] = 0.0  # a VM on a traced server
    return Boxes(host_of, share, len(hosts.server_ids), traced_vcpus / np.maximum(all_vcpus, 1e-12))


def own_boxes(n: int) -> Boxes:
    """``n`` servers each on a box of its own."""
    return Boxes(np.full(n, -1, dtype=np.int64), np.ones(n), 0, np.zeros(0))


def host_busy_pct(traces: TraceSet, boxes: Boxes, servers: np.ndarray) -> np.ndarray:
    """Each source host's CPU busy share (% of its hardware threads, float32 (hosts, steps)) with
    only its VMs among ``servers`` (bool (servers,)) running: their busy vCPUs over its threads,
    at most 100. The hypervisor's own work is left out, which makes the hosts' "before" lighter,
    never heavier, than it was."""
    hosts = traces.source_hosts
    busy = np.zeros((boxes.n_hosts, traces.n_steps), dtype=np.float64)
    inv = traces.inventory
    for h in np.flatnonzero(boxes.hosts_of(servers)):
        rows = np.flatnonzero((boxes.host_of == h) & servers)
        busy[h] = (traces.cpu_pct[rows].astype(np.float64) * inv.threads[rows, None]).sum(axis=0) / hosts.threads[h]
    return np.ascontiguousarray(np.minimum(busy, 100.0), dtype=np.float32)


def costed_by_default(traces: TraceSet, boxes: Boxes) -> np.ndarray:
    """(servers,) bool: the servers whose costs today rest on defaulted hardware: their own box's
    (``inventory.defaulted``), or for a VM on a source host, the host's."""
    out = np.asarray(traces.inventory.defaulted, dtype=bool) & boxes.own
    if boxes.n_hosts:
        on = boxes.on_host
        out[on] = np.asarray(traces.source_hosts.defaulted, dtype=bool)[boxes.host_of[on]]
    return out
