"""Compile every numba kernel of the package now, into numba's cache.

A fresh install would otherwise compile the kernels during its first plan (about 25 s on the
bundled sample). :func:`compile_all` runs each code path once on a tiny synthetic estate, so
that every kernel is compiled with the argument types real runs use; the package's build
(``setup.py``) calls it, so that the wheel ships the cache, and ``python -m consolidate.warmup``
does the same for an existing install (a container image, the workers of a cluster).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from consolidate.solvers import clock

#: The tiny estate: enough days for the validated count search and the growth what-if.
_ESTATE = {"servers": 12, "days": 5, "seed": 3, "interval_s": 3600}


def compile_all() -> float:
    """Compile (or load) every kernel; returns the seconds that took."""
    from consolidate.io import read_traces
    from consolidate.planner import plan
    from consolidate.samples import write_sample
    from consolidate.solvers.colgen import lp_bound
    from consolidate.solvers.feasibility import effective_caps
    from consolidate.solvers.pipeline import anneal_search, fixed_count_search, heuristic_portfolio

    before = clock.compile_s()
    with tempfile.TemporaryDirectory() as tmp:
        traces_csv, inventory_csv = write_sample(Path(tmp), **_ESTATE)
        traces = read_traces(traces_csv, inventory=inventory_csv)
        rules = Path(tmp) / "rules.csv"
        ids = traces.server_ids
        rules.write_text(f"rule,group,server_id,host_id\nanti-affinity,a,{ids[0]},\nanti-affinity,a,{ids[1]},\n"
                         f"affinity,b,{ids[2]},\naffinity,b,{ids[3]},\n")
        small = "cores=32,ghz=2.5,ram_gb=256,idle_w=100,max_w=300"
        from consolidate.models.hardware import parse_host_spec

        host = parse_host_spec(small)
        for options in (
            {"host": host, "frontier": True, "growth": "20%/yr", "holdout": "1d"},
            {"host": host, "sizing": "p95"},
            {"constraints": str(rules), "n_plus_1": True, "max_vms_per_host": 6, "vcpu_ratio": 4.0},
            {"host": "dell-r6515,hpe-dl380-gen10plus", "sizing": "timeseries"},
        ):
            _ = plan(traces, **options).summary
    # The local search, the bin-centric heuristics, the annealing and the LP bound run only where the first
    # fits miss the bound, which the tiny estate's plans do or not by the chance of its data:
    # run them on their own.
    rng = np.random.default_rng(0)
    cpu = np.ascontiguousarray(rng.uniform(0.05, 0.45, (16, 24)).astype(np.float32))
    mem = np.ones(16)
    cpu_cap, mem_cap = effective_caps(1.0, 100.0)
    for packer in heuristic_portfolio("heuristics").values():
        packer(cpu, mem, cpu_cap, mem_cap)
    fixed_count_search(cpu, mem, 2, cpu_cap, mem_cap, seed=0, max_work=1e5, deadline=clock.now() + 5.0)
    unplaced = np.full(cpu.shape[0], -1, dtype=np.int32)
    anneal_search(cpu, mem, 2, cpu_cap, mem_cap, seed=0, start=unplaced, max_moves=20_000, deadline=clock.now() + 5.0)
    lp_bound(cpu, mem, 1.0, 100.0, max_iterations=2, pricing_dtime=0.1)
    return clock.compile_s() - before


if __name__ == "__main__":
    print(f"compiled or loaded the kernels in {compile_all():.1f} s")
