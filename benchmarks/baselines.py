"""Baselines the benchmarks run beside the project's solver (never used by the package).

``naive_bin_packing`` is the textbook CP-SAT bin-packing model (the OR-Tools ``bin_packing_sat``
sample's formulation) on every time step; ``p95_first_fit`` is percentile sizing as the tools of
the field do it (each VM's 95th-percentile CPU, first-fit decreasing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def p95_first_fit(traces, **model_options) -> pd.DataFrame:
    """Each VM sized at its 95th-percentile CPU demand and its planned memory, placed first-fit
    in decreasing order of its larger share of a host; ``server_id,host_id``.

    ``model_options`` are the model's options of :func:`consolidate.make_settings`; the VMs and
    the host's plannable capacity are the project's (:func:`consolidate.estate.estate_vms`).
    """
    from consolidate.estate import estate_vms
    from consolidate.planner import capacities
    from consolidate.settings import make_settings

    settings = make_settings(**model_options)
    capacity = capacities(settings)[0]
    workload = estate_vms(traces, settings, settings.host_model).workload
    cpu = np.percentile(workload.cpu_ghz, 95, axis=1)
    mem = workload.mem_gb
    cpu_cap, mem_cap = capacity.cpu_plan_ghz, capacity.mem_usable_gb
    order = np.argsort(-np.maximum(cpu / cpu_cap, mem / mem_cap), kind="stable")
    free_cpu: list[float] = []
    free_mem: list[float] = []
    host = np.full(len(cpu), -1)
    for i in order:
        h = next((h for h in range(len(free_cpu)) if free_cpu[h] >= cpu[i] and free_mem[h] >= mem[i]), None)
        if h is None:
            if cpu[i] > cpu_cap or mem[i] > mem_cap:
                continue
            free_cpu.append(cpu_cap)
            free_mem.append(mem_cap)
            h = len(free_cpu) - 1
        free_cpu[h] -= cpu[i]
        free_mem[h] -= mem[i]
        host[i] = h
    return pd.DataFrame({"server_id": list(traces.server_ids), "host_id": [f"h{h}" if h >= 0 else "" for h in host]})

