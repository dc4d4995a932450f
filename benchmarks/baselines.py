"""Baselines the benchmarks run beside the project's solver (never used by the package).

``naive_bin_packing`` is the textbook CP-SAT bin-packing model (the OR-Tools ``bin_packing_sat``
sample's formulation) on every time step.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from consolidate.solvers.cpsat import UNITS_PER_CAP


def naive_bin_packing(
    cpu_ghz: np.ndarray,
    mem_gb: np.ndarray,
    max_hosts: int,
    cpu_cap: float,
    mem_cap: float,
    *,
    time_limit_s: float = 60.0,
    seed: int = 0,
    workers: int = 1,
) -> np.ndarray | None:
    """The textbook CP-SAT bin-packing model on every step, (the OR-Tools bin-packing sample's model).

    ``x[i, b]`` Booleans, ``used[b]`` per host, every step and memory as a knapsack with
    capacity ``cap * used[b]``, minimise the hosts used, no symmetry break, no constraint
    generation. Returns the best plan found within ``time_limit_s`` (or None).
    """
    n, n_steps = cpu_ghz.shape
    cpu_units = np.ceil(cpu_ghz.astype(np.float64) * (UNITS_PER_CAP / cpu_cap)).astype(np.int64)
    mem_units = np.ceil(mem_gb.astype(np.float64) * (UNITS_PER_CAP / mem_cap)).astype(np.int64)
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{b}") for b in range(max_hosts)] for i in range(n)]
    used = [model.new_bool_var(f"used{b}") for b in range(max_hosts)]
    for i in range(n):
        model.add_exactly_one(x[i])
    for b in range(max_hosts):
        model.add(sum(int(mem_units[i]) * x[i][b] for i in range(n)) <= UNITS_PER_CAP * used[b])
        for t in range(n_steps):
            model.add(sum(int(cpu_units[i, t]) * x[i][b] for i in range(n) if cpu_units[i, t]) <= UNITS_PER_CAP * used[b])
    model.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = time_limit_s
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return np.array([next(b for b in range(max_hosts) if solver.boolean_value(x[i][b])) for i in range(n)], dtype=np.int32)
