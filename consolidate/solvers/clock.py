"""The search's clock: wall-clock seconds less the time numba spent compiling (or loading
from its cache) the kernels in this process.

Every deadline and every search time in the solvers is read off :func:`now`, so the first run
after an install, which compiles the kernels, gets the same search as a warm run: compilation
never eats ``--time-limit``. :func:`compile_s` is that compilation time, reported apart.

Numba announces every hold of its compiler lock (``numba:compiler_lock`` events, nested for a
kernel that compiles the kernels it calls); a listener adds up the outermost holds.
"""

from __future__ import annotations

import threading
import time

from numba.core import event


class _CompileTimer(event.Listener):
    def __init__(self) -> None:
        self.total_s = 0.0
        self._depth = 0
        self._started = 0.0
        self._lock = threading.Lock()

    def on_start(self, ev) -> None:
        with self._lock:
            if self._depth == 0:
                self._started = time.perf_counter()
            self._depth += 1

    def on_end(self, ev) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self.total_s += time.perf_counter() - self._started

    def elapsed_s(self) -> float:
        """Compilation seconds so far, the current hold included."""
        with self._lock:
            ongoing = time.perf_counter() - self._started if self._depth else 0.0
            return self.total_s + ongoing


_TIMER = _CompileTimer()
event.register("numba:compiler_lock", _TIMER)


def compile_s() -> float:
    """Seconds this process has spent compiling or loading numba kernels."""
    return _TIMER.elapsed_s()


def now() -> float:
    """``time.perf_counter()`` less :func:`compile_s`: a clock that stops while kernels compile."""
    return time.perf_counter() - _TIMER.elapsed_s()
