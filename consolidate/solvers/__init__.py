"""Packing solvers: lower bounds, numba heuristics, local search and CP-SAT behind ``solve()``."""

from consolidate.solvers.pipeline import SolveResult, solve

__all__ = ["SolveResult", "solve"]
