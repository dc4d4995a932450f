"""Start-up and first run: what a new user waits for, against a warm run in the same session.

The project is installed the way the README's quick start installs it (``pip install .`` into a
new virtual environment, which builds the wheel and, at build, numba's cache of every kernel:
``setup.py``). Then, each timed as a whole command, medians of ``--repeat`` runs:

- ``consolidate --help``, ``consolidate catalog`` and ``python -c "import consolidate"``;
- ``consolidate plan`` of the bundled sample (40 servers x 14 days) and of a 2,000-server x
  14-day estate (``consolidate sample --servers 2000 --days 14 --seed 2``):
  - *first run after install*: the installed package with its shipped cache, run once;
  - *warm*: the same, again (the baseline);
  - *NUMBA_CACHE_DIR empty*: ``NUMBA_CACHE_DIR`` set to a new empty folder each run (the
    shipped cache is still used: ``consolidate/jit.py``);
  - *no cache at all* (once): a copy of the installed package without its ``__pycache__`` and an
    empty ``NUMBA_CACHE_DIR``, so every kernel is compiled, as every first run was before the
    wheel shipped the cache (and as a user sees where it cannot be used: another numba version,
    a read-only site-packages);
  and, from ``summary.json["solver"]``, the search time and the compile time reported apart.

Usage::

    python benchmarks/bench_first_run.py [--repeat 3] [--write]

``--write`` replaces the "Start-up and first run" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Start-up and first run"


def timed(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - started


def solver_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())["solver"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install_s = timed([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)])
    cli = str(venv / "bin" / "consolidate")
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    site = Path(subprocess.run([python, "-c", "import consolidate, os; print(os.path.dirname(consolidate.__file__))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    bare = work / "bare"
    shutil.copytree(site, bare / "consolidate", ignore=shutil.ignore_patterns("__pycache__"))

    estates = {"bundled sample (40 x 14 d)": [str(ROOT / "data/samples/traces.csv"), "--inventory",
                                               str(ROOT / "data/samples/inventory.csv")]}
    big = work / "estate-2000"
    subprocess.run([cli, "sample", "--servers", "2000", "--days", "14", "--seed", "2", "--out", str(big)], check=True,
                   stdout=subprocess.DEVNULL)
    estates["2,000 servers x 14 d"] = [str(big / "traces.csv"), "--inventory", str(big / "inventory.csv")]

    rows = []
    for label, cmd in (("consolidate --help", [cli, "--help"]), ("consolidate catalog", [cli, "catalog"]),
                       ("import consolidate", [python, "-c", "import consolidate"])):
        rows.append((label, statistics.median(timed(cmd, env) for _ in range(args.repeat))))

    plans = []
    for name, traces in estates.items():
        out = work / "out"
        plan = [cli, "plan", *traces, "--out", str(out), "--quiet"]
        first_s = timed(plan, env)
        first = solver_of(out)
        warm = [timed(plan, env) for _ in range(args.repeat)]
        warm_solver = solver_of(out)
        empty = []
        for i in range(args.repeat):
            empty.append(timed(plan, {**env, "NUMBA_CACHE_DIR": str(work / f"empty-{name[:5]}-{i}")}))
        empty_solver = solver_of(out)
        bare_env = {**env, "NUMBA_CACHE_DIR": str(work / f"bare-{name[:5]}"), "PYTHONPATH": str(bare)}
        # (not from ROOT: `python -m` would put the source tree, and its cache, first on the path)
        bare_s = timed([python, "-m", "consolidate.cli", *plan[1:]], bare_env, cwd=work)
        plans.append((name, first_s, first, statistics.median(warm), warm_solver, statistics.median(empty), empty_solver,
                      bare_s, solver_of(out)))

    lines = [
        SECTION, "",
        f"`python benchmarks/bench_first_run.py --repeat {args.repeat} --write`, {time.strftime('%Y-%m-%d')}; {machine()}.",
        f"The install (`pip install .` into a new venv: wheel build with the kernels compiled, then the "
        f"dependencies) took {install_s:.0f} s. Medians of {args.repeat} runs; each command timed whole.", "",
        "| command | wall (s) |", "| --- | ---: |",
        *[f"| `{label}` | {s:.2f} |" for label, s in rows], "",
        "| `consolidate plan` | first run after install (s) | warm (s) | first / warm | NUMBA_CACHE_DIR empty (s) | "
        "no cache at all (s) | no cache / warm | search s (first / warm / no cache) | compile s (first / warm / no cache) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, first_s, first, warm_s, warm, empty_s, _, bare_s, bare in plans:
        lines.append(
            f"| {name} | {first_s:.1f} | {warm_s:.1f} | {first_s / warm_s:.2f} | {empty_s:.1f} | {bare_s:.1f} | "
            f"{bare_s / warm_s:.2f} | {first['time_s']:.2f} / {warm['time_s']:.2f} / {bare['time_s']:.2f} | "
            f"{first['compile_s']:.2f} / {warm['compile_s']:.2f} / {bare['compile_s']:.2f} |")
    lines += ["", "Compile s counts only what numba compiled or loaded while the plan was made (reading the traces "
              "compiles the grid kernels before it). The search time excludes compilation (the solvers' clock stops "
              "while numba compiles), so a missing cache costs wall time but not plan quality: the plans are the same "
              "(tests/test_golden.py, test_a_cold_numba_cache_gives_the_same_plan).", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
