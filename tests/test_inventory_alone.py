"""An RVTools workbook or an Azure Migrate CSV planned without traces (consolidate.io.allocation)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.io import read_traces
from consolidate.io.allocation import ALLOCATION_VCPU_RATIO, SINGLE_FIGURE_WARNING

FORMATS = Path(__file__).resolve().parent.parent / "data" / "samples" / "formats"
RVTOOLS = FORMATS / "rvtools" / "kubev2v-example1-trimmed.xlsx"
AZURE = FORMATS / "azure-migrate" / "AzureMigrateimport-01.csv"


def test_azure_migrate_figures_become_the_demand():
    raw = pd.read_csv(AZURE, encoding="utf-8-sig")
    raw.columns = [c.strip().lstrip("*").strip() for c in raw.columns]
    traces = read_traces(AZURE)
    assert traces.source == f"azure-migrate:{AZURE}" and traces.n_steps == 1
    assert traces.server_ids == tuple(raw["Server name"])
    cpu = dict(zip(raw["Server name"], raw["CPU utilization percentage"].astype(float)))
    assert dict(zip(traces.server_ids, traces.cpu_pct[:, 0].tolist())) == pytest.approx(cpu)
    assert traces.quality.warnings[0] == SINGLE_FIGURE_WARNING
    assert traces.quality.counts["servers_one_figure"] == len(raw)


def test_rvtools_plans_the_powered_on_vms_and_more_when_asked():
    on = read_traces(RVTOOLS)
    everything = read_traces(RVTOOLS, powered_off=True)
    assert on.n_servers == 3 and everything.n_servers == 9
    assert set(on.server_ids) < set(everything.server_ids)
    by_allocation = everything.quality.counts["servers_by_allocation"]
    assert by_allocation > 0
    assert (abs(everything.cpu_pct - 100.0 / ALLOCATION_VCPU_RATIO) < 1e-6).sum() >= by_allocation


def test_plan_and_inspect_of_an_inventory_alone(tmp_path, capsys):
    out = tmp_path / "plan"
    assert main(["plan", str(RVTOOLS), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["placed"] == summary["servers"] == 3
    assert summary["sizing_applied"] == "inventory" and summary["sizing_note"].startswith("inventory alone, not time-aware")
    capsys.readouterr()
    assert main(["inspect", str(RVTOOLS), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "inventory" and report["servers"] == 9 and report["powered_on"] == 3
    assert main(["inspect", str(AZURE)]) == 0
    assert "Inventory" in capsys.readouterr().out


def test_trace_options_do_not_apply_to_an_inventory_alone(capsys):
    for command in (["inspect", str(AZURE)], ["plan", str(AZURE), "--out", "/nonexistent/x"]):
        assert main([*command, "--start", "2024-01-01"]) == 2
        assert "is an inventory, read without traces" in capsys.readouterr().err
