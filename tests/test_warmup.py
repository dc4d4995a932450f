"""compile_all() compiles every kernel a plan needs: a plan after it compiles nothing."""

import pytest

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
