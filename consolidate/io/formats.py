"""The trace formats and how ``--format auto`` tells them apart.

Each reader module declares one :class:`TraceFormat` as its ``FORMAT``; :data:`FORMAT_MODULES`
lists them in the order detection asks them (the specific layouts of monitoring tools first, the
generic long and wide tables last).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from consolidate.errors import InputError
from consolidate.io.assemble import Samples
from consolidate.io.detect import Url, head_bytes, trace_files

#: How many files of a folder detection looks at (a script or a report among them is skipped).
FILES_SNIFFED = 10

#: The reader modules of :mod:`consolidate.io`, in detection order.
FORMAT_MODULES = ("sar", "perfmon", "esxtop", "prometheus", "nmon", "collectd", "vsphere",
                  "bitbrains", "planetlab", "long", "wide")


@dataclass(frozen=True)
class TraceFormat:
    """One input format.

    ``samples(path, **options)`` reads a file or folder into raw :class:`Samples`, with the
    reader options named in ``takes`` (``"columns"``, ``"timezone"``). ``looks(path, head)``
    says whether a file, of which ``head`` is the first bytes (gunzipped), is of this format;
    ``looks_folder(folder)`` does so for a folder laid out other than as a folder of such files
    (a collectd host folder). ``reads`` is ``"file"``, ``"folder"`` (of files the format
    ``looks`` at) or ``"both"``. ``summary`` names the format for ``--help`` and messages.
    ``takes`` may also name ``"servers"``: the reader reads the selection's servers alone.
    """

    name: str
    summary: str
    samples: Callable[..., Samples]
    looks: Callable[[Path, bytes], bool] | None = None
    looks_folder: Callable[[Path], bool] | None = None
    reads: str = "both"
    takes: tuple[str, ...] = ()

    @property
    def reads_files(self) -> bool:
        return self.reads in ("file", "both")

    @property
    def reads_folders(self) -> bool:
        return self.reads in ("folder", "both")


@cache
def trace_format(name: str) -> TraceFormat:
    """The format ``name`` (one of :data:`FORMAT_MODULES`), its reader module imported."""
    return importlib.import_module(f"consolidate.io.{name}").FORMAT


def trace_formats() -> dict[str, TraceFormat]:
    """Every format by name, in detection order."""
    return {name: trace_format(name) for name in FORMAT_MODULES}


def format_help() -> str:
    """The formats and what each reads, for messages that ask for ``--format``."""
    return "; ".join(f"{f.name} ({f.summary})" for f in trace_formats().values())


def _head_or_none(path: Path) -> bytes | None:
    """A file's first bytes, or None for one no trace reader reads (compressed other than gzip: a workbook)."""
    try:
        return head_bytes(path)
    except InputError:
        return None


def detect_format(path: Path | Url, columns: dict[str, str] | None) -> TraceFormat:
    """The format of a file or folder, or InputError naming what was found and the formats.

    A folder no format's layout or files claim is ``long`` when it holds long part files (a
    Parquet dataset, several long CSVs; in sub-folders too). A URL is read as ``long`` alone.
    """
    from consolidate.io.long import long_parts
    from consolidate.io.tabular import detect_file_format

    formats = trace_formats()
    if isinstance(path, Url):
        if (long_parts(path, columns) if path.is_dir() else detect_file_format(path, columns) == "long"):
            return formats["long"]
        raise InputError(f"{path}: a URL is read in the long format only ({formats['long'].summary}), and this is "
                         "not one; copy the files to a local folder")
    if path.is_dir():
        for fmt in formats.values():
            if fmt.looks_folder is not None and fmt.looks_folder(path):
                return fmt
        try:
            files = trace_files(path)
        except InputError:
            files = []  # a Parquet dataset keeps its files in partition folders
        for f in files[:FILES_SNIFFED]:
            head = _head_or_none(f)
            for fmt in formats.values():
                if head is not None and fmt.reads_folders and fmt.looks is not None and fmt.looks(f, head):
                    return fmt
        if long_parts(path, columns):
            return formats["long"]
        files = files or trace_files(path)
        raise InputError(f"{path}: cannot tell the format of its files (first: {files[0].name}); formats: {format_help()}; "
                         "pass --format")
    head = head_bytes(path)
    for fmt in formats.values():
        if fmt.reads_files and fmt.looks is not None and fmt.looks(path, head):
            return fmt
    return formats[detect_file_format(path, columns)]
