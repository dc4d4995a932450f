"""Packing solvers: lower bounds (``bounds``), numba heuristics (``heuristics``), the local search
(``localsearch``) and CP-SAT (``cpsat``) behind ``pipeline.solve``; the validated sizing
(``validated``), placement rules (``constraints``), host mixes (``mix``) and the choice between
them (``strategy``). See ARCHITECTURE.md."""
