"""SCAFFOLD: replaced by the perfmon reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("perfmon reader not written yet")


FORMAT = TraceFormat("perfmon", "perfmon export (reader in progress)", _samples)
