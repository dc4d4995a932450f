"""Estates of several sites: in-process against a Dask LocalCluster of 1 and 2 workers, in one run.

A generated estate of ``--sites`` sites, each ``consolidate sample``'s generator with its own
seed (``--servers`` servers x ``--days`` days at 5 minutes; server ids prefixed by the site), is
written as hive-partitioned Parquet (``traces/site=s0/part-0.parquet``, row groups of 1 M rows).
Then, each in a fresh process, timed as a whole command with the peak RSS of every process it
starts (sampled every 0.2 s by psutil: the client, and the Dask nanny and worker processes):

- pyarrow's bare read of the whole dataset (``pyarrow.dataset(...).to_table()``): the floor;
- ``consolidate plan TRACES --by site`` in this process (sites one after the other);
- the same with ``--cluster local:1`` and ``--cluster local:2``.

It compares the three plans (each site's placement.csv byte for byte; a search cut by the time
limit depends on the machine's load, so its site may differ) and reports, from the sites' summaries, the hosts, the lower bounds and numba's compile time in the
workers (the shipped cache: a fresh worker should compile nothing).

Usage::

    python benchmarks/bench_sites.py [--sites 4] [--servers 10000] [--days 14] [--write]

``--write`` replaces the "Sites" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from results import machine, write_section

SECTION = "## Sites"
ROW_GROUP_ROWS = 1_000_000


def write_estate(root: Path, sites: int, servers: int, days: float) -> float:
    """The hive-partitioned estate under ``root``; returns its size in GB."""
    from consolidate.samples import generate_estate

    for i in range(sites):
        table, _ = generate_estate(servers, days, seed=100 + i)
        ids = table["server_id"].combine_chunks()
        renamed = pa.DictionaryArray.from_arrays(ids.indices, pa.array([f"s{i}-{v}" for v in ids.dictionary.to_pylist()]))
        table = table.set_column(table.schema.get_field_index("server_id"), "server_id", renamed)
        folder = root / f"site=s{i}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=ROW_GROUP_ROWS)
    return sum(p.stat().st_size for p in root.rglob("*.parquet")) / 1e9


def measured(cmd: list[str]) -> dict:
    """Wall time and peak RSS (the largest single process, and the sum at any moment) of ``cmd``'s process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak_one = peak_sum = 0
    while proc.poll() is None:
        try:
            rss = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
        except psutil.Error:
            rss = []
        if rss:
            peak_one, peak_sum = max(peak_one, max(rss)), max(peak_sum, sum(rss))
        time.sleep(0.2)
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall_s": time.perf_counter() - started, "peak_process_gb": peak_one / 1e9, "peak_total_gb": peak_sum / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--servers", type=int, default=10000, help="servers per site")
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sites-") as tmp:
        traces = Path(tmp) / "traces"
        started = time.perf_counter()
        size_gb = write_estate(traces, args.sites, args.servers, args.days)
        made_s = time.perf_counter() - started
        bare = measured([sys.executable, "-c", f"import pyarrow.dataset as d; d.dataset({str(traces)!r}, "
                                               "format='parquet', partitioning='hive').to_table()"])
        runs = {}
        for label, extra in (("in-process", []), ("local:1", ["--cluster", "local:1"]), ("local:2", ["--cluster", "local:2"])):
            out = Path(tmp) / label.replace(":", "-")
            runs[label] = measured([sys.executable, "-m", "consolidate.cli", "plan", str(traces), "--by", "site",
                                    "--out", str(out), "--quiet", *extra])
            runs[label]["out"] = out
        base = runs["in-process"]["out"]
        sites = sorted(p.name for p in (base / "sites").iterdir())
        for label, run in runs.items():
            run["differ"] = [site for site in sites if (base / "sites" / site / "placement.csv").read_bytes()
                             != (run["out"] / "sites" / site / "placement.csv").read_bytes()]
        summaries = {label: json.loads((run["out"] / "summary.json").read_text()) for label, run in runs.items()}

    s = summaries["in-process"]
    rows = [
        "| run | wall (s) | / bare read | peak RSS, largest process (GB) | peak RSS, all processes (GB) | numba compile in the sites, max (s) | sites whose placement differs from in-process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| pyarrow bare read of the dataset | {bare['wall_s']:.1f} | 1.00 | {bare['peak_process_gb']:.2f} | "
        f"{bare['peak_total_gb']:.2f} | | |",
    ]
    for label, run in runs.items():
        compile_s = max(site["solver"]["compile_s"] for site in summaries[label]["sites"].values())
        rows.append(f"| `plan --by site`{'' if label == 'in-process' else f' --cluster {label}'} | {run['wall_s']:.1f} | "
                    f"{run['wall_s'] / bare['wall_s']:.1f} | {run['peak_process_gb']:.2f} | {run['peak_total_gb']:.2f} | "
                    f"{compile_s:.2f} | {', '.join(run['differ']) or 'none'} |")
    stopped = {label: {name: x["solver"]["stopped_by"] for name, x in summaries[label]["sites"].items()} for label in runs}
    site_rows = [f"| {name} | {x['servers']:,} | {x['hosts_after']} | {x['lower_bound']} | {x['over_target_pct']:.3f} | "
                 f"{x['wall_s']:.1f} | {', '.join(f'{label}: {stopped[label][name]}' for label in runs)} |"
                 for name, x in s["sites"].items()]
    text = "\n".join([
        SECTION,
        "",
        f"Command: `python benchmarks/bench_sites.py --sites {args.sites} --servers {args.servers} --days {args.days:g} --write`.",
        f"Machine: {machine()}; shared with other jobs while it ran, one run of each (no medians: each run takes minutes).",
        "",
        f"Estate: {args.sites} sites x {args.servers:,} servers x {args.days:g} days at 5 minutes "
        f"({args.sites * args.servers:,} servers), hive-partitioned Parquet, {size_gb:.2f} GB, generated in {made_s:.0f} s. "
        "Default host and settings. Peak RSS sampled every 0.2 s over the command's process tree (the client and, "
        "with a cluster, its nanny and worker processes). A site's placement is the same byte for byte in every run "
        "when its search ends on its bound or its work budget; one cut by the time limit depends on the machine's load.",
        "",
        *rows,
        "",
        "Each site as planned in-process:",
        "",
        "| site | servers | hosts | lower bound | over target % | wall in its task (s) | search stopped by |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *site_rows,
        f"| estate | {s['servers']:,} | {s['hosts_after']} | {s['lower_bound']} | {s['over_target_pct']:.3f} | |",
        "",
    ])
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
