"""End to end at scale: 10,000 servers x 14 days of 5-minute samples through `consolidate plan`.

Makes the estate with `consolidate sample` (40 M rows, 1.7 GB of canonical long CSV), times
pyarrow's own multi-threaded read of the file as the floor any reader pays, then runs
`consolidate plan` end to end (read, size, solve, replay, write the plan and report.html) for
the default sizing and for the spreadsheet baselines (p95- and peak-sized), each in a fresh
process whose wall time and peak memory (max RSS) are measured.

    python benchmarks/bench_scale.py [--servers 10000] [--days 14] [--keep DIR] [--write]

``--write`` replaces the "Scale" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pa_csv
from results import machine, write_section

SECTION = "## Scale"
#: (sizing, memory sizing): the default, the baselines, and a CPU-bound case (memory packed at its observed peak).
RUNS = (("validated", "allocated"), ("timeseries", "allocated"), ("p95", "allocated"), ("peak", "allocated"),
        ("validated", "used-peak"), ("p95", "used-peak"))


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (GB) of a command in its own process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024**2


def run(servers: int, days: int, work: Path) -> list[str]:
    cli = [sys.executable, "-m", "consolidate.cli"]
    sample_s, sample_gb = timed(cli + ["sample", "--servers", str(servers), "--days", str(days), "--seed", "11", "--out", str(work)])
    traces, inventory = work / "traces.csv", work / "inventory.csv"
    started = time.perf_counter()
    pa_csv.read_csv(traces)
    pyarrow_s = time.perf_counter() - started
    rows = []
    for policy, mem in RUNS:
        out = work / f"plan-{policy}-{mem}"
        wall_s, peak_gb = timed(cli + ["plan", str(traces), "--inventory", str(inventory), "--sizing", policy,
                                       "--mem-sizing", mem, "--out", str(out), "--quiet"])
        rows.append((policy, mem, json.loads((out / "summary.json").read_text()), wall_s, peak_gb))
    size_gb = traces.stat().st_size / 1e9
    lines = [
        SECTION,
        "",
        f"Command: `python benchmarks/bench_scale.py --servers {servers} --days {days} --write` (after `pip install .`).",
        f"Machine: {machine()}.",
        "",
        f"Estate: `consolidate sample --servers {servers} --days {days} --seed 11`, {size_gb:.2f} GB of CSV, written in "
        f"{sample_s:.1f} s ({sample_gb:.1f} GB peak). pyarrow's multi-threaded `read_csv` of it alone: {pyarrow_s:.1f} s. "
        "Default host (hpe-dl380-gen10plus), xen, targets 0.8 / 0.9, `--time-limit 60`. "
        "Each row is one `consolidate plan` run end to end (read, size, solve, replay, write plan and report.html) in a "
        "fresh process.",
        "",
        "The lower bound is the time-aware one of the same memory sizing (full-resolution series); a percentile or "
        "peak sizing is compared with it too, and its replay shows what its smaller items hide. With allocated memory "
        "the estate is memory-bound; with `--mem-sizing used-peak` it is CPU-bound.",
        "",
        "| sizing | memory | hosts | time-aware lower bound | hosts / LB | over-target % (replay) | over-capacity % | wall (s) | peak RSS (GB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for policy, mem, s, wall_s, peak_gb in rows:
        bound = next(b["lower_bound"] for p, m, b, _, _ in rows if m == mem and p in ("timeseries", "validated"))
        lines.append(
            f"| {policy} | {mem} | {s['hosts_after']} | {bound} | {s['hosts_after'] / bound:.3f} | "
            f"{s['over_target_pct']:.3f} | {s['over_capacity_pct']:.3f} | {wall_s:.1f} | {peak_gb:.2f} |"
        )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--keep", type=Path, help="folder for the estate and plans (default: a temporary one)")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consolidate-scale-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        text = "\n".join(run(args.servers, args.days, work))
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
