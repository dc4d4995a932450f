"""The validated sizing: the host count that holds on the traces the plan did not see.

A plan packed to fit one window of traces exactly tends to overload on the next one: the
packer has used every gap the window showed, and demand drifts. This module

- spreads VMs over a given number of hosts, lowest highest-peak first (:func:`spread`);
- sizes a plan by validation (the ``validated`` sizing policy): the count starts at what the
  VMs' daily envelopes need (:func:`consolidate.models.sizing.daily_envelope`: each VM's highest
  measured demand at each time of day, so a plan that fits them fits every day of the window);
  at each count it spreads the envelopes of the earlier days, replays the later days
  (rolling-origin folds [1]), and keeps the smallest count whose latest fold's share of
  host-intervals over the CPU target is within the risk target; the range over the folds is
  the predicted next-window risk; the plan is then the envelopes spread over that count;
- draws the frontier: for each host count, the in-sample and validated overload.

Packing the envelopes rather than the series, and spreading them rather than filling hosts to
the target, leave on every host the head-room that the next window's drift uses: on a month of
real traces replayed on the next month (and week on week) the default plan stayed within its
risk target where a plan fitted to the series, and percentile sizing, did not
(``benchmarks/RESULTS.md``, "Month-ahead risk").

References
----------
.. [1] R. J. Hyndman, G. Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed.,
   OTexts, 2021, section 5.10 "Time series cross-validation" (evaluation on a rolling
   forecasting origin: fit on the earlier observations, test on the later ones).
.. [2] R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM Journal on Applied
   Mathematics 17(2) (1969) 416–429 (largest job first to the least-loaded machine, the rule
   :func:`spread` applies to whole time series).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from consolidate.errors import InputError
from consolidate.jit import njit
from consolidate.models.fleet import Fleet, HostCapacity
from consolidate.models.sizing import daily_envelope
from consolidate.models.workload import Workload
from consolidate.options import VALIDATED
from consolidate.simulate import Replay, replay
from consolidate.solvers import clock
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.budget import Budget
from consolidate.solvers.heuristics import sort_order
from consolidate.solvers.pipeline import SolveResult, solve

#: Share of the training window held out for validation (the later part), whole days when
#: the window is at least ``WHOLE_DAYS_FROM`` days long.
VALIDATION_SHARE = 0.25
WHOLE_DAYS_FROM = 4
#: Most rolling-origin folds the validation replays (each a held-out block as long as the last).
FOLDS = 3
#: Hosts (lowest current peak first) :func:`spread` tries for each VM: the cost stays
#: VMs x candidates x steps on large estates.
SPREAD_CANDIDATES = 32
#: Budget of :func:`lower_peaks`: moves per host, and work (moves x candidates x steps x VMs
#: per host) on large estates.
LOWER_PEAK_MOVES_PER_HOST = 20
LOWER_PEAK_WORK = 2_000_000_000
#: Most rows of the frontier table; longer ranges of host counts are sampled evenly.
FRONTIER_MAX_ROWS = 16
#: The frontier starts this many hosts below the lower bound (or the chosen count): what
#: fewer hosts would cost in risk.
FRONTIER_BELOW = 3
#: The frontier stops once the validated overload is at or below this share (percent).
FRONTIER_ZERO_PCT = 0.01

def validation_split(n_steps: int, interval_s: int) -> int:
    """First step of the validation window inside a training window of ``n_steps``.

    The last ``VALIDATION_SHARE`` of the window, rounded to whole days on windows of at least
    ``WHOLE_DAYS_FROM`` days (so that the held-out part covers every hour of the day equally),
    and at least one step on each side.
    """
    if n_steps < 2:
        raise InputError("validated sizing needs at least two intervals of traces; use --sizing timeseries")
    steps_per_day = 86400 // interval_s if interval_s <= 86400 else 0
    held = n_steps * VALIDATION_SHARE
    if steps_per_day and n_steps >= WHOLE_DAYS_FROM * steps_per_day:
        held = max(1, round(held / steps_per_day)) * steps_per_day
    held = int(min(max(round(held), 1), n_steps - 1))
    return n_steps - held


@njit
def spread_kernel(
    cpu_ghz: np.ndarray, mem_gb: np.ndarray, order: np.ndarray, n_hosts: int, mem_cap_gb: float, n_candidates: int
) -> np.ndarray:
    """VMs onto exactly ``n_hosts`` hosts, each to the host left with the lowest peak.

    In ``order``, each VM goes to the host with memory room whose CPU peak over the whole
    series (GHz) is lowest once the VM is added; ties go to the host with less memory. Only the
    ``n_candidates`` hosts with room and the lowest current peak are tried (all of them on
    smaller plans). A VM that fits no host's memory goes to the host with the most free memory
    (an over-commit the replay reports). VMs not in ``order`` stay at -1. Returns int32 (vms,).
    """
    n, n_steps = cpu_ghz.shape
    load = np.zeros((n_hosts, n_steps))
    load_gb = np.zeros(n_hosts)
    peak = np.zeros(n_hosts)
    out = np.full(n, -1, dtype=np.int32)
    key = np.empty(n_hosts)
    for i in order:
        for h in range(n_hosts):
            key[h] = peak[h] if load_gb[h] + mem_gb[i] <= mem_cap_gb else np.inf
        candidates = np.argsort(key, kind="mergesort")[: min(n_candidates, n_hosts)]
        best_h = -1
        best_peak = np.inf
        for h in candidates:
            if key[h] == np.inf:
                break
            p = 0.0
            for t in range(n_steps):
                x = load[h, t] + cpu_ghz[i, t]
                if x > p:
                    p = x
                    if p > best_peak:
                        break
            if p < best_peak or (p == best_peak and load_gb[h] < load_gb[best_h]) or (
                p == best_peak and load_gb[h] == load_gb[best_h] and h < best_h
            ):
                best_peak = p
                best_h = h
        if best_h < 0:
            best_h = int(np.argmin(load_gb))
            best_peak = 0.0
            for t in range(n_steps):
                best_peak = max(best_peak, load[best_h, t] + cpu_ghz[i, t])
        out[i] = best_h
        load_gb[best_h] += mem_gb[i]
        peak[best_h] = best_peak
        for t in range(n_steps):
            load[best_h, t] += cpu_ghz[i, t]
    return out


def spread(cpu_ghz: np.ndarray, mem_gb: np.ndarray, n_hosts: int, cpu_cap_ghz: float, mem_cap_gb: float) -> np.ndarray:
    """Every VM onto exactly ``n_hosts`` hosts, load spread (see :func:`spread_kernel`), int32 (vms,).

    VMs are taken largest first (the larger of peak CPU and memory, as shares of the plannable
    capacities ``cpu_cap_ghz`` GHz and ``mem_cap_gb`` GB).
    """
    cpu = np.ascontiguousarray(cpu_ghz, dtype=np.float32)
    mem = np.asarray(mem_gb, dtype=np.float64)
    order = sort_order(cpu, mem, cpu_cap_ghz, mem_cap_gb, "peak")
    return spread_kernel(cpu, mem, order, int(n_hosts), float(mem_cap_gb), SPREAD_CANDIDATES)


@dataclass
class Scorer:
    """Plans and scores host counts on one training window, remembering every count it scored.

    ``workload``: the VMs to place, at full resolution; ``capacity``: what one host offers. A
    count's plan spreads the VMs' daily envelopes (:func:`consolidate.models.sizing.daily_envelope`)
    over that many hosts.
    """

    workload: Workload
    capacity: HostCapacity
    scores: dict = field(default_factory=dict)

    @property
    def split(self) -> int:
        return validation_split(self.workload.n_steps, self.workload.interval_s)

    @property
    def folds(self) -> list[tuple[int, int]]:
        """The rolling-origin folds ``(first, stop)`` of held-out steps, latest first: blocks as long
        as the last one (from :attr:`split`), each planned on every step before it, while that is
        at least one block long, at most ``FOLDS`` of them [1]."""
        block = self.workload.n_steps - self.split
        return [(stop - block, stop) for stop in range(self.workload.n_steps, 2 * block - 1, -block)][:FOLDS]

    @cached_property
    def envelope(self) -> Workload:
        """The VMs' daily envelopes over the whole window."""
        return self._envelope(None)

    def _envelope(self, stop: int | None) -> Workload:
        w = self.workload.steps(0, stop)
        return Workload(daily_envelope(w.cpu_ghz, w.interval_s, w.measured), w.mem_gb, w.interval_s)

    def plan(self, n_hosts: int, stop: int | None = None) -> np.ndarray:
        """A spread plan on ``n_hosts`` hosts of the envelopes of the steps before ``stop`` (all by default)."""
        env = self.envelope if stop is None else self._envelope(stop)
        return spread(env.cpu_ghz, env.mem_gb, n_hosts, self.capacity.cpu_plan_ghz, self.capacity.mem_usable_gb)

    def replay(self, assignment: np.ndarray, n_hosts: int, first: int = 0, stop: int | None = None) -> Replay:
        return replay(self.workload.steps(first, stop), assignment, Fleet.uniform(self.capacity, n_hosts))

    def score(self, n_hosts: int) -> dict:
        """In-sample (plan and replay on the whole window) and validated shares of host-intervals
        over the target and over capacity, %: ``over_target_pct_folds`` per fold (each planned on
        the steps before its block, replayed on the block), ``*_validated`` the latest fold's,
        the one nearest the next window."""
        if n_hosts not in self.scores:
            inside = self.replay(self.plan(n_hosts), n_hosts)
            held = [self.replay(self.plan(n_hosts, first), n_hosts, first, stop) for first, stop in self.folds]
            usable = self.capacity.mem_usable_gb * (1 + 1e-9)
            self.scores[n_hosts] = {
                "over_target_pct_in_sample": inside.over_target_pct(),
                "over_capacity_pct_in_sample": inside.over_capacity_pct(),
                "over_target_pct_validated": held[0].over_target_pct(),
                "over_capacity_pct_validated": held[0].over_capacity_pct(),
                "over_target_pct_folds": [r.over_target_pct() for r in held],
                "memory_fits": bool((inside.mem_gb <= usable).all() and all((r.mem_gb <= usable).all() for r in held)),
            }
        return self.scores[n_hosts]

    def acceptable(self, n_hosts: int, risk_pct: float) -> bool:
        """Memory fits and the latest fold's over-target share is within ``risk_pct``: a plan made
        on the earlier days holds on the latest ones. (Quiet held-out days cannot pull the count
        below what the whole window needs: :func:`validated_solve` starts at the envelope's count.)
        """
        s = self.score(n_hosts)
        return s["memory_fits"] and s["over_target_pct_validated"] <= risk_pct


def smallest_count(scorer: Scorer, low: int, high: int, risk_pct: float, budget: Budget) -> int:
    """Smallest host count in ``[low, high]`` that :meth:`Scorer.acceptable` takes; ``high`` when none is.

    Galloping from ``low`` (1, 2, 4, ... hosts more), then bisection: the overload falls as
    hosts are added (not strictly, hence the gallop from the bottom). Once ``budget`` has no
    time left the search stops at the smallest count known to be acceptable (``high`` if none
    is yet): more hosts, never fewer.
    """
    if low >= high or scorer.acceptable(low, risk_pct):
        return min(low, high)
    bad, step = low, 1
    while True:
        probe = min(low + step, high)
        if probe < high and budget.remaining_s() <= 0:
            return high
        if probe == high or scorer.acceptable(probe, risk_pct):
            good = probe
            break
        bad, step = probe, step * 2
    while good - bad > 1 and budget.remaining_s() > 0:
        middle = (good + bad) // 2
        if scorer.acceptable(middle, risk_pct):
            good = middle
        else:
            bad = middle
    return good


def search_start(cpu_ghz: np.ndarray, mem_bound: int, cpu_cap_ghz: float) -> int:
    """Fewest hosts the validated search tries: the memory bound, and enough hosts to hold the
    mean total CPU demand within the target (below that every host-interval is over on average)."""
    mean_total = float(cpu_ghz.sum(axis=0, dtype=np.float64).mean()) if cpu_ghz.size else 0.0
    return max(1, int(mem_bound), int(np.ceil(mean_total / cpu_cap_ghz)))


def frontier_counts(low: int, high: int, chosen: int) -> list[int]:
    """Host counts of the frontier table: every count from ``low`` to ``high``, or an even sample
    of ``FRONTIER_MAX_ROWS`` of them that keeps both ends and ``chosen``."""
    if high - low + 1 <= FRONTIER_MAX_ROWS:
        return list(range(low, high + 1))
    sample = np.unique(np.round(np.linspace(low, high, FRONTIER_MAX_ROWS - 1)).astype(int))
    return sorted(set(sample.tolist()) | {chosen})


FRONTIER_KEYS = ("over_target_pct_in_sample", "over_target_pct_validated", "over_capacity_pct_validated")


def frontier(scorer: Scorer, start: int, bound: int, chosen: int, high: int) -> list[dict]:
    """Rows ``{hosts, over_target_pct_in_sample, over_target_pct_validated, over_capacity_pct_validated,
    over_target_pct_predicted_low, over_target_pct_predicted_high}`` (the predicted next-window range of
    each count, from the folds)
    from ``FRONTIER_BELOW`` hosts under the lower of ``bound`` and ``chosen`` (not under ``start``)
    up to the first count past both whose validated over-target share is about zero
    (``FRONTIER_ZERO_PCT``), or ``high``."""
    low = max(start, min(bound, chosen) - FRONTIER_BELOW)
    top = max(bound, chosen)
    while top < high and scorer.score(top)["over_target_pct_validated"] > FRONTIER_ZERO_PCT:
        top += 1
    return [_frontier_row(scorer, n) for n in frontier_counts(low, top, chosen)]


def _frontier_row(scorer: Scorer, n_hosts: int) -> dict:
    score = scorer.score(n_hosts)
    folds = score["over_target_pct_folds"]
    return {"hosts": n_hosts, **{k: score[k] for k in FRONTIER_KEYS},
            "over_target_pct_predicted_low": min(folds), "over_target_pct_predicted_high": max(folds)}


@dataclass(frozen=True)
class Search:
    """What the validated search works on: the VMs that fit a host alone, their scorer, and the
    range of host counts (``start`` to ``high``) with the lower bound between."""

    placeable: np.ndarray
    scorer: Scorer
    bound: int
    bound_resource: str
    start: int
    high: int
    peak_sized: int


def _search(workload: Workload, capacity: HostCapacity) -> Search:
    cpu_cap = capacity.cpu_plan_ghz
    mem_cap = capacity.mem_usable_gb
    placeable = np.flatnonzero((workload.cpu_ghz.max(axis=1, initial=0.0) <= cpu_cap) & (workload.mem_gb <= mem_cap))
    scorer = Scorer(workload.rows(placeable), capacity)
    if placeable.size == 0:
        return Search(placeable, scorer, 0, "cpu", 0, 0, 0)
    cpu_p, mem_p = scorer.workload.cpu_ghz, scorer.workload.mem_gb
    bounds = lower_bounds(cpu_p, mem_p, cpu_cap, mem_cap)
    peak_sized = solve(cpu_p.max(axis=1, keepdims=True), mem_p, cpu_cap, mem_cap, method="ffd").n_hosts
    start = search_start(cpu_p, bounds.mem, cpu_cap)
    return Search(placeable, scorer, int(bounds.value), bounds.resource, start, max(int(bounds.value), peak_sized), peak_sized)


def risk_frontier(workload: Workload, capacity: HostCapacity, chosen: int) -> list[dict]:
    """The frontier table (see :func:`frontier`) of a plan on ``chosen`` hosts made by any sizing;
    each row's figures are those of a spread plan."""
    search = _search(workload, capacity)
    if search.placeable.size == 0:
        return []
    high = max(search.high, chosen)
    return frontier(search.scorer, search.start, search.bound, chosen, high)


@njit
def lower_peak_kernel(
    cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int, mem_cap_gb: float,
    n_candidates: int, max_moves: int,
) -> np.ndarray:
    """Move VMs off the host with the highest CPU peak while that lowers it; int32 (vms,).

    Each move takes a VM from the host with the highest peak (GHz, over the whole series) to one
    of the ``n_candidates`` hosts with the lowest peaks that has memory room, choosing the move
    that leaves the lower of the two new peaks highest peak smallest; a move is made only if
    both new peaks are below the old highest one, so a plan that fits its capacity keeps
    fitting. Stops when no move lowers the highest peak or after ``max_moves`` moves.
    """
    n, n_steps = cpu_ghz.shape
    out = assignment.copy()
    load = np.zeros((n_hosts, n_steps))
    load_gb = np.zeros(n_hosts)
    for i in range(n):
        h = out[i]
        if h >= 0:
            load_gb[h] += mem_gb[i]
            for t in range(n_steps):
                load[h, t] += cpu_ghz[i, t]
    peak = np.zeros(n_hosts)
    for h in range(n_hosts):
        for t in range(n_steps):
            peak[h] = max(peak[h], load[h, t])
    for _ in range(max_moves):
        src = int(np.argmax(peak))
        top = peak[src] * (1.0 - 1e-9)
        candidates = np.argsort(peak, kind="mergesort")[: min(n_candidates + 1, n_hosts)]
        best_i, best_dst, best_peak, best_src_peak, best_dst_peak = -1, -1, top, 0.0, 0.0
        for i in range(n):
            if out[i] != src:
                continue
            src_peak = 0.0
            for t in range(n_steps):
                src_peak = max(src_peak, load[src, t] - cpu_ghz[i, t])
            if src_peak >= best_peak:
                continue
            for dst in candidates:
                if dst == src or load_gb[dst] + mem_gb[i] > mem_cap_gb:
                    continue
                dst_peak = 0.0
                for t in range(n_steps):
                    dst_peak = max(dst_peak, load[dst, t] + cpu_ghz[i, t])
                    if dst_peak >= best_peak:
                        break
                worst = max(src_peak, dst_peak)
                if worst < best_peak:
                    best_i, best_dst, best_peak, best_src_peak, best_dst_peak = i, dst, worst, src_peak, dst_peak
        if best_i < 0:
            break
        for t in range(n_steps):
            load[src, t] -= cpu_ghz[best_i, t]
            load[best_dst, t] += cpu_ghz[best_i, t]
        load_gb[src] -= mem_gb[best_i]
        load_gb[best_dst] += mem_gb[best_i]
        peak[src] = best_src_peak
        peak[best_dst] = best_dst_peak
        out[best_i] = best_dst
    return out


def lower_peaks(cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int, mem_cap_gb: float) -> np.ndarray:
    """``assignment`` spread over ``n_hosts`` hosts (it may use fewer) with a lower highest peak.

    The move budget is capped so that the work (moves x candidates x steps) stays near
    ``LOWER_PEAK_WORK`` on large estates.
    """
    cpu = np.ascontiguousarray(cpu_ghz, dtype=np.float32)
    per_move = max(1, SPREAD_CANDIDATES * cpu.shape[1] * max(1, cpu.shape[0] // max(1, n_hosts)))
    max_moves = int(min(LOWER_PEAK_MOVES_PER_HOST * n_hosts, max(n_hosts, LOWER_PEAK_WORK // per_move)))
    return lower_peak_kernel(
        cpu, np.asarray(mem_gb, dtype=np.float64), np.asarray(assignment, dtype=np.int32), int(n_hosts),
        float(mem_cap_gb), SPREAD_CANDIDATES, max_moves,
    )


def validated_solve(
    workload: Workload, capacity: HostCapacity, risk_pct: float, budget: Budget, *, with_frontier: bool = False,
) -> tuple[SolveResult, dict]:
    """The ``validated`` sizing: the host count chosen by validation, the load spread over it.

    The count starts at what the VMs' daily envelopes need (the time-series plan of
    :func:`consolidate.solvers.pipeline.solve` on :func:`~consolidate.models.sizing.daily_envelope`,
    at or near its lower bound), so the plan fits every day of its training window at the CPU
    target. It is then raised, up to the larger of that count and the peak-sized first-fit
    count, until plans spread over the count on the earlier days keep the share of
    host-intervals over the CPU target within ``risk_pct`` on the latest held-out block
    (see :meth:`Scorer.acceptable`); the other rolling-origin folds widen the predicted range. A window shorter than
    ``WHOLE_DAYS_FROM`` days holds out no whole day, and a few hours of one day are no test of
    unseen days: there the count stays the envelope's (``validation["skipped"]`` says so). At
    the chosen count the layout is the spread envelope plan if it fits the envelopes at the
    target, else the envelope plan with its peaks lowered (:func:`lower_peaks`), whichever has
    the lower highest host peak.

    Parameters
    ----------
    workload : the VMs to place, full resolution (the training window).
    capacity : what one host offers.
    risk_pct : most share of host-intervals (percent) over the CPU target on each held-out block.
    budget : seed and time cap of the envelope's time-series solve.
    with_frontier : also compute the frontier table (hosts against overload).

    Returns
    -------
    ``(result, validation)``: the plan as a :class:`SolveResult` (VMs that alone exceed a host's
    plannable CPU or memory stay at -1, as :func:`consolidate.solvers.pipeline.solve` leaves them), and
    a dict for summary.json: the risk target, the folds (steps), the figures of the chosen
    count, the predicted next-window over-target share (the folds' range) and, with
    ``with_frontier``, the ``frontier`` rows.
    """
    started = clock.now()
    n_vms, n_steps = workload.cpu_ghz.shape
    interval_s = workload.interval_s
    search = _search(workload, capacity)
    scorer = search.scorer
    envelope = Scorer(workload, capacity).envelope
    # The plan's bound is the search's (the envelope's LP bound would spend the folds' time for nothing).
    fitted = solve(
        envelope.cpu_ghz, envelope.mem_gb, capacity.cpu_plan_ghz, capacity.mem_usable_gb, seed=budget.seed,
        time_limit_s=budget.remaining_s(), lp_iterations=0,
    )
    validation: dict = {"risk_pct": risk_pct, "envelope_hosts": fitted.n_hosts}
    if search.placeable.size == 0:
        return fitted, validation
    steps_per_day = 86400 // interval_s if interval_s <= 86400 else 0
    if not steps_per_day or n_steps < WHOLE_DAYS_FROM * steps_per_day:
        n_hosts = fitted.n_hosts
        validation["skipped"] = (
            f"the window is shorter than {WHOLE_DAYS_FROM} days, too short to hold out a whole day: "
            "the host count is the daily envelope's"
        )
    else:
        n_hosts = smallest_count(scorer, fitted.n_hosts, max(search.high, fitted.n_hosts), risk_pct, budget)
        score = scorer.score(n_hosts)
        validation.update({
            "within_risk": scorer.acceptable(n_hosts, risk_pct),
            **{k: v for k, v in score.items() if k != "memory_fits"},
            "predicted_next_window": _prediction(score["over_target_pct_folds"], scorer.folds, interval_s),
            "folds": [{"first_step": a, "stop_step": b} for a, b in scorer.folds],
            "counts_tried": sorted(scorer.scores),
        })
    plan_p, layout = _layout(scorer, fitted.assignment[search.placeable], n_hosts)
    assignment = np.full(n_vms, -1, dtype=np.int32)
    assignment[search.placeable] = plan_p
    validation.update({"hosts": n_hosts, "peak_sized_hosts": search.peak_sized})
    if with_frontier:
        validation["frontier"] = frontier(scorer, search.start, search.bound, n_hosts, search.high)
    bound = search.bound
    result = SolveResult(
        assignment=assignment,
        n_hosts=n_hosts,
        lower_bound=bound,
        bound_resource=search.bound_resource,
        status="optimal" if n_hosts == bound else "feasible",
        gap_hosts=n_hosts - bound,
        methods=[f"envelope:{m}" for m in fitted.methods] + [f"{VALIDATED}@{n}" for n in sorted(scorer.scores)] + [layout],
        time_s=clock.now() - started,
        stopped_by="time limit" if budget.remaining_s() <= 0 else fitted.stopped_by,
    )
    return result, validation


def _prediction(folds_pct: list[float], folds: list[tuple[int, int]], interval_s: int) -> dict:
    """What the plan's next window is predicted to see: the range of the folds' over-target shares."""
    block_days = (folds[0][1] - folds[0][0]) * interval_s / 86400.0
    return {
        "over_target_pct_low": min(folds_pct),
        "over_target_pct_high": max(folds_pct),
        "method": (
            f"rolling origin: {len(folds)} held-out block(s) of {block_days:g} days, each planned the same way "
            "(daily envelopes spread over the chosen count) on every day before it; the range of their shares "
            "of host-intervals over the CPU target"
        ),
    }


def _layout(scorer: Scorer, fitted: np.ndarray, n_hosts: int) -> tuple[np.ndarray, str]:
    """The chosen count's layout and its name: whichever of the spread envelope plan (if it fits
    the envelopes at the target) and the envelope's packed plan with lowered peaks has the lower
    highest host peak on the envelopes."""
    env = scorer.envelope
    mem_cap = scorer.capacity.mem_usable_gb
    fleet = Fleet.uniform(scorer.capacity, n_hosts)
    lowered = lower_peaks(env.cpu_ghz, env.mem_gb, fitted, n_hosts, mem_cap)
    lowered_peak = replay(env, lowered, fleet).stats.peak_ghz.max()
    spread_plan = scorer.plan(n_hosts)
    rep = replay(env, spread_plan, fleet)
    fits = rep.over_target_pct() == 0.0 and (rep.mem_gb <= mem_cap * (1 + 1e-9)).all()
    if fits and rep.stats.peak_ghz.max() < lowered_peak:
        return spread_plan, "spread"
    return lowered, "lowered-peaks"
