"""The run's results as data frames: scored notes, rater helpfulness and the next status history.

Column names follow X's public outputs where one exists, so files written from these
frames can be compared with the reference's and fed back as the next run's history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from liveticker.scoring import constants as k
from liveticker.scoring.confidence import Bounds
from liveticker.scoring.data import BoolArray, FloatArray, ScoringInput, Status, status_names
from liveticker.scoring.helpfulness import Helpfulness
from liveticker.scoring.rules import HELD, Decision
from liveticker.scoring.tables import HISTORY_COLUMNS, history_by_note

NMR = int(Status.NEEDS_MORE_RATINGS)
CRNH = int(Status.CURRENTLY_RATED_NOT_HELPFUL)


@dataclass(frozen=True, kw_only=True)
class ScoringResult:
    """`notes`: one row per note; `raters`: one per participant who rated or wrote;
    `status_history`: X's noteStatusHistory layout, to pass to the next run."""

    notes: pd.DataFrame
    raters: pd.DataFrame
    status_history: pd.DataFrame
    timings: dict[str, float]
    summary: dict[str, int]

    def status_counts(self) -> dict[str, int]:
        """Notes per final status name, every status listed (0 when none)."""
        counts = self.notes["finalRatingStatus"].value_counts()
        return {name: int(counts.get(name, 0)) for name in (s.name for s in Status)}


def _shown(status: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    return np.where(status == HELD, NMR, status).astype(np.int8)


def build_result(
    *,
    data: ScoringInput,
    now_millis: int,
    num_ratings: npt.NDArray[np.int64],
    final_round_ratings: npt.NDArray[np.int64],
    intercept: FloatArray,
    factor: FloatArray,
    bounds: Bounds,
    without: dict[str, FloatArray],
    core: Decision,
    final: Decision,
    stabilization: FloatArray,
    first: tuple[FloatArray, FloatArray],
    second: tuple[FloatArray, FloatArray],
    helpfulness: Helpfulness,
    rated: npt.NDArray[np.int64],
    in_scope: BoolArray,  # rated in the core scope, even if every rating was set aside
    included: BoolArray,
    clique: npt.NDArray[np.int32],
    co_deviation_group: npt.NDArray[np.int32],
    high_volume: BoolArray,
    correlated: BoolArray,
    timings: dict[str, float],
    summary: dict[str, int],
) -> ScoringResult:
    """Assemble the per-note, per-rater and status history frames from the run's arrays."""
    notes = data.notes
    core_names = status_names(_shown(core.status))
    final_names = status_names(final.status)
    decided_by = final.decided_by_names()
    scored = pd.DataFrame(
        {
            "noteId": notes.note_id,
            "numRatings": num_ratings,
            "coreNumFinalRoundRatings": final_round_ratings,
            "coreNoteIntercept": intercept,
            "coreNoteFactor1": factor,
            "coreNoteInterceptMin": bounds.intercept_min,
            "coreNoteInterceptMax": bounds.intercept_max,
            "coreNoteInterceptNoHighVol": without["high_volume"],
            "coreNoteInterceptNoCorrelated": without["correlated"],
            "coreRatingStatus": core_names,
            "coreActiveRules": core.rule_lists(),
            "finalRatingStatus": final_names,
            "decidedBy": decided_by,
            "rules": final.rule_lists(),
            # X writes integer millis; a nullable integer keeps "no timestamp" empty.
            "timestampMillisOfNmrDueToMinStableCrhTime": _millis(stabilization),
        }
    )

    author_counts = np.bincount(notes.author[notes.author >= 0], minlength=data.n_participants)
    people = np.flatnonzero(in_scope | (author_counts > 0))
    raters = pd.DataFrame(
        {
            "raterParticipantId": data.participants[people],
            "coreRaterIntercept": second[0][people],
            "coreRaterFactor1": second[1][people],
            "coreFirstRoundRaterIntercept": first[0][people],
            "coreFirstRoundRaterFactor1": first[1][people],
            "raterAgreeRatio": helpfulness.agree_ratio[people],
            "validRatings": helpfulness.valid_ratings[people],
            "crhCrnhRatioDifference": helpfulness.crh_crnh_ratio_difference[people],
            "meanNoteScore": helpfulness.mean_note_score[people],
            "aboveHelpfulnessThreshold": helpfulness.included[people],
            "included": included[people],
            "numRatings": rated[people],
            "postSelectionClique": clique[people],
            "coDeviationGroup": co_deviation_group[people],
            "highVolume": high_volume[people],
            "correlated": correlated[people],
            "writingAbilityLost": _writing_ability_lost(data, final.status)[people],
        }
    )
    history = next_history(
        data=data,
        now_millis=now_millis,
        final=final_names,
        core=core_names,
        decided_by=decided_by,
        stabilization=stabilization,
    )
    return ScoringResult(
        notes=scored, raters=raters, status_history=history, timings=timings, summary=summary
    )


def _millis(values: FloatArray) -> pd.arrays.IntegerArray:
    """Epoch millis held as float (NaN: none) as pandas' nullable Int64."""
    millis: pd.arrays.IntegerArray = pd.array(np.round(values), dtype="Int64")
    return millis


def _writing_ability_lost(data: ScoringInput, status: npt.NDArray[np.int8]) -> BoolArray:
    """More than 2 of an author's 5 most recent notes Not Helpful."""
    notes = data.notes
    written = np.flatnonzero(notes.author >= 0)
    order = written[np.lexsort((-notes.created_at[written], notes.author[written]))]
    author = notes.author[order]
    starts = np.flatnonzero(np.r_[True, author[1:] != author[:-1]]) if len(order) else order
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    recent = order[rank < k.WRITING_RECENT_NOTES]
    bad = np.bincount(
        notes.author[recent], weights=status[recent] == CRNH, minlength=data.n_participants
    )
    return np.asarray(bad > k.WRITING_MAX_NOT_HELPFUL)


def next_history(
    *,
    data: ScoringInput,
    now_millis: int,
    final: npt.NDArray[np.object_],
    core: npt.NDArray[np.object_],
    decided_by: list[str],
    stabilization: FloatArray,
) -> pd.DataFrame:
    """Continue X's noteStatusHistory: rows of notes not scored now are kept unchanged."""
    notes = data.notes
    previous = data.history_frame
    ids = pd.Index(notes.note_id, name="noteId")
    if previous is not None and len(previous):
        old = history_by_note(previous)
        row = old.reindex(ids).reindex(columns=list(HISTORY_COLUMNS[1:])).astype(object)
    else:
        old = None
        row = pd.DataFrame(index=ids, columns=list(HISTORY_COLUMNS[1:]), dtype=object)
    row["noteAuthorParticipantId"] = np.where(
        notes.author >= 0, data.participants[np.maximum(notes.author, 0)], ""
    )
    row["createdAtMillis"] = notes.created_at
    before = row["currentStatus"].to_numpy(dtype=object)
    changed = final != before
    last_change = pd.to_numeric(row["timestampMillisOfMostRecentStatusChange"], errors="coerce")
    row["timestampMillisOfMostRecentStatusChange"] = np.where(
        changed, now_millis, last_change.fillna(-1).to_numpy()
    )
    row["currentStatus"] = final
    row["currentCoreStatus"] = core
    row["currentDecidedBy"] = decided_by
    row["timestampMillisOfCurrentStatus"] = now_millis
    row["timestampMinuteOfFinalScoringOutput"] = now_millis // 60_000

    first_stamp = pd.to_numeric(
        row["timestampMillisOfFirstNmrDueToMinStableCrhTime"], errors="coerce"
    ).to_numpy(dtype=float)
    first_stamp = np.where(np.isnan(first_stamp), stabilization, first_stamp)
    row["timestampMillisOfNmrDueToMinStableCrhTime"] = stabilization
    row["timestampMillisOfFirstNmrDueToMinStableCrhTime"] = first_stamp

    has_status = final != Status.NEEDS_MORE_RATINGS.name
    first_missing = row["firstNonNMRStatus"].isna().to_numpy() | (row["firstNonNMRStatus"] == "")
    new_first = has_status & first_missing
    row.loc[new_first, "firstNonNMRStatus"] = final[new_first]
    row.loc[new_first, "timestampMillisOfFirstNonNMRStatus"] = now_millis
    recent = row["mostRecentNonNMRStatus"].to_numpy(dtype=object)
    new_recent = has_status & (final != recent)
    row.loc[new_recent, "mostRecentNonNMRStatus"] = final[new_recent]
    row.loc[new_recent, "timestampMillisOfLatestNonNMRStatus"] = now_millis

    history = row.reset_index()
    if old is not None:
        kept = old[~old.index.isin(ids)].reset_index()
        history = pd.concat([history, kept.reindex(columns=list(HISTORY_COLUMNS))])
    return _integers_as_text(history[list(HISTORY_COLUMNS)])


def _integers_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as integers without '.0', missing values as empty fields, like X's files."""
    out = frame.copy()
    for column in out.columns:
        if column.startswith("timestamp") or column in ("noteId", "createdAtMillis"):
            out[column] = _integer_text(pd.to_numeric(out[column], errors="coerce"))
        else:
            out[column] = _missing_as_empty(out[column])
    return out


def _integer_text(numbers: pd.Series) -> pd.Series:
    """`str(int(v))` per value, "" for missing ones, without a Python call per row.

    Arrow formats int64 as Python does; building its strings is ~10x faster than pandas
    turning Python strings into its (Arrow-backed) text columns.
    """
    values = numbers.to_numpy()
    if len(values) and values.dtype.kind in "iu":
        return _arrow_text(pa.array(values).cast(pa.string()), numbers.index)
    if len(values) and values.dtype.kind == "f":
        missing = np.isnan(values)
        # Casting truncates toward zero like int(); only values an int64 holds convert the
        # same, so anything else (inf, huge) keeps the per-row path and its errors.
        if np.all(np.abs(values[~missing]) < 2.0**63):
            integers = np.where(missing, 0, values).astype(np.int64)
            text = pa.array(integers, mask=missing).cast(pa.string())
            return _arrow_text(pc.fill_null(text, ""), numbers.index)
    return numbers.map(lambda v: "" if pd.isna(v) else str(int(v)))


_BLANKED_TYPES = (type(None), type(pd.NA), float)


def _missing_as_empty(column: pd.Series) -> pd.Series:
    """`_text` per value: text columns are vectorized, anything unusual goes row by row.

    The fast paths cover columns whose values are all strings or missing values of the
    kinds `_text` blanks, so the result (and the dtype pandas infers for it) is the same.
    """
    if not len(column):
        return column.map(_text)
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) and dtype == "str" and dtype.storage == "pyarrow":
        # X's files are read as such columns; their missing values are NaN.
        return _arrow_text(pc.fill_null(pa.array(column.array), ""), column.index)
    if not (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        return column.map(_text)
    values = column.to_numpy()
    missing = pd.isna(values)
    blanked = all(issubclass(kind, _BLANKED_TYPES) for kind in set(map(type, values[missing])))
    if blanked and pd.api.types.infer_dtype(values[~missing], skipna=False) in ("string", "empty"):
        text = values.copy()
        text[missing] = ""
        return _arrow_text(pa.array(text, type=pa.string()), column.index)
    return column.map(_text)


def _arrow_text(text: pa.Array, index: pd.Index) -> pd.Series:
    """A text column with the dtype pandas gives a column of Python strings ("str")."""
    return pd.Series(text, dtype="str", index=index)


def _text(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return value
