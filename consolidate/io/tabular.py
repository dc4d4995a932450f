"""Reading columns of a CSV (pyarrow's multi-threaded reader) or Parquet file, with errors a user can act on."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
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
    FORMAT_HELP,
    HEAD_BYTES,
    head_bytes,
    head_text,
    is_parquet,
)
from consolidate.io.timestamps import OFFSET_PATTERN

#: The canonical column names a ``--columns`` mapping may name.
CANONICAL = ("timestamp", "server_id", "cpu_pct", "mem_pct", "mem_gb")

#: Names a wide file's time column commonly has.
TIME_NAMES = ("timestamp", "time", "datetime", "date", "ts", "time_utc")

#: pyarrow parses in blocks of this size, one per thread; large blocks keep chunk counts low.
BLOCK_BYTES = 1 << 24

#: Largest header a CSV may have (a wide file with very many servers has a long first line).
MAX_HEADER_BYTES = 1 << 26

EMPTY_CELL_HINT = "correct it or leave the cell empty (an empty cell is a missing sample, filled and counted)"

_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to [^:]+: .*?'(.*)'", re.S)


@dataclass(frozen=True)
class CsvHead:
    """A CSV's delimiter, header names (stripped) and first data rows."""

    path: Path
    delimiter: str
    names: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def sniff_csv(path: Path, need_rows: bool = True) -> CsvHead:
    """Header and first rows of a CSV; the delimiter is the most frequent of ``,`` ``;`` and tab in the header.

    A file with a header but no rows is an InputError unless ``need_rows`` is False.
    """
    size = HEAD_BYTES
    text = head_text(path, size)
    while text.count("\n") < 2 and size < MAX_HEADER_BYTES and len(head_bytes(path, size)) == size:
        size *= 4  # a wide file with many servers has a long header line
        text = head_text(path, size)
    first_line = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)][:21]
    names = tuple(n.strip() for n in rows[0])
    if len(rows) < 2 and need_rows:
        raise InputError(f"{path}: the file has a header ({', '.join(names)}) but no samples")
    return CsvHead(path, delimiter, names, tuple(tuple(c.strip() for c in r) for r in rows[1:]))


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
                f"{where}: has no column {wanted!r} (given for {name} in --columns); found columns: {', '.join(names)}"
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
            raise InputError(
                f"{where}: missing column {name!r}; found columns: {', '.join(names)}; "
                f"rename it or map it with --columns {name}=NAME"
            )


def epoch_or_time_type(value: str) -> pa.DataType:
    """The pyarrow type to parse a time column as, judged from its first value."""
    if re.fullmatch(r"[+-]?\d+", value):
        return pa.int64()
    if re.fullmatch(r"[+-]?\d*\.\d*", value):
        return pa.float64()
    return pa.timestamp("ns", tz="UTC" if re.search(OFFSET_PATTERN, value) else None)


def read_csv_columns(head: CsvHead, types: dict[str, pa.DataType], time_column: str | None) -> pa.Table:
    """The named columns of a CSV, typed; a time column that does not parse as typed is re-read as text."""
    dupes = sorted({n for n in types if head.names.count(n) > 1})
    if dupes:
        raise InputError(f"{head.path}: the header has column {dupes[0]!r} more than once; give each column a unique name")
    read = pacsv.ReadOptions(column_names=list(head.names), skip_rows=1, block_size=BLOCK_BYTES)
    parse = pacsv.ParseOptions(delimiter=head.delimiter)
    while True:
        convert = pacsv.ConvertOptions(include_columns=list(types), column_types=types)
        try:
            table = pacsv.read_csv(head.path, read_options=read, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as err:
            match = _CONVERSION.search(str(err))
            if match is None:
                detail = str(err).splitlines()[0].removeprefix("CSV parse error: ")
                raise InputError(f"{head.path}: cannot read the CSV ({detail}); every row needs the header's {len(head.names)} columns") from None
            column, value = head.names[int(match.group(1))], match.group(2)
            if column == time_column and types[column] != pa.string():
                # whole epoch seconds may turn fractional further down; other mixed forms are
                # re-read as text, which to_utc_ns parses value by value, naming a bad row
                types = {**types, column: pa.float64() if types[column] == pa.int64() else pa.string()}
                continue
            raise InputError(
                f"{head.path}: {_line_of(head, column, value)}, column {column!r}: {value!r} is not a number; {EMPTY_CELL_HINT}"
            ) from None
        if table.num_rows == 0:
            raise InputError(f"{head.path}: the file has a header but no samples")
        return table


def _line_of(head: CsvHead, column: str, value: str) -> str:
    """"line N" of the first cell of ``column`` holding ``value`` (header = line 1), blanks ignored."""
    convert = pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    read = pacsv.ReadOptions(column_names=list(head.names), skip_rows=1, block_size=BLOCK_BYTES)
    text = pacsv.read_csv(head.path, read_options=read, parse_options=pacsv.ParseOptions(delimiter=head.delimiter), convert_options=convert)
    row = pc.index(pc.utf8_trim_whitespace(text.column(0)), value.strip()).as_py()
    return f"line {row + 2}" if row >= 0 else "a row"


def parquet_names(path: Path) -> tuple[str, ...]:
    try:
        return tuple(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(f"{path}: cannot read the Parquet file ({str(err).splitlines()[0]}); re-export it") from None


def read_parquet_columns(path: Path, names: list[str]) -> pa.Table:
    try:
        table = pq.read_table(path, columns=names)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(f"{path}: cannot read the Parquet file ({str(err).splitlines()[0]}); re-export it") from None
    if table.num_rows == 0:
        raise InputError(f"{path}: the Parquet file has no rows")
    return table


def float32_values(column: pa.ChunkedArray, where: str, locate: Callable[[int], str]) -> np.ndarray:
    """A numeric column as a writable contiguous float32 array, NaN where a cell is empty."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = column.cast(pa.float32()).to_numpy()
        return values if values.flags.writeable else values.copy()  # a single block comes zero-copy, read-only
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        text = column.to_pandas()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna().to_numpy() & text.notna().to_numpy() & (text.str.strip() != "").to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(f"{where}, {locate(row)}: {text.iloc[row]!r} is not a number; {EMPTY_CELL_HINT}")
        return np.ascontiguousarray(values.to_numpy(dtype=np.float32, na_value=np.nan))
    raise InputError(f"{where}: holds {kind} values, not numbers")


def server_codes(column: pa.ChunkedArray, where: str, locate: Callable[[int], str]) -> tuple[list[str], np.ndarray]:
    """Server ids (in order of first appearance) and each row's int32 code into them.

    Each block's dictionary is matched against the ids seen so far with vectorised look-ups,
    so the cost does not grow with rows x servers. Ids are stripped of surrounding blanks.
    """
    if column.null_count:
        raise InputError(f"{where}, {locate(pc.index(pc.is_null(column), True).as_py())}: the server id is empty; every sample needs one")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column.cast(pa.string()))
    known = pa.array([], type=pa.string())
    parts = []
    for chunk in column.chunks:
        local = pc.utf8_trim_whitespace(chunk.dictionary.cast(pa.string()))
        where_known = pc.index_in(local, value_set=known)
        new = pc.unique(pc.filter(local, pc.is_null(where_known)))
        if len(new):
            known = pa.concat_arrays([known, new])
            where_known = pc.index_in(local, value_set=known)
        mapping = where_known.to_numpy(zero_copy_only=False).astype(np.int32)
        parts.append(mapping[chunk.indices.to_numpy(zero_copy_only=False)])
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    ids = known.to_pylist()
    if "" in ids:
        raise InputError(f"{where}, {locate(int(np.argmax(codes == ids.index(''))))}: the server id is empty; every sample needs one")
    return ids, codes


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
            cell == "" or _is_number(cell)
            for row in head.rows
            for name, cell in zip(head.names, row)
            if name != time_name
        )
        if timeish and numeric:
            return "wide"
    raise InputError(
        f"{path}: cannot tell the format (columns: {', '.join(head.names)}); formats: {FORMAT_HELP}; "
        "pass --format, and --columns if the names differ"
    )
