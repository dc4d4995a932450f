"""Small crafted estates written as a long-format trace CSV and an inventory CSV, for the
business-case and sensitivity tests: every figure of them can be worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.io import read_traces
from consolidate.models.catalog import get_host

HOURS_PER_YEAR = 8760.0


def server(server_id: str, cpu_pct: float, mem_gb: float, inventory: dict | None = None, start_share: float = 0.0) -> dict:
    """One server: a constant CPU % and memory in use from ``start_share`` of the window on."""
    return {"id": server_id, "cpu_pct": cpu_pct, "mem_gb": mem_gb, "inventory": inventory, "start_share": start_share}


def machine(model: str, cores: int, ghz: float, ram_gb: float, idle_w: float, max_w: float) -> dict:
    """An inventory row without SMT (threads = cores), on a straight power line from idle to max."""
    return {"cores": cores, "threads": cores, "ghz": ghz, "ram_gb": ram_gb, "model": model,
            "power_idle_w": idle_w, "power_max_w": max_w}


def write_estate(folder: Path, servers: list[dict], days: float = 1.0, interval_s: int = 300):
    """The estate as files, read back: a :class:`~consolidate.models.trace.TraceSet`."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = int(days * 86400 / interval_s)
    times = pd.date_range("2024-01-01", periods=steps, freq=f"{interval_s}s", tz="UTC")
    frames = []
    for s in servers:
        kept = times[round(s["start_share"] * steps):]
        frames.append(pd.DataFrame({"timestamp": kept.strftime("%Y-%m-%dT%H:%M:%SZ"), "server_id": s["id"],
                                    "cpu_pct": s["cpu_pct"], "mem_gb": s["mem_gb"]}))
    pd.concat(frames).to_csv(folder / "traces.csv", index=False)
    rows = [{"server_id": s["id"], **s["inventory"]} for s in servers if s["inventory"]]
    inventory = None
    if rows:
        inventory = folder / "inventory.csv"
        pd.DataFrame(rows).to_csv(inventory, index=False)
    return read_traces(folder / "traces.csv", inventory=inventory)


def host_it_kwh_per_year(plan) -> float:
    """The plan's hosts' IT energy a year by hand: each host's catalogue curve, linear between its
    11 points, at its replayed load (kWh/yr)."""
    rep = plan.replay
    total_wh = 0.0
    for h, model in enumerate(plan.host_models()):
        util = np.clip(rep.cpu_ghz[h] / rep.cpu_capacity_ghz[h], 0.0, 1.0)
        watts = np.interp(util, np.linspace(0.0, 1.0, 11), get_host(model.name).power_curve_w)
        total_wh += watts.sum() * rep.interval_s / 3600.0
    return total_wh / 1000.0 * HOURS_PER_YEAR / (rep.n_steps * rep.interval_s / 3600.0)


#: Three bare-metal servers; srv-big's 600 GB fit no dell-r6515 (456.8 GB usable under xen).
A = machine("ibm-x3550-m3-x5670", 12, 2.93, 32, 100, 200)    # 1 U, 6,000 USD, 2 sockets
B = machine("dell-r620", 16, 2.6, 64, 80, 180)               # 1 U, 7,000 USD, 2 sockets
BIG = machine("dell-r740", 56, 2.7, 600, 200, 400)           # 2 U, 30,000 USD, 2 sockets
THREE = [server("srv-a", 50.0, 16.0, A), server("srv-b", 50.0, 16.0, B), server("srv-big", 50.0, 100.0, BIG)]
#: At 50 % busy, without SMT, each draws the middle of its line: 150, 130 and 300 W.
THREE_WATTS = {"srv-a": 150.0, "srv-b": 130.0, "srv-big": 300.0}
