"""The solver portfolio: bounds, heuristics, local search and CP-SAT behind one ``solve()``.

``solve`` removes the VMs that fit no host on their own, computes the lower bounds, runs the
constructive heuristics (the best one wins), then tries to close the gap to the bound with
the local search and simulated annealing at a fixed host count and with CP-SAT, stopping as
soon as the bound is met. Where a gap remains, the LP bound of :mod:`consolidate.solvers.colgen`
runs on a share of what is left of the time limit and raises the bound when it proves more.

The constructive heuristics test every step of the series (their fit tests stop at the
first step over capacity). The local search, the annealing and CP-SAT work by constraint
generation: they check a subset of the steps (those of highest total demand first), the plan is
checked on the full series, and the worst step(s) of each host over capacity join the subset
until no host is over. Every returned plan has been checked on every step of the full series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from consolidate.errors import InputError
from consolidate.solvers import clock, cpsat, heuristics
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.colgen import LP_ITERATIONS, LpBound, lp_bound
from consolidate.solvers.feasibility import (
    REL_MARGIN,
    effective_caps,
    host_loads,
    violations,
)

#: Steps of highest total demand the local search starts from.
INITIAL_STEPS = 64
#: Local-search budget per attempt at a host count, in step evaluations (about a second
#: or two of one core).
LS_WORK = 2.5e9
#: Extra attempts, with other seeds, at one host fewer than the best plan once the bisection ends.
LS_RETRIES = 3
#: The bin-centric heuristics look at this many candidate VMs per choice, fewer on large
#: instances so that their cost (candidates x VMs x steps) stays near ``BIN_CENTRIC_WORK``.
BIN_CENTRIC_WINDOW = 256
BIN_CENTRIC_WORK = 1e9

#: CP-SAT's exact stage runs on estates of at most this many VMs, with this deterministic time.
EXACT_MAX_VMS = 200
CPSAT_DTIME = 10.0
#: CP-SAT re-packing groups: at most this many hosts and VMs.
REPACK_MAX_HOSTS = 6
REPACK_MAX_VMS = 300

#: The LP bound gets this share of the time left once the plan is found (it changes the bound,
#: not the plan, so it should not take all of a time limit the searches left unspent).
LP_SHARE = 0.5

#: Simulated annealing per attempt at a host count: proposals, temperature cycles, and the first
#: and last temperature of a cycle (multiples of the mean energy change of a proposal).
ANNEAL_MOVES = 40_000_000
#: ... and at most this many per VM (small estates need far fewer).
ANNEAL_MOVES_PER_VM = 40_000
ANNEAL_CYCLES = 4
ANNEAL_T_START = 0.03
ANNEAL_T_END = 0.0003
#: Series of at most this many steps are annealed on every step (no constraint generation).
ANNEAL_ALL_STEPS = 512
#: Annealing is tried where the heuristics leave at least this many hosts above the bound. A
#: one-host gap is mostly the volume bound's own (a near-full packing rounded up), and a failed
#: attempt costs half its budget or more (on 2,000 VMs some 20 s of a plan that took 16).
ANNEAL_MIN_GAP_HOSTS = 2

METHODS = ("auto", "ffd", "heuristics", "localsearch")
BIN_CENTRIC = ("dot-product", "l2-norm")


@dataclass(frozen=True)
class SolveResult:
    """A placement of VMs on identical hosts, with its lower bound.

    ``assignment`` holds the host index (0 .. n_hosts-1) of each VM, or -1 for a VM that alone
    exceeds a host. ``status`` is ``"optimal"`` when ``n_hosts == lower_bound`` and ``"feasible"``
    otherwise; ``stopped_by`` says what ended the search: ``"bound"`` (it met the lower bound),
    ``"time limit"`` (the wall-clock cap cut it short) or ``"work budget"`` (every stage spent its
    budget with hosts above the bound). ``lp_bound`` is the LP bound where it ran (a gap was left
    and time too), whether or not it raised ``lower_bound`` (``bound_resource`` is then ``"lp"``).
    """

    assignment: np.ndarray
    n_hosts: int
    lower_bound: int
    bound_resource: str
    status: str
    gap_hosts: int
    methods: list[str]
    time_s: float
    stopped_by: str = "bound"
    lp_bound: LpBound | None = None


def _check_inputs(cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap_ghz: float, mem_cap_gb: float) -> tuple[np.ndarray, np.ndarray]:
    cpu = np.asarray(cpu_ghz)
    if cpu.ndim == 1:
        cpu = cpu[:, None]
    if cpu.ndim != 2 or cpu.shape[1] == 0:
        raise InputError(f"CPU demand must be a (VMs, time steps) array with at least one step, got shape {cpu.shape}")
    mem = np.asarray(mem_gb, dtype=np.float64)
    if mem.shape != (cpu.shape[0],):
        raise InputError(f"memory demand has shape {mem.shape} but there are {cpu.shape[0]} VMs; give one value per VM")
    cpu = np.ascontiguousarray(cpu, dtype=np.float32)
    if not (np.isfinite(cpu).all() and np.isfinite(mem).all()):
        raise InputError("demand contains NaN or infinite values; repair or drop those servers' samples")
    if (cpu < 0).any() or (mem < 0).any():
        raise InputError("demand contains negative values; CPU and memory demand must be >= 0")
    if not (np.isfinite(cpu_cap_ghz) and cpu_cap_ghz > 0 and np.isfinite(mem_cap_gb) and mem_cap_gb > 0):
        raise InputError(f"host capacity must be positive, got {cpu_cap_ghz} GHz and {mem_cap_gb} GB")
    return cpu, mem


def initial_steps(cpu_ghz: np.ndarray, max_steps: int = INITIAL_STEPS) -> np.ndarray:
    """The time steps a packer starts from: all of them, or the ``max_steps`` of highest total demand."""
    n_steps = cpu_ghz.shape[1]
    if n_steps <= max_steps:
        return np.arange(n_steps)
    total = cpu_ghz.sum(axis=0, dtype=np.float64)
    return np.sort(np.argsort(-total, kind="stable")[:max_steps])


Packer = Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]


def _order_packer(kernel, key: str) -> Packer:
    def packer(cpu, mem, cpu_cap, mem_cap):
        order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, key)
        return kernel(cpu, mem, order, cpu_cap, mem_cap)

    return packer


def _bin_centric_packer(use_l2: bool) -> Packer:
    def packer(cpu, mem, cpu_cap, mem_cap):
        order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, "l2")
        window = int(np.clip(BIN_CENTRIC_WORK / max(cpu.size, 1), 8, BIN_CENTRIC_WINDOW))
        return heuristics.bin_centric_fit(cpu, mem, order, cpu_cap, mem_cap, use_l2, window)

    return packer


def heuristic_portfolio(method: str) -> dict[str, Packer]:
    """The constructive heuristics ``method`` runs, by name, cheapest and strongest first."""
    if method == "ffd":
        return {"ffd-peak": _order_packer(heuristics.first_fit, "peak")}
    portfolio = {f"ffd-{key}": _order_packer(heuristics.first_fit, key) for key in ("sum", "l2", "peak")}
    for key in ("sum", "l2", "peak"):
        portfolio[f"bfd-{key}"] = _order_packer(heuristics.best_fit, key)
    portfolio["dot-product"] = _bin_centric_packer(use_l2=False)
    portfolio["l2-norm"] = _bin_centric_packer(use_l2=True)
    return portfolio


@dataclass(frozen=True)
class Attempt:
    """One local-search attempt at a host count.

    ``plan`` is feasible on the full series (hosts renumbered 0..k-1, k <= the count), or None
    when the budget ran out; ``last`` is the search's final (least overflow) assignment, a warm
    start for the next attempt; ``steps`` are the steps that were checked.
    """

    plan: np.ndarray | None
    last: np.ndarray
    steps: np.ndarray


def fixed_count_search(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    n_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    start: np.ndarray | None = None,
    max_work: float = LS_WORK,
    deadline: float = np.inf,
    steps: np.ndarray | None = None,
) -> Attempt:
    """Local search for a plan on ``n_hosts`` hosts, feasible on the full series.

    ``start`` is a warm start (host indices below ``n_hosts``; VMs at -1, or all of them when
    None, are inserted first); ``deadline`` a ``clock.now()`` value; ``steps`` the
    steps to check from the start (default: those of highest total demand, plus each warm-start
    host's peak step).
    """
    # Imported here: its kernels compile (or load) only in runs that search, and on the solvers'
    # clock, which stops while numba compiles.
    from consolidate.solvers import localsearch

    n = cpu_ghz.shape[0]
    assignment = np.full(n, -1, dtype=np.int32) if start is None else start.astype(np.int32)
    order = heuristics.sort_order(cpu_ghz, mem_gb, cpu_cap, mem_cap, "l2")
    if steps is None:
        steps = initial_steps(cpu_ghz)
        if assignment.max(initial=-1) >= 0:
            # Each host's own peak step of the warm start is likely to bind again.
            load_ghz, _ = host_loads(cpu_ghz, mem_gb, assignment, n_hosts)
            steps = np.union1d(steps, load_ghz.argmax(axis=1))
    while True:
        last, feasible, work, steps = localsearch.local_search(
            cpu_ghz, mem_gb, assignment, order, n_hosts, cpu_cap, mem_cap, steps, seed, max_work, deadline
        )
        if not feasible:
            return Attempt(None, last, steps)
        # The kernel's running sums may drift by a few ulps: confirm with fresh sums.
        bad, new_steps = violations(cpu_ghz, mem_gb, last, n_hosts, cpu_cap, mem_cap)
        if bad.size == 0:
            return Attempt(_compact(last), last, steps)
        assignment, steps = last, np.union1d(steps, new_steps)
        max_work -= work


def anneal_search(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    n_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    start: np.ndarray,
    max_moves: int = ANNEAL_MOVES,
    deadline: float = np.inf,
    steps: np.ndarray | None = None,
) -> Attempt:
    """Simulated annealing for a plan on ``n_hosts`` hosts, feasible on the full series.

    ``start`` is a warm start (host indices below ``n_hosts``; VMs at -1 are inserted first);
    ``steps`` the steps to check from the start (default: those of highest total demand, plus
    each warm-start host's peak step; every step of a series of at most ``ANNEAL_ALL_STEPS``).
    """
    from consolidate.solvers import anneal

    assignment = start.astype(np.int32)
    order = heuristics.sort_order(cpu_ghz, mem_gb, cpu_cap, mem_cap, "l2")
    if cpu_ghz.shape[1] <= ANNEAL_ALL_STEPS:
        steps = np.arange(cpu_ghz.shape[1])
    elif steps is None:
        steps = initial_steps(cpu_ghz)
        if assignment.max(initial=-1) >= 0:
            load_ghz, _ = host_loads(cpu_ghz, mem_gb, assignment, n_hosts)
            steps = np.union1d(steps, load_ghz.argmax(axis=1))
    steps = np.asarray(steps, dtype=np.int64)
    while True:
        last, feasible, moves, steps = anneal.anneal(
            cpu_ghz, mem_gb, assignment, order, n_hosts, cpu_cap, mem_cap, steps, seed, int(max_moves),
            ANNEAL_T_START, ANNEAL_T_END, ANNEAL_CYCLES, deadline,
        )
        if not feasible:
            return Attempt(None, last, steps)
        bad, new_steps = violations(cpu_ghz, mem_gb, last, n_hosts, cpu_cap, mem_cap)
        if bad.size == 0:
            return Attempt(_compact(last), last, steps)
        assignment, steps = last, np.union1d(steps, new_steps)
        max_moves -= moves


def _n_hosts(assignment: np.ndarray) -> int:
    return int(assignment.max()) + 1 if assignment.size else 0


def _compact(assignment: np.ndarray) -> np.ndarray:
    """Hosts renumbered 0..k-1 in order of index, dropping empty ones."""
    _, renumbered = np.unique(assignment, return_inverse=True)
    return renumbered.astype(np.int32).reshape(assignment.shape)


def _drop_hosts(
    assignment: np.ndarray, cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap: float, mem_cap: float, n_keep: int
) -> np.ndarray:
    """A warm start on ``n_keep`` hosts: the fullest hosts keep their VMs (renumbered), the rest wait at -1."""
    n_hosts = _n_hosts(assignment)
    load_ghz, load_gb = host_loads(cpu_ghz, mem_gb, assignment, n_hosts)
    fill = load_ghz.mean(axis=1) / cpu_cap + load_gb / mem_cap
    keep = np.argsort(-fill, kind="stable")[:n_keep]
    new_index = np.full(n_hosts, -1, dtype=np.int32)
    new_index[keep] = np.arange(n_keep, dtype=np.int32)
    return new_index[assignment]


def _extra_hosts_estimate(cpu_ghz: np.ndarray, mem_gb: np.ndarray, assignment: np.ndarray, n_hosts: int, cpu_cap: float, mem_cap: float) -> int:
    """Hosts the overflow of an infeasible plan would fill on its own (at least 1)."""
    load_ghz, load_gb = host_loads(cpu_ghz, mem_gb, assignment, n_hosts)
    cpu_over = np.maximum(load_ghz - cpu_cap, 0.0).sum(axis=0).max() / cpu_cap
    mem_over = np.maximum(load_gb - mem_cap, 0.0).sum() / mem_cap
    return max(1, int(np.ceil(max(cpu_over, mem_over))))


def climb(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    failed: Attempt,
    failed_hosts: int,
    upper: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    max_work: float = LS_WORK,
    deadline: float = np.inf,
    log: list[str] | None = None,
) -> tuple[np.ndarray | None, int]:
    """From a failed attempt, add hosts until the local search finds a plan (below ``upper``).

    The failed plan is the warm start (the new hosts start empty). The first step adds the
    hosts its overflow would fill; each further failure doubles the step. Returns the plan (or
    None) and the largest count that failed.
    """
    log = [] if log is None else log
    step = _extra_hosts_estimate(cpu_ghz, mem_gb, failed.last, failed_hosts, cpu_cap, mem_cap)
    while failed_hosts + step < upper and clock.now() < deadline:
        target = failed_hosts + step
        attempt = fixed_count_search(
            cpu_ghz, mem_gb, target, cpu_cap, mem_cap, seed=seed, start=failed.last, max_work=max_work,
            deadline=deadline, steps=failed.steps,
        )
        log.append(f"localsearch@{target}" + ("+" if attempt.plan is not None else ""))
        if attempt.plan is not None:
            return attempt.plan, failed_hosts
        failed, failed_hosts = attempt, target
        step *= 2
    return None, failed_hosts


def descend(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    plan: np.ndarray,
    floor: int,
    lower_bound: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    max_work: float = LS_WORK,
    retries: int = LS_RETRIES,
    deadline: float = np.inf,
    log: list[str] | None = None,
) -> np.ndarray:
    """Fewer hosts than a feasible ``plan``: bisection above ``floor`` (a count that failed), then retries.

    Each attempt drops the emptiest hosts of the best plan and re-inserts their VMs. Once the
    bisection has closed, up to ``retries`` more attempts at one host fewer run with other
    seeds (never at or below ``lower_bound``). Returns the best feasible plan found; ``log``
    collects what ran (``+`` marks a success).
    """
    log = [] if log is None else log
    best = plan
    steps = None

    def attempt(target: int, attempt_seed: int) -> bool:
        nonlocal best, steps
        start = _drop_hosts(best, cpu_ghz, mem_gb, cpu_cap, mem_cap, target)
        result = fixed_count_search(
            cpu_ghz, mem_gb, target, cpu_cap, mem_cap, seed=attempt_seed, start=start, max_work=max_work,
            deadline=deadline, steps=steps,
        )
        steps = result.steps
        log.append(f"localsearch@{target}" + ("+" if result.plan is not None else ""))
        if result.plan is not None:
            best = result.plan
        return result.plan is not None

    while _n_hosts(best) - floor > 1 and clock.now() < deadline:
        target = (_n_hosts(best) + floor) // 2
        if not attempt(target, seed):
            floor = target
    for retry in range(1, retries + 1):
        if _n_hosts(best) - 1 <= lower_bound or clock.now() >= deadline:
            break
        attempt(_n_hosts(best) - 1, seed + retry)
    return best


def anneal_descend(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    plan: np.ndarray,
    lower_bound: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    max_moves: int = ANNEAL_MOVES,
    deadline: float = np.inf,
    log: list[str] | None = None,
) -> np.ndarray:
    """One host fewer than a feasible ``plan`` at a time, by simulated annealing, down to ``lower_bound``.

    Each attempt drops the emptiest host of the best plan, re-inserts its VMs where they add the
    least overflow and anneals; the first failure ends the stage. Returns the best plan found.
    """
    log = [] if log is None else log
    best = plan
    steps = None
    while _n_hosts(best) > lower_bound and clock.now() < deadline:
        target = _n_hosts(best) - 1
        start = _drop_hosts(best, cpu_ghz, mem_gb, cpu_cap, mem_cap, target)
        result = anneal_search(
            cpu_ghz, mem_gb, target, cpu_cap, mem_cap, seed=seed, start=start, max_moves=max_moves, deadline=deadline,
            steps=steps,
        )
        log.append(f"anneal@{target}" + ("+" if result.plan is not None else ""))
        if result.plan is None:
            break
        best, steps = result.plan, result.steps
    return best


def exact_search(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    plan: np.ndarray,
    lower_bound: int,
    caps: tuple[float, float],
    real_caps: tuple[float, float],
    *,
    seed: int,
    deterministic_time: float,
    deadline: float,
    log: list[str],
) -> tuple[np.ndarray, int]:
    """CP-SAT from the bound upwards: prove counts infeasible (raising the bound) or find a plan.

    Returns ``(plan, lower_bound)``; the bound is proven (by an infeasible model) when raised.
    """
    best = plan
    for n_hosts in range(lower_bound, _n_hosts(plan)):
        left_s = deadline - clock.now()
        if left_s <= 0 or deterministic_time <= 0:
            break
        outcome = cpsat.pack_exact(
            cpu_ghz, mem_gb, n_hosts, caps[0], caps[1], real_cpu_cap=real_caps[0], real_mem_cap=real_caps[1],
            hint=best, seed=seed, deterministic_time=deterministic_time, time_limit_s=left_s,
        )
        deterministic_time -= outcome.deterministic_time
        log.append(f"cp-sat@{n_hosts}:{outcome.status}")
        if outcome.status == "infeasible":
            lower_bound = n_hosts + 1
        elif outcome.status == "feasible":
            best = outcome.assignment
            break
        else:
            break
    return best, lower_bound


def repack_groups(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    plan: np.ndarray,
    floor: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    seed: int,
    deterministic_time: float,
    deadline: float,
    log: list[str],
) -> np.ndarray:
    """CP-SAT large-neighbourhood search: re-pack the VMs of a few hosts onto one host fewer.

    The group is the emptiest hosts (by mean CPU and memory share), as few as can hold their
    load on one host fewer at every step and in memory; it is tried only when it has at most
    ``REPACK_MAX_HOSTS`` hosts and ``REPACK_MAX_VMS`` VMs. Each success removes a host; the
    search stops at the first failure, at ``floor`` hosts, or when the budget is spent.
    """
    best = plan
    while _n_hosts(best) > floor and deterministic_time > 0 and clock.now() < deadline:
        n_hosts = _n_hosts(best)
        load_ghz, load_gb = host_loads(cpu_ghz, mem_gb, best, n_hosts)
        fill = load_ghz.mean(axis=1) / cpu_cap + load_gb / mem_cap
        by_fill = np.argsort(fill, kind="stable")
        group = None
        for k in range(2, min(REPACK_MAX_HOSTS, n_hosts) + 1):
            hosts = by_fill[:k]
            if load_ghz[hosts].sum(axis=0).max() <= (k - 1) * cpu_cap and load_gb[hosts].sum() <= (k - 1) * mem_cap:
                group = hosts
                break
        if group is None:
            break
        vms = np.flatnonzero(np.isin(best, group))
        if vms.size > REPACK_MAX_VMS:
            break
        outcome = cpsat.pack_exact(
            np.ascontiguousarray(cpu_ghz[vms]), mem_gb[vms], len(group) - 1, cpu_cap, mem_cap, hint=best[vms], seed=seed,
            deterministic_time=deterministic_time, time_limit_s=deadline - clock.now(), prove=False,
        )
        deterministic_time -= outcome.deterministic_time
        log.append(f"cp-sat-repack@{n_hosts - 1}:{outcome.status}")
        if outcome.status != "feasible":
            break
        # The group's hosts give way to len(group) - 1 new ones at the end; renumber.
        new = best.copy()
        new[vms] = n_hosts + outcome.assignment
        best = _compact(new)
    return best


def solve(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    cpu_cap_ghz: float,
    mem_cap_gb: float,
    *,
    seed: int = 0,
    time_limit_s: float = 60.0,
    method: str = "auto",
    rel_margin: float = REL_MARGIN,
    ls_work: float = LS_WORK,
    cpsat_dtime: float = CPSAT_DTIME,
    anneal_moves: int | None = None,
    lp_iterations: int = LP_ITERATIONS,
) -> SolveResult:
    """Pack VMs onto as few identical hosts as the full-resolution series allow.

    Stages, each skipped once the plan meets the lower bound: first-fit and best-fit
    decreasing (three sort keys); the local search at the bound; the bin-centric heuristics;
    the local search between the bound and the best plan (adding hosts to the failed plan at
    the bound, then bisecting); simulated annealing at one host fewer than the best plan, again
    after each success (it replaces the local search's retries); then CP-SAT: on small estates
    (up to ``EXACT_MAX_VMS`` VMs) the exact model, which proves counts infeasible from the bound upwards or finds a plan,
    on larger ones re-packing the VMs of a few hosts onto one fewer. Last, where hosts remain above
    the bound, the LP bound by column generation (:func:`colgen.lp_bound`, the plan's hosts as its
    first columns) on ``LP_SHARE`` of what is left of the time limit; on a plan at its bound it does not run.

    Parameters
    ----------
    cpu_ghz : (n_vms, T) CPU demand in effective GHz (T = 1 for peak or percentile sizing).
    mem_gb : (n_vms,) memory demand in GB.
    cpu_cap_ghz, mem_cap_gb : plannable capacity of one host (GHz, GB), targets applied.
    seed : seed of the randomised searches; the same seed gives the same plan.
    time_limit_s : wall-clock cap on the whole run (s). Budgets are counted in iterations and
        CP-SAT deterministic time, so the plan does not depend on the machine unless this cap
        cuts a search short.
    method : ``"auto"`` (everything), ``"ffd"`` (first-fit decreasing only), ``"heuristics"``
        (the constructive portfolio only) or ``"localsearch"`` (first-fit decreasing, then the
        local search).
    rel_margin : relative safety margin shaved off both capacities for the feasibility tests.
    ls_work : local-search budget per attempt at a host count, in step evaluations.
    cpsat_dtime : CP-SAT deterministic-time budget for the exact or re-packing stage.
    anneal_moves : simulated-annealing budget per attempt at a host count, in proposals
        (default: ``ANNEAL_MOVES_PER_VM`` per VM, at most ``ANNEAL_MOVES``); 0 skips the stage, which
        runs only where the heuristics leave ``ANNEAL_MIN_GAP_HOSTS`` or more above the bound.
        An attempt gives up sooner after a temperature cycle without gain (``anneal.STALL_GAIN``).
    lp_iterations : column-generation iterations of the LP bound (``method="auto"`` only); 0 skips it.

    Returns
    -------
    SolveResult, with every host within capacity at every step of ``cpu_ghz``. Its
    ``bound_resource`` is ``"cp-sat"`` when CP-SAT proved the bound, ``"lp"`` when the LP bound did.
    """
    start = clock.now()
    deadline = start + time_limit_s
    if method not in METHODS:
        raise InputError(f"unknown solver method {method!r}; use one of {', '.join(METHODS)}")
    cpu, mem = _check_inputs(cpu_ghz, mem_gb, cpu_cap_ghz, mem_cap_gb)
    cpu_cap, mem_cap = effective_caps(cpu_cap_ghz, mem_cap_gb, rel_margin)

    n = cpu.shape[0]
    peak = heuristics.row_stats(cpu)[0]
    placeable = np.flatnonzero((peak <= cpu_cap) & (mem <= mem_cap))
    cpu_p = np.ascontiguousarray(cpu[placeable])
    mem_p = mem[placeable]
    bounds = lower_bounds(cpu_p, mem_p, cpu_cap_ghz, mem_cap_gb)
    lower_bound, resource = bounds.value, bounds.resource
    local = method in ("auto", "localsearch")
    if anneal_moves is None:
        anneal_moves = min(ANNEAL_MOVES, ANNEAL_MOVES_PER_VM * placeable.size)

    methods: list[str] = []
    best = None

    def open_gap() -> bool:
        return _n_hosts(best) > lower_bound and clock.now() < deadline

    def annealing() -> bool:
        return method == "auto" and anneal_moves > 0 and _n_hosts(best) - lower_bound >= ANNEAL_MIN_GAP_HOSTS

    def run(name: str, packer: Packer) -> None:
        nonlocal best
        candidate = packer(cpu_p, mem_p, cpu_cap, mem_cap)
        methods.append(name)
        if best is None or _n_hosts(candidate) < _n_hosts(best):
            best = candidate

    portfolio = heuristic_portfolio("ffd" if method == "localsearch" else method)
    bin_centric = {k: portfolio.pop(k) for k in BIN_CENTRIC if k in portfolio}
    for name, packer in portfolio.items():
        run(name, packer)
        if not open_gap():
            break
    failed = None
    if local and open_gap():
        failed = fixed_count_search(cpu_p, mem_p, lower_bound, cpu_cap, mem_cap, seed=seed, max_work=ls_work, deadline=deadline)
        methods.append(f"localsearch@{lower_bound}" + ("+" if failed.plan is not None else ""))
        if failed.plan is not None:
            best, failed = failed.plan, None
    for name, packer in bin_centric.items():
        if not open_gap():
            break
        run(name, packer)
    if failed is not None and open_gap():
        found, floor = climb(
            cpu_p, mem_p, failed, lower_bound, _n_hosts(best), cpu_cap, mem_cap, seed=seed, max_work=ls_work,
            deadline=deadline, log=methods,
        )
        if found is not None and _n_hosts(found) < _n_hosts(best):
            best = found
        if open_gap():
            # The annealing stage makes the attempts at one host fewer that the retries would.
            retries = 0 if annealing() else LS_RETRIES
            best = descend(
                cpu_p, mem_p, best, floor, lower_bound, cpu_cap, mem_cap, seed=seed, max_work=ls_work,
                retries=retries, deadline=deadline, log=methods,
            )
    if annealing() and open_gap():
        best = anneal_descend(
            cpu_p, mem_p, best, lower_bound, cpu_cap, mem_cap, seed=seed, max_moves=anneal_moves, deadline=deadline,
            log=methods,
        )
    if method == "auto" and open_gap() and placeable.size <= EXACT_MAX_VMS:
        best, proven = exact_search(
            cpu_p, mem_p, best, lower_bound, (cpu_cap, mem_cap), (cpu_cap_ghz, mem_cap_gb), seed=seed,
            deterministic_time=cpsat_dtime, deadline=deadline, log=methods,
        )
        if proven > lower_bound:
            lower_bound, resource = proven, "cp-sat"
    elif method == "auto" and open_gap():
        best = repack_groups(
            cpu_p, mem_p, best, lower_bound, cpu_cap, mem_cap, seed=seed, deterministic_time=cpsat_dtime,
            deadline=deadline, log=methods,
        )
    lp = None
    if method == "auto" and lp_iterations > 0 and open_gap():
        # The plan's hosts seed the master: its value starts at the plan, not at one host per VM.
        lp = lp_bound(cpu_p, mem_p, cpu_cap_ghz, mem_cap_gb, plan=best, max_iterations=lp_iterations,
                      deadline=clock.now() + LP_SHARE * (deadline - clock.now()), seed=seed)
        methods.append(f"lp:{lp.hosts}")
        if lp.hosts > lower_bound:
            lower_bound, resource = lp.hosts, "lp"
    return _result(best, placeable, n, lower_bound, resource, methods, start, deadline, lp)


def _result(assignment_p, placeable, n, lower_bound, resource, methods, start, deadline, lp) -> SolveResult:
    assignment = np.full(n, -1, dtype=np.int32)
    assignment[placeable] = assignment_p
    n_hosts = _n_hosts(assignment_p)
    if n_hosts <= lower_bound:
        stopped_by = "bound"
    else:
        stopped_by = "time limit" if clock.now() >= deadline else "work budget"
    return SolveResult(
        assignment=assignment,
        n_hosts=n_hosts,
        lower_bound=int(lower_bound),
        bound_resource=resource,
        status="optimal" if n_hosts == lower_bound else "feasible",
        gap_hosts=n_hosts - int(lower_bound),
        methods=methods,
        time_s=clock.now() - start,
        stopped_by=stopped_by,
        lp_bound=lp,
    )
