"""Inventory reading, checking, defaults and alignment with the trace rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.errors import InputError
from consolidate.io import read_inventory, read_traces
from consolidate.io.inventory import (
    DEFAULT_CORES,
    DEFAULT_GHZ,
    DEFAULT_PERF,
    DEFAULT_RAM_GB,
    DEFAULT_THREADS,
    FIELDS,
    HOST,
    align_inventory,
)

IO = Path(__file__).resolve().parents[2] / "data" / "samples" / "io"


def _aligned(*args):
    aligned = align_inventory(*args)
    return aligned.inventory, aligned.counts, aligned.warnings
HEADER = "server_id,cores,threads,ghz,ram_gb\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inv.csv"
    path.write_text(text)
    return path


def test_read_inventory_fills_threads_perf_and_optional_columns():
    inv = read_inventory(IO / "inventory.csv")
    assert tuple(inv.columns) == (*FIELDS, HOST)
    assert list(inv["server_id"]) == ["a", "b", "z"]
    b = inv.set_index("server_id").loc["b"]
    assert b["threads"] == 2 and b["perf"] == DEFAULT_PERF and np.isnan(b["power_max_w"]) and b["model"] == ""


def test_read_inventory_from_frame_and_semicolons(tmp_path):
    frame = pd.DataFrame({"Server_ID": ["x"], "Cores": [8], "GHz": [2.0], "RAM_GB": [32]})
    inv = read_inventory(frame)
    assert inv.loc[0, "threads"] == 8 and inv.loc[0, "ram_gb"] == 32
    inv = read_inventory(write(tmp_path, "server_id;cores;ghz;ram_gb\nx;4;2.5;8\n"))
    assert inv.loc[0, "ghz"] == 2.5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (HEADER + "a,4,8,2.5,16\nb,-2,4,2.5,16\n", "line 3, column 'cores': -2 must be a positive number"),
        (HEADER + "a,4,8,0,16\n", "line 2, column 'ghz': 0 must be a positive number"),
        (HEADER + "a,4,8,2.5,lots\n", "line 2, column 'ram_gb': 'lots' is not a number"),
        (HEADER + "a,4,2,2.5,16\n", "line 2: threads is below cores"),
        (HEADER + "a,4,8,2.5,16\na,2,2,2.5,8\n", "server 'a' appears twice \\(line 2 and line 3\\)"),
        (HEADER + ",4,8,2.5,16\n", "line 2: the server_id is empty"),
        ("server_id,cores,threads,ram_gb\na,4,8,16\n", "missing column 'ghz'; found columns: server_id, cores, threads, ram_gb"),
        (HEADER.strip() + ",power_idle_w,power_max_w\na,4,8,2.5,16,300,200\n", "power_idle_w is above power_max_w"),
        ("", "empty"),
    ],
)
def test_inventory_errors_name_line_and_column(tmp_path, text, match):
    with pytest.raises(InputError, match=match) as info:
        read_inventory(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_inventory_frame_errors_name_the_row():
    with pytest.raises(InputError, match="row 7, column 'cores'"):
        read_inventory(pd.DataFrame({"server_id": ["a"], "cores": [-1], "ghz": [2.0], "ram_gb": [4]}, index=[7]))


def test_missing_inventory_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_traces(IO / "long_dirty.csv", inventory=tmp_path / "nope.csv")


def test_empty_cells_take_defaults_and_are_flagged(tmp_path):
    user = read_inventory(write(tmp_path, HEADER + "a,,,2.0,\nb,4,,,8\n"))
    inv, counts, warnings = _aligned(("a", "b", "c"), user)
    np.testing.assert_array_equal(inv.cores, [DEFAULT_CORES, 4, DEFAULT_CORES])
    np.testing.assert_array_equal(inv.threads, [DEFAULT_THREADS, 4, DEFAULT_THREADS])
    np.testing.assert_array_equal(inv.ghz, [2.0, DEFAULT_GHZ, DEFAULT_GHZ])
    np.testing.assert_array_equal(inv.ram_gb, [DEFAULT_RAM_GB, 8, DEFAULT_RAM_GB])
    np.testing.assert_array_equal(inv.defaulted, [True, True, True])
    assert counts == {"inventory_defaulted": 3, "inventory_unused": 0}
    assert "3 of 3 server(s)" in warnings[0] and "a, b, c" in warnings[0]


def test_user_values_override_file_values_per_field():
    derived = pd.DataFrame({"server_id": ["a", "b"], "cores": [2.0, 4.0], "threads": [2.0, 4.0], "ghz": [2.6, 2.6],
                            "ram_gb": [8.0, np.nan], "perf": [np.nan] * 2, "model": ["", ""],
                            "power_idle_w": [np.nan] * 2, "power_max_w": [np.nan] * 2})
    user = pd.DataFrame({"server_id": ["b", "q"], "cores": [8.0, 1.0], "threads": [16.0, 1.0], "ghz": [np.nan, 1.0],
                         "ram_gb": [32.0, 1.0], "perf": [1.2, 1.0], "model": ["big", ""],
                         "power_idle_w": [np.nan] * 2, "power_max_w": [np.nan] * 2})
    inv, counts, _ = _aligned(("a", "b"), user, derived)
    np.testing.assert_array_equal(inv.cores, [2, 8])
    np.testing.assert_array_equal(inv.threads, [2, 16])
    np.testing.assert_array_equal(inv.ghz, [2.6, 2.6])  # the user left ghz empty: the file's value stays
    np.testing.assert_array_equal(inv.ram_gb, [8, 32])
    np.testing.assert_array_equal(inv.perf, [1.0, 1.2])
    assert list(inv.model) == ["", "big"]
    assert not inv.defaulted.any()
    assert counts == {"inventory_defaulted": 0, "inventory_unused": 1}


def test_no_inventory_at_all_warns_once():
    inv, counts, warnings = _aligned(("a",), None)
    assert inv.defaulted.all() and counts["inventory_defaulted"] == 1
    assert len(warnings) == 1 and "pass --inventory" in warnings[0]


def test_trace_ids_match_inventory_ids_as_text(tmp_path):
    traces = tmp_path / "t.csv"
    traces.write_text("timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,007,1\n2024-01-01T00:05:00Z,007,1\n")
    inv = write(tmp_path, HEADER + "007,2,2,2.0,4\n")
    result = read_traces(traces, inventory=inv)
    assert result.server_ids == ("007",) and not result.inventory.defaulted[0]
