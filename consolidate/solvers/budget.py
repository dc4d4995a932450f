"""A search's budget: the seed that makes it reproducible and the wall-clock cap on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from consolidate.solvers import clock


@dataclass(frozen=True)
class Budget:
    """``seed`` of every randomised search; ``time_limit_s`` the wall-clock cap, counted on the
    search's clock (:mod:`consolidate.solvers.clock`: compilation never eats it) from ``started``."""

    seed: int
    time_limit_s: float
    started: float = field(default_factory=clock.now)

    def elapsed_s(self) -> float:
        return clock.now() - self.started

    def remaining_s(self) -> float:
        return self.time_limit_s - self.elapsed_s()
