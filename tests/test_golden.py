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
