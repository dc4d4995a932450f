"""Hostile inputs from the issue, each through the CLI in-process: exit 0 with a sane result, or
exit 2 with one line naming the file, row or column (or the option), what is wrong and what to do."""

import builtins
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from consolidate.cli import main
from consolidate.io import detect

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
T0 = 1704067200  # 2024-01-01T00:00:00Z


def long_text(n: int = 20, fmt=lambda t: pd.Timestamp(t, unit="s", tz="UTC").isoformat(), mem: str = "2.0") -> str:
    rows = ["timestamp,server_id,cpu_pct,mem_gb"]
    rows += [f"{fmt(T0 + i * 300)},{s},{(i * 7) % 50},{mem}" for i in range(n) for s in ("a", "b")]
    return "\n".join(rows) + "\n"


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def fails(capsys, args, *words) -> str:
    """The one error line of a run that must exit 2; each of ``words`` must appear in it."""
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("consolidate: error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def inspected(capsys, args) -> dict:
    """inspect --json of a run that must exit 0."""
    code = main(["inspect", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def good(tmp_path) -> Path:
    return write(tmp_path / "good.csv", long_text())


# --- tracebacks seen -------------------------------------------------------------------------

def test_truncated_csv_gz(tmp_path, capsys):
    data = gzip.compress(long_text(3000).encode())
    path = write(tmp_path / "t.csv.gz", data[: len(data) // 2])
    fails(capsys, ["inspect", path], "t.csv.gz", "gzip data is damaged or cut short", "re-download")


def test_corrupt_gzip_checksum(tmp_path, capsys):
    data = bytearray(gzip.compress(long_text().encode()))
    data[-6] ^= 0xFF
    fails(capsys, ["inspect", write(tmp_path / "c.csv.gz", bytes(data))], "gzip data is damaged")


@pytest.mark.parametrize("unit,scale", [("milliseconds", 10**3), ("microseconds", 10**6), ("nanoseconds", 10**9)])
def test_epoch_units_inferred_from_magnitude(tmp_path, capsys, unit, scale):
    path = write(tmp_path / "e.csv", long_text(fmt=lambda t: str(t * scale)))
    report = inspected(capsys, [path])
    assert report["start"] == "2024-01-01T00:00:00Z" and report["interval_s"] == 300
    assert report["repairs"][f"epoch_{unit}_timestamps"] == 40


def test_epoch_microseconds_not_read_as_milliseconds(tmp_path, capsys):
    report = inspected(capsys, [write(tmp_path / "us.csv", long_text(fmt=lambda t: str(t * 10**6)))])
    assert report["duration_days"] < 1  # not 8,000 days ending in 2190


def test_dates_in_year_3000(tmp_path, capsys):
    path = write(tmp_path / "y.csv", long_text().replace("2024-01-01T00:05", "3000-01-01T00:05"))
    fails(capsys, ["inspect", path], "line 4", "year 3000", "between 1990-01-01 and 2100-01-01")


def test_year_3000_typed_parquet(tmp_path, capsys):
    stamps = pd.Series(pd.to_datetime(["2024-01-01", "3000-01-01"]).as_unit("us"))
    frame = pd.DataFrame({"timestamp": stamps, "server_id": ["a", "a"], "cpu_pct": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "y.parquet")
    fails(capsys, ["inspect", tmp_path / "y.parquet"], "row 2", "between 1990-01-01")


def test_epoch_outside_plausible_range(tmp_path, capsys):
    path = write(tmp_path / "e.csv", "timestamp,server_id,cpu_pct\n1700000000,a,1\n1700000300,a,1\n99999999999,a,1\n")
    fails(capsys, ["inspect", path], "line 4", "epoch seconds", "between 1990-01-01")


def test_one_5mb_line(tmp_path, capsys, good):
    path = write(tmp_path / "l.csv", good.read_text() + "2024-01-02T00:00:00Z," + "x" * 5_000_000 + ",1,1\n")
    err = fails(capsys, ["inspect", path], "line 42", "longer than 255 characters")
    assert len(err) < 1000


def test_one_5mb_header(tmp_path, capsys):
    path = write(tmp_path / "h.csv", "timestamp,server_id,cpu_pct" + "y" * 5_000_000 + "\n1,2,3\n")
    err = fails(capsys, ["inspect", path], "missing column 'cpu_pct'", "5,000,007 characters")
    assert len(err) < 1000


def _deny(monkeypatch, *names):
    """Opening a file whose name ends in one of ``names`` fails as under chmod 000 (the tests may run as root)."""
    real = builtins.open

    def fake(path, *args, **kwargs):
        if str(path).endswith(names):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(detect, "open", fake, raising=False)


def test_unreadable_traces_file(tmp_path, capsys, monkeypatch, good):
    _deny(monkeypatch, "good.csv")
    fails(capsys, ["inspect", good], "good.csv: permission denied", "read access")


def test_unreadable_file_in_trace_folder(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "20110303"
    folder.mkdir()
    for name in ("vm1", "vm2"):
        write(folder / name, "5\n" * 288)
    _deny(monkeypatch, "vm2")
    fails(capsys, ["inspect", folder], "vm2: permission denied")


def test_unreadable_inventory_and_placement(tmp_path, capsys, monkeypatch, good):
    inv = write(tmp_path / "inv.csv", "server_id,cores,ghz,ram_gb\na,4,2.5,16\nb,4,2.5,16\n")
    placement = write(tmp_path / "placement.csv", "server_id,host_id\na,h1\nb,h1\n")
    _deny(monkeypatch, "inv.csv", "placement.csv")
    fails(capsys, ["inspect", good, "--inventory", inv], "inv.csv: permission denied")
    fails(capsys, ["simulate", good, "--placement", placement], "placement.csv: permission denied")


def test_latin1_inventory(tmp_path, capsys, good):
    inv = write(tmp_path / "inv.csv", "server_id,cores,ghz,ram_gb,model\na,4,2.5,16,Caf\xe9\nb,4,2.5,16,x\n".encode("latin-1"))
    report = inspected(capsys, [good, "--inventory", inv])
    assert report["inventory_defaulted"] == 0


def test_gzip_inventory(tmp_path, capsys, good):
    inv = write(tmp_path / "inv.csv", gzip.compress(b"server_id,cores,ghz,ram_gb\na,4,2.5,16\nb,4,2.5,32\n"))
    assert inspected(capsys, [good, "--inventory", inv])["ram_total_gb"] == 48.0


def test_inventory_with_cores_and_Cores(tmp_path, capsys, good):
    inv = write(tmp_path / "inv.csv", "server_id,cores,Cores,ghz,ram_gb\na,4,4,2.5,16\n")
    fails(capsys, ["inspect", good, "--inventory", inv], "inv.csv", "'cores' more than once", "keep one")


def test_placement_naming_a_folder(tmp_path, capsys, good):
    folder = tmp_path / "plan"
    folder.mkdir()
    fails(capsys, ["simulate", good, "--placement", folder], "plan: is a folder", "--placement takes the CSV file")


def test_gzip_and_latin1_placement(tmp_path, capsys, good):
    path = write(tmp_path / "p.csv", gzip.compress(b"server_id,host_id\na,h1\nb,h1\n"))
    assert main(["simulate", str(good), "--placement", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["placed"] == 2


# --- nonsense accepted with exit 0 ------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "1e30"])
def test_mem_gb_inf_or_1e30_counted(tmp_path, capsys, value):
    text = long_text().replace(",2.0\n", f",{value}\n", 1)
    report = inspected(capsys, [write(tmp_path / "m.csv", text)])
    counted = report["repairs"]["mem_infinite_as_missing"] + report["repairs"]["mem_implausible_as_missing"]
    assert counted == 1 and report["mem_max_gb"] == 2.0
    assert any("cannot be real" in w for w in report["warnings"])


def test_inventory_ram_inf_or_1e30(tmp_path, capsys, good):
    for value, words in (("inf", "not a finite number"), ("1e30", "more than any server has")):
        inv = write(tmp_path / "inv.csv", f"server_id,cores,ghz,ram_gb\na,4,2.5,{value}\n")
        fails(capsys, ["inspect", good, "--inventory", inv], "line 2, column 'ram_gb'", words)


def test_two_samples_54_years_apart(tmp_path, capsys):
    path = write(tmp_path / "a.csv", "timestamp,server_id,cpu_pct\n1970-01-01T00:00:00Z,a,1\n2024-01-01T00:00:00Z,a,2\n")
    fails(capsys, ["inspect", path], "line 2", "1970-01-01", "between 1990-01-01")
    path = write(tmp_path / "b.csv", "timestamp,server_id,cpu_pct\n1990-01-02T00:00:00Z,a,1\n2024-01-01T00:00:00Z,a,2\n")
    fails(capsys, ["inspect", path], "days apart", "1-day limit", "--interval")


def test_wide_csv_with_pandas_index_column(tmp_path, capsys):
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=30, freq="h", tz="UTC"), "a": 5.0, "b": 7.0})
    frame.to_csv(tmp_path / "w.csv")  # index=True: an unnamed first column 0, 1, 2, ...
    report = inspected(capsys, [tmp_path / "w.csv"])
    assert report["servers"] == 2 and report["cpu_max_pct"] == 7.0
    assert any("pandas index" in w for w in report["warnings"])


def test_wide_csv_with_empty_server_column_name(tmp_path, capsys):
    path = write(tmp_path / "w.csv", "timestamp,a,\n2024-01-01T00:00:00Z,1,2\n2024-01-01T01:00:00Z,1,2\n")
    fails(capsys, ["inspect", path], "column 3 has no name", "name it or delete the column")


def test_interval_86400000(capsys, good):
    fails(capsys, ["inspect", good, "--interval", "86400000"], "--interval 86,400,000 s", "at most 86400 s")


def test_interval_longer_than_span(capsys, good):
    fails(capsys, ["inspect", good, "--interval", "7200"], "longer than the traces' span", "smaller --interval")


# --- misleading messages --------------------------------------------------------------------

def test_latin1_byte_in_an_id(tmp_path, capsys):
    path = write(tmp_path / "l.csv", long_text().replace(",a,", ",caf\xe9,").encode("latin-1"))
    report = inspected(capsys, [path])
    assert report["servers"] == 2 and any("cp1252" in w for w in report["warnings"])


def test_latin1_byte_past_the_head(tmp_path, capsys):
    text = long_text(2000) + f"{pd.Timestamp(T0 + 2000 * 300, unit='s', tz='UTC').isoformat()},caf\xe9,1,1\n"
    report = inspected(capsys, [write(tmp_path / "l.csv", text.encode("latin-1"))])
    assert report["servers"] == 3 and any("cp1252" in w for w in report["warnings"])


@pytest.mark.parametrize("encoding,named", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16 LE"), ("utf-16-be", "UTF-16 BE"),
                                            ("utf-8-sig", None)])
def test_utf16_and_bom_files(tmp_path, capsys, encoding, named):
    report = inspected(capsys, [write(tmp_path / "u.csv", long_text().encode(encoding))])
    assert report["servers"] == 2 and report["samples"] == 40
    assert any(named in w for w in report["warnings"]) if named else not any("read as" in w for w in report["warnings"])


def test_gzip_bytes_in_a_csv(tmp_path, capsys):
    report = inspected(capsys, [write(tmp_path / "g.csv", gzip.compress(long_text().encode()))])
    assert report["samples"] == 40


def test_other_compression_named(tmp_path, capsys):
    fails(capsys, ["inspect", write(tmp_path / "b.csv", b"BZh91AY&SY" + bytes(range(50)))], "bzip2-compressed", "gzip")


def test_format_wide_on_a_long_file(capsys, good):
    fails(capsys, ["inspect", good, "--format", "wide"], "'server_id' column", "long format", "--format long")


def test_format_long_on_a_wide_file(tmp_path, capsys):
    path = write(tmp_path / "w.csv", "timestamp,a,b\n2024-01-01T00:00:00Z,1,2\n2024-01-01T01:00:00Z,1,2\n")
    fails(capsys, ["inspect", path, "--format", "long"], "missing column 'server_id'", "--format wide")


@pytest.mark.parametrize("token", ["n/a", "NA", "null", "-"])
def test_one_na_cell_in_a_wide_file(tmp_path, capsys, token):
    path = write(tmp_path / "w.csv", f"timestamp,a,b\n2024-01-01T00:00:00Z,1,{token}\n2024-01-01T01:00:00Z,1,2\n"
                                     "2024-01-01T02:00:00Z,1,2\n")
    report = inspected(capsys, [path])
    assert report["format"] == "wide" and report["repairs"]["cpu_empty_values"] == 1


# --- an inventory that matches nothing ------------------------------------------------------

def test_planetlab_folder_with_inventory_keyed_pl0000(tmp_path, capsys):
    inv = write(tmp_path / "inv.csv", "server_id,cores,ghz,ram_gb\n" + "".join(f"pl{i:04d},4,2.5,16\n" for i in range(20)))
    fails(capsys, ["plan", SAMPLES / "planetlab" / "20110303", "--inventory", inv, "--out", tmp_path / "out", "--quiet"],
          "names none of the 20 traced servers", "traces: e.g. '146-179", "inventory: e.g. 'pl0000'")
    assert not (tmp_path / "out").exists()


def test_inventory_naming_few_servers_is_loud(tmp_path, capsys):
    rows = "".join(f"pl{i:04d},4,2.5,16\n" for i in range(5)) + "pl1_planetlab_uvic_ca_tum_i2p,4,2,8\n"
    inv = write(tmp_path / "inv.csv", "server_id,cores,ghz,ram_gb\n" + rows)
    report = inspected(capsys, [SAMPLES / "planetlab" / "20110303", "--inventory", inv])
    loud = [w for w in report["warnings"] if w.startswith("THE INVENTORY NAMES ONLY 1 OF 20")]
    assert loud and "under the 50%" in loud[0] and "inventory: e.g. 'pl0000'" in loud[0]


# --- real dirty data not reported -----------------------------------------------------------

def test_bitbrains_no_measurement_rows_counted_and_named(capsys):
    report = inspected(capsys, [SAMPLES / "bitbrains" / "2013-7"])
    assert report["repairs"]["bitbrains_no_measurement_rows"] == 576 + 1503
    warning = next(w for w in report["warnings"] if "say no measurement" in w)
    assert "most affected: 38 (576 of 576), 54 (1,503 of 1,504)" in warning


def test_bitbrains_no_measurement_rows_are_gaps(capsys):
    """The 0-core rows are gaps: VM 38 (none measured) is left out, VM 54 is sized from its one measured row."""
    report = inspected(capsys, [SAMPLES / "bitbrains" / "2013-7"])
    assert report["servers"] == 4 and report["repairs"]["servers_dropped_no_samples"] == 1
    assert any("treated as missing samples" in w for w in report["warnings"])
    assert any("without a single usable CPU value: 38" in w for w in report["warnings"])


def test_messages_quote_file_content_on_one_short_line(tmp_path, capsys):
    path = write(tmp_path / "q.csv", 'timestamp,server_id,cpu_pct\n2024-01-01T00:00:00Z,a,"1\n' + "9" * 500 + 'x"\n')
    err = fails(capsys, ["inspect", path], "is not a number")
    assert len(err) < 600
