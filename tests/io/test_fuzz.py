"""Property-based fuzzing of every input the tool reads, through the CLI entry point in-process.

For any malformed long CSV, wide CSV, Parquet file, PlanetLab folder, Bitbrains folder,
inventory or placement, ``consolidate inspect`` / ``plan`` / ``simulate`` exit 0, or exit 2 with
one line on stderr starting ``consolidate: error:`` and no traceback; a failed ``plan`` leaves
nothing in ``--out``.

CI runs a fixed, derandomised set of examples (a few dozen per format, well under a minute).
Longer runs by hand, with fresh random examples::

    CONSOLIDATE_FUZZ_EXAMPLES=2000 python -m pytest tests/io/test_fuzz.py -q

(``CONSOLIDATE_FUZZ_EXAMPLES`` is read only here; any value above the default also turns
derandomisation off, so every long run explores new inputs; Hypothesis prints a failing
example's ``@reproduce_failure`` line.)
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consolidate.cli import main

DEFAULT_EXAMPLES = 12
EXAMPLES = int(os.environ.get("CONSOLIDATE_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=EXAMPLES <= DEFAULT_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

T0 = 1704067200  # 2024-01-01T00:00:00Z

#: Cells that have broken readers, or could: empty, not-a-number tokens, extremes, bad text.
HOSTILE_CELLS = [
    "", " ", "nan", "NaN", "inf", "-inf", "1e30", "-1e308", "1e309", "n/a", "NA", "null", "-", "0", "-5", "1e-320",
    "caf\xe9", "\u00e9\u4e2d", "\x00", "\x1b[31m", '"', '"a,b"', "a;b", "\t", "1,5", "0x1F", "True",
    "3000-01-01", "1970-01-01T00:00:00Z", "1704067200000000", "1704067200000000000", "9" * 40, "x" * 300,
    "2024-13-45T25:61:00", "2024-01-01T00:00:00+25:00", "2024-01-01 00:00", "1704067200.5",
]

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1"]


def run(args: list) -> tuple[int, str]:
    """``consolidate.cli.main(args)``: exit code and stderr (stdout is discarded)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    return code, err.getvalue()


def check(args: list, out: Path | None = None) -> int:
    code, err = run(args)
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err, err
    if code == 2:
        assert err.startswith("consolidate: error: ") and err.count("\n") == 1, err
        if out is not None:
            assert not out.exists() or not any(out.iterdir()), "a failed plan left files in --out"
    return code


# --- file content ---------------------------------------------------------------------------

def table_rows(draw, header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Mutations of a good table: hostile cells, dropped or extra cells, repeated or blank rows, a duplicated column."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 4))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        kind = draw(st.sampled_from(["cell", "cell", "drop", "extra", "repeat", "blank"]))
        if kind == "cell" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(st.sampled_from(HOSTILE_CELLS) | st.text(max_size=8))
        elif kind == "drop" and len(rows[r]) > 1:
            rows[r].pop()
        elif kind == "extra":
            rows[r].append(draw(st.sampled_from(HOSTILE_CELLS)))
        elif kind == "repeat":
            rows.insert(r, list(rows[r]))
        elif kind == "blank":
            rows.insert(r, [])
    if draw(st.booleans()) and draw(st.booleans()):
        header = list(header)
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["", "cores", "Cores", "a", "timestamp", " ", "x" * 300]))
    return [header] + rows


def encode(draw, rows: list[list[str]], delimiter: str = ",") -> bytes:
    """Rows as CSV bytes in a drawn encoding, maybe gzipped, maybe cut short."""
    text = "\n".join(delimiter.join(r) for r in rows) + draw(st.sampled_from(["\n", "", "\r\n"]))
    if draw(st.booleans()) and draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if draw(st.integers(0, 3)) == 0:
        data = gzip.compress(data)
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 6)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    return data


def stamp(t: int, style: str) -> str:
    if style == "iso":
        return pd.Timestamp(t, unit="s", tz="UTC").isoformat()
    if style == "naive":
        return pd.Timestamp(t, unit="s").strftime("%Y-%m-%d %H:%M:%S")
    return str(t * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[style])


@st.composite
def long_csv(draw) -> bytes:
    n, servers = draw(st.integers(1, 12)), draw(st.integers(1, 3))
    style = draw(st.sampled_from(["iso", "naive", "s", "ms", "us", "ns"]))
    step = draw(st.sampled_from([60, 300, 3600]))
    header = ["timestamp", "server_id", "cpu_pct"] + (["mem_gb"] if draw(st.booleans()) else [])
    rows = [[stamp(T0 + i * step, style), f"s{j}", f"{(i * 13 + j) % 100}"] + (["4.0"] if len(header) == 4 else [])
            for i in range(n) for j in range(servers)]
    return encode(draw, table_rows(draw, header, rows), draw(st.sampled_from([",", ",", ";", "\t"])))


@st.composite
def wide_csv(draw) -> bytes:
    n, servers = draw(st.integers(1, 12)), draw(st.integers(1, 3))
    style = draw(st.sampled_from(["iso", "naive", "s", "ms"]))
    header = ["timestamp"] + [f"vm{j}" for j in range(servers)]
    rows = [[stamp(T0 + i * 3600, style)] + [f"{(i * 7 + j) % 100}" for j in range(servers)] for i in range(n)]
    if draw(st.booleans()) and draw(st.booleans()):  # pandas' index column
        header, rows = [""] + header, [[str(i)] + r for i, r in enumerate(rows)]
    return encode(draw, table_rows(draw, header, rows))


PARQUET_VALUES = {
    "float": st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32) | st.sampled_from([0.0, 50.0, 100.0]), min_size=1, max_size=8),
    "int": st.lists(st.integers(-(2**63), 2**63 - 1) | st.sampled_from([T0, T0 * 1000, T0 * 10**9]), min_size=1, max_size=8),
    "text": st.lists(st.sampled_from(HOSTILE_CELLS) | st.text(max_size=6), min_size=1, max_size=8),
    "time": st.lists(st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                                  max_value=pd.Timestamp("2200-01-01").to_pydatetime()), min_size=1, max_size=8),
    "bool": st.lists(st.booleans(), min_size=1, max_size=8),
}


@st.composite
def parquet_file(draw) -> bytes:
    n = draw(st.integers(1, 8))
    names = draw(st.sampled_from([["timestamp", "server_id", "cpu_pct"], ["timestamp", "server_id", "cpu_pct", "mem_gb"],
                                  ["timestamp", "a", "b"], ["time", "x"], ["server_id", "cpu_pct"]]))
    good = {"timestamp": pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC"), "server_id": ["s"] * n,
            "cpu_pct": np.linspace(0, 100, n), "mem_gb": np.full(n, 4.0), "a": np.ones(n), "b": np.ones(n),
            "time": pd.date_range("2024-01-01", periods=n, freq="h"), "x": np.ones(n)}
    frame = pd.DataFrame({k: good[k] for k in names})
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        values = draw(st.sampled_from(sorted(PARQUET_VALUES)).flatmap(lambda k: PARQUET_VALUES[k]))
        frame[name] = pd.Series((values * n)[:n], dtype=object).infer_objects()
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=draw(st.booleans()))
    except Exception:  # noqa: BLE001 - a frame pyarrow cannot write (any reason): write the good one
        buffer = io.BytesIO()
        pd.DataFrame({k: good[k] for k in names}).to_parquet(buffer)
    data = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def planetlab_folder(draw) -> tuple[str, dict[str, bytes]]:
    name = draw(st.sampled_from(["20110303", "20110303", "20111399", "day1"]))
    files = {}
    for j in range(draw(st.integers(1, 3))):
        lines = [[str((i * 3 + j) % 100)] for i in range(draw(st.integers(0, 300)))]
        rows = table_rows(draw, ["0"], lines)
        files[draw(st.sampled_from([f"vm{j}", f"vm{j}.gz", f".hidden{j}", f"README{j}.md"]))] = encode(draw, rows)
    return name, files


BITBRAINS_HEADER = ["Timestamp [ms]", "\tCPU cores", "\tCPU capacity provisioned [MHZ]", "\tCPU usage [MHZ]", "\tCPU usage [%]",
                    "\tMemory capacity provisioned [KB]", "\tMemory usage [KB]"]


@st.composite
def bitbrains_folder(draw) -> tuple[str, dict[str, bytes]]:
    files = {}
    for j in range(draw(st.integers(1, 3))):
        off = draw(st.booleans())
        rows = [[str(1373321071 + 300 * i), "\t0" if off and i % 2 else "\t2", "\t0.0" if off and i % 2 else "\t5851.9",
                 f"\t{i * 10.5}", "\t1.0", "\t8388608.0", "\t1537908.5"] for i in range(draw(st.integers(0, 20)))]
        files[draw(st.sampled_from([f"{j}.csv", f"{j}.csv.gz"]))] = encode(draw, table_rows(draw, BITBRAINS_HEADER, rows), ";")
    return "2013-7", files


@st.composite
def inventory_csv(draw) -> bytes:
    rows = [["a", "4", "8", "2.5", "16"], ["b", "2", "", "3.0", "8"]]
    if draw(st.booleans()):
        rows = [[f"pl{i:04d}", "4", "8", "2.5", "16"] for i in range(3)]
    return encode(draw, table_rows(draw, ["server_id", "cores", "threads", "ghz", "ram_gb"], rows))


@st.composite
def placement_csv(draw) -> bytes:
    rows = [["a", "host-001", "custom"], ["b", draw(st.sampled_from(["host-001", "host-002", "", "h"])), "custom"]]
    return encode(draw, table_rows(draw, ["server_id", "host_id", "host_model"], rows))


GOOD_LONG = "timestamp,server_id,cpu_pct\n" + "".join(
    f"{pd.Timestamp(T0 + i * 300, unit='s', tz='UTC').isoformat()},{s},{(i * 11) % 90}\n" for i in range(24) for s in "ab")


# --- the properties --------------------------------------------------------------------------

def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@FUZZ
@given(data=long_csv(), name=st.sampled_from(["t.csv", "t.csv.gz", "t.txt"]), fmt=st.sampled_from(["auto", "long", "wide"]))
def test_fuzz_long_csv(data, name, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        check(["inspect", _write(Path(tmp), name, data), "--format", fmt])


@FUZZ
@given(data=wide_csv(), fmt=st.sampled_from(["auto", "wide", "long"]))
def test_fuzz_wide_csv(data, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        check(["inspect", _write(Path(tmp), "w.csv", data), "--format", fmt])


@FUZZ
@given(data=parquet_file(), fmt=st.sampled_from(["auto", "long", "wide"]))
def test_fuzz_parquet(data, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        check(["inspect", _write(Path(tmp), "t.parquet", data), "--format", fmt])


def _folder(tmp: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = tmp / name
    folder.mkdir()
    for file, data in files.items():
        (folder / file).write_bytes(data)
    return folder


@FUZZ
@given(folder=planetlab_folder(), fmt=st.sampled_from(["auto", "planetlab"]), interval=st.sampled_from([None, "300", "3600", "90000"]))
def test_fuzz_planetlab_folder(folder, fmt, interval):
    with tempfile.TemporaryDirectory() as tmp:
        args = ["inspect", _folder(Path(tmp), *folder), "--format", fmt]
        check(args + (["--interval", interval] if interval else []))


@FUZZ
@given(folder=bitbrains_folder(), fmt=st.sampled_from(["auto", "bitbrains"]))
def test_fuzz_bitbrains_folder(folder, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        check(["inspect", _folder(Path(tmp), *folder), "--format", fmt])


@FUZZ
@given(data=inventory_csv())
def test_fuzz_inventory(data):
    with tempfile.TemporaryDirectory() as tmp:
        traces = _write(Path(tmp), "t.csv", GOOD_LONG.encode())
        check(["inspect", traces, "--inventory", _write(Path(tmp), "inv.csv", data)])


@FUZZ
@given(data=placement_csv())
def test_fuzz_placement(data):
    with tempfile.TemporaryDirectory() as tmp:
        traces = _write(Path(tmp), "t.csv", GOOD_LONG.encode())
        check(["simulate", traces, "--placement", _write(Path(tmp), "p.csv", data), "--host-spec",
               "cores=16,ghz=2.5,ram_gb=256,idle_w=86,max_w=117"])


@settings(FUZZ, max_examples=max(4, EXAMPLES // 3))
@given(data=long_csv() | wide_csv())
def test_fuzz_plan_leaves_nothing_on_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        check(["plan", _write(Path(tmp), "t.csv", data), "--out", out, "--quiet", "--time-limit", "1"], out)


@pytest.mark.parametrize("args", [["--interval", "0"], ["--interval", "86400000"], ["--timezone", "Mars/Base"],
                                  ["--columns", "cpu_pct="], ["--format", "nope"]])
def test_hostile_options(tmp_path, args):
    check(["inspect", _write(tmp_path, "t.csv", GOOD_LONG.encode()), *args])
