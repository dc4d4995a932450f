"""Finding, opening and recognising trace files, before any reader parses them."""

from __future__ import annotations

import codecs
import gzip
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from consolidate.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 1 << 16

#: Files in a trace folder that are notes, not traces.
NOTE_SUFFIXES = (".md", ".rst")
NOTE_STEMS = ("readme", "provenance", "license")

#: Compressions recognised by their first bytes; only gzip is read, the others are named.
OTHER_COMPRESSIONS = ((b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
                      (b"PK\x03\x04", "zip"), (b"\x04\x22\x4d\x18", "lz4"), (b"7z\xbc\xaf\x27\x1c", "7z"))

#: Byte-order marks, longest first (UTF-32 LE starts like UTF-16 LE).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

#: The longest message text quoted from a file (a value, a name, a line).
SHOWN_CHARS = 60


class Url(str):
    """A file or folder named by an fsspec URL (``memory://``, ``s3://``, ...), opened through fsspec."""

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    def is_dir(self) -> bool:
        fs, root = url_filesystem(self)
        return bool(fs.isdir(root))

    def is_file(self) -> bool:
        fs, root = url_filesystem(self)
        return bool(fs.isfile(root))


def url_filesystem(url: str):
    """The fsspec file system of ``url`` and the path inside it; InputError when the protocol's package is missing."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as err:
        protocol = url.split("://", 1)[0]
        raise InputError(f"{url}: cannot open the {protocol}:// URL ({one_line(str(err), 200)}); install its fsspec "
                         "package (e.g. s3fs, gcsfs, adlfs) or give a local path") from None


def located(path: str | Path) -> Path | Url:
    """A local path as a Path (``file://`` URLs too), any other fsspec URL as a :class:`Url`."""
    text = str(path)
    if isinstance(path, Path) or "://" not in text:
        return Path(path)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    return Url(text)


def open_binary(path: Path | Url) -> BinaryIO:
    """A file opened for reading bytes, local or through fsspec."""
    if isinstance(path, Url):
        fs, root = url_filesystem(path)
        return fs.open(root, "rb")
    return open(path, "rb")


def existing(path: str | Path) -> Path | Url:
    """``path`` as a Path (or :class:`Url`), or InputError if nothing is there or it cannot be read."""
    p = located(path)
    if isinstance(p, Url):
        fs, root = url_filesystem(p)
        if not fs.exists(root):
            raise InputError(f"{p}: no such file or folder; check the URL")
        return p
    try:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder; check the path")
    except OSError as err:  # e.g. a name too long for the file system
        raise os_error(p, err) from None
    if p.is_file():
        readable(p)
    return p


def readable(path: Path) -> Path:
    """``path`` if it is a file this process may open, else InputError saying why."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file; give the file")
    try:
        open(path, "rb").close()
    except OSError as err:
        raise os_error(path, err) from None
    return path


def os_error(path: Path | str, err: OSError) -> InputError:
    """The one-line InputError of an operating-system error while reading ``path``."""
    where = err.filename if isinstance(err, OSError) and err.filename else path
    if isinstance(err, PermissionError):
        return InputError(f"{where}: permission denied; give this user read access (chmod +r) or copy the file")
    if isinstance(err, IsADirectoryError):
        return InputError(f"{where}: is a folder, not a file; give the file")
    reason = err.strerror or str(err).splitlines()[0] if str(err) else type(err).__name__
    return InputError(f"{where}: cannot be read ({reason}); check the file")


def shown(value: object) -> str:
    """``repr(value)`` on one line, cut to :data:`SHOWN_CHARS` characters, for quoting file content."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}...' ({len(str(value)):,} characters)"


def one_line(message: str, limit: int = 2000) -> str:
    """A message on one line (newlines escaped), cut to ``limit`` characters."""
    flat = message.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def trace_files(folder: Path) -> list[Path]:
    """The per-server files of a folder, sorted by name; hidden files and notes are skipped."""
    try:
        files = sorted(
            f
            for f in folder.iterdir()
            if f.is_file()
            and not f.name.startswith(".")
            and f.suffix.lower() not in NOTE_SUFFIXES
            and not f.name.lower().startswith(NOTE_STEMS)
        )
    except OSError as err:
        raise os_error(folder, err) from None
    if not files:
        raise InputError(f"{folder}: the folder holds no trace files; give a folder of per-server files or a trace file")
    for f in files:
        readable(f)
    return files


def compression_of(path: Path) -> str | None:
    """``"gzip"`` for a gzip file (whatever its name), None for an uncompressed one; InputError
    naming any other compression, which the tool does not read."""
    with open_binary(path) as raw:
        magic = raw.read(8)
    if magic[:2] == GZIP_MAGIC:
        return "gzip"
    for mark, name in OTHER_COMPRESSIONS:
        if magic.startswith(mark):
            raise InputError(f"{path}: the file is {name}-compressed, which is not read; decompress it, or recompress it with gzip")
    return None


def damaged_gzip(path: Path) -> InputError:
    return InputError(f"{path}: the gzip data is damaged or cut short (checked whole); re-export or re-download the file")


def file_bytes(path: Path) -> bytes:
    """The whole content of a file, gunzipped when it is gzip-compressed."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise os_error(path, err) from None
    if compression_of(path) == "gzip":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise damaged_gzip(path) from None
    return data


def head_bytes(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file's content (after gunzipping)."""
    compressed = compression_of(path)
    with open_binary(path) as raw:
        if compressed is None:
            return raw.read(size)
        try:
            with gzip.open(raw) as unzipped:
                return unzipped.read(size)
        except (OSError, EOFError, zlib.error):
            raise damaged_gzip(path) from None


def is_parquet(path: Path | Url) -> bool:
    with open_binary(path) as raw:
        return raw.read(4) == PARQUET_MAGIC


def text_encoding(head: bytes) -> str:
    """The encoding of text starting with ``head``: a byte-order mark names it (UTF-8, UTF-16,
    UTF-32); else UTF-16 without a mark when every other byte is zero; else UTF-8 when the bytes
    are valid UTF-8; else cp1252 (Windows Western, a superset of printable latin-1), or latin-1
    when a byte is undefined in cp1252. Python codec names."""
    for mark, name in BOMS:
        if head.startswith(mark):
            return name
    sample = head[:4096]
    if len(sample) >= 4 and b"\0" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 3 and err.reason == "unexpected end of data":
            return "utf-8"  # a character cut by the end of the head
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


#: How an encoding is named to the user.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with a byte-order mark", "utf-16": "UTF-16",
                  "utf-16-le": "UTF-16 LE (no byte-order mark)", "utf-16-be": "UTF-16 BE (no byte-order mark)",
                  "utf-32": "UTF-32", "cp1252": "cp1252 (Windows Western; not valid UTF-8)",
                  "cp1251": "cp1251 (Windows Cyrillic; not valid UTF-8)",
                  "latin-1": "latin-1 (ISO 8859-1; not valid UTF-8)"}


def encoding_note(path: Path, encoding: str) -> str | None:
    """The warning that says how a file not in plain UTF-8 was decoded (None for UTF-8)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return None
    return f"{path.name}: read as {ENCODING_NAMES[encoding]}"


def decode(head: bytes, encoding: str) -> str:
    """``head`` decoded; a character cut at its end is dropped."""
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def sniff_text(head: bytes) -> str | None:
    """The first bytes of a file as text, for telling formats apart; None when they are empty or not text."""
    text = decode(head, text_encoding(head)).lstrip("\ufeff")
    return text if text.strip() and _is_text(text) else None


def _is_text(text: str) -> bool:
    sample = text[:4096]
    control = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r")
    return "\0" not in text and control <= len(sample) // 10


def head_text(path: Path, size: int = HEAD_BYTES) -> str:
    """The first ``size`` bytes of a text file, decoded (:func:`text_encoding`) and cut after
    its last whole line; InputError for an empty or binary file."""
    head = head_bytes(path, size)
    encoding = text_encoding(head)
    text = decode(head, encoding).lstrip("\ufeff")
    if not text.strip():
        raise InputError(f"{path}: the file is empty; give a file with a header row and samples")
    if not _is_text(text):
        raise InputError(f"{path}: this is not a text CSV (binary content); give a CSV, .csv.gz or Parquet file")
    if len(head) == size and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut off mid-way
    return text


def file_text(path: Path) -> tuple[str, str]:
    """A whole text file (gunzipped when gzip), decoded, and the encoding used
    (:func:`text_encoding` from its first bytes; cp1252, then latin-1, where those bytes were
    valid UTF-8 but a later one is not); a byte-order mark is dropped."""
    data = file_bytes(path)
    encoding = text_encoding(data[:HEAD_BYTES])
    for candidate in (encoding, "cp1252", "latin-1"):
        try:
            return data.decode(candidate).lstrip("\ufeff"), candidate
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def file_encoding(path: Path) -> str:
    """The encoding of a text file, judged from its first bytes (:func:`text_encoding`)."""
    return text_encoding(head_bytes(path))
