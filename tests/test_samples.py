"""The synthetic sprawl estate: determinism, the sprawl pattern, the CSV files, bad arguments.

The pattern checks compute their statistics here from the raw long-format rows, not with the
generator's own helpers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate import samples
from consolidate.errors import InputError
from consolidate.samples import generate_estate, write_sample

TRACES_HEADER = "timestamp,server_id,cpu_pct,mem_gb"
INVENTORY_HEADER = "server_id,cores,threads,ghz,ram_gb,perf,model,power_idle_w,power_max_w"

# SPECpower_ssj2008 active-idle and 100 % watts (REFERENCE.md), typed in here independently
SPEC_POWER_W = {
    "hp-ml110-g5": (93.7, 135.0),
    "ibm-x3250-m3": (41.6, 113.0),
    "ibm-x3550-m3-x5670": (66.0, 247.0),
    "ibm-x3550-m3-x5675": (58.4, 222.0),
    "dell-r710": (64.0, 232.0),
    "dell-r620": (54.1, 243.0),
}


def _matrices(traces, inventory):
    """(servers, steps) CPU and memory arrays and the step timestamps, from long rows."""
    frame = traces.to_pandas()
    frame["server_id"] = frame["server_id"].astype(str)
    cpu = frame.pivot(index="server_id", columns="timestamp", values="cpu_pct")
    mem = frame.pivot(index="server_id", columns="timestamp", values="mem_gb")
    order = inventory["server_id"].to_numpy()
    cpu, mem = cpu.loc[order], mem.loc[order]
    return cpu.to_numpy(np.float64), mem.to_numpy(np.float64), pd.DatetimeIndex(cpu.columns)


@pytest.fixture(scope="module")
def estate():
    traces, inventory = generate_estate(40, 14, seed=1)
    cpu, mem, stamps = _matrices(traces, inventory)
    return traces, inventory, cpu, mem, stamps


def test_shape_order_and_ranges(estate):
    traces, inventory, cpu, mem, stamps = estate
    assert traces.column_names == TRACES_HEADER.split(",")
    assert list(inventory.columns) == INVENTORY_HEADER.split(",")
    assert traces.num_rows == 40 * 14 * 288
    assert stamps[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert ((stamps[1:] - stamps[:-1]) == pd.Timedelta(seconds=300)).all()
    ids = traces["server_id"].to_numpy().astype(str)
    seconds = traces["timestamp"].cast("int64").to_numpy()
    # ordered by server, then timestamp
    assert (ids.reshape(40, -1) == inventory["server_id"].to_numpy()[:, None]).all()
    assert (np.diff(seconds.reshape(40, -1), axis=1) == 300).all()
    assert inventory["server_id"].is_unique
    assert cpu.min() >= 0 and cpu.max() <= 100
    assert mem.min() >= 0 and (mem <= inventory["ram_gb"].to_numpy()[:, None]).all()
    assert np.isfinite(cpu).all() and np.isfinite(mem).all()


def test_estate_mean_is_sprawl_level(estate):
    cpu = estate[2]
    assert 5 <= cpu.mean() <= 15


def test_business_hours_and_weekdays_are_busier(estate):
    cpu, stamps = estate[2], estate[4]
    hour, weekday = stamps.hour.to_numpy(), stamps.day_of_week.to_numpy() < 5
    estate_cpu = cpu.mean(axis=0)
    day = estate_cpu[weekday & (hour >= 9) & (hour < 17)].mean()
    night = estate_cpu[weekday & ((hour >= 21) | (hour < 6))].mean()
    assert day > 1.3 * night
    assert estate_cpu[weekday].mean() > 1.2 * estate_cpu[~weekday].mean()
    # per-server local time differs from UTC by a modest offset: office servers peak in UTC office hours
    profile = pd.DataFrame(cpu[:, weekday].T).groupby(hour[weekday]).mean().to_numpy().T  # (servers, 24)
    diurnal = profile[:, 9:17].mean(axis=1) > 2 * profile[:, [20, 21, 22, 23, 5, 6]].mean(axis=1)
    assert diurnal.sum() >= 10
    daytime_peak_hour = 6 + profile[diurnal, 6:].argmax(axis=1)  # batch servers peak before 06:00
    assert ((daytime_peak_hour >= 7) & (daytime_peak_hour <= 18)).all()


def test_some_servers_run_night_batches(estate):
    cpu, stamps = estate[2], estate[4]
    hour = stamps.hour.to_numpy()
    batch_night = cpu[:, (hour >= 1) & (hour < 4)].mean(axis=1)
    office = cpu[:, (hour >= 9) & (hour < 17)].mean(axis=1)
    batch_servers = (batch_night > 2 * office) & (batch_night > 10)
    assert 2 <= batch_servers.sum() <= 12


def test_idle_servers_follow_the_azure_rule(estate):
    _, inventory, cpu, mem, _ = estate
    mem_share = mem / inventory["ram_gb"].to_numpy()[:, None]
    idle = (cpu.max(axis=1) < 5) & (mem_share.max(axis=1) < 0.05)
    # a modest share: 40 servers x 7 % rounds to 3
    assert 1 <= idle.sum() <= 4
    # the rest do real work
    assert (cpu[~idle].mean(axis=1) > 0.5).all()


def test_noise_and_spikes(estate):
    cpu = estate[2]
    busy = cpu.mean(axis=1) > 5
    assert (np.abs(np.diff(cpu[busy], axis=1)).mean(axis=1) > 0.1).all()
    # a spike stands 20 points above the load just before it and just after it has decayed
    before = (cpu[:, 0:-8] + cpu[:, 1:-7] + cpu[:, 2:-6]) / 3
    after = (cpu[:, 6:-2] + cpu[:, 7:-1] + cpu[:, 8:]) / 3
    spikes = cpu[:, 3:-5] - np.maximum(before, after) > 20
    assert spikes.sum() >= 100


def test_memory_has_its_own_slow_pattern(estate):
    _, inventory, cpu, mem, _ = estate
    share = mem / inventory["ram_gb"].to_numpy()[:, None]
    assert 0.2 < share.mean() < 0.7
    # memory moves slowly: steps are small next to its spread over the fortnight
    step = np.abs(np.diff(share, axis=1)).mean(axis=1)
    spread = share.std(axis=1)
    working = share.mean(axis=1) > 0.05
    assert (step[working] < spread[working]).all()
    assert not np.allclose(share[working].std(axis=1), 0)


def test_mixed_hardware_generations(estate):
    inventory = estate[1]
    assert inventory["model"].nunique() >= 4
    generations = inventory[["cores", "ghz", "perf"]].drop_duplicates()
    assert len(generations) >= 3
    assert inventory["perf"].nunique() >= 3
    assert (inventory["threads"] >= inventory["cores"]).all()
    assert (inventory["threads"] > inventory["cores"]).any()
    assert ((inventory["threads"] == inventory["cores"]) & (inventory["cores"] >= 4)).any()  # HT off
    assert inventory["ghz"].between(2.0, 3.5).all()
    assert inventory["ram_gb"].between(4, 128).all()
    assert inventory["perf"].between(0.5, 1.5).all()
    for model, idle_w, max_w in inventory[["model", "power_idle_w", "power_max_w"]].itertuples(index=False):
        assert (idle_w, max_w) == SPEC_POWER_W[model]


def test_same_seed_same_estate_other_seed_other_estate():
    a_traces, a_inventory = generate_estate(6, 2, seed=3)
    b_traces, b_inventory = generate_estate(6, 2, seed=3)
    c_traces, _ = generate_estate(6, 2, seed=4)
    assert a_traces.equals(b_traces)
    pd.testing.assert_frame_equal(a_inventory, b_inventory)
    assert not np.array_equal(a_traces["cpu_pct"].to_numpy(), c_traces["cpu_pct"].to_numpy())


@settings(max_examples=15, deadline=None)
@given(
    servers=st.integers(1, 25),
    days=st.floats(0.05, 3.0),
    seed=st.integers(0, 2**32),
    interval_s=st.sampled_from([60, 300, 600, 3600]),
)
def test_invariants_for_any_small_estate(servers, days, seed, interval_s):
    traces, inventory = generate_estate(servers, days, seed=seed, interval_s=interval_s)
    steps = max(1, round(days * 86400 / interval_s))
    assert traces.num_rows == servers * steps
    assert len(inventory) == servers
    cpu = traces["cpu_pct"].to_numpy().reshape(servers, steps)
    mem = traces["mem_gb"].to_numpy().reshape(servers, steps)
    assert cpu.min() >= 0 and cpu.max() <= 100
    assert mem.min() >= 0 and (mem <= inventory["ram_gb"].to_numpy()[:, None]).all()
    seconds = traces["timestamp"].cast("int64").to_numpy().reshape(servers, steps)
    assert (seconds == seconds[0]).all()
    assert (np.diff(seconds[0]) == interval_s).all()


def _read_back(out_dir):
    lines = (out_dir / "traces.csv").read_text().splitlines()
    traces = pd.read_csv(out_dir / "traces.csv", dtype={"timestamp": str, "server_id": str})
    inventory = pd.read_csv(out_dir / "inventory.csv")
    return lines, traces, inventory


def test_write_sample_files_parse_and_match_the_generator(tmp_path, monkeypatch):
    # small blocks so that several blocks go through the writer threads
    monkeypatch.setattr(samples, "_BLOCK_SAMPLES", 3 * 288)
    traces_path, inventory_path = write_sample(tmp_path / "out", servers=10, days=1, seed=7)
    assert traces_path == tmp_path / "out" / "traces.csv"
    assert inventory_path == tmp_path / "out" / "inventory.csv"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["inventory.csv", "traces.csv"]

    lines, traces, inventory = _read_back(tmp_path / "out")
    assert lines[0] == TRACES_HEADER
    assert inventory_path.read_text().splitlines()[0] == INVENTORY_HEADER
    assert lines[1].startswith("2024-01-01T00:00:00Z,srv-0001,")
    assert traces["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    stamps = pd.to_datetime(traces["timestamp"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    assert len(traces) == 10 * 288
    assert (traces["server_id"].to_numpy().reshape(10, 288) == inventory["server_id"].to_numpy()[:, None]).all()
    seconds = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy().reshape(10, 288)
    assert (seconds == np.arange(288) * 300).all()

    expected, expected_inventory = generate_estate(10, 1, seed=7)
    np.testing.assert_allclose(traces["cpu_pct"], expected["cpu_pct"].to_numpy(), atol=1e-4)
    np.testing.assert_allclose(traces["mem_gb"], expected["mem_gb"].to_numpy(), atol=1e-4)
    assert (stamps == expected["timestamp"].to_pandas()).all()
    pd.testing.assert_frame_equal(inventory, expected_inventory, check_dtype=False)


def test_write_sample_is_byte_identical_for_a_seed(tmp_path):
    first = write_sample(tmp_path / "a", servers=5, days=2, seed=11)
    second = write_sample(tmp_path / "b", servers=5, days=2, seed=11)
    other = write_sample(tmp_path / "c", servers=5, days=2, seed=12)
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    assert first[0].read_bytes() != other[0].read_bytes()


def test_failed_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(samples, "_csv_block", broken)
    with pytest.raises(OSError):
        write_sample(tmp_path, servers=3, days=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"servers": 0}, "--servers"),
        ({"servers": -3}, "--servers"),
        ({"servers": 2.5}, "--servers"),
        ({"servers": True}, "--servers"),
        ({"days": 0}, "--days"),
        ({"days": -1.0}, "--days"),
        ({"days": float("nan")}, "--days"),
        ({"days": float("inf")}, "--days"),
        ({"days": 0.0001}, "--days"),
        ({"seed": -1}, "--seed"),
        ({"interval_s": 0}, "interval_s"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_bad_arguments_raise_one_line_input_error(tmp_path, kwargs, names):
    args = {"servers": 3, "days": 1.0, "seed": 0, "interval_s": 300, "start": "2024-01-01"} | kwargs
    with pytest.raises(InputError, match=names) as caught:
        generate_estate(**args)
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match=names):
        write_sample(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_out_dir_that_is_a_file_is_an_input_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(InputError, match="--out"):
        write_sample(target, servers=2, days=1)
