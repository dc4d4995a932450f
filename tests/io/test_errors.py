"""Every user mistake in reading traces ends in one InputError line naming what to fix."""

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consolidate.errors import InputError
from consolidate.io import FORMATS, parse_columns, read_bitbrains, read_long, read_planetlab, read_traces, read_wide

HEADER = "timestamp,server_id,cpu_pct\n"
ROW = "2024-01-01T00:00:00Z,s1,5\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def raises(match: str, fn, *args, **kwargs) -> str:
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message  # one line
    return message


def test_missing_file_and_folder(tmp_path):
    raises("no such file or folder", read_traces, tmp_path / "nope.csv")
    raises("no such file or folder", read_planetlab, tmp_path / "20200101")


def test_empty_and_header_only_files(tmp_path):
    raises("empty", read_traces, write(tmp_path / "e.csv", ""))
    raises("empty", read_traces, write(tmp_path / "w.csv", "\n \n"))
    raises("header .* but no samples", read_traces, write(tmp_path / "h.csv", HEADER))
    raises("empty", read_traces, tmp_path / "e.csv", format="long")


def test_binary_garbage(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    raises("not a text CSV", read_traces, path)
    raises("not a text CSV", read_long, path)
    zipped = tmp_path / "z.csv.gz"
    zipped.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    raises("gzip data is damaged", read_traces, zipped)


def test_undetectable_file_and_folder(tmp_path):
    message = raises("cannot tell the format", read_traces, write(tmp_path / "x.csv", "foo,bar\nx,y\n"))
    assert "--format" in message and "planetlab" in message and "wide" in message
    folder = tmp_path / "f"
    folder.mkdir()
    write(folder / "a.txt", "hello world\nmore words\n")
    assert "--format" in raises("cannot tell the format", read_traces, folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    raises("holds no trace files", read_traces, empty)


def test_missing_column_lists_found_columns(tmp_path):
    path = write(tmp_path / "m.csv", "timestamp,server_id,load\n2024-01-01T00:00:00Z,s,1\n")
    message = raises("missing column 'cpu_pct'", read_traces, path)
    assert "timestamp, server_id, load" in message and "--columns cpu_pct=" in message
    raises("missing column 'cpu_pct'", read_traces, path, format="long")


def test_unparsable_timestamp_names_line_and_value(tmp_path):
    path = write(tmp_path / "t.csv", HEADER + ROW + "2024-01-01T00:05:00Z,s1,5\nyesterday,s1,5\n")
    message = raises("line 4", read_traces, path)
    assert "'yesterday'" in message and "ISO 8601" in message
    raises("line 3: the timestamp is empty", read_long, write(tmp_path / "e.csv", HEADER + ROW + ",s1,5\n"))
    pq.write_table(pa.table({"timestamp": ["2024-01-01", "soon"], "server_id": ["a", "a"], "cpu_pct": [1.0, 2.0]}), tmp_path / "t.parquet")
    raises("row 2: cannot read timestamp 'soon'", read_traces, tmp_path / "t.parquet")


def test_non_numeric_utilisation_names_line_column_value(tmp_path):
    path = write(tmp_path / "n.csv", HEADER + ROW + ROW + "2024-01-01T00:10:00Z,s1,high\n")
    message = raises("line 4, column 'cpu_pct': 'high' is not a number", read_traces, path)
    assert str(path) in message
    wide = write(tmp_path / "w.csv", "time,a,b\n2024-01-01 00:00,1,2\n2024-01-01 00:05,1,x\n")
    raises("line 3, column 'b': 'x' is not a number", read_wide, wide)
    pq.write_table(pa.table({"timestamp": ["2024-01-01", "2024-01-02"], "server_id": ["a", "a"], "cpu_pct": ["1", "lots"]}), tmp_path / "n.parquet")
    raises("row 2: 'lots' is not a number", read_traces, tmp_path / "n.parquet")


def test_ragged_rows(tmp_path):
    raises("cannot read the CSV .*Expected 3 columns", read_traces, write(tmp_path / "r.csv", HEADER + ROW + "2024-01-01T00:05:00Z,s1\n"))


def test_unknown_format():
    message = raises("unknown format 'csv'", read_traces, "whatever", format="csv")
    assert ", ".join(FORMATS) in message


@pytest.mark.parametrize("text", ["", "timestamp", "timestamp=", "=Time", "time=Time", "cpu_pct=a,cpu_pct=b", ",,"])
def test_bad_columns_text(text):
    with pytest.raises(InputError, match="--columns"):
        parse_columns(text)


def test_columns_naming_absent_column_or_wrong_format(tmp_path):
    path = write(tmp_path / "c.csv", HEADER + ROW)
    message = raises("no column 'CPU' \\(given for cpu_pct in --columns\\)", read_traces, path, columns={"cpu_pct": "CPU"})
    assert "found columns: timestamp, server_id, cpu_pct" in message
    raises("not a column the tool knows", read_traces, path, columns={"load": "cpu_pct"})
    day = tmp_path / "20200101"
    day.mkdir()
    write(day / "vm", "1\n2\n")
    raises("does not apply to the planetlab format", read_traces, day, columns={"cpu_pct": "x"})
    raises("wide file only maps its timestamp", read_wide, write(tmp_path / "w.csv", "time,a\n2024-01-01,1\n"), columns={"server_id": "a"})


def test_unknown_timezone(tmp_path):
    path = write(tmp_path / "z.csv", HEADER + ROW)
    raises("--timezone 'Mars/Olympus' is not a known IANA time zone", read_traces, path, timezone="Mars/Olympus")


def test_bad_interval(tmp_path):
    path = write(tmp_path / "i.csv", HEADER + ROW + "2024-01-01T00:05:00Z,s1,5\n")
    raises("--interval", read_traces, path, interval_s=0)
    raises("--interval", read_traces, path, interval_s=2.5)
    raises("--interval", read_traces, write(tmp_path / "one.csv", HEADER + ROW))


def test_no_usable_cpu_value(tmp_path):
    raises("no server has a usable CPU value", read_traces, write(tmp_path / "n.csv", HEADER + "2024-01-01T00:00:00Z,s1,\n2024-01-01T00:05:00Z,s1,\n"))


def test_empty_server_id(tmp_path):
    raises("line 3: the server id is empty", read_traces, write(tmp_path / "s.csv", HEADER + ROW + "2024-01-01T00:05:00Z, ,5\n"))


def test_wide_duplicate_or_missing_server_columns(tmp_path):
    raises("more than once", read_wide, write(tmp_path / "d.csv", "time,a,a\n2024-01-01,1,2\n"))
    raises("needs one column per server", read_wide, write(tmp_path / "o.csv", "time\n2024-01-01\n"))


def test_planetlab_errors(tmp_path):
    bad_name = tmp_path / "march"
    bad_name.mkdir()
    write(bad_name / "vm", "1\n")
    raises("named after its day as YYYYMMDD", read_planetlab, bad_name)
    day = tmp_path / "20200101"
    day.mkdir()
    write(day / "vm1", "1\n2\n")
    write(day / "vm2", "1\n2\nthree\n")
    raises("vm2: line 3: 'three' is not a number", read_planetlab, day)
    write(day / "vm2", "1\n2 3\n")
    raises("vm2: line 2 holds '2 3'", read_planetlab, day)
    raises("reads a folder", read_planetlab, day / "vm1")


def test_bitbrains_errors(tmp_path):
    folder = tmp_path / "bb"
    folder.mkdir()
    header = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ]\n"
    write(folder / "1.csv", header + "1372629600;\t1;\t2000;\t10\n")
    raises("missing column 'Memory capacity provisioned \\[KB\\]'", read_bitbrains, folder)
    full = ("Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\t"
            "Memory capacity provisioned [KB];\tMemory usage [KB]\n")
    write(folder / "1.csv", full + "1372629600;\t1;\t2000;\t10;\t1024;\t512\n1372629900;\t1;\t2000;\tbusy;\t1024;\t512\n")
    raises("1.csv: line 3, column 'CPU usage \\[MHZ\\]': 'busy' is not a number", read_bitbrains, folder)
    (folder / "1.csv.gz").write_bytes(gzip.compress(b"x"))
    raises("two files for server '1'", read_bitbrains, folder)
    raises("reads a folder", read_bitbrains, folder / "1.csv")


def test_long_and_wide_need_a_file(tmp_path):
    raises("reads .*file.*not a folder", read_long, tmp_path)
    raises("reads .*file.*not a folder", read_traces, tmp_path, format="wide")


def test_damaged_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 100)
    raises("cannot read the Parquet file", read_traces, path)
