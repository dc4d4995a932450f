"""PlanetLab (CoMon) traces as shipped with CloudSim: a folder per day, a file per VM.

Each file is headerless, one CPU utilisation value in percent per line, one line per 5 minutes
from 00:00 UTC of the day the folder is named after (``YYYYMMDD``). Server id = file name
(without a ``.gz``). The values are a percent-only source: clipped to [0, 100], counted.

References
----------
.. [1] A. Beloglazov, R. Buyya, "Optimal online deterministic algorithms and adaptive heuristics
   for energy and performance efficient dynamic consolidation of virtual machines in cloud data
   centers", Concurrency and Computation: Practice and Experience 24(13), 2012.
.. [2] R. N. Calheiros et al., CloudSim (Cloudslab/cloudsim), workload/planetlab resources.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from consolidate.errors import InputError
from consolidate.io.assemble import Samples, assemble
from consolidate.io.detect import (
    encoding_note,
    sniff_text,
    existing,
    file_bytes,
    shown,
    text_encoding,
    trace_files,
)
from consolidate.io.formats import TraceFormat
from consolidate.io.grid import NS_PER_S
from consolidate.models.trace import TraceSet

#: CoMon sampled every 5 minutes [1].
SAMPLE_INTERVAL_S = 300
DAY_S = 86400


def read_planetlab(
    folder: str | Path,
    *,
    inventory: str | Path | pd.DataFrame | None = None,
    interval_s: int | None = None,
) -> TraceSet:
    """Read a PlanetLab day folder (e.g. ``planetlab/20110303``).

    Parameters
    ----------
    folder : folder named ``YYYYMMDD`` holding one file per VM.
    inventory : inventory CSV path or DataFrame; PlanetLab has no VM sizes, so without one
        every VM gets the stated default server.
    interval_s : grid spacing in seconds (default 300, the sampling interval; a coarser grid
        keeps each interval's maximum).
    """
    p = existing(folder)
    if not p.is_dir():
        raise InputError(f"{p}: the planetlab format reads a folder of per-VM files (e.g. planetlab/20110303), not a file")
    samples = planetlab_samples(p)
    return assemble(samples, fmt="planetlab", path=p, inventory=inventory, interval_s=interval_s)


def looks_planetlab(path: Path, head: bytes) -> bool:
    """Headerless, one number per line."""
    text = sniff_text(head)
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()][:50]
    if not lines:
        return False
    for line in lines:
        try:
            float(line)
        except ValueError:
            return False
    return True


def day_start_ns(folder: Path) -> int:
    """00:00 UTC of the day a ``YYYYMMDD`` folder name gives, in ns since the epoch."""
    if re.fullmatch(r"\d{8}", folder.name):
        try:
            return pd.Timestamp(f"{folder.name[:4]}-{folder.name[4:6]}-{folder.name[6:]}", tz="UTC").as_unit("ns").value
        except ValueError:
            pass
    raise InputError(f"{folder}: a planetlab folder is named after its day as YYYYMMDD (e.g. 20110303); rename the folder")


def planetlab_samples(folder: Path) -> Samples:
    """All files' values in one pass: read bytes, split on white space, convert with numpy."""
    start_ns = day_start_ns(folder)
    files = trace_files(folder)
    ids = [f.name[:-3] if f.name.lower().endswith(".gz") else f.name for f in files]
    tokens: list[bytes] = []
    per_file = np.empty(len(files), dtype=np.int64)
    notes: list[str] = []
    for i, f in enumerate(files):
        content = _utf8(f, file_bytes(f), notes)
        values = content.split()
        if len(values) != content.count(b"\n") + (not content.endswith(b"\n")):
            _check_lines(f, content)
        tokens.extend(values)
        per_file[i] = len(values)
    try:
        cpu = np.array(tokens, dtype=np.bytes_).astype(np.float32) if tokens else np.empty(0, dtype=np.float32)
    except ValueError:
        _name_bad_value(folder, files, tokens, per_file)
    codes = np.repeat(np.arange(len(files), dtype=np.int32), per_file)
    first = np.repeat(np.cumsum(per_file) - per_file, per_file)
    line = np.arange(len(tokens), dtype=np.int64) - first
    return Samples(
        server_ids=ids,
        codes=codes,
        time_ns=start_ns + line * (SAMPLE_INTERVAL_S * NS_PER_S),
        cpu=cpu,
        start_ns=start_ns,
        end_ns=start_ns + DAY_S * NS_PER_S,
        interval_s=SAMPLE_INTERVAL_S,
        notes=notes,
    )


def _utf8(path: Path, content: bytes, notes: list[str]) -> bytes:
    """A file's bytes as UTF-8 (a UTF-16 or other encoded file is decoded first, and noted)."""
    encoding = text_encoding(content[:4096])
    if encoding in ("utf-8", "cp1252", "latin-1"):  # numbers are ASCII in all three
        return content
    note = encoding_note(path, encoding)
    if note:
        notes.append(note)
    return content.decode(encoding, errors="replace").lstrip("\ufeff").encode("utf-8")


def _check_lines(path: Path, content: bytes) -> None:
    """InputError for a line holding more than one value (blank lines are fine)."""
    for number, line in enumerate(content.splitlines(), start=1):
        if len(line.split()) > 1:
            text = line.decode("utf-8", errors="replace").strip()
            raise InputError(f"{path}: line {number} holds {shown(text)}; a planetlab file has one CPU % value per line")


def _name_bad_value(folder: Path, files: list[Path], tokens: list[bytes], per_file: np.ndarray) -> None:
    """InputError naming the file and line of the first value that is not a number."""
    ends = np.cumsum(per_file)
    for i, token in enumerate(tokens):
        try:
            float(token)
        except ValueError:
            f = int(np.searchsorted(ends, i, side="right"))
            content = _utf8(files[f], file_bytes(files[f]), [])
            _check_lines(files[f], content)
            line = _line_number(content, token)
            text = token.decode("utf-8", errors="replace")
            raise InputError(f"{files[f]}: line {line}: {shown(text)} is not a number; a planetlab file has one CPU % value per line") from None
    raise InputError(f"{folder}: a value is not a number; a planetlab file has one CPU % value per line")

def _line_number(content: bytes, token: bytes) -> int:
    """Line of ``token`` in a file known to hold one value per line."""
    lines = [line.strip() for line in content.splitlines()]
    return lines.index(token) + 1


FORMAT = TraceFormat("planetlab", "folder of headerless files, one CPU % per line", planetlab_samples,
                     looks=looks_planetlab, reads="folder")
