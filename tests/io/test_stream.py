"""The streaming long reader against the whole-table reader it replaced, on the bundled sample and
on generated files (time order, server order, shuffled; gaps, duplicates, empty cells, bad values;
epoch numbers; errors), read in many small blocks; part folders, fsspec URLs, the server pushdown."""

from __future__ import annotations

from pathlib import Path

import importlib

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import consolidate.io.grid as grid
import consolidate.io.long as long
from consolidate.errors import InputError
from consolidate.io import _selection, read_traces
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import existing
from consolidate.io.formats import detect_format
from consolidate.io.grid import median_spacing_ns
from consolidate.io.tabular import (
    CANONICAL, check_ids, column_map, epoch_or_time_type, float32_values, parquet_names, read_csv_columns,
    read_parquet_columns, require, sniff_csv, table_note,
)
from consolidate.io.timestamps import to_utc_ns

#: The module, not the function the package exports under its name.
assemble_module = importlib.import_module("consolidate.io.assemble")

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


# --- the whole-table reader as it was before the streaming one (the reference) --------------------

def _whole_server_codes(column, where, locate):
    if column.null_count:
        raise InputError(f"{where}, {locate(pc.index(pc.is_null(column), True).as_py())}: the server id is empty; every sample needs one")
    if not pa.types.is_dictionary(column.type):
        try:
            column = pc.dictionary_encode(column.cast(pa.string()))
        except pa.ArrowException:
            raise InputError(f"{where}: holds {column.type} values, not server ids; give text or numbers") from None
    known = pa.array([], type=pa.string())
    parts = []
    for chunk in column.chunks:
        local = pc.utf8_trim_whitespace(chunk.dictionary.cast(pa.string()))
        where_known = pc.index_in(local, value_set=known)
        new = pc.unique(pc.filter(local, pc.is_null(where_known)))
        if len(new):
            known = pa.concat_arrays([known, new])
            where_known = pc.index_in(local, value_set=known)
        mapping = where_known.to_numpy(zero_copy_only=False).astype(np.int32)
        parts.append(mapping[chunk.indices.to_numpy(zero_copy_only=False)])
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    ids = known.to_pylist()
    if "" in ids:
        raise InputError(f"{where}, {locate(int(np.argmax(codes == ids.index(''))))}: the server id is empty; every sample needs one")
    check_ids(ids, where, lambda k: locate(int(np.argmax(codes == k))))
    return ids, codes


def _whole_samples(path: Path, columns=None, timezone=None) -> Samples:
    if path.suffix.lower() == ".parquet":
        names = parquet_names(path)
        found = column_map(names, columns, CANONICAL, path)
        require(found, long.NEEDED, names, path)
        table = read_parquet_columns(path, [found[c] for c in long._Reader._wanted(found)])
        note = None

        def locate(i):
            return f"row {i + 1}"
    else:
        head = sniff_csv(path)
        found = column_map(head.names, columns, CANONICAL, path)
        require(found, long.NEEDED, head.names, path)
        first = dict(zip(head.names, head.rows[0]))
        types = {found["timestamp"]: epoch_or_time_type(first.get(found["timestamp"], "")),
                 found["server_id"]: pa.dictionary(pa.int32(), pa.string())}
        types.update({found[c]: pa.float32() for c in ("cpu_pct", "mem_gb", "mem_pct") if c in found})
        table = read_csv_columns(head, {found[c]: types[found[c]] for c in long._Reader._wanted(found)}, found["timestamp"])
        note = table_note(path, table)

        def locate(i):
            return f"line {i + 2}"
    counts: dict[str, int] = {}
    time_ns = to_utc_ns(table[found["timestamp"]], timezone=timezone, where=f"{path}, column {found['timestamp']!r}",
                        locate=locate, counts=counts)
    ids, codes = _whole_server_codes(table[found["server_id"]], f"{path}, column {found['server_id']!r}", locate)
    cpu = float32_values(table[found["cpu_pct"]], f"{path}, column {found['cpu_pct']!r}", locate)
    mem_unit = "gb" if "mem_gb" in found else "pct" if "mem_pct" in found else None
    mem = None
    if mem_unit is not None:
        name = found[f"mem_{mem_unit}"]
        mem = float32_values(table[name], f"{path}, column {name!r}", locate)
    return Samples(server_ids=ids, codes=codes, time_ns=time_ns, cpu=cpu, mem=mem, mem_unit=mem_unit, counts=counts,
                   notes=[note] if note else [])


def _whole_read(path: Path, inventory=None, servers=None, **window):
    return assemble(_whole_samples(path), fmt="long", path=path, inventory=inventory,
                    selection=_selection(window.get("start"), window.get("end"), window.get("exclude"), servers))


def _same(a, b, source=True):
    assert a.server_ids == b.server_ids
    assert a.start == b.start and a.interval_s == b.interval_s
    np.testing.assert_array_equal(a.cpu_pct, b.cpu_pct)
    if a.mem_gb is None:
        assert b.mem_gb is None
    else:
        np.testing.assert_array_equal(a.mem_gb, b.mem_gb)
    np.testing.assert_array_equal(a.measured, b.measured)
    pd.testing.assert_frame_equal(pd.DataFrame(a.inventory.__dict__) if not isinstance(a.inventory, pd.DataFrame) else a.inventory,
                                  pd.DataFrame(b.inventory.__dict__) if not isinstance(b.inventory, pd.DataFrame) else b.inventory)
    qa, qb = a.quality, b.quality
    assert (qa.samples, qa.counts, qa.warnings, qa.conversions) == (qb.samples, qb.counts, qb.warnings, qb.conversions)
    assert list(qa.counts) == list(qb.counts)
    assert qa.missing_pct == qb.missing_pct and qa.cpu_mean_measured_pct == qb.cpu_mean_measured_pct
    if source:
        assert a.source == b.source


def _outcome(fn):
    try:
        return fn()
    except InputError as err:
        return f"InputError: {err}"


def _check(path: Path, **kwargs):
    new = _outcome(lambda: read_traces(path, format="long", **kwargs))
    old = _outcome(lambda: _whole_read(path, **kwargs))
    if isinstance(old, str) or isinstance(new, str):
        assert new == old
    else:
        _same(new, old)
    return new


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few hundred rows, and the interval detection in batches of a few servers."""
    monkeypatch.setattr(long, "STREAM_BLOCK_BYTES", 1 << 13)
    monkeypatch.setattr(long, "PARQUET_BATCH_ROWS", 97)
    monkeypatch.setattr(long, "CONVERT_ROWS", 50)
    monkeypatch.setattr(grid, "GATHER_SAMPLES", 300)
    monkeypatch.setattr(grid, "SUM_ROWS", 3)
    monkeypatch.setattr(assemble_module, "REPAIR_SAMPLES", 64)
    monkeypatch.setattr(assemble_module, "RENUMBER_SAMPLES", 50)


def _estate(order: str, seed: int = 0, servers: int = 12, steps: int = 300, dirty: bool = True,
            mem: str | None = "mem_gb") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-03-01", periods=steps, freq="300s", tz="UTC")
    frame = pd.DataFrame({
        "timestamp": np.tile(times, servers),
        "server_id": np.repeat([f"srv-{i:03d}" for i in range(servers)], steps),
        "cpu_pct": rng.uniform(0, 90, servers * steps).round(2),
    })
    if mem:
        frame[mem] = rng.uniform(1, 60, len(frame)).round(2)
    if dirty:
        frame = frame.drop(index=rng.choice(len(frame), len(frame) // 20, replace=False))  # gaps
        frame = frame[~((frame.server_id == "srv-003") & (frame.timestamp < times[steps // 2]))]  # late start
        dupes = frame.sample(n=len(frame) // 30, random_state=seed).assign(cpu_pct=lambda f: f.cpu_pct + 1)
        frame = pd.concat([frame, dupes])
        cells = rng.choice(len(frame), 40, replace=False)
        frame.iloc[cells[:15], 2] = np.nan  # empty cells
        frame.iloc[cells[15:20], 2] = -3.0
        frame.iloc[cells[20:25], 2] = 140.0
        frame.iloc[cells[25:30], 2] = np.inf
        if mem:
            frame.iloc[cells[30:], 3] = np.nan
    if order == "time":
        frame = frame.sort_values(["timestamp", "server_id"], kind="stable")
    elif order == "server":
        frame = frame.sort_values(["server_id", "timestamp"], kind="stable")
    else:
        frame = frame.sample(frac=1.0, random_state=seed + 1)
    frame["timestamp"] = frame.timestamp.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame.reset_index(drop=True)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=211)
    else:
        frame.to_csv(path, index=False)
    return path


def test_the_bundled_samples_read_alike(small_blocks):
    _check(SAMPLES / "traces.csv")
    _check(SAMPLES / "traces.csv", inventory=SAMPLES / "inventory.csv", start="2024-01-02", exclude="srv-0001")


@pytest.mark.parametrize("order", ["time", "server", "shuffled"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generated_files_read_alike(tmp_path, small_blocks, order, suffix):
    for seed, mem in ((0, "mem_gb"), (1, "mem_pct"), (2, None)):
        path = _write(_estate(order, seed, mem=mem), tmp_path / f"t{seed}{suffix}")
        traces = _check(path)
        assert traces.quality.counts["duplicates_merged"] > 0 and traces.quality.counts["gaps_filled"] > 0
        _check(path, servers=["srv-001", "srv-003", "nope"])
        _check(path, servers=["srv-005"], start="2024-03-01T10:00:00Z", exclude="srv-005")


def test_epoch_numbers_in_every_unit(tmp_path, small_blocks):
    frame = _estate("time", dirty=False, mem=None)
    seconds = pd.to_datetime(frame.timestamp).astype("int64") // 10**9
    for name, values in (("s", seconds), ("ms", seconds * 1000), ("float", seconds + 0.5), ("us", seconds * 10**6)):
        path = _write(frame.assign(timestamp=values), tmp_path / f"{name}.csv")
        _check(path)
        _check(_write(frame.assign(timestamp=values), tmp_path / f"{name}.parquet"))
    # half in seconds, half in milliseconds: the median's unit, from the two middle values
    mixed = frame.assign(timestamp=np.where(np.arange(len(frame)) % 2 == 0, seconds, seconds * 1000))
    _check(_write(mixed, tmp_path / "mixed.csv"))
    # whole seconds that turn fractional far down the file: re-read as float
    late = frame.assign(timestamp=seconds.astype(object))
    late.loc[len(late) - 3, "timestamp"] = float(seconds.iloc[-3]) + 0.25
    _check(_write(late, tmp_path / "late.csv"))


def test_naive_local_times(tmp_path, small_blocks):
    frame = _estate("server", dirty=False)
    frame["timestamp"] = pd.date_range("2024-10-26 12:00", periods=300, freq="300s").strftime("%Y-%m-%d %H:%M:%S").tolist() * 12
    path = _write(frame, tmp_path / "local.csv")
    new = read_traces(path, timezone="Europe/Amsterdam")
    old = assemble(_whole_samples(path, timezone="Europe/Amsterdam"), fmt="long", path=path)
    _same(new, old)
    assert new.quality.counts["dst_ambiguous_samples"] > 0


def _bad(tmp_path: Path, name: str, edits: dict[tuple[int, str], object], order="time", suffix=".csv") -> Path:
    frame = _estate(order, dirty=False).astype({"cpu_pct": object, "timestamp": object, "server_id": object})
    for (row, column), value in edits.items():
        frame.loc[row, column] = value
    if suffix == ".parquet" and any(column == "cpu_pct" for _, column in edits):
        frame["cpu_pct"] = frame.cpu_pct.astype(str)  # a text column, as a spreadsheet export may write
    return _write(frame, tmp_path / f"{name}{suffix}")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_errors_are_the_whole_table_ones(tmp_path, small_blocks, suffix):
    last = 12 * 300 - 5
    cases = {
        "cpu_text": {(last, "cpu_pct"): "busy"},
        "empty_time": {(last, "timestamp"): None},
        "bad_time": {(last, "timestamp"): "yesterday"},
        "empty_id": {(last, "server_id"): None},
        "blank_id": {(last, "server_id"): "   "},
        "control_id": {(last, "server_id"): "srv\x01"},
        # a value error early and a time error late: the time is named, as a whole-table read does
        "time_after_cpu": {(10, "cpu_pct"): "busy", (last, "timestamp"): "yesterday"},
        "id_after_cpu": {(10, "cpu_pct"): "busy", (last, "server_id"): None},
        "time_after_id": {(10, "server_id"): None, (last, "timestamp"): None},
        "far_future": {(last, "timestamp"): "2300-01-01T00:00:00Z"},
    }
    for name, edits in cases.items():
        path = _bad(tmp_path, name, edits, suffix=suffix)
        message = _check(path)
        assert isinstance(message, str) and message.startswith("InputError"), name


def test_epoch_errors(tmp_path, small_blocks):
    frame = _estate("time", dirty=False, mem=None)
    seconds = (pd.to_datetime(frame.timestamp).astype("int64") // 10**9).astype(float)
    for name, value in (("inf", np.inf), ("range", 1e10), ("ms_range", 9e13)):
        bad = seconds.copy()
        bad.iloc[len(bad) - 7] = value
        bad.iloc[len(bad) - 2] = np.nan if name == "inf" else value
        for suffix in (".csv", ".parquet"):
            message = _check(_write(frame.assign(timestamp=bad), tmp_path / f"{name}{suffix}"))
            assert isinstance(message, str), (name, suffix)


def test_servers_are_pushed_down(tmp_path):
    path = _write(_estate("shuffled"), tmp_path / "t.parquet")
    samples = long.long_samples(existing(path), columns=None, timezone=None, servers=frozenset({"srv-002"}))
    assert len(samples.server_ids) == 12  # every id is known, for the messages
    assert set(np.asarray(samples.server_ids)[np.unique(samples.codes)]) == {"srv-002"}
    with pytest.raises(InputError, match="holds none of the 1 servers"):
        read_traces(path, servers=["elsewhere"])


def _thirds(frame: pd.DataFrame) -> list[pd.DataFrame]:
    cut = [0, len(frame) // 3, 2 * len(frame) // 3, len(frame)]
    return [frame.iloc[a:b] for a, b in zip(cut, cut[1:])]


def _dataset(root: Path, frame: pd.DataFrame, suffix: str) -> None:
    for k, part in enumerate(_thirds(frame)):
        folder = root / f"site=ams" / f"day={k}"
        folder.mkdir(parents=True)
        _write(part, folder / f"part-{k}{suffix}")
    (root / "_SUCCESS").write_text("")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_folder_of_part_files_is_one_table(tmp_path, small_blocks, suffix):
    frame = _estate("shuffled", 4)
    whole = read_traces(_write(frame, tmp_path / f"whole{suffix}"))
    root = tmp_path / "traces"
    _dataset(root, frame, suffix)
    assert detect_format(root, None).name == "long"
    parts = read_traces(root)
    _same(parts, whole, source=False)
    assert parts.source == f"long:{root}"
    _same(read_traces(root / "site=ams", servers=["srv-004"]), read_traces(tmp_path / f"whole{suffix}", servers=["srv-004"]),
          source=False)


def test_part_files_must_agree(tmp_path):
    root = tmp_path / "traces"
    root.mkdir()
    _write(_estate("time", mem="mem_gb"), root / "a.csv")
    _write(_estate("time", mem=None), root / "b.csv")
    with pytest.raises(InputError, match="b.csv: has no memory column where .*a.csv has mem_gb"):
        read_traces(root)


def test_fsspec_urls(tmp_path, small_blocks):
    frame = _estate("server", 5)
    whole = read_traces(_write(frame, tmp_path / "whole.parquet"))
    fs = fsspec.filesystem("memory")
    for k, part in enumerate(_thirds(frame)):
        with fs.open(f"/estate/site=ams/part-{k}.parquet", "wb") as out:
            pq.write_table(pa.Table.from_pandas(part, preserve_index=False), out)
    try:
        traces = read_traces("memory://estate/site=ams")
        _same(traces, whole, source=False)
        assert traces.source == "long:memory://estate/site=ams"
        with fs.open("/one/traces.csv", "wb") as out:
            out.write(frame.to_csv(index=False).encode())
        _same(read_traces("memory://one/traces.csv"), whole, source=False)
        _same(read_traces(f"file://{tmp_path / 'whole.parquet'}"), whole)
        with pytest.raises(InputError, match="no such file or folder"):
            read_traces("memory://nowhere")
    finally:
        fs.rm("/estate", recursive=True)
        fs.rm("/one", recursive=True)


def _spacing_reference(codes, time_ns, n_rows):
    out = np.full(n_rows, np.nan)
    for r in range(n_rows):
        steps = np.diff(np.sort(time_ns[codes == r]))
        steps = steps[steps > 0]
        if steps.size:
            out[r] = np.median(steps)
    return out


def test_median_spacing_in_batches_is_numpy_s(monkeypatch):
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 40, 5000).astype(np.int32)
    time_ns = rng.integers(0, 10**6, 5000).astype(np.int64) * 10**9
    for batch in (1, 77, 1000, 1 << 22):
        monkeypatch.setattr(grid, "GATHER_SAMPLES", batch)
        np.testing.assert_array_equal(median_spacing_ns(codes, time_ns, 45), _spacing_reference(codes, time_ns, 45))
        in_order = np.argsort(time_ns, kind="stable")
        np.testing.assert_array_equal(median_spacing_ns(codes[in_order], time_ns[in_order], 45),
                                      _spacing_reference(codes, time_ns, 45))
