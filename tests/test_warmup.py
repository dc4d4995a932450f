"""compile_all() compiles every kernel a plan needs: a plan after it compiles nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import consolidate
from consolidate.io import read_traces
from consolidate.planner import plan
from consolidate.solvers import clock
from consolidate.warmup import compile_all


@pytest.mark.slow
def test_after_compile_all_plans_compile_nothing(samples_dir):
    compile_all()
    traces = read_traces(samples_dir / "traces.csv", inventory=samples_dir / "inventory.csv")
    for options in ({}, {"sizing": "p95", "host": "dell-r6515"}, {"host": "dell-r6515,hpe-dl380-gen10plus"},
                    {"n_plus_1": True, "host": "dell-r6515"}):
        before_s = clock.compile_s()
        p = plan(traces, **options)
        _ = p.summary
        assert clock.compile_s() - before_s < 0.05, options


# Run in a fresh process, where no kernel is loaded yet: what compile_all leaves out would be
# compiled (or loaded from numba's cache) by the solve, and show as a new overload.
_ANNEALING_AFTER_COMPILE_ALL = """
import sys

import numpy as np
from numba.core.registry import CPUDispatcher

from consolidate.solvers.pipeline import solve
from consolidate.warmup import compile_all


def overloads():
    return {(name, attr, sig) for name, module in list(sys.modules.items()) if name.startswith("consolidate")
            for attr, obj in vars(module).items() if isinstance(obj, CPUDispatcher) for sig in obj.overloads}


compile_all()
before = overloads()
cpu = np.ascontiguousarray(np.random.default_rng(0).uniform(0.1, 0.55, (30, 24)).astype(np.float32))
result = solve(cpu, np.ones(30), 1.0, 100.0, time_limit_s=20.0, ls_work=1e3, anneal_moves=200_000, cpsat_dtime=1.0)
assert any(m.startswith("anneal@") for m in result.methods), result.methods
new = overloads() - before
assert not new, sorted(new)
"""


@pytest.mark.slow
def test_after_compile_all_the_annealing_stage_compiles_nothing(tmp_path):
    root = Path(consolidate.__file__).resolve().parent.parent
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", _ANNEALING_AFTER_COMPILE_ALL], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
