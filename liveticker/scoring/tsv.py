"""Read and write X's public Community Notes TSV files, checking columns exactly.

Every problem is reported as a ScoringInputError naming file, line and column, so the
CLI can print it as `file:line:column: message` instead of a traceback.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

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


def read_notes(path: Path) -> pd.DataFrame:
    """X's notes file, with exact columns, integer ids and times, known classifications."""
    needed = ("noteId", "noteAuthorParticipantId", "createdAtMillis", "tweetId", "classification")
    frame = _read(path, NOTES_COLUMNS, needed)
    _check_integers(path, frame, NOTES_COLUMNS, ("noteId", "createdAtMillis"))
    _check_values(path, frame, NOTES_COLUMNS, "classification", (k.MISLEADING, k.NOT_MISLEADING))
    return frame


def read_ratings(path: Path) -> pd.DataFrame:
    """One file, or every *.tsv file of a directory (X splits ratings into several)."""
    files = sorted(path.glob("*.tsv")) if path.is_dir() else [path]
    if not files:
        raise ScoringInputError(str(path), 0, 0, "directory holds no .tsv file")
    needed = (
        "noteId",
        "raterParticipantId",
        "createdAtMillis",
        "helpfulnessLevel",
        *HELPFUL_TAGS,
        *NOT_HELPFUL_TAGS,
    )
    frames = []
    for file in files:
        frame = _read(file, RATINGS_COLUMNS, needed)
        _check_integers(file, frame, RATINGS_COLUMNS, ("noteId", "createdAtMillis"))
        _check_values(file, frame, RATINGS_COLUMNS, "helpfulnessLevel", tuple(k.HELPFUL_NUM))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_status_history(path: Path) -> pd.DataFrame:
    """X's noteStatusHistory file, every column kept, integer note ids."""
    frame = _read(path, HISTORY_COLUMNS, HISTORY_COLUMNS)
    _check_integers(path, frame, HISTORY_COLUMNS, ("noteId",))
    return frame


def read_enrollment(path: Path) -> pd.DataFrame:
    """X's userEnrollment file; only participantId and modelingGroup are kept."""
    return _read(path, ENROLLMENT_COLUMNS, ("participantId", "modelingGroup"))


def _read(path: Path, expected: tuple[str, ...], needed: tuple[str, ...]) -> pd.DataFrame:
    name = str(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
    except FileNotFoundError:
        raise ScoringInputError(name, 0, 0, "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScoringInputError(name, 1, 0, f"cannot read file: {error}") from None
    _check_header(name, header, expected)
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
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as error:
        raise _parser_error(name, str(error), len(expected)) from None
    return frame


def _check_header(name: str, header: list[str], expected: tuple[str, ...]) -> None:
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
