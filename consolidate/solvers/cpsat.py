"""OR-Tools CP-SAT models: exact packing of a fixed host count, with constraint generation.

The model assigns each VM to one of ``n_hosts`` identical hosts (Boolean ``x[i, h]``) under a
memory knapsack per host and a CPU knapsack per host and checked time step. Hosts are
interchangeable, so VM ``k`` of the size order may only use hosts ``0 .. k`` (a classic
symmetry break), and a warm start is renumbered to respect it before it is given as a hint.

Constraint generation over the steps: the model starts from a few steps; a solution is
checked on the full series and the worst step of each host over capacity is added, until
the plan fits everywhere. A model found infeasible on a subset of the steps is infeasible on
the full series, which proves that ``n_hosts`` hosts are too few.

CP-SAT needs integers. A plan is built on demands rounded up and capacities rounded down,
so an integer plan is a float plan; a proof is built on demands rounded down and the real
capacities rounded up, so an integer infeasibility is a real one.

Budgets are CP-SAT's deterministic time with one worker, so a seed fixes the result; the
wall-clock limit is a safety cap.

References
----------
.. [1] L. Perron, F. Didier, "CP-SAT", Google OR-Tools, https://developers.google.com/optimization.
.. [2] Google OR-Tools sample ``bin_packing_sat.py`` (the textbook bin-packing model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from consolidate.solvers import clock
from consolidate.solvers.feasibility import violations

#: Integer units per host capacity in the CP-SAT models.
UNITS_PER_CAP = 1_000_000
#: Steps a model starts from (highest total demand of its VMs), before constraint generation.
START_STEPS = 8


@dataclass(frozen=True)
class PackOutcome:
    """What a CP-SAT packing attempt found.

    ``status`` is ``"feasible"`` (``assignment`` fits the full series), ``"infeasible"``
    (proved: ``n_hosts`` hosts cannot hold the VMs) or ``"unknown"`` (budget ran out).
    """

    status: str
    assignment: np.ndarray | None
    steps: np.ndarray
    deterministic_time: float


def _canonical_hint(hint: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Renumber hosts by first use along ``order`` so that the hint obeys the symmetry break."""
    new_index = {}
    out = np.empty_like(hint)
    for i in order:
        h = int(hint[i])
        if h not in new_index:
            new_index[h] = len(new_index)
        out[i] = new_index[h]
    return out


def _solve_on_steps(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    n_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    steps: np.ndarray,
    order: np.ndarray,
    hint: np.ndarray | None,
    relaxed: bool,
    seed: int,
    deterministic_time: float,
    time_limit_s: float,
) -> tuple[str, np.ndarray | None, float]:
    """One CP-SAT solve on ``steps``; returns (status, assignment or None, deterministic time)."""
    n = cpu_ghz.shape[0]
    round_item = np.floor if relaxed else np.ceil
    round_cap = np.ceil if relaxed else np.floor
    cpu_units = round_item(cpu_ghz[:, steps].astype(np.float64) * (UNITS_PER_CAP / cpu_cap)).astype(np.int64)
    mem_units = round_item(mem_gb.astype(np.float64) * (UNITS_PER_CAP / mem_cap)).astype(np.int64)
    cap_units = int(round_cap(UNITS_PER_CAP * (1.0 + 1e-12 if relaxed else 1.0)))

    model = cp_model.CpModel()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    x = [[model.new_bool_var(f"x{i}_{h}") for h in range(min(n_hosts, rank[i] + 1))] for i in range(n)]
    for i in range(n):
        model.add_exactly_one(x[i])
    for h in range(n_hosts):
        users = [i for i in range(n) if len(x[i]) > h]
        if not users:
            continue
        column = [x[i][h] for i in users]
        if mem_units[users].sum() > cap_units:
            model.add(cp_model.LinearExpr.weighted_sum(column, mem_units[users].tolist()) <= cap_units)
        for k in range(len(steps)):
            if cpu_units[users, k].sum() > cap_units:
                model.add(cp_model.LinearExpr.weighted_sum(column, cpu_units[users, k].tolist()) <= cap_units)
    if hint is not None:
        canon = _canonical_hint(hint, order)
        for i in range(n):
            for h, var in enumerate(x[i]):
                model.add_hint(var, bool(canon[i] == h))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = max(deterministic_time, 0.01)
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    status = solver.solve(model)
    used = solver.deterministic_time
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        assignment = np.array(
            [next(h for h, var in enumerate(x[i]) if solver.boolean_value(var)) for i in range(n)], dtype=np.int32
        )
        return "feasible", assignment, used
    if status == cp_model.INFEASIBLE:
        return "infeasible", None, used
    return "unknown", None, used


def start_steps(cpu_ghz: np.ndarray, count: int = START_STEPS) -> np.ndarray:
    """The ``count`` steps of highest total demand of these VMs."""
    total = cpu_ghz.sum(axis=0, dtype=np.float64)
    return np.sort(np.argsort(-total, kind="stable")[: min(count, total.size)])


def pack_exact(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    n_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    real_cpu_cap: float | None = None,
    real_mem_cap: float | None = None,
    hint: np.ndarray | None = None,
    steps: np.ndarray | None = None,
    seed: int = 0,
    deterministic_time: float = 10.0,
    time_limit_s: float = 60.0,
    prove: bool = True,
) -> PackOutcome:
    """Pack the VMs on exactly ``n_hosts`` hosts with CP-SAT, or prove that they do not fit.

    Parameters
    ----------
    cpu_ghz : float32 (n, T) CPU demand (GHz); mem_gb : (n,) memory (GB).
    n_hosts : hosts available.
    cpu_cap, mem_cap : effective capacities a plan must respect (GHz, GB).
    real_cpu_cap, real_mem_cap : the real capacities, for proofs (default: the effective ones).
    hint : a (possibly infeasible) plan to start from.
    steps : steps to start from (default: the few of highest total demand).
    seed : CP-SAT random seed.
    deterministic_time : CP-SAT deterministic-time budget for the whole attempt.
    time_limit_s : wall-clock cap for the whole attempt (s).
    prove : model the relaxed rounding first, so that "infeasible" is a proof; otherwise only
        look for a plan.

    Returns
    -------
    PackOutcome.
    """
    start = clock.now()
    real_cpu_cap = cpu_cap if real_cpu_cap is None else real_cpu_cap
    real_mem_cap = mem_cap if real_mem_cap is None else real_mem_cap
    size = cpu_ghz.max(axis=1).astype(np.float64) / cpu_cap + mem_gb / mem_cap
    order = np.argsort(-size, kind="stable")
    steps = start_steps(cpu_ghz) if steps is None else np.asarray(steps, dtype=np.int64)
    spent = 0.0
    relaxed = prove
    while True:
        left_s = time_limit_s - (clock.now() - start)
        if deterministic_time - spent <= 0 or left_s <= 0:
            return PackOutcome("unknown", None, steps, spent)
        caps = (real_cpu_cap, real_mem_cap) if relaxed else (cpu_cap, mem_cap)
        status, assignment, used = _solve_on_steps(
            cpu_ghz, mem_gb, n_hosts, caps[0], caps[1], steps, order, hint, relaxed, seed, deterministic_time - spent, left_s
        )
        spent += used
        if status == "infeasible" and relaxed:
            return PackOutcome("infeasible", None, steps, spent)
        if status != "feasible":
            return PackOutcome("unknown", None, steps, spent)
        bad, new_steps = violations(cpu_ghz, mem_gb, assignment, n_hosts, cpu_cap, mem_cap)
        if bad.size == 0:
            return PackOutcome("feasible", assignment, steps, spent)
        hint = assignment
        fresh = np.setdiff1d(new_steps, steps)
        if fresh.size:
            steps = np.union1d(steps, fresh)
        else:
            # The relaxed rounding let a host through at a checked step: look for a plan on the
            # conservative rounding instead (its infeasibility would prove nothing).
            relaxed = False
