"""Plans do not change when the code is reorganised: each golden case replans byte for byte.

The cases and how to regenerate them are in ``tests/golden/cases.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("golden_cases", Path(__file__).parent / "golden" / "cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("golden")


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_plan_matches_golden_placement(case, workdir):
    expected = (cases.GOLDEN / f"{case}.csv").read_bytes()
    assert cases.placement_bytes(case, workdir) == expected


@pytest.mark.slow
def test_a_cold_numba_cache_gives_the_same_plan(tmp_path):
    """The plan does not depend on whether the kernels were compiled in this run or loaded: a copy
    of the package with no numba cache at all (none shipped, an empty NUMBA_CACHE_DIR) plans the
    golden case byte for byte."""
    import os
    import shutil
    import subprocess
    import sys

    import consolidate

    source = tmp_path / "src"
    shutil.copytree(Path(consolidate.__file__).parent, source / "consolidate",
                    ignore=shutil.ignore_patterns("__pycache__"))
    case = "sample-default"
    out = tmp_path / case
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "empty-numba-cache"), "PYTHONPATH": str(source)}
    code = f"import sys; from consolidate.cli import main; sys.exit(main({cases.plan_args(case, out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tmp_path, capture_output=True,
                          text=True)
    summary = (out / "summary.json").read_text()
    assert '"compile_s"' in summary and not done.stderr
    assert (out / "placement.csv").read_bytes() == (cases.GOLDEN / f"{case}.csv").read_bytes()
