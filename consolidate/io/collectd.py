"""SCAFFOLD: replaced by the collectd reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("collectd reader not written yet")


FORMAT = TraceFormat("collectd", "collectd export (reader in progress)", _samples)
