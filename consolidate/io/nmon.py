"""SCAFFOLD: replaced by the nmon reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("nmon reader not written yet")


FORMAT = TraceFormat("nmon", "nmon export (reader in progress)", _samples)
