"""SCAFFOLD: replaced by the prometheus reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("prometheus reader not written yet")


FORMAT = TraceFormat("prometheus", "prometheus export (reader in progress)", _samples)
