"""A lower bound on hosts from the LP relaxation of the packing, by column generation.

The master problem is the set cover of Gilmore and Gomory [1]: a *column* is a set of VMs
that fits one host (memory, and CPU at every step of a chosen subset ``S``), and

    min sum_c lambda_c   s.t.   sum_c a_ic lambda_c >= 1 for every VM i,   lambda >= 0.

Its optimum is at least the volume bounds (a fractional host is still a host's volume) and
sees what they ignore: that one host must hold its VMs at every step at once.

Why a subset of the steps. Every set that fits a host on the full series fits it on ``S``,
so the LP over ``S`` is a relaxation of the LP over all steps, itself a relaxation of the
packing: any bound over ``S`` bounds the real problem. ``S`` is the steps of highest total
demand (where the volume bound is set and hosts are fullest) plus each large VM's peak step
(where it leaves the least room beside it); more steps tighten the LP but slow the pricing.

Why any iteration gives a bound (Farley [2]). With duals ``pi >= 0`` of the restricted master
and ``v >= max_c pi . a_c`` over *every* column, ``pi / max(1, v)`` is feasible for the dual of
the full master, whose objective ``sum(pi) / max(1, v)`` is then a lower bound on its
optimum. ``v`` comes from CP-SAT on the pricing knapsack (objective ``pi``, the CPU rows of
``S`` and memory), whose ``BestObjectiveBound`` bounds the best column even when the search
stops on its budget. The bound does not need the duals to be optimal or GLOP's figures to be
exact: ``sum(pi)`` is summed here, in float64, over the duals given to the pricing.

Float safety. The pricing model is a relaxation of the real one: weights are rounded down
(after a relative shave that absorbs float64 rounding), the capacity is the real one (no
safety margin), the objective is rounded up; and the bound's ceiling has the slack of
:mod:`consolidate.solvers.bounds`.

Pricing. A greedy kernel builds many columns per iteration (one per seed VM of highest dual,
then the VMs by dual per unit of size); the exact pricing runs when the greedy finds no
column of negative reduced cost, every ``EXACT_EVERY`` iterations and at the last one. Farley's
bound holds for any duals ``>= 0``, so the pricing uses smoothed duals [3] (a mix of the best-bound
duals so far, at first each VM's share of the busiest step, which bound as the volume bound
does, and the master's): the bound starts at the volume bound and climbs from there.

Master: OR-Tools' GLOP through ``pywraplp``, which keeps the model between solves (columns are
added, not rebuilt) and gives each row's dual; OR-Tools is a dependency already.

Budgets are iterations and CP-SAT deterministic time (one worker, a seed), so the same inputs
and seed give the same bound; a wall-clock ``deadline`` can only stop it sooner.

Where it helps. On small and mid-sized estates the LP is solved and can prove a plan optimal
where the volume bounds cannot (VMs of 3/8 of a host: two per host, not 2.67). On a thousand
VMs it does not converge in a minute: the master seeded with the plan is degenerate (its value
stays at the plan's), CP-SAT's bound on a thousand-item pricing is close to its LP relaxation,
and the certified bound stays at the volume duals' (``benchmarks/bench_solver.py``).

References
----------
.. [1] P. C. Gilmore, R. E. Gomory, "A linear programming approach to the cutting-stock
   problem", Operations Research 9(6) (1961) 849-859.
.. [2] A. A. Farley, "A note on bounding a class of linear programming problems, including
   cutting stock problems", Operations Research 38(5) (1990) 922-923.
.. [3] M. E. Lübbecke, J. Desrosiers, "Selected topics in column generation", Operations
   Research 53(6) (2005) 1007-1023; F. Vanderbeck, "Computational study of a column generation
   algorithm for bin packing and cutting stock problems", Mathematical Programming 86 (1999).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from consolidate.jit import njit
from consolidate.solvers import clock
from consolidate.solvers.bounds import _ceil_ratio
from consolidate.solvers.cpsat import UNITS_PER_CAP, start_steps

#: Steps of highest total demand the LP starts from (large VMs' peak steps are added).
LP_STEPS = 64
#: A VM above this share of a host at its peak step adds that step to ``S``.
PEAK_STEP_SHARE = 0.25
#: Column-generation iterations (master solves).
LP_ITERATIONS = 100
#: CP-SAT deterministic time of one exact pricing.
PRICING_DTIME = 1.0
#: Dual smoothing (Wentges): the pricing sees this share of the best-bound duals so far beside
#: the master's, which on a degenerate master jump between extreme points and bound little.
SMOOTHING = 0.8
#: The exact pricing runs at least every this many iterations.
EXACT_EVERY = 10
#: Greedy columns per iteration (one per seed VM).
COLUMNS_PER_ITERATION = 32
#: A column enters when its dual value exceeds 1 by this much (negative reduced cost).
REDUCED_COST_EPS = 1e-9
#: Integer units of one dual in the pricing objective (rounding each dual up costs the bound at
#: most one unit per VM: 1e-5 hosts per host on 1,000 VMs).
DUAL_UNITS = 100_000_000
#: The LP counts as solved when the Farley bound is within this share of the master's optimum.
LP_GAP_TOL = 1e-4
#: Relative shave of a scaled weight before its floor: far above float64 rounding, so a floored
#: weight never exceeds its exact value.
_SHAVE = 1e-9
#: CP-SAT's wall-clock cap when no deadline is given (its deterministic time is the budget).
_MAX_WALL_S = 3600.0


@dataclass(frozen=True)
class LpBound:
    """The LP bound of a packing over ``steps`` time steps.

    ``hosts``: the certified integer bound, ``ceil(farley)`` less the float slack (hosts).
    ``farley``: the best Farley bound over the iterations (hosts, fractional; certified).
    ``lp_hosts``: the last restricted master's optimum (hosts, fractional; an upper bound on the
    LP over ``S``, not a lower bound on the packing unless ``converged``).
    ``steps``: time steps in ``S``. ``columns``: columns in the master at the end.
    ``iterations``: master solves. ``converged``: ``farley`` is within ``LP_GAP_TOL`` of
    ``lp_hosts`` (the LP over ``S`` is solved). ``seconds``: wall time, numba compilation excluded.
    """

    hosts: int
    farley: float
    lp_hosts: float
    steps: int
    columns: int
    iterations: int
    converged: bool
    seconds: float


def lp_steps(cpu_ghz: np.ndarray, cpu_cap_ghz: float, count: int = LP_STEPS) -> np.ndarray:
    """``S``: the ``count`` steps of highest total demand and each large VM's peak step (sorted)."""
    peak_step = cpu_ghz.argmax(axis=1)
    large = cpu_ghz.max(axis=1) > PEAK_STEP_SHARE * cpu_cap_ghz
    return np.union1d(start_steps(cpu_ghz, count), peak_step[large]).astype(np.int64)


@njit
def greedy_columns(weight: np.ndarray, mem: np.ndarray, cpu_cap: float, mem_cap: float, order: np.ndarray,
                   seeds: np.ndarray) -> np.ndarray:
    """One column per seed VM: the seed, then each VM of ``order`` that still fits (CPU of every
    row of ``weight`` (n, |S|) float64 within ``cpu_cap``, memory within ``mem_cap``).

    Returns a (len(seeds), n) uint8 membership matrix.
    """
    n, n_steps = weight.shape
    out = np.zeros((seeds.shape[0], n), dtype=np.uint8)
    load = np.empty(n_steps)
    for c in range(seeds.shape[0]):
        j = seeds[c]
        for t in range(n_steps):
            load[t] = weight[j, t]
        load_mem = mem[j]
        out[c, j] = 1
        for k in range(order.shape[0]):
            i = order[k]
            if out[c, i] or load_mem + mem[i] > mem_cap:
                continue
            fits = True
            for t in range(n_steps):
                if load[t] + weight[i, t] > cpu_cap:
                    fits = False
                    break
            if fits:
                for t in range(n_steps):
                    load[t] += weight[i, t]
                load_mem += mem[i]
                out[c, i] = 1
    return out


class _Master:
    """The restricted master in GLOP: one row per VM, columns added as they are found."""

    def __init__(self, n_vms: int):
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.rows = [self.solver.Constraint(1.0, self.solver.infinity()) for _ in range(n_vms)]
        self.solver.Objective().SetMinimization()
        self.seen: set[bytes] = set()

    def add(self, members: np.ndarray) -> bool:
        """Add the column of VMs ``members`` (uint8 mask) unless it is in already."""
        key = np.packbits(members).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        var = self.solver.NumVar(0.0, self.solver.infinity(), "")
        self.solver.Objective().SetCoefficient(var, 1.0)
        for i in np.flatnonzero(members):
            self.rows[i].SetCoefficient(var, 1.0)
        return True

    def solve(self) -> tuple[float, np.ndarray]:
        """(objective in hosts, duals >= 0 per VM)."""
        status = self.solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"the LP master did not solve (GLOP status {status})")
        duals = np.array([row.dual_value() for row in self.rows], dtype=np.float64)
        return self.solver.Objective().Value(), np.maximum(duals, 0.0)


def _price_exact(weight, mem, cpu_cap, mem_cap, duals, hint, seed, deterministic_time, time_limit_s):
    """CP-SAT on the pricing knapsack: (upper bound on max_c duals . a_c, best column found or None).

    The integer model is a relaxation (weights floored after a shave, real capacities, duals
    rounded up), so its objective bound bounds the real best column; without a solution the bound is
    Dantzig's (:func:`dantzig_bound`), as it is whenever that is lower.
    """
    users = np.flatnonzero(duals > 0)
    if users.size == 0:
        return 0.0, None
    cpu_units = np.floor(weight[users] * (UNITS_PER_CAP / cpu_cap) * (1.0 - _SHAVE)).astype(np.int64)
    price_units = np.ceil(duals[users] * DUAL_UNITS * (1.0 + _SHAVE)).astype(np.int64)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in users]
    for t in range(weight.shape[1]):
        if cpu_units[:, t].sum() > UNITS_PER_CAP:
            model.add(cp_model.LinearExpr.weighted_sum(x, cpu_units[:, t].tolist()) <= UNITS_PER_CAP)
    if mem[users].sum() > mem_cap:
        mem_units = np.floor(mem[users] * (UNITS_PER_CAP / mem_cap) * (1.0 - _SHAVE)).astype(np.int64)
        model.add(cp_model.LinearExpr.weighted_sum(x, mem_units.tolist()) <= UNITS_PER_CAP)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, price_units.tolist()))
    for var, member in zip(x, hint[users]):
        model.add_hint(var, bool(member))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = max(deterministic_time, 0.01)
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    # On a thousand VMs and a hundred steps presolve alone spends seconds of deterministic time,
    # and the search never starts: the knapsack needs none.
    solver.parameters.cp_model_presolve = False
    status = solver.solve(model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    # CP-SAT reports a bound of 0 when it stops before its first solution: no bound then.
    upper = dantzig_bound(weight[users], mem[users], cpu_cap, mem_cap, duals[users])
    if not found:
        return upper, None
    column = np.zeros(duals.size, dtype=np.uint8)
    column[users[[solver.boolean_value(var) for var in x]]] = 1
    return min(upper, solver.best_objective_bound / DUAL_UNITS), column


def _volume_duals(weight: np.ndarray, mem: np.ndarray, cpu_cap: float, mem_cap: float) -> np.ndarray:
    """Duals whose Farley bound is the volume bound over ``S``: each VM's share of a host at the
    busiest step of ``S`` (or of memory, where that volume is larger); no column holds more than
    one host of them, so the column generation starts from the volume bound, not from zero."""
    cpu_share = weight / cpu_cap
    cpu_duals = cpu_share[:, int(np.argmax(cpu_share.sum(axis=0)))] if weight.size else np.zeros(mem.size)
    mem_duals = mem / mem_cap
    return cpu_duals if cpu_duals.sum() >= mem_duals.sum() else mem_duals


def _farley(duals: np.ndarray, upper: float) -> float:
    """Farley's bound (hosts) from duals >= 0 and an upper bound on any column's dual value."""
    return float(np.sum(duals, dtype=np.float64)) / max(1.0, upper)


def _add_greedy_columns(master, weight, mem, caps, size, price_sets, duals) -> tuple[int, np.ndarray]:
    """Greedy columns for each dual vector of ``price_sets``; those of negative reduced cost under
    ``duals`` (the master's) enter. Returns (columns added, the best column under ``duals``)."""
    added, best, best_value = 0, np.zeros(duals.size, dtype=np.uint8), 0.0
    for prices in price_sets:
        order = np.argsort(-prices / np.maximum(size, 1e-12), kind="stable")
        order = order[prices[order] > 0]
        seeds = order[np.argsort(-prices[order], kind="stable")][:COLUMNS_PER_ITERATION]
        columns = greedy_columns(weight, mem, caps[0], caps[1], order, seeds)
        values = columns.astype(np.float64) @ duals
        added += sum(master.add(columns[c]) for c in np.flatnonzero(values > 1.0 + REDUCED_COST_EPS))
        if values.size and values.max() > best_value:
            best, best_value = columns[int(np.argmax(values))], float(values.max())
    return added, best


def dantzig_bound(weight: np.ndarray, mem: np.ndarray, cpu_cap: float, mem_cap: float, duals: np.ndarray) -> float:
    """An upper bound on any column's dual value: the least, over the rows (each CPU step of
    ``weight`` (n, |S|) GHz, and memory), of Dantzig's fractional-knapsack bound of that row alone."""
    rows = np.column_stack([weight / cpu_cap, mem / mem_cap])
    best = float(duals.sum())
    for size in rows.T:
        free = size <= 0
        ratio = np.where(free, np.inf, duals / np.where(free, 1.0, size))
        order = np.argsort(-ratio, kind="stable")
        filled = np.cumsum(size[order])
        full = int(np.searchsorted(filled, 1.0, side="right"))
        value = float(duals[order[:full]].sum())
        if full < order.size:
            room = 1.0 - (filled[full - 1] if full else 0.0)
            value += duals[order[full]] * room / size[order[full]]
        best = min(best, value)
    # Float sums of the ratios may round either way; the shave covers them.
    return best * (1.0 + _SHAVE)


def _fits(weight, mem, cpu_cap, mem_cap, members) -> bool:
    rows = members.astype(bool)
    return bool(weight[rows].sum(axis=0).max(initial=0.0) <= cpu_cap and mem[rows].sum() <= mem_cap)


def lp_bound(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    cpu_cap_ghz: float,
    mem_cap_gb: float,
    *,
    plan: np.ndarray | None = None,
    steps: int = LP_STEPS,
    max_iterations: int = LP_ITERATIONS,
    pricing_dtime: float = PRICING_DTIME,
    deadline: float | None = None,
    seed: int = 0,
) -> LpBound:
    """The LP bound (hosts) of packing VMs ``cpu_ghz`` (n, T) GHz and ``mem_gb`` (n,) GB onto hosts
    of ``cpu_cap_ghz`` GHz and ``mem_cap_gb`` GB (the real capacities: no safety margin). Each VM
    must fit a host alone (``pipeline.solve`` passes its placeable VMs).

    ``plan``: a feasible assignment (host index per VM), whose hosts are initial columns beside
    the singletons. ``steps``: steps of highest total demand in ``S`` (large VMs' peak steps are
    added). ``max_iterations``: master solves; ``pricing_dtime``: CP-SAT deterministic time per
    exact pricing; ``deadline``: a ``clock.now()`` value that stops the iterations sooner.
    """
    start = clock.now()
    deadline = np.inf if deadline is None else deadline
    n = cpu_ghz.shape[0]
    chosen = lp_steps(cpu_ghz, cpu_cap_ghz, steps) if n else np.zeros(0, dtype=np.int64)
    weight = np.ascontiguousarray(cpu_ghz[:, chosen], dtype=np.float64)
    mem = np.ascontiguousarray(mem_gb, dtype=np.float64)
    master = _Master(n)
    for i in range(n):
        master.add(np.eye(1, n, i, dtype=np.uint8)[0])
    if plan is not None:
        for h in np.unique(plan[plan >= 0]):
            master.add((plan == h).astype(np.uint8))
    size = weight.mean(axis=1) / cpu_cap_ghz + mem / mem_cap_gb
    caps = (float(cpu_cap_ghz), float(mem_cap_gb))

    def price(duals: np.ndarray, hint: np.ndarray) -> tuple[float, np.ndarray | None]:
        return _price_exact(weight, mem, *caps, duals, hint, seed, pricing_dtime, min(deadline - clock.now(), _MAX_WALL_S))

    center = _volume_duals(weight, mem, *caps)
    upper, _ = price(center, np.zeros(n, dtype=np.uint8))
    farley = _farley(center, upper) if n else 0.0
    lp_hosts, converged, iterations = float(n), n == 0, 0
    while not converged and iterations < max_iterations and clock.now() < deadline:
        lp_hosts, duals = master.solve()
        iterations += 1
        smoothed = SMOOTHING * center + (1.0 - SMOOTHING) * duals
        added, hint = _add_greedy_columns(master, weight, mem, caps, size, (smoothed, duals), duals)
        if added and iterations % EXACT_EVERY and iterations < max_iterations:
            continue
        # The smoothed duals first; the master's own when those price out no column.
        for prices in (smoothed, duals):
            upper, best = price(prices, hint)
            if _farley(prices, upper) > farley:
                farley, center = _farley(prices, upper), prices
            if best is not None and best @ duals > 1.0 + REDUCED_COST_EPS and _fits(weight, mem, *caps, best):
                added += master.add(best)
            if added:
                break
        converged = farley >= lp_hosts * (1.0 - LP_GAP_TOL)
        if not added:
            # Same duals, same pricing: another iteration would repeat this one.
            break
    return LpBound(
        hosts=_ceil_ratio(farley, 1.0) if farley > 0 else 0,
        farley=float(farley),
        lp_hosts=float(lp_hosts),
        steps=int(chosen.size),
        columns=len(master.seen),
        iterations=iterations,
        converged=bool(converged),
        seconds=clock.now() - start,
    )
