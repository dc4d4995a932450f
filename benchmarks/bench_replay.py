"""Replay throughput: the numba kernels against a vectorised numpy baseline on the same data.

A synthetic estate of 10,000 servers x 30 days at 5 minutes (8640 steps, float32 GHz, made with
numpy: a per-server level, a daily cycle with a per-server phase, and noise) is placed on 500
hosts, 20 servers each in random order, and replayed once by each method:

- ``numba``: :func:`consolidate.simulate.replay` (host-load kernel) and
  :meth:`~consolidate.simulate.Replay.figures` (statistics kernel, utilisation percentiles);
- ``numpy``: the servers sorted by host, ``np.add.reduceat`` in float64, then the same shares
  with vectorised comparisons.

Both must give the same over-target and over-capacity shares. Throughput is counted in
host-intervals (hosts x steps) and in server-intervals (the samples read) per second. Also
timed: every single-host failure (:func:`consolidate.failover.failover`) on the same plan.

Usage::

    python benchmarks/bench_replay.py [--servers 10000] [--days 30] [--write]

``--write`` replaces the "Replay" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np
from results import write_section

from consolidate.failover import failover
from consolidate.simulate import replay

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Replay"
SERVERS_PER_HOST = 20
CAPACITY_GHZ, TARGET = 150.0, 0.8


def synthetic_demand(servers: int, steps: int, seed: int = 0) -> np.ndarray:
    """float32 (servers, steps) GHz: level x (1 + 0.6 daily cycle) + noise, at least 0."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(2.0, 2.0, servers).astype(np.float32)[:, None]
    phase = rng.uniform(0, 2 * np.pi, servers).astype(np.float32)[:, None]
    day = (2 * np.pi / 288 * np.arange(steps, dtype=np.float32))[None, :]
    demand = level * (1.0 + 0.6 * np.sin(day + phase))
    demand += rng.standard_normal((servers, steps), dtype=np.float32) * (0.2 * level)
    np.maximum(demand, 0.0, out=demand)
    return demand


def numpy_replay(demand: np.ndarray, assignment: np.ndarray, n_hosts: int) -> tuple[np.ndarray, float, float]:
    """Host load (float64) by sort + reduceat, and the over-target and over-capacity shares (%)."""
    order = np.argsort(assignment, kind="stable")
    hosts = assignment[order]
    starts = np.flatnonzero(np.r_[True, hosts[1:] != hosts[:-1]])
    load = np.add.reduceat(demand[order], starts, axis=0, dtype=np.float64)
    over_target = 100.0 * float((load > TARGET * CAPACITY_GHZ).mean())
    over_capacity = 100.0 * float((load > CAPACITY_GHZ).mean())
    return load, over_target, over_capacity


def run(servers: int, days: int) -> tuple[list[dict], dict]:
    steps = days * 288
    t = time.perf_counter()
    demand = synthetic_demand(servers, steps)
    made_s = time.perf_counter() - t
    n_hosts = servers // SERVERS_PER_HOST
    assignment = np.random.default_rng(1).permutation(np.arange(servers) % n_hosts).astype(np.int64)
    mem = np.full(servers, 8.0)
    # Compile (or load) the kernels outside the timings.
    warm = replay(demand[:4, :8], np.array([0, 0, 1, 1]), 2, CAPACITY_GHZ, TARGET, mem[:4], 200.0, 300)
    warm.figures()
    failover(demand[:4, :8], mem[:4], np.array([0, 0, 1, 1]), warm)

    t = time.perf_counter()
    rep = replay(demand, assignment, n_hosts, CAPACITY_GHZ, TARGET, mem, 200.0, 300)
    figures = rep.figures()
    numba_s = time.perf_counter() - t
    t = time.perf_counter()
    load, over_target, over_capacity = numpy_replay(demand, assignment, n_hosts)
    numpy_s = time.perf_counter() - t
    assert np.allclose(load, rep.cpu_ghz, rtol=1e-9), "numpy and numba host loads differ"
    assert abs(over_target - figures["over_target_pct"]) < 1e-9 and abs(over_capacity - figures["over_capacity_pct"]) < 1e-9
    t = time.perf_counter()
    fail = failover(demand, mem, assignment, rep)
    failover_s = time.perf_counter() - t

    host_intervals = n_hosts * steps
    rows = [
        {"method": "numba: replay() + figures()", "time_s": numba_s, "host_intervals_per_s": host_intervals / numba_s,
         "server_intervals_per_s": servers * steps / numba_s},
        {"method": "numpy: sort + reduceat + shares", "time_s": numpy_s, "host_intervals_per_s": host_intervals / numpy_s,
         "server_intervals_per_s": servers * steps / numpy_s},
    ]
    facts = {
        "servers": servers, "days": days, "steps": steps, "hosts": n_hosts, "made_s": made_s,
        "over_target_pct": figures["over_target_pct"], "over_capacity_pct": figures["over_capacity_pct"],
        "failover_s": failover_s, "failures_overloading": len(fail["failures_overloading"]),
        "spare_hosts": fail["spare_hosts_n_plus_1"],
    }
    return rows, facts


def markdown(rows: list[dict], facts: dict, command: str) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{command}`.",
        f"Machine: {platform.machine()}, {numba.config.NUMBA_NUM_THREADS} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, numba {numba.__version__}. One run each on the same data; kernels compiled beforehand.",
        "",
        f"Estate: {facts['servers']:,} servers x {facts['days']} days at 5 minutes ({facts['steps']:,} steps, float32, "
        f"synthesised with numpy in {facts['made_s']:.1f} s) on {facts['hosts']} hosts of {CAPACITY_GHZ:g} GHz "
        f"(target {TARGET}): {facts['over_target_pct']:.3f} % of host-intervals over the target, "
        f"{facts['over_capacity_pct']:.3f} % over capacity (both methods agree).",
        "",
        "| method | time (s) | host-intervals / s | server-intervals / s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['method']} | {r['time_s']:.2f} | {r['host_intervals_per_s']:,.0f} | {r['server_intervals_per_s']:,.0f} |")
    lines += [
        "",
        f"Every single-host failure of the same plan (its servers re-placed by best fit on the "
        f"survivors, full resolution): {facts['failover_s']:.2f} s; {facts['failures_overloading']} of "
        f"{facts['hosts']} failures overload, N+1 needs {facts['spare_hosts']} spare host(s).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows, facts = run(args.servers, args.days)
    text = markdown(rows, facts, "python " + " ".join(["benchmarks/bench_replay.py", *sys.argv[1:]]))
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
