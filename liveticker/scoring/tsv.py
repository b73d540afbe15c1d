"""Read and write X's public Community Notes TSV files, checking columns exactly.

Notes and ratings are read by pyarrow's CSV reader, only the columns the engine needs,
straight into compact types (integer ids and times, one byte per tag, dictionary-coded
text), several ratings files at once; `.tsv.gz` files are read as well. Every problem is
reported as a ScoringInputError naming file, line and column, so the CLI can print it as
`file:line:column: message` instead of a traceback. Errors are the rare path: when a
column is not clean, the value-by-value checks of the text reader find the first bad one.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from liveticker.scoring import constants as k
from liveticker.scoring.data import HELPFUL_TAGS, NOT_HELPFUL_TAGS
from liveticker.scoring.errors import ScoringInputError
from liveticker.scoring.tables import (
    ENROLLMENT_COLUMNS,
    HISTORY_COLUMNS,
    NOTES_COLUMNS,
    RATINGS_COLUMNS,
)

_INTEGER = re.compile(r"^-?\d+(\.0+)?$")
# The fast path takes only plain ASCII integers; anything else (12.0, Unicode digits, a
# stray letter) goes through _INTEGER value by value, exactly as the text reader did.
_PLAIN_INTEGER = r"^-?[0-9]+$"
_TEXT = pa.dictionary(pa.int32(), pa.string())


class Kind(Enum):
    """How a needed column is typed on reading."""

    INTEGER = "integer"  # int64, or an error at the first value that is not an integer
    MAYBE_INTEGER = "maybe integer"  # int64 when every value is one, else left as text
    TEXT = "text"  # dictionary-coded text (pandas Categorical): ids, enumerations
    TAG = "tag"  # 0/1 column as int8, other values coerced as pack_tags always did


_NOTES_KINDS = {
    "noteId": Kind.INTEGER,
    "noteAuthorParticipantId": Kind.TEXT,
    "createdAtMillis": Kind.INTEGER,
    "tweetId": Kind.MAYBE_INTEGER,
    "classification": Kind.TEXT,
}
_RATINGS_KINDS = {
    "noteId": Kind.INTEGER,
    "raterParticipantId": Kind.TEXT,
    "createdAtMillis": Kind.INTEGER,
    "helpfulnessLevel": Kind.TEXT,
    **{name: Kind.TAG for name in (*HELPFUL_TAGS, *NOT_HELPFUL_TAGS)},
}
_ALLOWED = {
    "classification": (k.MISLEADING, k.NOT_MISLEADING),
    "helpfulnessLevel": tuple(k.HELPFUL_NUM),
}


def read_notes(path: Path) -> pd.DataFrame:
    """X's notes file, with exact columns, integer ids and times, known classifications."""
    table = _read_columns(path, NOTES_COLUMNS, _NOTES_KINDS)
    return table.unify_dictionaries().to_pandas(split_blocks=True, self_destruct=True)


def ratings_files(path: Path) -> list[Path]:
    """The file itself, or every *.tsv and *.tsv.gz file of a directory, sorted by name."""
    if not path.is_dir():
        return [path]
    files = sorted(file for file in path.iterdir() if file.name.endswith((".tsv", ".tsv.gz")))
    if not files:
        raise ScoringInputError(str(path), 0, 0, "directory holds no .tsv or .tsv.gz file")
    return files


def read_ratings(path: Path, *, file_done: Callable[[Path], None] | None = None) -> pd.DataFrame:
    """One file, or every ratings file of a directory (X splits ratings into several),
    read in parallel; `file_done` is called as each file is read (for a progress bar)."""
    files = ratings_files(path)

    def read(file: Path) -> pa.Table:
        table = _read_columns(file, RATINGS_COLUMNS, _RATINGS_KINDS)
        if file_done is not None:
            file_done(file)
        return table

    # pyarrow parses each file on its own threads too; a few files at once keeps the
    # disk and the cores busy across the gaps between files.
    workers = max(1, min(len(files), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tables = list(pool.map(read, files))  # the first file's error wins, as before
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return table.unify_dictionaries().to_pandas(split_blocks=True, self_destruct=True)


def read_status_history(path: Path) -> pd.DataFrame:
    """X's noteStatusHistory file, every column kept, integer note ids."""
    frame = _read_text(path, HISTORY_COLUMNS, HISTORY_COLUMNS)
    _check_integers(path, frame, HISTORY_COLUMNS, ("noteId",))
    return frame


def read_enrollment(path: Path) -> pd.DataFrame:
    """X's userEnrollment file; only participantId and modelingGroup are kept."""
    return _read_text(path, ENROLLMENT_COLUMNS, ("participantId", "modelingGroup"))


def _read_columns(path: Path, expected: tuple[str, ...], kinds: dict[str, Kind]) -> pa.Table:
    """The needed columns of one file, typed as `kinds` says, in file order."""
    _check_header(path, expected)
    needed = tuple(name for name in expected if name in kinds)
    types = {
        name: pa.string() if kind in (Kind.INTEGER, Kind.MAYBE_INTEGER) else _TEXT
        for name, kind in kinds.items()
    }
    try:
        table = pa_csv.read_csv(
            str(path),  # a name ending in .gz is decompressed on the fly
            read_options=pa_csv.ReadOptions(use_threads=True, block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(
                delimiter="\t", quote_char=False, double_quote=False, escape_char=False
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(needed),
                column_types=types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError):  # OSError: a truncated or damaged .gz
        # pyarrow's messages give no line; the text reader names the exact line, or reads
        # what pyarrow would not, and its text columns are typed below all the same.
        # A short row's missing fields are NaN there, which the checks and the engine
        # always saw as the text 'nan' (astype(str), to_numeric): keep it so.
        frame = _read_text(path, expected, needed).fillna("nan")
        schema = pa.schema([(column, pa.string()) for column in needed])
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    columns = {name: _typed(path, expected, name, kinds[name], table) for name in needed}
    return pa.table(columns)


def _typed(
    path: Path, expected: tuple[str, ...], name: str, kind: Kind, table: pa.Table
) -> pa.ChunkedArray:
    column = table.column(name)
    if kind is Kind.TEXT:
        if pa.types.is_string(column.type):
            column = pc.dictionary_encode(column)
        allowed = _ALLOWED.get(name)
        if allowed is not None and not _only(column, allowed):
            frame = pd.DataFrame({name: column.to_pandas().astype(object)})
            _check_values(path, frame, expected, name, allowed)
        return column
    if kind is Kind.TAG:
        return _tag_column(column)
    plain = bool(pc.all(pc.match_substring_regex(column, _PLAIN_INTEGER)).as_py() is not False)
    if plain:
        try:
            return pc.cast(column, pa.int64())
        except pa.ArrowInvalid:  # beyond int64
            pass
    if kind is Kind.MAYBE_INTEGER:
        return column  # tables.py coerces it as before
    values = column.to_numpy(zero_copy_only=False).astype(object)
    _check_integers(path, pd.DataFrame({name: values}), expected, (name,))
    return pa.chunked_array([_int64_or_error(path, expected, name, values)])


def _only(column: pa.ChunkedArray, allowed: tuple[str, ...]) -> bool:
    """Whether a dictionary-coded column holds nothing but `allowed` (checked per chunk
    dictionary, a handful of values, not per row)."""
    return all(
        set(chunk.dictionary.to_pylist()) <= set(allowed) for chunk in column.chunks if len(chunk)
    )


def _tag_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """0/1 per row as int8; each distinct text is coerced once, as pack_tags did per row
    (pd.to_numeric, missing as 0, lowest bit), so odd values give the same masks."""
    if pa.types.is_string(column.type):
        column = pc.dictionary_encode(column)
    chunks = []
    for chunk in column.chunks:
        texts = pd.Series(chunk.dictionary.to_numpy(zero_copy_only=False).astype(object))
        numbers = pd.to_numeric(texts, errors="coerce").fillna(0).to_numpy()
        bits = (numbers.astype(np.uint16) & 1).astype(np.int8)
        chunks.append(pa.array(bits[chunk.indices.to_numpy()], type=pa.int8()))
    return pa.chunked_array(chunks, type=pa.int8())


def _int64_or_error(
    path: Path, expected: tuple[str, ...], name: str, values: npt.NDArray[np.object_]
) -> pa.Array:
    """Integers that passed _INTEGER but not the fast path (12.0, Unicode digits, huge)."""
    out = np.empty(len(values), dtype=np.int64)
    for row, text in enumerate(values):
        try:
            out[row] = int(str(text).split(".")[0])
        except (ValueError, OverflowError):
            raise ScoringInputError(
                str(path),
                row + 2,
                expected.index(name) + 1,
                f"{name} must be a 64-bit integer, found '{text}'",
            ) from None
    return pa.array(out)


def _read_text(path: Path, expected: tuple[str, ...], needed: Sequence[str]) -> pd.DataFrame:
    """Every needed column as text, by pandas: the small files, and the rare path."""
    name = str(path)
    _check_header(path, expected)
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            usecols=list(needed),
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, EOFError, OSError) as error:
        raise _parser_error(name, str(error), len(expected)) from None
    return frame


def _first_line(path: Path) -> str:
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        line: str = handle.readline()
    return line


def _check_header(path: Path, expected: tuple[str, ...]) -> None:
    name = str(path)
    try:
        header = _first_line(path).rstrip("\r\n").split("\t")
    except FileNotFoundError:
        raise ScoringInputError(name, 0, 0, "file not found") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise ScoringInputError(name, 1, 0, f"cannot read file: {error}") from None
    for position, wanted in enumerate(expected):
        if position >= len(header):
            raise ScoringInputError(name, 1, position + 1, f"missing column '{wanted}'")
        if header[position] != wanted:
            raise ScoringInputError(
                name, 1, position + 1, f"expected column '{wanted}', found '{header[position]}'"
            )
    if len(header) > len(expected):
        extra = header[len(expected)]
        raise ScoringInputError(name, 1, len(expected) + 1, f"unexpected extra column '{extra}'")


def _parser_error(name: str, text: str, n_columns: int) -> ScoringInputError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        line, saw = int(found.group(2)), int(found.group(3))
        return ScoringInputError(
            name, line, n_columns + 1, f"expected {n_columns} fields, found {saw}"
        )
    return ScoringInputError(name, 0, 0, f"cannot parse file: {text.strip()}")


def _check_integers(
    path: Path, frame: pd.DataFrame, columns: tuple[str, ...], names: tuple[str, ...]
) -> None:
    for column in names:
        values = frame[column].to_numpy(dtype=object)
        ok = pd.Series(values).str.match(_INTEGER).fillna(False).to_numpy()
        _reject_first_bad(path, ok, columns, column, "must be an integer", values)


def _check_values(
    path: Path,
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    column: str,
    allowed: tuple[str, ...],
) -> None:
    values = frame[column].to_numpy(dtype=object)
    ok = np.isin(values, allowed)
    _reject_first_bad(path, ok, columns, column, f"must be one of {', '.join(allowed)}", values)


def _reject_first_bad(
    path: Path,
    ok: npt.NDArray[np.bool_],
    columns: tuple[str, ...],
    column: str,
    rule: str,
    values: npt.NDArray[np.object_],
) -> None:
    """Raise for the first row whose value breaks `rule`, at its line (header is 1) and column."""
    bad = np.flatnonzero(~ok)
    if len(bad):
        row = int(bad[0])
        raise ScoringInputError(
            str(path), row + 2, columns.index(column) + 1, f"{column} {rule}, found '{values[row]}'"
        )


def write_tsv(frame: pd.DataFrame, path: Path) -> None:
    """Tab-separated, no index, missing values as empty fields, floats at full precision."""
    frame.to_csv(path, sep="\t", index=False, na_rep="", float_format="%.10g")
