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
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

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
    PACKED_TAG_COLUMNS,
    RATINGS_COLUMNS,
)

_INTEGER = re.compile(r"^-?\d+(\.0+)?$")
# The fast path takes only plain ASCII integers; anything else (12.0, Unicode digits, a
# stray letter) goes through _INTEGER value by value, exactly as the text reader did.
_PLAIN_INTEGER = r"^-?[0-9]+$"
_TEXT = pa.dictionary(pa.int32(), pa.string())
# Blocks of 1 MB parse a 1M-rating file in half the CPU time of 16 MB blocks (0.38 s
# against 0.94 s, medians of 4 here): the smaller buffers stay in the caches.
_BLOCK_SIZE = 1 << 20


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
    read in parallel; `file_done` is called as each file is read (for a progress bar).

    The frame has X's noteId, raterParticipantId (categorical), createdAtMillis and
    helpfulnessLevel (categorical), and the tags already packed into the two bit-mask
    columns of tables.PACKED_TAG_COLUMNS, as input_from_frames takes them.
    """
    files = ratings_files(path)

    def read(file: Path) -> _RatingsPart:
        part = _compact(_read_columns(file, RATINGS_COLUMNS, _RATINGS_KINDS))
        if file_done is not None:
            file_done(file)
        return part

    # pyarrow parses each file on its own threads too; a few files at once keeps the
    # disk and the cores busy across the gaps between files.
    workers = max(1, min(len(files), os.cpu_count() or 1, 4))
    codes = _RaterCodes()
    parts: list[_RatingsPart] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(read, files):  # in file order; the first file's error wins
            parts.append(part)
            codes.add(part)
    codes.flush()
    # Arrow's allocator keeps the files' freed buffers for its next tables; none will
    # come, and numpy cannot use them: give them back before the big arrays are made.
    pa.default_memory_pool().release_unused()
    columns: dict[str, Any] = {}
    for name in _RatingsPart.ARRAYS:  # one column at a time: each part's copy goes at once
        columns[name] = np.concatenate([getattr(part, name) for part in parts])
        for part in parts:
            setattr(part, name, None)
    return pd.DataFrame(
        {
            "noteId": columns["note_id"],
            "raterParticipantId": pd.Categorical.from_codes(
                columns["rater"], categories=pd.Index(codes.ids.to_pylist(), dtype=object)
            ),
            "createdAtMillis": columns["created"],
            "helpfulnessLevel": pd.Categorical.from_codes(columns["level"], categories=_LEVELS),
            PACKED_TAG_COLUMNS[0]: columns["helpful_tags"],
            PACKED_TAG_COLUMNS[1]: columns["not_helpful_tags"],
        },
        copy=False,
    )


_LEVELS: tuple[str, ...] = tuple(k.HELPFUL_NUM)


@dataclass(kw_only=True)
class _RatingsPart:
    """One ratings file as compact arrays (25 bytes a rating), its arrow table freed.

    Arrow tables held until the end cost about 110 bytes a rating at 10M (every parsed
    block carries its own dictionary of 64-character rater ids) and 17.6 GB at 100M.
    """

    ARRAYS: ClassVar[tuple[str, ...]] = (
        "note_id", "rater", "created", "level", "helpful_tags", "not_helpful_tags",
    )  # fmt: skip
    note_id: Any
    rater: Any  # index into `raters`, then the code across files (_RaterCodes)
    raters: pa.StringArray | None  # the file's distinct rater ids, by first appearance
    created: Any
    level: Any  # index into _LEVELS
    helpful_tags: Any
    not_helpful_tags: Any


class _RaterCodes:
    """Rater ids coded across files in order of first appearance, a few files at a time.

    Each file's distinct ids wait until they are as many as the ids known so far; then
    one hash pass codes them all and the known ids keep their codes (they come first and
    are distinct). The files' dictionaries are never all held at once, and each id is
    hashed a few times in all: a Python dict took 7 s for 10M ratings.
    """

    def __init__(self) -> None:
        self.ids: pa.StringArray = pa.array([], pa.string())
        self._waiting: list[_RatingsPart] = []
        self._waiting_ids = 0

    def add(self, part: _RatingsPart) -> None:
        assert part.raters is not None
        self._waiting.append(part)
        self._waiting_ids += len(part.raters)
        if self._waiting_ids >= max(len(self.ids), 1 << 20):
            self.flush()

    def flush(self) -> None:
        """Code the waiting files' raters."""
        if not self._waiting:
            return
        waiting = [part.raters for part in self._waiting if part.raters is not None]
        encoded = pc.dictionary_encode(pa.concat_arrays([self.ids, *waiting]))
        code = encoded.indices.to_numpy()
        start = len(self.ids)
        for part in self._waiting:
            assert part.raters is not None
            end = start + len(part.raters)
            part.rater = code[start:end].astype(np.int32)[part.rater]
            part.raters, start = None, end
        self.ids = encoded.dictionary
        self._waiting, self._waiting_ids = [], 0


def _compact(table: pa.Table) -> _RatingsPart:
    rater = _one_dictionary(table.column("raterParticipantId"))
    level = _one_dictionary(table.column("helpfulnessLevel"))
    level_codes = np.array([_LEVELS.index(name) for name in level.dictionary.to_pylist()])
    return _RatingsPart(
        note_id=_owned(table.column("noteId").to_numpy()),
        rater=_owned(rater.indices.to_numpy()),
        raters=rater.dictionary,
        created=_owned(table.column("createdAtMillis").to_numpy()),
        level=level_codes.astype(np.int8)[level.indices.to_numpy()],
        helpful_tags=_packed(table, HELPFUL_TAGS),
        not_helpful_tags=_packed(table, NOT_HELPFUL_TAGS),
    )


def _owned(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The array in numpy's own memory. A view on an arrow buffer keeps it in arrow's
    allocator, which does not hand freed memory back to numpy: 100 files' views held
    there made the concatenation's peak about twice the ratings' size."""
    return values if values.flags.owndata else values.copy()


def _one_dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """A dictionary column as one array with one dictionary, in order of first appearance
    (each chunk's new values are appended to the first chunk's dictionary)."""
    if column.num_chunks == 0:  # a file of a header only
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    unified = pa.table({"column": column}).unify_dictionaries().combine_chunks()
    array: pa.DictionaryArray = unified.column(0).chunk(0)
    return array


def _packed(table: pa.Table, names: tuple[str, ...]) -> npt.NDArray[np.uint16]:
    """The 0/1 int8 tag columns `names` as one bit mask per row (bit i: names[i])."""
    mask = np.zeros(len(table), dtype=np.uint16)
    for bit, name in enumerate(names):
        mask |= table.column(name).to_numpy().astype(np.uint16) << np.uint16(bit)
    return mask


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
    # Tags are read as plain text: dictionary-coding 22 tag columns while parsing took
    # most of the read (0.43 s against 0.29 s per 1M-rating file), and a column of "0"
    # and "1" is one byte a row that _tag_column turns into bits without a hash table.
    types = {name: _TEXT if kind is Kind.TEXT else pa.string() for name, kind in kinds.items()}
    try:
        table = pa_csv.read_csv(
            str(path),  # a name ending in .gz is decompressed on the fly
            read_options=pa_csv.ReadOptions(use_threads=True, block_size=_BLOCK_SIZE),
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
        plain = [_zero_one_bits(chunk) for chunk in column.chunks]
        if all(bits is not None for bits in plain):
            return pa.chunked_array(plain, type=pa.int8())
        column = pc.dictionary_encode(column)
    chunks = []
    for chunk in column.chunks:
        texts = pd.Series(chunk.dictionary.to_numpy(zero_copy_only=False).astype(object))
        numbers = pd.to_numeric(texts, errors="coerce").fillna(0).to_numpy()
        bits = (numbers.astype(np.uint16) & 1).astype(np.int8)
        chunks.append(pa.array(bits[chunk.indices.to_numpy()], type=pa.int8()))
    return pa.chunked_array(chunks, type=pa.int8())


def _zero_one_bits(chunk: pa.StringArray) -> pa.Array | None:
    """The chunk as int8 when every value is exactly "0" or "1" (X's files), read from the
    string's own buffers: one character per row means the offsets count 0, 1, 2, ...
    None when any value is something else (then each distinct text is coerced)."""
    if chunk.null_count:
        return None
    _, offsets_buffer, data_buffer = chunk.buffers()
    n = len(chunk)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[chunk.offset : chunk.offset + n + 1]
    if n == 0:
        return pa.array(np.zeros(0, dtype=np.int8))
    start = int(offsets[0])
    if int(offsets[-1]) - start != n or not np.array_equal(
        offsets, np.arange(start, start + n + 1, dtype=np.int32)
    ):
        return None
    text = np.frombuffer(data_buffer, dtype=np.uint8)[start : start + n]
    bits = text - np.uint8(ord("0"))
    if bits.max() > 1:  # "0" - "0" is 0; anything below "0" wraps around to over 1
        return None
    return pa.array(bits.view(np.int8))


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
    """Tab-separated, no index, missing values as empty fields, floats as %.10g.

    Floats are formatted by Python and the rows written by pyarrow's writer: the same
    bytes as pandas' to_csv (a test compares them), three to ten times faster (the rater
    table of 10M ratings took seconds). A value that would need quoting, which X's
    columns never hold, leaves the file to pandas.
    """
    with path.open("wb") as out:
        out.write(("\t".join(map(str, frame.columns)) + "\n").encode())
        try:
            table = pa.table({str(name): _column_text(frame[name]) for name in frame.columns})
            pa_csv.write_csv(
                table,
                out,
                pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none"),
            )
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    frame.to_csv(path, sep="\t", index=False, na_rep="", float_format="%.10g")


def _column_text(column: pd.Series) -> pa.Array:
    """A column as the text pandas' to_csv writes for it (NaN and NA as empty fields)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind == "f":
        values = column.to_numpy()
        missing = np.isnan(values)  # often most of a column: only the others are formatted
        text = np.empty(len(values), dtype=object)
        text[~missing] = [f"{value:.10g}" for value in values[~missing].tolist()]  # as %.10g
        return pa.array(text, type=pa.string(), mask=missing)
    if kind == "b":
        return pa.array(np.where(column.to_numpy(), "True", "False"))
    if kind in ("i", "u"):
        return pa.array(column.to_numpy()).cast(pa.string())
    return pa.array(column, from_pandas=True).cast(pa.string())
