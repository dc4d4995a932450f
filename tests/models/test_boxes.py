"""Where the servers run today: own boxes, source hosts and their shares (consolidate.models.boxes)."""

import numpy as np
import pandas as pd
import pytest

from consolidate.io.inventory import align_inventory, read_inventory
from consolidate.models.boxes import costed_by_default, host_busy_pct, source_boxes
from consolidate.models.trace import QualityReport, TraceSet
from consolidate.report.business import Sources, estate_facts
from consolidate.models.catalog import get_host

INVENTORY = pd.DataFrame({
    "server_id": ["a", "b", "c", "d", "h1", "t"],
    "cores": [2, 6, 4, 1, 8, 4], "ghz": [2.0] * 6, "ram_gb": [4, 8, 8, 2, 64, 8],
    # d runs on t, which is itself a traced server (vSphere stats of a VM and its host).
    "host": ["h1", "h1", "", "t", "", ""],
    "model": ["", "", "", "", "hp-ml110-g5", ""],
})


def traces(ids=("a", "b", "c", "d", "t"), cpu_pct=(50.0, 100.0 / 3, 25.0, 10.0, 40.0)) -> TraceSet:
    aligned = align_inventory(tuple(ids), read_inventory(INVENTORY))
    assert aligned.counts["source_hosts"] == 1
    cpu = np.repeat(np.asarray(cpu_pct, dtype=np.float32)[:, None], 3, axis=1)
    return TraceSet(tuple(ids), pd.Timestamp("2024-01-01", tz="UTC"), 3600, np.ascontiguousarray(cpu), None,
                    aligned.inventory, QualityReport(samples=cpu.size, missing_pct=0.0, counts={}, warnings=()),
                    source_hosts=aligned.hosts, untraced_vcpus=aligned.untraced_vcpus)


def test_shares_split_each_host_by_vcpus_and_skip_vms_on_traced_servers():
    t = traces()
    boxes = source_boxes(t)
    assert align_inventory(t.server_ids, read_inventory(INVENTORY)).counts["inventory_unused"] == 0
    assert list(t.source_hosts.server_ids) == ["h1"] and not t.source_hosts.defaulted.any()
    np.testing.assert_array_equal(boxes.host_of, [0, 0, -1, -1, -1])
    np.testing.assert_allclose(boxes.share, [0.25, 0.75, 1.0, 0.0, 1.0])
    assert list(boxes.own) == [False, False, True, False, True]
    assert boxes.machines == 3  # c, t and h1
    # h1's 8 threads run a's 1 busy vCPU and b's 2: 3 of 8.
    np.testing.assert_allclose(host_busy_pct(t, boxes, np.ones(5, dtype=bool)), [[37.5] * 3], rtol=1e-6)
    np.testing.assert_allclose(host_busy_pct(t, boxes, np.array([True, False, False, False, False])), [[12.5] * 3], rtol=1e-6)
    assert not host_busy_pct(t, boxes, np.zeros(5, dtype=bool)).any()


def test_a_host_named_but_not_described_is_defaulted_and_costs_its_vms():
    aligned = align_inventory(("a", "x"), read_inventory(INVENTORY.assign(
        server_id=["a", "x", "c", "d", "h1", "t"], host=["h1", "h9", "", "t", "", ""])))
    hosts = aligned.hosts
    assert list(hosts.server_ids) == ["h1", "h9"] and list(hosts.defaulted) == [False, True]
    assert aligned.counts["source_hosts_defaulted"] == 1 and any("h9" in w and "add a row" in w for w in aligned.warnings)
    t = TraceSet(("a", "x"), pd.Timestamp("2024-01-01", tz="UTC"), 3600, np.ones((2, 2), dtype=np.float32), None,
                 aligned.inventory, QualityReport(samples=4, missing_pct=0.0, counts={}, warnings=()), source_hosts=hosts,
                 untraced_vcpus=aligned.untraced_vcpus)
    assert list(costed_by_default(t, source_boxes(t))) == [False, True]


def test_estate_facts_count_the_hosts_and_a_staying_vm_keeps_its_whole_host():
    t = traces()
    boxes = source_boxes(t)
    ml110, r710 = get_host("hp-ml110-g5"), get_host("dell-r710")
    sources = Sources(boxes, t.source_hosts, vms=False, costed_by_default=costed_by_default(t, boxes))
    staying = np.array([False, True, False, False, False])  # b does not fit: h1 keeps running
    facts = estate_facts(t.inventory, get_host("dell-r6515"), 1, staying=staying, sources=sources)
    assert facts["machines_before"] == 3
    assert facts["rack_units_before"] == pytest.approx(ml110.rack_units + 2 * r710.rack_units)  # h1, c, t
    assert facts["hardware_usd_before"] == pytest.approx(ml110.price_usd + 2 * r710.price_usd)
    assert facts["physical_cores_before"] == pytest.approx(8 + 4 + 4)
    assert facts["staying"]["servers"] == 1 and facts["staying"]["rack_units"] == pytest.approx(ml110.rack_units)
    assert facts["staying"]["hardware_usd"] == pytest.approx(ml110.price_usd)
    # vSphere counts 16 cores per socket at least: h1 (1 socket) 16, c and t (4 cores: 2 sockets) 32 each.
    assert facts["licensed_cores_before"]["vsphere"] == pytest.approx(16 + 32 + 32)
    assert facts["source_hosts"] == {"hosts": 1, "defaulted": 0, "vms_on_hosts": 2, "vms_without_host": 0}


def test_vms_the_traces_do_not_hold_keep_their_share_of_the_host():
    # b is in the inventory on h1 but not traced: a (2 vCPUs) frees 2 of h1's 8 planned vCPUs.
    t = traces(ids=("a", "c"), cpu_pct=(50.0, 25.0))
    np.testing.assert_allclose(t.untraced_vcpus, [6.0])
    counts = align_inventory(t.server_ids, read_inventory(INVENTORY)).counts
    assert counts["untraced_vms_on_source_hosts"] == 1 and counts["inventory_unused"] == 2  # d and t: not h1's
    boxes = source_boxes(t)
    np.testing.assert_allclose(boxes.share, [0.25, 1.0])
    np.testing.assert_allclose(boxes.traced_share, [0.25])
    ml110, r710 = get_host("hp-ml110-g5"), get_host("dell-r710")
    sources = Sources(boxes, t.source_hosts, vms=False, costed_by_default=costed_by_default(t, boxes))
    facts = estate_facts(t.inventory, get_host("dell-r6515"), 1, staying=np.array([True, False]), sources=sources)
    assert facts["rack_units_before"] == pytest.approx(0.25 * ml110.rack_units + r710.rack_units)
    assert facts["staying"]["rack_units"] == pytest.approx(0.25 * ml110.rack_units)  # a stays: its share stays
