"""benchmarks/RESULTS.md: each benchmark script owns one ``## `` section of it."""

from __future__ import annotations

import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(section: str, text: str) -> None:
    """Replace (or append) the section headed ``section`` with ``text``, leaving the others alone."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = old.find(section + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(section))
        new = old[:start] + text + ("" if end < 0 else old[end:])
    RESULTS.write_text(new)


def machine() -> str:
    """One line on the machine and the versions that matter for the figures."""
    import numba
    import numpy
    import ortools
    import pyarrow

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else platform.machine()
    import os

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"numba {numba.__version__}, pyarrow {pyarrow.__version__}, OR-Tools {ortools.__version__}")
