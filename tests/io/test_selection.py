"""--start, --end and --exclude; servers merged across sources; measured spans; periods warned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consolidate.errors import InputError
from consolidate.io import read_traces

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "traces.csv"


def _long(path: Path, spans: dict[str, tuple[str, str]], value: float = 5.0) -> Path:
    rows = [(t.isoformat(), server, value) for server, (a, b) in spans.items()
            for t in pd.date_range(a, b, freq="300s", tz="UTC", inclusive="left")]
    pd.DataFrame(rows, columns=["timestamp", "server_id", "cpu_pct"]).to_csv(path, index=False)
    return path


def test_window_and_exclusions():
    whole = read_traces(SAMPLE)
    part = read_traces(SAMPLE, start="2024-01-03", end="2024-01-04", exclude="srv-0001, srv-0002")
    assert part.start == pd.Timestamp("2024-01-03", tz="UTC")
    assert part.end == pd.Timestamp("2024-01-05", tz="UTC")  # a date alone as the end includes that day
    assert part.server_ids == tuple(s for s in whole.server_ids if s not in ("srv-0001", "srv-0002"))
    first = whole.timestamps().get_loc(part.start)
    np.testing.assert_array_equal(part.cpu_pct, whole.cpu_pct[2:, first:first + 2 * 288])
    counts = part.quality.counts
    assert counts["servers_excluded"] == 2
    assert counts["samples_outside_window"] == (whole.n_steps - 2 * 288) * (whole.n_servers - 2)


def test_an_end_with_a_time_is_exclusive_and_ids_come_from_a_file(tmp_path):
    ids = tmp_path / "retired.txt"
    ids.write_text("# leaving soon\nsrv-0003\n\nsrv-0004  # and this one\n")
    part = read_traces(SAMPLE, end="2024-01-01T06:00:00Z", exclude=ids)
    assert part.n_steps == 6 * 12 and "srv-0003" not in part.server_ids and "srv-0004" not in part.server_ids


@pytest.mark.parametrize(("options", "message"), [
    ({"start": "2024-01-05", "end": "2024-01-02"}, "is not after --start"),
    ({"start": "2025-06-01"}, "no samples are left inside --start/--end"),
    ({"end": "soon"}, "--end 'soon' is not a date"),
    ({"exclude": Path("no-such-file.txt")}, "no such file"),
])
def test_bad_windows_are_one_clear_line(options, message):
    with pytest.raises(InputError, match=message) as info:
        read_traces(SAMPLE, **options)
    assert "\n" not in str(info.value)


def test_an_id_not_in_the_traces_is_warned():
    traces = read_traces(SAMPLE, exclude=["srv-0001", "nobody"])
    assert any("--exclude names 1 server(s) the traces do not have: nobody" in w for w in traces.quality.warnings)


def test_two_files_of_one_server_merge(tmp_path):
    folder = tmp_path / "wide"
    folder.mkdir()
    from consolidate.io.assemble import Samples, assemble

    samples = Samples(server_ids=["a", "b", "a"], codes=np.array([0, 1, 2, 0], dtype=np.int32),
                      time_ns=np.array([0, 0, 300, 600], dtype=np.int64) * 10**9 + 1_700_000_100 * 10**9,
                      cpu=np.array([1, 2, 3, 4], dtype=np.float32))
    traces = assemble(samples, fmt="long", path=folder)
    assert traces.server_ids == ("a", "b")
    np.testing.assert_array_equal(traces.cpu_pct[0], [1, 3, 4])


def test_measured_spans_and_periods(tmp_path):
    path = _long(tmp_path / "t.csv", {"early": ("2024-01-01", "2024-01-03"), "late": ("2024-02-01", "2024-02-03"),
                                      "both": ("2024-01-01", "2024-02-03")})
    traces = read_traces(path)
    per_day = 288
    spans = dict(zip(traces.server_ids, traces.measured.tolist()))
    assert spans["both"] == [0, traces.n_steps]
    assert spans["early"] == [0, 2 * per_day]
    assert spans["late"][1] == traces.n_steps and spans["late"][1] - spans["late"][0] == 2 * per_day
    assert traces.measured_days.tolist() == [pytest.approx(33.0), pytest.approx(2.0), pytest.approx(2.0)]
    warning = next(w for w in traces.quality.warnings if "cover different periods" in w)
    assert "1 from 2024-01-01 to 2024-02-02" in warning and "from 2024-02-01 to 2024-02-02" in warning
    week = traces.steps(per_day, 3 * per_day)
    assert dict(zip(week.server_ids, week.measured.tolist()))["early"] == [0, per_day]
    # not measured inside the window: its filled values are all the window has of it
    assert dict(zip(week.server_ids, week.measured.tolist()))["late"] == [0, 2 * per_day]


def test_inspect_mean_is_that_of_the_samples_read(tmp_path):
    from consolidate.io import inspect_traces

    path = tmp_path / "gap.csv"
    path.write_text("timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,a,10\n2024-01-01T00:05:00Z,a,20\n"
                    "2024-01-01T00:20:00Z,a,40\n2024-01-01T00:00:00Z,b,30\n2024-01-01T00:20:00Z,b,30\n")
    report = inspect_traces(read_traces(path, interval_s=300))
    assert report["cpu_mean_pct"] == pytest.approx((10 + 20 + 40 + 30 + 30) / 5)
    assert report["cpu_mean_grid_pct"] == pytest.approx((10 + 20 + 20 + 20 + 40 + 30 * 5) / 10)
