"""Reading columns of a CSV (pyarrow's multi-threaded reader) or Parquet file, with errors a user can act on."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from consolidate.errors import InputError
from consolidate.io.detect import (
    HEAD_BYTES,
    Url,
    compression_of,
    damaged_gzip,
    encoding_note,
    file_encoding,
    file_text,
    head_bytes,
    head_text,
    is_parquet,
    open_binary,
    os_error,
    readable,
    shown,
)
from consolidate.io.timestamps import OFFSET_PATTERN

#: The canonical column names a ``--columns`` mapping may name.
CANONICAL = ("timestamp", "server_id", "cpu_pct", "mem_pct", "mem_gb")

#: Names a wide file's time column commonly has.
TIME_NAMES = ("timestamp", "time", "datetime", "date", "ts", "time_utc")

#: pyarrow parses in blocks of this size, one per thread; large blocks keep chunk counts low.
BLOCK_BYTES = 1 << 24

#: Block size of a CSV read block by block: pyarrow's streaming reader holds a few blocks ahead
#: (about 160 MB at 4 MB blocks, 630 MB at 16 MB), and smaller blocks parse no slower.
STREAM_BLOCK_BYTES = 1 << 22

#: Largest header a CSV may have (a wide file with very many servers has a long first line).
MAX_HEADER_BYTES = 1 << 26

EMPTY_CELL_HINT = "correct it or leave the cell empty (an empty cell is a missing sample, filled and counted)"

#: Cells that mean "no value" (pyarrow's default null values): empty cells, counted and filled.
NULL_TOKENS = frozenset(pacsv.ConvertOptions().null_values) | {"-", "none", "None", "NONE", "#VALUE!", "?"}

_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to [^:]+: .*?'(.*)'", re.DOTALL)


@dataclass(frozen=True)
class CsvHead:
    """A CSV's delimiter, header names (stripped), first data rows and encoding (a Python codec name)."""

    path: Path
    delimiter: str
    names: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    encoding: str = "utf-8"

    @property
    def note(self) -> str | None:
        """The warning naming the encoding, when it is not UTF-8."""
        return encoding_note(self.path, self.encoding)


def sniff_csv(path: Path, need_rows: bool = True) -> CsvHead:
    """Header and first rows of a CSV; the delimiter is the most frequent of ``,`` ``;`` and tab in the header.

    A file with a header but no rows is an InputError unless ``need_rows`` is False.
    """
    size = HEAD_BYTES
    text = head_text(path, size)
    while text.count("\n") < 2 and size < MAX_HEADER_BYTES and len(head_bytes(path, size)) == size:
        size *= 4  # a wide file with many servers has a long header line
        text = head_text(path, size)
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, MAX_HEADER_BYTES * 4))  # a long line is a long field, not an error
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)][:21]
    except csv.Error as err:
        raise InputError(f"{path}: cannot read the CSV header ({err}); check the file's quoting") from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise InputError(f"{path}: the file is empty; give a file with a header row and samples")
    names = tuple(n.strip() for n in rows[0])
    if len(rows) < 2 and need_rows:
        raise InputError(f"{path}: the file has a header ({name_text(names)}) but no samples")
    return CsvHead(path, delimiter, names, tuple(tuple(c.strip() for c in r) for r in rows[1:]), file_encoding(path))


def name_text(names: tuple[str, ...] | list[str], shown_names: int = 12) -> str:
    """Column names for a message: each cut short, at most ``shown_names`` of them."""
    parts = [n if len(n) <= 40 and n.isprintable() else shown(n) for n in map(str, names[:shown_names])]
    more = f" and {len(names) - shown_names} more" if len(names) > shown_names else ""
    return ", ".join(parts) + more


def csv_stream(head: CsvHead) -> pa.NativeFile:
    """The CSV's bytes, gunzipped when gzip-compressed whatever the file's name."""
    try:
        source = open_binary(head.path) if isinstance(head.path, Url) else str(head.path)
        return pa.input_stream(source, compression=compression_of(head.path))
    except OSError as err:
        raise os_error(head.path, err) from None


def column_map(names: tuple[str, ...], columns: dict[str, str] | None, canonical: tuple[str, ...], where: Path) -> dict[str, str]:
    """Canonical name -> the file's column, for those of ``canonical`` the file has.

    A ``--columns`` entry must name a column that exists; otherwise the canonical name is looked
    up as is, then ignoring case.
    """
    check_columns(columns)
    columns = columns or {}
    found: dict[str, str] = {}
    for name in canonical:
        wanted = columns.get(name, name)
        match = _find(names, wanted)
        if match is None and name in columns:
            raise InputError(
                f"{where}: has no column {wanted!r} (given for {name} in --columns); found columns: {name_text(names)}"
            )
        if match is not None:
            found[name] = match
    return found


def _find(names: tuple[str, ...], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    folded = [n for n in names if n.lower() == wanted.lower()]
    return folded[0] if len(folded) == 1 else None


def require(found: dict[str, str], needed: tuple[str, ...], names: tuple[str, ...], where: Path) -> None:
    """InputError naming the first canonical column in ``needed`` that ``found`` lacks."""
    for name in needed:
        if name not in found:
            hint = ""
            if name == "server_id" and len(names) > 2 and "cpu_pct" not in found:
                hint = " (one column per server is the wide format: pass --format wide or leave --format out)"
            raise InputError(
                f"{where}: missing column {name!r}; found columns: {name_text(names)}; "
                f"rename it or map it with --columns {name}=NAME{hint}"
            )


def epoch_or_time_type(value: str) -> pa.DataType:
    """The pyarrow type to parse a time column as, judged from its first value."""
    if re.fullmatch(r"[+-]?\d+", value):
        return pa.int64()
    if re.fullmatch(r"[+-]?\d*\.\d*", value):
        return pa.float64()
    return pa.timestamp("ns", tz="UTC" if re.search(OFFSET_PATTERN, value) else None)


def read_csv_columns(head: CsvHead, types: dict[str, pa.DataType], time_column: str | None) -> pa.Table:
    """The named columns of a CSV, typed, read whole by pyarrow's multi-threaded reader; the
    retries and errors are those of :class:`CsvBlocks`."""
    blocks = CsvBlocks(head, types, time_column)
    while True:
        try:
            with csv_stream(blocks.head) as stream:
                table = pacsv.read_csv(stream, **blocks.options())
        except pa.ArrowInvalid as err:
            blocks.again(str(err))
            continue
        except (UnicodeDecodeError, OSError) as err:
            raise blocks.failed(err) from None
        if table.num_rows == 0:
            raise InputError(f"{head.path}: the file has a header but no samples")
        return table.replace_schema_metadata({b"encoding": blocks.encoding.encode()})


class CsvBlocks:
    """The named columns of a CSV, typed, as record batches of about ``block_bytes`` of text each
    (pyarrow's streaming reader), so that a reader holds a few blocks of Arrow data at a time.

    Iterating yields the batches in file order; a None between them means the read started again
    from the top, so the batches before it are to be dropped: bytes past the part the encoding
    was judged from are not UTF-8 (re-read as cp1252), or a time column does not parse as typed
    (re-read as float or text). :attr:`encoding` is the encoding finally read in. Gzip data is
    checked whole: a cut or damaged stream is an InputError, never a partial read.
    """

    def __init__(self, head: CsvHead, types: dict[str, pa.DataType], time_column: str | None,
                 block_bytes: int = BLOCK_BYTES) -> None:
        dupes = sorted({n for n in types if head.names.count(n) > 1})
        if dupes:
            raise InputError(f"{head.path}: the header has column {shown(dupes[0])} more than once; give each column a unique name")
        self.head = head
        self.types = dict(types)
        self.time_column = time_column
        self.block_bytes = block_bytes

    @property
    def encoding(self) -> str:
        return self.head.encoding

    def options(self) -> dict[str, object]:
        """pyarrow's read, parse and convert options for the next read."""
        head = self.head
        return {
            "read_options": pacsv.ReadOptions(column_names=list(head.names), skip_rows=1, block_size=self.block_bytes,
                                              encoding="utf8" if head.encoding in ("utf-8", "utf-8-sig") else head.encoding),
            "parse_options": pacsv.ParseOptions(delimiter=head.delimiter),
            "convert_options": pacsv.ConvertOptions(include_columns=list(self.types), column_types=self.types,
                                                    null_values=sorted(NULL_TOKENS)),
        }

    def __iter__(self) -> Iterator[pa.RecordBatch | None]:
        while True:
            started = False
            try:
                with csv_stream(self.head) as stream:
                    for batch in pacsv.open_csv(stream, **self.options()):
                        started = True
                        yield batch
                return
            except pa.ArrowInvalid as err:
                self.again(str(err))
            except (UnicodeDecodeError, OSError) as err:
                raise self.failed(err) from None
            if started:
                yield None

    def again(self, text: str) -> None:
        """Change the encoding or the time column's type for the next read, or raise the InputError
        that pyarrow's error ``text`` means."""
        head = self.head
        if "UTF8" in text and head.encoding in ("utf-8", "utf-8-sig"):
            self.head = CsvHead(head.path, head.delimiter, head.names, head.rows, "cp1252")
            return
        match = _CONVERSION.search(text)
        if match is None:
            raise InputError(f"{head.path}: cannot read the CSV ({_parse_detail(text, head, self.block_bytes)})")
        column, value = head.names[int(match.group(1))], match.group(2)
        kind = self.types[column]
        if column == self.time_column and kind != pa.string():
            # whole epoch seconds may turn fractional further down; other mixed forms are
            # re-read as text, which to_utc_ns parses value by value, naming a bad row
            self.types[column] = pa.float64() if kind == pa.int64() else pa.string()
            return
        raise InputError(
            f"{head.path}: {_line_of(head, column, value)}, column {shown(column)}: {shown(value)} is not a number; {EMPTY_CELL_HINT}"
        )

    def failed(self, err: UnicodeDecodeError | OSError) -> InputError:
        """The InputError of a decoding or operating-system error while reading."""
        path = self.head.path
        if isinstance(err, UnicodeDecodeError):
            return InputError(f"{path}: bytes past the start are not {self.head.encoding} ({err.reason}); save the file as UTF-8")
        if compression_of(path) == "gzip" and not isinstance(err, (PermissionError, FileNotFoundError)):
            return damaged_gzip(path)
        return os_error(path, err)


def table_note(path: Path, table: pa.Table) -> str | None:
    """The warning naming the encoding a CSV was read in (:func:`read_csv_columns`), if not UTF-8."""
    metadata = table.schema.metadata or {}
    return encoding_note(path, metadata.get(b"encoding", b"utf-8").decode())


def _parse_detail(text: str, head: CsvHead, block_bytes: int) -> str:
    """What pyarrow's parse error says, in the user's words."""
    detail = text.splitlines()[0].removeprefix("CSV parse error: ")
    expected = re.search(r"Expected (\d+) columns, got (\d+)", detail)
    if expected:
        row = re.search(r": (.*)$", text.splitlines()[0])
        what = f" in the row {shown(row.group(1))}" if row else ""
        return (f"a row has {expected.group(2)} columns where the header has {expected.group(1)}{what}; "
                "every row needs the header's columns, separated as the header is")
    if "straddling" in detail or "block" in detail:
        return f"a row is longer than {block_bytes >> 20} MB, or a quote is never closed; check the file's quoting"
    return shown(detail)[1:-1] + "; check that every row has the header's columns"


def _line_of(head: CsvHead, column: str, value: str) -> str:
    """"line N" of the first cell of ``column`` holding ``value`` (header = line 1), blanks ignored."""
    convert = pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    read = pacsv.ReadOptions(column_names=list(head.names), skip_rows=1, block_size=BLOCK_BYTES,
                             encoding="utf8" if head.encoding in ("utf-8", "utf-8-sig") else head.encoding)
    offset = 0
    with csv_stream(head) as stream:
        for batch in pacsv.open_csv(stream, read_options=read, parse_options=pacsv.ParseOptions(delimiter=head.delimiter),
                                    convert_options=convert):
            row = pc.index(pc.utf8_trim_whitespace(batch.column(0)), value.strip()).as_py()
            if row >= 0:
                return f"line {offset + row + 2}"
            offset += batch.num_rows
    return "a row"


def parquet_names(path: Path | Url) -> tuple[str, ...]:
    try:
        if isinstance(path, Url):
            with open_binary(path) as raw:
                return tuple(str(n) for n in pq.read_schema(raw).names)
        return tuple(str(n) for n in pq.read_schema(path).names)
    except PermissionError as err:
        raise os_error(path, err) from None
    except (pa.ArrowException, OSError, ValueError, IndexError) as err:
        raise InputError(f"{path}: cannot read the Parquet file ({_first_line(err)}); re-export it") from None


def _first_line(err: Exception) -> str:
    lines = str(err).splitlines()
    return shown(lines[0])[1:-1] if lines else type(err).__name__


def read_parquet_columns(path: Path, names: list[str]) -> pa.Table:
    try:
        table = pq.read_table(path, columns=names)
    except PermissionError as err:
        raise os_error(path, err) from None
    except (pa.ArrowException, OSError, ValueError, IndexError) as err:
        raise InputError(f"{path}: cannot read the Parquet file ({_first_line(err)}); re-export it") from None
    if table.num_rows == 0:
        raise InputError(f"{path}: the Parquet file has no rows")
    return table


def parquet_batches(path: Path | Url, names: list[str], rows: int) -> Iterator[pa.RecordBatch]:
    """The columns ``names`` of a Parquet file, ``rows`` rows a record batch, with the errors of :func:`read_parquet_columns`."""
    try:
        with open_binary(path) as raw:
            # without pre-buffering, pyarrow holds one column chunk at a time, not a whole row group
            yield from pq.ParquetFile(raw, pre_buffer=False).iter_batches(batch_size=rows, columns=names)
    except PermissionError as err:
        raise os_error(path, err) from None
    except (pa.ArrowException, OSError, ValueError, IndexError) as err:
        raise InputError(f"{path}: cannot read the Parquet file ({_first_line(err)}); re-export it") from None


def float32_values(column: pa.ChunkedArray, where: str, locate: Callable[[int], str]) -> np.ndarray:
    """A numeric column as a writable contiguous float32 array, NaN where a cell is empty."""
    kind = column.type
    if pa.types.is_boolean(kind):
        raise InputError(f"{where}: holds true/false values, not numbers")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        try:
            values = column.cast(pa.float32(), safe=False).to_numpy()
        except pa.ArrowException as err:
            raise InputError(f"{where}: holds {kind} values that are not numbers this tool reads ({_first_line(err)})") from None
        return values if values.flags.writeable else values.copy()  # a single block comes zero-copy, read-only
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        text = column.to_pandas().astype(object)
        stripped = text.where(text.isna(), text.astype(str).str.strip())
        blank = stripped.isna().to_numpy() | stripped.isin(list(NULL_TOKENS) + [""]).to_numpy()
        values = pd.to_numeric(stripped.where(~blank, None), errors="coerce")
        bad = values.isna().to_numpy() & ~blank
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(f"{where}, {locate(row)}: {shown(text.iloc[row])} is not a number; {EMPTY_CELL_HINT}")
        return np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan).astype(np.float32))
    raise InputError(f"{where}: holds {kind} values, not numbers")


class ServerIds:
    """Server ids met block by block, in order of first appearance, stripped of surrounding blanks.

    :meth:`codes` gives a block's int32 codes into :attr:`ids`: each block's dictionary is
    matched against the ids seen so far with vectorised look-ups, so the cost does not grow with
    rows x servers. Each id keeps where its first row is, for :meth:`check`.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._known = pa.array([], type=pa.string())
        self._first: list[tuple[str, str]] = []

    def codes(self, column: pa.Array, where: str, locate: Callable[[int], str]) -> np.ndarray:
        """The codes of a block without empty cells; ``locate`` names a row of the block."""
        if not pa.types.is_dictionary(column.type):
            try:
                column = pc.dictionary_encode(column.cast(pa.string()))
            except pa.ArrowException:
                raise InputError(f"{where}: holds {column.type} values, not server ids; give text or numbers") from None
        local = pc.utf8_trim_whitespace(column.dictionary.cast(pa.string()))
        where_known = pc.index_in(local, value_set=self._known)
        new = pc.unique(pc.filter(local, pc.is_null(where_known)))
        before = len(self.ids)
        if len(new):
            self._known = pa.concat_arrays([self._known, new])
            self.ids += new.to_pylist()
            where_known = pc.index_in(local, value_set=self._known)
        mapping = where_known.to_numpy(zero_copy_only=False).astype(np.int32)
        codes = mapping[column.indices.to_numpy(zero_copy_only=False)]
        if len(new):
            rows = np.flatnonzero(codes >= before)
            fresh, first = np.unique(codes[rows], return_index=True)
            # an id of the dictionary that no row uses (a categorical's unused category) is named at the first row
            at = np.zeros(len(self.ids) - before, dtype=np.int64)
            at[fresh - before] = rows[first]
            self._first += [(where, locate(int(i))) for i in at]
        return codes

    def check(self, since: int) -> None:
        """InputError for an empty id or one that cannot be a server's name, among the ids from ``since`` on."""
        for k in range(since, len(self.ids)):
            if self.ids[k] == "":
                where, row = self._first[k]
                raise InputError(f"{where}, {row}: the server id is empty; every sample needs one")
        for k in range(since, len(self.ids)):
            where, row = self._first[k]
            check_ids([self.ids[k]], where, lambda _, row=row: row)

    def forget(self, since: int) -> None:
        """Drop the ids from ``since`` on (a file read again from its top)."""
        del self.ids[since:], self._first[since:]
        self._known = self._known.slice(0, since)


#: The longest server id taken as real (host names are at most 255 characters).
MAX_ID_CHARS = 255


def check_ids(ids: list[str], where: str, locate: Callable[[int], str]) -> None:
    """InputError for a server id that cannot be a server's name (too long, or control characters)."""
    for k, sid in enumerate(ids):
        if len(sid) > MAX_ID_CHARS:
            raise InputError(f"{where}, {locate(k)}: the server id {shown(sid)} is longer than {MAX_ID_CHARS} characters, "
                             "which no server's name is; check the column and the separator")
        if not sid.isprintable():
            raise InputError(f"{where}, {locate(k)}: the server id {shown(sid)} holds control characters; check the file's encoding")


def check_columns(columns: dict[str, str] | None) -> None:
    """InputError unless every key of a column mapping is a canonical name with a column name."""
    for key, value in (columns or {}).items():
        if key not in CANONICAL:
            raise InputError(f"--columns: {key!r} is not a column the tool knows; map {', '.join(CANONICAL)}")
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"--columns: give the file's column name for {key}, e.g. {key}=NAME")


def parse_columns(text: str) -> dict[str, str]:
    """``"timestamp=Time,server_id=Host,cpu_pct=CPU"`` -> ``{"timestamp": "Time", ...}``."""
    example = 'e.g. --columns "timestamp=Time,server_id=Host,cpu_pct=CPU"'
    mapping: dict[str, str] = {}
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise InputError(f"--columns is empty; {example}")
    for part in parts:
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not key or not value:
            raise InputError(f"--columns: cannot read {part.strip()!r}; give canonical=file pairs, {example}")
        if key in mapping:
            raise InputError(f"--columns: {key} is mapped twice; {example}")
        mapping[key] = value
    check_columns(mapping)
    return mapping


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_empty(text: str) -> bool:
    """An empty cell, or one of the tokens that mean no value (``n/a``, ``NA``, ``null``, ...)."""
    return text == "" or text in NULL_TOKENS


def _is_time(text: str) -> bool:
    if _is_number(text):
        return float(text) > 1e8  # epoch seconds after 1973
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        return False
    return bool(re.match(r"\d{4}-\d\d-\d\d", text))


def detect_file_format(path: Path, columns: dict[str, str] | None) -> str:
    """``long`` or ``wide`` for a single file, or InputError saying which formats exist."""
    if path.suffix.lower() == ".parquet" or is_parquet(path):
        return "long"
    head = sniff_csv(path)
    found = column_map(head.names, columns, CANONICAL, path)
    if "server_id" in found or {"server_id", "cpu_pct", "mem_gb", "mem_pct"} & set(columns or {}):
        return "long"
    time_name = found.get("timestamp", head.names[0])
    if len(head.names) >= 2:
        first = dict(zip(head.names, head.rows[0]))
        timeish = time_name.lower() in TIME_NAMES or _is_time(first.get(time_name, ""))
        numeric = all(
            _is_empty(cell) or _is_number(cell)
            for row in head.rows
            for name, cell in zip(head.names, row)
            if name != time_name
        )
        if timeish and numeric:
            return "wide"
    from consolidate.io.formats import format_help

    raise InputError(
        f"{path}: cannot tell the format (columns: {name_text(head.names)}); formats: {format_help()}; "
        "pass --format, and --columns if the names differ"
    )


def read_text_table(path: Path, what: str, hint: str) -> tuple[pd.DataFrame, str | None]:
    """A small CSV (an inventory, a placement) as text cells, with the note naming its encoding.

    Gzip data (whatever the name) is gunzipped and checked whole; the encoding is judged as
    for trace files (:func:`consolidate.io.detect.text_encoding`); the delimiter is that of
    :func:`sniff_csv`. ``what`` names the file in messages ("inventory"), ``hint`` says what to give.
    """
    readable(path)
    head = sniff_csv(path, need_rows=False)
    text, encoding = file_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=head.delimiter, dtype=str, keep_default_na=False,
                            skip_blank_lines=True, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: the {what} is not a readable CSV ({shown(detail)[1:-1]}); {hint}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    folded = [c.lower() for c in frame.columns]
    twice = sorted({c for c in folded if folded.count(c) > 1})
    if twice:
        both = [c for c in frame.columns if c.lower() == twice[0]]
        raise InputError(f"{path}: the {what} has the column {twice[0]!r} more than once ({', '.join(map(repr, both))}; "
                         "names match ignoring case); keep one")
    return frame, encoding_note(path, encoding)
