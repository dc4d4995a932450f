"""Reading: the streaming long reader against pyarrow's bare read of the same files, and the whole plan.

Makes the estate with `consolidate sample` (canonical long CSV, ordered by server, then time)
and the same rows as Parquet (written batch by batch), then measures, each in a fresh process
(wall time and peak resident memory, from the process's own rusage):

- pyarrow's bare read of the file (`pyarrow.csv.read_csv`, `pyarrow.parquet.read_table`), the
  floor any reader of the whole file pays;
- `read_traces` before the streaming reader, when `--baseline-tree DIR` names a copy of the
  package from before it (e.g. `git archive 9013d92 consolidate | tar -x -C DIR`, then
  `PYTHONPATH=DIR python -m consolidate.warmup` once for its numba cache);
- `read_traces` of this package;
- `consolidate plan` end to end (read, size, solve, replay, write the plan and report.html).

Reads are medians of `--repeat` runs; plans run once (`--plan` names the files planned). Results are kept per estate in
`WORK/results-<servers>x<days>.json`, and `--write` replaces the "Reading" section of
benchmarks/RESULTS.md with every estate measured so far.

    python benchmarks/bench_read.py [--servers 10000] [--days 14] [--work /tmp/bench_read]
        [--baseline-tree DIR [--baseline-plan]] [--repeat 3] [--plan csv,parquet] [--bare csv,parquet] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from results import machine, write_section

SECTION = "## Reading"

BARE = {
    "csv": "import pyarrow.csv as c, sys; t = c.read_csv(sys.argv[1]); print(t.num_rows)",
    "parquet": "import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]); print(t.num_rows)",
}
READ = "import sys; from consolidate.io import read_traces; t = read_traces(sys.argv[1]); print(t.cpu_pct.shape)"


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (GB) of a command in its own process."""
    started = time.perf_counter()
    # run from outside the checkout: python -c puts the working folder first on sys.path, before PYTHONPATH
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024**2


def median_run(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    runs = [timed(argv, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def estate(servers: int, days: int, work: Path) -> tuple[Path, Path, Path]:
    """traces.csv, traces.parquet and inventory.csv of the estate, made once."""
    folder = work / f"est-{servers}x{days}"
    csv, parquet, inventory = folder / "traces.csv", folder / "traces.parquet", folder / "inventory.csv"
    if not csv.exists():
        subprocess.run([sys.executable, "-m", "consolidate.cli", "sample", "--servers", str(servers), "--days", str(days),
                        "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    if not parquet.exists():
        types = {"server_id": pa.dictionary(pa.int32(), pa.string()), "cpu_pct": pa.float32(), "mem_gb": pa.float32()}
        reader = pa_csv.open_csv(csv, convert_options=pa_csv.ConvertOptions(column_types=types))
        with pq.ParquetWriter(parquet, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    return csv, parquet, inventory


def measure(args: argparse.Namespace) -> dict:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    csv, parquet, inventory = estate(args.servers, args.days, work)
    here = dict(os.environ)
    old = None if args.baseline_tree is None else {**os.environ, "PYTHONPATH": str(Path(args.baseline_tree).resolve())}
    rows = {}
    for kind, path in (("csv", csv), ("parquet", parquet)):
        row = {"size_gb": path.stat().st_size / 1e9}
        if kind in args.bare.split(","):
            row["bare"] = median_run([sys.executable, "-c", BARE[kind], str(path)], args.repeat, here)
        if old is not None:
            row["old"] = median_run([sys.executable, "-c", READ, str(path)], args.repeat, old)
        row["new"] = median_run([sys.executable, "-c", READ, str(path)], args.repeat, here)
        if kind in args.plan.split(","):
            plan = [sys.executable, "-m", "consolidate.cli", "plan", str(path), "--inventory", str(inventory),
                    "--out", str(work / f"plan-{kind}"), "--quiet"]
            row["plan"] = timed(plan, here)
            if old is not None and args.baseline_plan:
                row["old_plan"] = timed(plan[:-2] + [str(work / f"plan-old-{kind}"), "--quiet"], old)
        rows[kind] = row
        print(kind, row, flush=True)
    result = {"servers": args.servers, "days": args.days, "rows": rows, "repeat": args.repeat,
              "date": time.strftime("%Y-%m-%d"), "machine": machine()}
    (work / f"results-{args.servers}x{args.days}.json").write_text(json.dumps(result, indent=1))
    return result


def section(work: Path) -> str:
    results = sorted((json.loads(p.read_text()) for p in work.glob("results-*.json")), key=lambda r: r["servers"] * r["days"])
    lines = [SECTION, "",
             "Command: `python benchmarks/bench_read.py --servers N --days D --baseline-tree DIR --write` (the baseline "
             "tree: the package at 9013d92, before the streaming reader).",
             f"Machine: {results[0]['machine'] if results else machine()}; shared, so figures move by some 10 %.", "",
             "Each figure is one fresh process: wall time and peak resident memory (max RSS, whole process). Reads "
             "are medians of the runs given; plans run once. `bare` is pyarrow's own read of the whole file into "
             "an Arrow table (`pyarrow.csv.read_csv`, `pyarrow.parquet.read_table`), the floor a whole-table reader "
             "pays; `before` is `read_traces` before the streaming reader; `read_traces` is this one; the ratio is "
             "to `bare`. A plan's peak is that of its planning stage, after the read has let go of its samples "
             "(10,000 x 14 d: float64 temporaries of the whole servers x steps matrix in "
             "`models/hardware.py: busy_cores`, called by `report/sensitivity.py` and `estate.py`); the read's own "
             "peak is the `read_traces` column.", ""]
    for r in results:
        rows = r["rows"]
        lines += [f"**{r['servers']:,} servers x {r['days']} days** (5-minute samples, "
                  f"{r['servers'] * r['days'] * 288 / 1e6:,.0f} M rows; {r['date']}, reads median of {r['repeat']}):", "",
                  "| file | size (GB) | bare pyarrow s / GB | before: read_traces s / GB | read_traces s / GB | "
                  "read_traces / bare (time, memory) | consolidate plan s / GB |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for kind, row in rows.items():
            new_s, new_gb = row["new"]
            before = "-" if "old" not in row else f"{row['old'][0]:.1f} / {row['old'][1]:.2f}"
            plan = "-" if "plan" not in row else f"{row['plan'][0]:.0f} / {row['plan'][1]:.2f}"
            if "old_plan" in row:
                plan += f" (before: {row['old_plan'][0]:.0f} / {row['old_plan'][1]:.2f})"
            if "bare" in row:
                bare_s, bare_gb = row["bare"]
                bare, ratio = f"{bare_s:.1f} / {bare_gb:.2f}", f"{new_s / bare_s:.2f}, {new_gb / bare_gb:.2f}"
            else:
                rows_m = r["servers"] * r["days"] * 288 / 1e6
                bare, ratio = f"not run (about {rows_m * 105 / 1000:.0f} GB at 105 bytes a row)", "-"
            lines.append(f"| {kind} | {row['size_gb']:.2f} | {bare} | {before} | {new_s:.1f} / {new_gb:.2f} | {ratio} | {plan} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--work", default="/tmp/bench_read")
    parser.add_argument("--baseline-tree", help="a copy of the package from before the streaming reader")
    parser.add_argument("--baseline-plan", action="store_true", help="also plan with the baseline tree")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plan", default="csv,parquet", help="the files to plan (csv,parquet; '' for none)")
    parser.add_argument("--bare", default="csv,parquet",
                        help="the files pyarrow reads bare (a whole CSV table takes about 105 bytes a row)")
    parser.add_argument("--write", action="store_true", help="replace the Reading section of RESULTS.md")
    args = parser.parse_args()
    measure(args)
    if args.write:
        write_section(SECTION, section(Path(args.work)))


if __name__ == "__main__":
    main()
