"""SCAFFOLD: replaced by the esxtop reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("esxtop reader not written yet")


FORMAT = TraceFormat("esxtop", "esxtop export (reader in progress)", _samples)
