"""SCAFFOLD: replaced by the vsphere reader (issue 11)."""

from pathlib import Path

from consolidate.io.formats import TraceFormat


def _samples(path: Path):
    raise NotImplementedError("vsphere reader not written yet")


FORMAT = TraceFormat("vsphere", "vsphere export (reader in progress)", _samples)
