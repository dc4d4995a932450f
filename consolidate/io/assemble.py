"""From a reader's raw samples to a :class:`TraceSet`: clip, grid, fill, inventory, warnings.

Every reader returns :class:`Samples` (one entry per raw sample, any order); :func:`assemble`
applies the same stated rules to all of them and counts each repair in the QualityReport.
Counts named ``*_clipped``, ``cpu_above_capacity`` and ``duplicates_merged`` are raw samples;
``gaps_filled``, ``late_start_filled``, ``early_stop_filled`` and ``mem_filled`` are grid cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.grid import NS_PER_S, detect_interval_s, grid_shape, to_grid
from consolidate.io.inventory import align_inventory, name_list, read_inventory
from consolidate.io.timestamps import duration_text
from consolidate.models.trace import QualityReport, TraceSet

#: Traces shorter than this cannot show a weekly cycle.
WEEK_DAYS = 7.0

#: A server whose own samples span less than this share of the grid is mostly filled: warned.
SHORT_SPAN_SHARE = 0.5

#: How many distinct periods the warning on servers covering different periods names.
PERIODS_SHOWN = 4

#: The coarsest grid interval: a step longer than a day cannot show the daily peak a plan sizes for.
MAX_INTERVAL_S = 86400

#: Memory in use above this (64 TiB, more than any one server holds) cannot be real: a missing value.
MAX_MEM_GB = 65536.0

#: CPU demand above this (10 THz, 2,500 cores at 4 GHz) cannot be real: a missing value.
MAX_CPU_MHZ = 1e7

#: What each resource's unit allows: the largest real value (None: clipped at 100 %).
PLAUSIBLE = {("cpu", "mhz"): MAX_CPU_MHZ, ("mem", "gb"): MAX_MEM_GB}

#: Samples whose server codes are renumbered at a time, in place (a small index array each).
RENUMBER_SAMPLES = 1 << 20

#: Samples repaired at a time (the masks of a repair are as long as what it looks at).
REPAIR_SAMPLES = 1 << 22


@dataclass
class Samples:
    """Raw samples as a reader found them.

    ``codes[i]`` indexes ``server_ids``; ``time_ns`` is UTC; ``cpu`` is a percentage of the
    server's logical CPUs (``cpu_unit == "pct"``) or MHz (``"mhz"``, turned into a percentage of
    the inventory's ``cores x ghz`` once that is known); ``mem`` is GB or percent of the
    inventory's RAM (``mem_unit``). NaN marks an empty cell. ``derived_inventory`` holds hardware
    read from the trace files; ``start_ns`` / ``end_ns`` (exclusive) / ``interval_s`` give the
    span and spacing where the format defines them (a PlanetLab day). ``notes`` are warnings;
    ``conversions`` state, one sentence each, how the file's measures became these (with counts).
    ``owned``: the arrays are the reader's to give away (writable, referenced nowhere else), so
    :func:`assemble` repairs them in place instead of copying them, and lets go of each (sets it
    to None) once it is on the grid.
    """

    server_ids: list[str]
    codes: np.ndarray
    time_ns: np.ndarray
    cpu: np.ndarray
    cpu_unit: str = "pct"
    mem: np.ndarray | None = None
    mem_unit: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    derived_inventory: pd.DataFrame | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    interval_s: int | None = None
    notes: list[str] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    owned: bool = False


@dataclass(frozen=True)
class Selection:
    """The part of the traces a plan reads: samples from ``start_ns`` to before ``end_ns`` (UTC,
    ns since the epoch; None: unbounded), without the servers named in ``exclude``, and of the
    servers named in ``only`` alone where it is given (one site's servers of an estate's traces)."""

    start_ns: int | None = None
    end_ns: int | None = None
    exclude: frozenset[str] = frozenset()
    only: frozenset[str] | None = None


def assemble(
    samples: Samples,
    *,
    fmt: str,
    path: Path,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
    selection: Selection | None = None,
) -> TraceSet:
    """Grid, repair and count ``samples``; attach the inventory in trace row order.

    ``TraceSet.source`` is ``"<fmt>:<path>"``. Samples outside the ``selection`` are left out
    first, and counted. Servers are sorted by id; two sources naming one server alike are one
    server. A server without a single usable value is dropped, counted
    (``servers_dropped_no_samples``) and named in a warning; if no server has one, InputError.
    """
    # A reader that reads the selection's servers alone has their ids but maybe none of their rows.
    if len(samples.codes) == 0 and (selection is None or selection.only is None or not samples.server_ids):
        raise InputError(f"{path}: holds no samples; check that the files are not empty")
    samples = _merge_names(samples)
    if selection is not None:
        samples = _select(samples, selection, path)
    # A VM that was off when the inventory was exported still has its hardware there.
    user_inventory = None if inventory is None else read_inventory(inventory, powered_off=True)
    counts = dict(samples.counts)
    order = np.argsort(np.asarray(samples.server_ids, dtype=object), kind="stable")
    codes = _renumbered(samples, order)
    all_ids = [samples.server_ids[i] for i in order]
    n_all = len(all_ids)

    warnings: list[str] = list(samples.notes)
    # The repairs below work in place; a reader's arrays stay its own (and may be read-only) unless it gives them away.
    cpu = samples.cpu if samples.owned else np.array(samples.cpu)
    counts["cpu_empty_values"] = _empty(cpu)
    _unreal(cpu, counts, warnings, "cpu", samples.cpu_unit)
    _clip(cpu, counts, "cpu", upper=100.0 if samples.cpu_unit == "pct" else None)
    mem = None if samples.mem is None else samples.mem if samples.owned else np.array(samples.mem)
    if mem is not None:
        counts["mem_empty_values"] = _empty(mem)
        _unreal(mem, counts, warnings, "mem", samples.mem_unit)
        _clip(mem, counts, "mem", upper=100.0 if samples.mem_unit == "pct" else None)

    time_ns = samples.time_ns
    interval_s = _interval(interval_s, samples, codes, n_all, path)
    interval_ns = interval_s * NS_PER_S
    first_ns, last_ns = int(time_ns.min()), int(time_ns.max())
    _check_span(interval_s, first_ns, last_ns, samples, path)
    start_ns = first_ns - first_ns % interval_ns
    if samples.start_ns is not None:
        start_ns = min(start_ns, samples.start_ns)
    if samples.end_ns is not None:
        last_ns = max(last_ns, samples.end_ns - 1)
    n_steps = grid_shape(n_all, start_ns, last_ns, interval_s)
    cpu_grid = to_grid(codes, time_ns, cpu, n_all, start_ns, interval_s, n_steps)
    n_samples = len(samples.codes)
    if samples.owned and samples.cpu_unit == "pct":
        samples.cpu = cpu = None  # given away: let go once on the grid, before the next grid is made
    mem_grid = None if mem is None else to_grid(codes, time_ns, mem, n_all, start_ns, interval_s, n_steps)
    if samples.owned:
        samples.mem = mem = samples.time_ns = time_ns = None
        if samples.cpu_unit == "pct":
            samples.codes = codes = None

    keep = cpu_grid.samples > 0
    if not keep.any():
        raise InputError(f"{path}: no server has a usable CPU value; check the cpu column")
    dropped = [s for s, k in zip(all_ids, keep) if not k]
    counts["servers_dropped_no_samples"] = len(dropped)
    if dropped:
        warnings.append(f"left out {len(dropped)} server(s) without a single usable CPU value: {name_list(dropped)}")
    server_ids = tuple(s for s, k in zip(all_ids, keep) if k)
    aligned = align_inventory(server_ids, user_inventory, samples.derived_inventory)
    inv = aligned.inventory
    counts.update(aligned.counts)
    warnings += aligned.warnings

    cpu_pct = _rows(cpu_grid.values, keep)
    if samples.cpu_unit == "mhz":
        capacity_mhz = (inv.cores * inv.ghz * 1000.0).astype(np.float64)
        by_code = np.full(n_all, np.inf)
        by_code[keep] = capacity_mhz
        counts["cpu_above_capacity"] = int(np.count_nonzero(cpu > by_code[codes]))
        cpu_pct = np.ascontiguousarray(cpu_pct / (capacity_mhz / 100.0)[:, None], dtype=np.float32)
    row_sum = cpu_grid.measured_sum[keep] / ((capacity_mhz / 100.0) if samples.cpu_unit == "mhz" else 1.0)
    cells = (cpu_grid.samples - cpu_grid.merged)[keep]
    measured_mean_pct = float(row_sum.sum() / cells.sum())

    for name, per_row in (
        ("duplicates_merged", cpu_grid.merged),
        ("gaps_filled", cpu_grid.gaps),
        ("late_start_filled", cpu_grid.late),
        ("early_stop_filled", cpu_grid.early),
    ):
        counts[name] = int(per_row[keep].sum())
    missing_pct = 100.0 * float(cpu_grid.filled[keep].sum()) / cpu_pct.size

    mem_gb = None
    if mem_grid is not None:
        mem_gb = _rows(mem_grid.values, keep)
        counts["mem_filled"] = int(mem_grid.filled[keep].sum())
        if samples.mem_unit == "pct":
            mem_gb = np.ascontiguousarray(mem_gb * (inv.ram_gb / 100.0)[:, None], dtype=np.float32)
        blank = mem_grid.samples[keep] == 0
        counts["mem_servers_without_values"] = int(blank.sum())
        if blank.any():
            mem_gb[blank] = inv.ram_gb[blank, None].astype(np.float32)
            names = list(np.asarray(server_ids, dtype=object)[blank])
            warnings.append(f"{len(names)} server(s) have no memory value; their use is taken as their whole RAM: {name_list(names)}")

    short_window = short_window_text(n_steps * interval_s / 86400.0)
    if short_window:
        warnings.append(short_window)
    span_steps = n_steps - cpu_grid.late[keep] - cpu_grid.early[keep]
    short = np.flatnonzero(span_steps < SHORT_SPAN_SHARE * n_steps)
    if short.size:
        names = [server_ids[i] for i in short[np.argsort(span_steps[short], kind="stable")]]
        warnings.append(
            f"{len(names)} server(s) have samples over less than {SHORT_SPAN_SHARE:.0%} of the time span, the rest "
            f"filled from their first or last value (shortest first): {name_list(names)}"
        )
        periods = _periods(cpu_grid.late[keep], n_steps - cpu_grid.early[keep], start_ns, interval_s)
        if periods:
            warnings.append(periods)

    quality = QualityReport(samples=n_samples, missing_pct=missing_pct, counts=counts, warnings=tuple(warnings),
                            conversions=tuple(samples.conversions), cpu_mean_measured_pct=measured_mean_pct)
    return TraceSet(
        server_ids=server_ids,
        start=pd.Timestamp(start_ns, unit="ns", tz="UTC"),
        interval_s=interval_s,
        cpu_pct=cpu_pct,
        mem_gb=mem_gb,
        inventory=inv,
        quality=quality,
        source=f"{fmt}:{path}",
        measured=np.stack([cpu_grid.late[keep], n_steps - cpu_grid.early[keep]], axis=1).astype(np.int64),
        source_hosts=aligned.hosts,
        untraced_vcpus=aligned.untraced_vcpus,
    )


def short_window_text(duration_days: float) -> str | None:
    """What traces shorter than :data:`WEEK_DAYS` cannot show (the reader's warning and the plan's
    caveat, in the same words so that a page says it once); None for a week or more."""
    if duration_days >= WEEK_DAYS:
        return None
    return (f"the traces cover {duration_text(duration_days * 86400.0)}, less than a week: weekly peaks "
            "(weekends, weekly jobs) are not seen")


def _renumbered(samples: Samples, order: np.ndarray) -> np.ndarray:
    """The samples' server codes as ranks in ``order`` (int32, contiguous); renumbered in place,
    a slice at a time, when the reader gave its arrays away."""
    codes = samples.codes
    if np.array_equal(order, np.arange(len(order))) and codes.flags.writeable:
        return np.ascontiguousarray(codes, dtype=np.int32)
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    if not (samples.owned and codes.dtype == np.int32 and codes.flags.c_contiguous):
        return np.ascontiguousarray(rank[codes])
    for start in range(0, len(codes), RENUMBER_SAMPLES):
        part = codes[start : start + RENUMBER_SAMPLES]
        part[:] = rank[part]
    return codes


def _periods(first_step: np.ndarray, end_step: np.ndarray, start_ns: int, interval_s: int) -> str | None:
    """The warning naming which servers cover which period, when no period is shared by all
    (the grid spans the union, each server filled outside its own)."""
    if first_step.max() < end_step.min():
        return None
    day_ns = 86400 * NS_PER_S
    step_ns = interval_s * NS_PER_S
    first_day = (start_ns + first_step.astype(np.int64) * step_ns) // day_ns
    last_day = (start_ns + (end_step.astype(np.int64) - 1) * step_ns) // day_ns
    spans, servers = np.unique(np.stack([first_day, last_day], axis=1), axis=0, return_counts=True)
    biggest = np.argsort(-servers, kind="stable")[:PERIODS_SHOWN]
    text = ", ".join(f"{servers[i]} from {_day_text(spans[i, 0])} to {_day_text(spans[i, 1])}" for i in biggest)
    more = "" if len(spans) <= PERIODS_SHOWN else f" and {len(spans) - PERIODS_SHOWN} more periods"
    return (f"the servers cover different periods, none shared by all: {text}{more} (servers, UTC days); each is "
            "filled outside its own period; give --start and --end to plan a period they share, or plan them apart")


def _day_text(day: int) -> str:
    return pd.Timestamp(int(day) * 86400, unit="s").strftime("%Y-%m-%d")


def _merge_names(samples: Samples) -> Samples:
    """One code per distinct server id (files of one host from two days, say)."""
    names, first = np.unique(np.asarray(samples.server_ids, dtype=object), return_inverse=True)
    if len(names) == len(samples.server_ids):
        return samples
    derived = samples.derived_inventory
    if derived is not None:
        derived = derived.drop_duplicates("server_id")
    return replace(samples, server_ids=list(names), codes=first.astype(np.int32)[samples.codes], derived_inventory=derived)


def _select(samples: Samples, selection: Selection, path: Path) -> Samples:
    """The samples inside ``selection``; what was left out is counted and named."""
    ids = np.asarray(samples.server_ids, dtype=object)
    other = np.zeros(len(ids), dtype=bool) if selection.only is None else ~np.isin(ids, list(selection.only))
    excluded = np.isin(ids, list(selection.exclude)) & ~other
    left_out = excluded | other
    keep = ~left_out[samples.codes]
    t = samples.time_ns
    if selection.start_ns is not None:
        keep &= t >= selection.start_ns
    if selection.end_ns is not None:
        keep &= t < selection.end_ns
    counts = dict(samples.counts)
    counts["servers_excluded"] = int(excluded.sum())
    if selection.only is not None:
        # one site's read of an estate's files: with the other sites' counts, the servers in no site
        counts["servers_in_files"] = len(ids)
        counts["servers_selected"] = int((~other).sum())
    counts["samples_outside_window"] = int(np.count_nonzero(~keep & ~left_out[samples.codes]))
    notes = list(samples.notes)
    unknown = sorted(selection.exclude - set(samples.server_ids))
    if unknown:
        notes.append(f"--exclude names {len(unknown)} server(s) the traces do not have: {name_list(unknown)}")
    if not keep.any():
        if selection.only is not None and not np.isin(list(selection.only), ids).any():
            raise InputError(f"{path}: holds none of the {len(selection.only)} servers asked for (e.g. "
                             f"{min(selection.only)!r}; the traces have e.g. {min(samples.server_ids)!r}); check that "
                             "the inventory's server ids are the traces' ones")
        span = f"{_utc_text(int(t.min()))} to {_utc_text(int(t.max()))}"
        raise InputError(f"{path}: no samples are left inside --start/--end and --exclude (the traces span {span}); "
                         "widen the window or exclude fewer servers")
    present = np.unique(samples.codes[keep])
    rank = np.full(len(ids), -1, dtype=np.int32)
    rank[present] = np.arange(len(present), dtype=np.int32)
    kept = samples.codes[keep]
    start_ns, end_ns = samples.start_ns, samples.end_ns
    if start_ns is not None and selection.start_ns is not None:
        start_ns = max(start_ns, selection.start_ns)
    if end_ns is not None and selection.end_ns is not None:
        end_ns = min(end_ns, selection.end_ns)
    derived = samples.derived_inventory
    if derived is not None:
        derived = derived[derived["server_id"].isin(set(ids[present]))]
    return replace(
        samples, server_ids=list(ids[present]), codes=rank[kept], time_ns=t[keep], cpu=samples.cpu[keep],
        mem=None if samples.mem is None else samples.mem[keep], counts=counts, notes=notes,
        derived_inventory=derived, start_ns=start_ns, end_ns=end_ns, owned=True,
    )


def _utc_text(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")


def _slices(values: np.ndarray) -> list[np.ndarray]:
    """Views of ``values`` of :data:`REPAIR_SAMPLES` each: the repairs' masks and copies stay that small."""
    return [values[start : start + REPAIR_SAMPLES] for start in range(0, len(values), REPAIR_SAMPLES)]


def _empty(values: np.ndarray) -> int:
    return sum(int(np.count_nonzero(np.isnan(part))) for part in _slices(values))


def _unreal(values: np.ndarray, counts: dict[str, int], warnings: list[str], resource: str, unit: str | None) -> None:
    """Values that cannot be real (infinite, or above :data:`PLAUSIBLE`) become missing, in place, counted and warned."""
    limit = PLAUSIBLE.get((resource, unit))
    n_infinite = n_huge = 0
    for part in _slices(values):
        infinite = np.isinf(part)
        huge = (np.abs(part) > limit) & ~infinite if limit is not None else np.zeros_like(infinite)
        n_infinite += int(np.count_nonzero(infinite))
        n_huge += int(np.count_nonzero(huge))
        part[infinite | huge] = np.nan
    counts[f"{resource}_infinite_as_missing"] = n_infinite
    if limit is not None:
        counts[f"{resource}_implausible_as_missing"] = n_huge
    if n_infinite + n_huge:
        label = {"cpu": "CPU", "mem": "memory"}[resource]
        rule = "infinite" + (f" or above {limit:g} {unit.upper() if unit == 'mhz' else 'GB'}, more than any server has" if limit else "")
        warnings.append(f"treated {n_infinite + n_huge} {label} value(s) as missing samples because they cannot be real ({rule})")


def _check_span(interval_s: int, first_ns: int, last_ns: int, samples: Samples, path: Path) -> None:
    """InputError when one grid interval is longer than the traces' whole span (a plan of one step)."""
    span_ns = last_ns - first_ns
    if samples.start_ns is not None and samples.end_ns is not None:
        span_ns = max(span_ns, samples.end_ns - samples.start_ns)
    if interval_s * NS_PER_S > span_ns:
        raise InputError(
            f"{path}: an interval of {interval_s:,} s ({duration_text(interval_s)}) is longer than the traces' span "
            f"({duration_text(max(span_ns, 0) / NS_PER_S)}); an interval must be shorter than the span; give a smaller --interval"
        )


def _clip(values: np.ndarray, counts: dict[str, int], resource: str, upper: float | None) -> None:
    """Negative values to 0, and above ``upper`` (percent sources) to ``upper``, in place, counted."""
    n_below = n_above = 0
    for part in _slices(values):
        below = part < 0
        n_below += int(np.count_nonzero(below))
        part[below] = 0.0
        if upper is not None:
            above = part > upper
            n_above += int(np.count_nonzero(above))
            part[above] = upper
    counts[f"{resource}_below_0_clipped"] = n_below
    if upper is not None:
        counts[f"{resource}_above_100_clipped"] = n_above


def _interval(given: int | None, samples: Samples, codes: np.ndarray, n_rows: int, path: Path) -> int:
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, float, np.integer, np.floating)) or int(given) != given or given < 1:
            raise InputError(f"--interval {given!r}: give the grid spacing as a whole number of seconds, e.g. 300")
        if given > MAX_INTERVAL_S:
            raise InputError(
                f"--interval {int(given):,} s is {given / 86400:,.1f} days; the grid interval is at most {MAX_INTERVAL_S} s "
                "(1 day), as a coarser step hides the daily peak a plan sizes for; give e.g. 300 or 3600"
            )
        return int(given)
    if samples.interval_s is not None:
        return samples.interval_s
    interval_s = detect_interval_s(codes, samples.time_ns, n_rows)
    if interval_s > MAX_INTERVAL_S:
        raise InputError(
            f"{path}: the samples are {duration_text(interval_s)} apart (median spacing per server), more than "
            f"the 1-day limit of a grid interval; check the timestamps (a stray date?) or pass --interval SECONDS"
        )
    return interval_s


def _rows(grid: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return grid if keep.all() else np.ascontiguousarray(grid[keep])
