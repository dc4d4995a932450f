"""SCAFFOLD: replaced by the sar reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("sar reader not written yet")


FORMAT = TraceFormat("sar", "sar export (reader in progress)", _samples)
