"""Finding, opening and recognising trace files, before any reader parses them."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from consolidate.errors import InputError
from consolidate.options import TRACE_FORMATS

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 1 << 16

#: Files in a trace folder that are notes, not traces.
NOTE_SUFFIXES = (".md", ".rst")
NOTE_STEMS = ("readme", "provenance", "license")

FORMATS = TRACE_FORMATS

BITBRAINS_MARK = "cpu usage [mhz]"

FORMAT_HELP = (
    "long (CSV/Parquet with timestamp,server_id,cpu_pct), wide (CSV with a timestamp column and one column per server), "
    "planetlab (folder of headerless files, one CPU % per line), bitbrains (folder of GWA-T-12 ';'-separated CSVs)"
)


def existing(path: str | Path) -> Path:
    """``path`` as a Path, or InputError if nothing is there."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder; check the path")
    return p


def trace_files(folder: Path) -> list[Path]:
    """The per-server files of a folder, sorted by name; hidden files and notes are skipped."""
    files = sorted(
        f
        for f in folder.iterdir()
        if f.is_file()
        and not f.name.startswith(".")
        and f.suffix.lower() not in NOTE_SUFFIXES
        and not f.name.lower().startswith(NOTE_STEMS)
    )
    if not files:
        raise InputError(f"{folder}: the folder holds no trace files; give a folder of per-server files or a trace file")
    return files


def file_bytes(path: Path) -> bytes:
    """The whole content of a file, gunzipped when it is gzip-compressed."""
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise InputError(f"{path}: the gzip data is damaged; re-export or re-download the file") from None
    return data


def head_bytes(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file's content (after gunzipping)."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic != GZIP_MAGIC:
            return raw.read(size)
        try:
            with gzip.open(raw) as unzipped:
                return unzipped.read(size)
        except (OSError, EOFError, zlib.error):
            raise InputError(f"{path}: the gzip data is damaged; re-export or re-download the file") from None


def is_parquet(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(4) == PARQUET_MAGIC


def head_text(path: Path, size: int = HEAD_BYTES) -> str:
    """The first ``size`` bytes of a text file, cut after its last whole line; InputError for
    an empty or binary file."""
    head = head_bytes(path, size)
    if not head.strip():
        raise InputError(f"{path}: the file is empty; give a file with a header row and samples")
    control = sum(1 for b in head[:4096] if b < 32 and b not in (9, 10, 13))
    if b"\0" in head or control > len(head[:4096]) // 10:
        raise InputError(f"{path}: this is not a text CSV (binary content); give a CSV, .csv.gz or Parquet file")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(head) == size and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut off mid-way
    return text

def looks_planetlab(text: str) -> bool:
    """Headerless, one number per line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:50]
    if not lines:
        return False
    for line in lines:
        try:
            float(line)
        except ValueError:
            return False
    return True


def looks_bitbrains(text: str) -> bool:
    header = text.splitlines()[0].lower() if text else ""
    return ";" in header and BITBRAINS_MARK in header


def detect_folder_format(folder: Path) -> str:
    first = trace_files(folder)[0]
    text = head_text(first)
    if looks_bitbrains(text):
        return "bitbrains"
    if looks_planetlab(text):
        return "planetlab"
    raise InputError(
        f"{folder}: cannot tell the format of its files (first: {first.name}); folder formats are planetlab and "
        f"bitbrains, files may be {FORMAT_HELP}; pass --format"
    )
