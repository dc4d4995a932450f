"""A search's budget: the seed that makes it reproducible and the wall-clock cap on it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Budget:
    """``seed`` of every randomised search; ``time_limit_s`` the wall-clock cap, counted from
    ``started`` (when the search starts: after the kernels are compiled, so that compilation never
    eats the search's time)."""

    seed: int
    time_limit_s: float
    started: float = field(default_factory=time.perf_counter)

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def remaining_s(self) -> float:
        return self.time_limit_s - self.elapsed_s()

    def timed_out(self) -> bool:
        return self.remaining_s() <= 0.0
