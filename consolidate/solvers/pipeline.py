"""The solver portfolio: bounds, heuristics, local search and CP-SAT behind one ``solve()``.

``solve`` removes the VMs that fit no host on their own, computes the lower bounds, runs the
constructive heuristics (the best one wins), then tries to close the gap to the bound with
the local search at a fixed host count and with CP-SAT, stopping as soon as the bound is met.

Long series are packed by constraint generation: the packers see a subset of the time steps
(those of highest total demand first), the plan is checked on the full series, and the worst
step of each host over capacity joins the subset until no host is. The returned plan is
always checked on every step of the full series.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from consolidate.errors import InputError
from consolidate.solvers import heuristics, localsearch
from consolidate.solvers.bounds import lower_bounds
from consolidate.solvers.feasibility import REL_MARGIN, effective_caps, host_loads, violations

#: Steps of highest total demand the packers start from when the series is longer.
INITIAL_STEPS = 64

#: Local-search iterations per host count, and per call of the kernel (the wall-clock cap is
#: checked between calls).
LS_ITERS = 50_000
LS_CHUNK = 5_000

METHODS = ("auto", "ffd", "heuristics", "localsearch")


@dataclass(frozen=True)
class SolveResult:
    """A placement of VMs on identical hosts, with its lower bound.

    ``assignment`` holds the host index (0 .. n_hosts-1) of each VM, or -1 for a VM that alone
    exceeds a host. ``host_peak_ghz`` is each host's peak CPU load over the series (GHz).
    ``status`` is ``"optimal"`` when ``n_hosts == lower_bound`` and ``"feasible"`` otherwise.
    """

    assignment: np.ndarray
    n_hosts: int
    lower_bound: int
    bound_resource: str
    status: str
    gap_hosts: int
    methods: list[str]
    time_s: float
    host_peak_ghz: np.ndarray = field(repr=False)


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


def pack_with_steps(
    packer: Packer, cpu_ghz: np.ndarray, mem_gb: np.ndarray, cpu_cap: float, mem_cap: float, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``packer`` on a subset of steps, adding binding steps until the full series fits.

    ``packer(cpu_sub, mem_gb, cpu_cap, mem_cap) -> assignment`` works on the (n, len(steps))
    sub-series. Returns the assignment (feasible on every step) and the final step set.
    """
    while True:
        sub = np.ascontiguousarray(cpu_ghz[:, steps])
        assignment = packer(sub, mem_gb, cpu_cap, mem_cap)
        n_hosts = int(assignment.max()) + 1 if assignment.size else 0
        bad, new_steps = violations(cpu_ghz, mem_gb, assignment, n_hosts, cpu_cap, mem_cap)
        if bad.size == 0:
            return assignment, steps
        # Memory does not depend on the steps, so a violation here is always a CPU step.
        steps = np.union1d(steps, new_steps)


def _order_packer(kernel, key: str) -> Packer:
    def packer(cpu, mem, cpu_cap, mem_cap):
        order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, key)
        return kernel(cpu, mem, order, cpu_cap, mem_cap)

    return packer


def _bin_centric_packer(use_l2: bool, window: int = 256) -> Packer:
    def packer(cpu, mem, cpu_cap, mem_cap):
        order = heuristics.sort_order(cpu, mem, cpu_cap, mem_cap, "l2")
        return heuristics.bin_centric_fit(cpu, mem, order, cpu_cap, mem_cap, use_l2, window)

    return packer


def heuristic_portfolio(method: str) -> dict[str, Packer]:
    """The constructive heuristics ``method`` runs, by name."""
    portfolio = {"ffd-peak": _order_packer(heuristics.first_fit, "peak")}
    if method == "ffd":
        return portfolio
    for key in ("sum", "l2"):
        portfolio[f"ffd-{key}"] = _order_packer(heuristics.first_fit, key)
    for key in heuristics.SORT_KEYS:
        portfolio[f"bfd-{key}"] = _order_packer(heuristics.best_fit, key)
    portfolio["dot-product"] = _bin_centric_packer(use_l2=False)
    portfolio["l2-norm"] = _bin_centric_packer(use_l2=True)
    return portfolio


def fixed_count_search(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    n_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    steps: np.ndarray,
    *,
    seed: int,
    max_iters: int = LS_ITERS,
    deadline: float = np.inf,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Local search for a plan on exactly ``n_hosts`` hosts, by constraint generation over steps.

    Returns ``(plan or None, last assignment, steps)``: the plan is feasible on the full series;
    None when the iteration budget (or the ``deadline``, a ``time.perf_counter`` value) ran out.
    ``start`` is a warm start (VMs at -1, or all of them when None, are inserted first).
    """
    n = cpu_ghz.shape[0]
    assignment = np.full(n, -1, dtype=np.int32) if start is None else start.astype(np.int32)
    order = heuristics.sort_order(cpu_ghz, mem_gb, cpu_cap, mem_cap, "l2")
    used = 0
    call = 0
    while used < max_iters and time.perf_counter() < deadline:
        sub = np.ascontiguousarray(cpu_ghz[:, steps])
        budget = min(LS_CHUNK, max_iters - used)
        assignment, overflow, iters = localsearch.local_search(
            sub, mem_gb, assignment, order, n_hosts, cpu_cap, mem_cap, seed * 7919 + call, budget
        )
        used += max(iters, 1)
        call += 1
        if overflow > 0.0:
            continue
        bad, new_steps = violations(cpu_ghz, mem_gb, assignment, n_hosts, cpu_cap, mem_cap)
        if bad.size == 0:
            return assignment, assignment, steps
        steps = np.union1d(steps, new_steps)
    return None, assignment, steps


def _n_hosts(assignment: np.ndarray) -> int:
    return int(assignment.max()) + 1 if assignment.size else 0


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
) -> SolveResult:
    """Pack VMs onto as few identical hosts as the full-resolution series allow.

    Parameters
    ----------
    cpu_ghz : (n_vms, T) CPU demand in effective GHz (T = 1 for peak or percentile sizing).
    mem_gb : (n_vms,) memory demand in GB.
    cpu_cap_ghz, mem_cap_gb : plannable capacity of one host (GHz, GB), targets applied.
    seed : seed of the randomised searches; the same seed gives the same plan.
    time_limit_s : wall-clock cap on the whole run (s); budgets are otherwise counted in
        iterations, so the plan does not depend on machine speed unless this cap is hit.
    method : ``"auto"`` (everything), ``"ffd"`` (first-fit decreasing only) or
        ``"heuristics"`` (the constructive portfolio only).
    rel_margin : relative safety margin shaved off both capacities for the feasibility tests.

    Returns
    -------
    SolveResult, with every host within capacity at every step of ``cpu_ghz``.
    """
    start = time.perf_counter()
    if method not in METHODS:
        raise InputError(f"unknown solver method {method!r}; use one of {', '.join(METHODS)}")
    cpu, mem = _check_inputs(cpu_ghz, mem_gb, cpu_cap_ghz, mem_cap_gb)
    cpu_cap, mem_cap = effective_caps(cpu_cap_ghz, mem_cap_gb, rel_margin)

    n = cpu.shape[0]
    peak = cpu.max(axis=1).astype(np.float64)
    placeable = np.flatnonzero((peak <= cpu_cap) & (mem <= mem_cap))
    cpu_p = np.ascontiguousarray(cpu[placeable])
    mem_p = mem[placeable]
    bounds = lower_bounds(cpu_p, mem_p, cpu_cap_ghz, mem_cap_gb)

    methods: list[str] = []
    best: np.ndarray | None = None
    steps = initial_steps(cpu_p)
    for name, packer in heuristic_portfolio(method).items():
        if best is not None and (_n_hosts(best) == bounds.value or time.perf_counter() - start > time_limit_s):
            break
        candidate, steps = pack_with_steps(packer, cpu_p, mem_p, cpu_cap, mem_cap, steps)
        methods.append(name)
        if best is None or _n_hosts(candidate) < _n_hosts(best):
            best = candidate

    if method in ("auto", "localsearch") and best is not None:
        deadline = start + time_limit_s
        warm = None
        for n_hosts in range(bounds.value, _n_hosts(best)):
            if time.perf_counter() >= deadline:
                break
            plan, warm, steps = fixed_count_search(
                cpu_p, mem_p, n_hosts, cpu_cap, mem_cap, steps, seed=seed, deadline=deadline, start=warm
            )
            methods.append(f"localsearch@{n_hosts}")
            if plan is not None:
                best = plan
                break

    return _result(best, placeable, n, cpu_p, mem_p, bounds.value, bounds.resource, methods, start)


def _result(assignment_p, placeable, n, cpu_p, mem_p, lower_bound, resource, methods, start) -> SolveResult:
    assignment = np.full(n, -1, dtype=np.int32)
    if assignment_p is not None:
        assignment[placeable] = assignment_p
    n_hosts = _n_hosts(assignment_p) if assignment_p is not None else 0
    load_ghz, _ = host_loads(cpu_p, mem_p, assignment_p if assignment_p is not None else np.zeros(0, np.int32), n_hosts)
    return SolveResult(
        assignment=assignment,
        n_hosts=n_hosts,
        lower_bound=int(lower_bound),
        bound_resource=resource,
        status="optimal" if n_hosts == lower_bound else "feasible",
        gap_hosts=n_hosts - int(lower_bound),
        methods=methods,
        time_s=time.perf_counter() - start,
        host_peak_ghz=load_ghz.max(axis=1) if n_hosts else np.zeros(0),
    )
