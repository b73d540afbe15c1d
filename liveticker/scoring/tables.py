"""Data frames in X's public column layout, to and from the engine's typed containers.

The library API and the TSV reader both go through here, so a frame from the service
and a file from X's public data are scored the same way. Columns may be text (as X
writes them) or already typed (the TSV reader's integers, int8 tags and Categoricals):
both give the same containers, the typed ones without parsing text row by row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from liveticker.scoring import constants as k
from liveticker.scoring.arrays import unique_values
from liveticker.scoring.data import (
    HELPFUL_TAGS,
    NOT_HELPFUL_TAGS,
    History,
    Int32Array,
    Int64Array,
    Notes,
    Ratings,
    ScoringInput,
    helpful_num_from_levels,
    pack_tags,
    status_codes,
)

NOTES_COLUMNS: tuple[str, ...] = (
    "noteId", "noteAuthorParticipantId", "createdAtMillis", "tweetId", "classification",
    "believable", "harmful", "validationDifficulty", "misleadingOther",
    "misleadingFactualError", "misleadingManipulatedMedia", "misleadingOutdatedInformation",
    "misleadingMissingImportantContext", "misleadingUnverifiedClaimAsFact", "misleadingSatire",
    "notMisleadingOther", "notMisleadingFactuallyCorrect",
    "notMisleadingOutdatedButNotWhenWritten", "notMisleadingClearlySatire",
    "notMisleadingPersonalOpinion", "trustworthySources", "summary", "isMediaNote",
    "isCollaborativeNote",
)  # fmt: skip
RATINGS_COLUMNS: tuple[str, ...] = (
    "noteId", "raterParticipantId", "createdAtMillis", "version", "agree", "disagree",
    "helpful", "notHelpful", "helpfulnessLevel", *HELPFUL_TAGS, "notHelpfulOther",
    "notHelpfulIncorrect", "notHelpfulSourcesMissingOrUnreliable",
    "notHelpfulOpinionSpeculationOrBias", "notHelpfulMissingKeyPoints", "notHelpfulOutdated",
    "notHelpfulHardToUnderstand", "notHelpfulArgumentativeOrBiased", "notHelpfulOffTopic",
    "notHelpfulSpamHarassmentOrAbuse", "notHelpfulIrrelevantSources",
    "notHelpfulOpinionSpeculation", "notHelpfulNoteNotNeeded", "ratedOnTweetId",
    "ratingSourceBucketed", "suggestion", "suggestionId",
)  # fmt: skip
HISTORY_COLUMNS: tuple[str, ...] = (
    "noteId", "noteAuthorParticipantId", "createdAtMillis", "timestampMillisOfFirstNonNMRStatus",
    "firstNonNMRStatus", "timestampMillisOfCurrentStatus", "currentStatus",
    "timestampMillisOfLatestNonNMRStatus", "mostRecentNonNMRStatus",
    "timestampMillisOfStatusLock", "lockedStatus", "timestampMillisOfRetroLock",
    "currentCoreStatus", "currentExpansionStatus", "currentGroupStatus", "currentDecidedBy",
    "currentModelingGroup", "timestampMillisOfMostRecentStatusChange",
    "timestampMillisOfNmrDueToMinStableCrhTime", "currentMultiGroupStatus",
    "currentModelingMultiGroup", "timestampMinuteOfFinalScoringOutput",
    "timestampMillisOfFirstNmrDueToMinStableCrhTime", "abovePcrhThresholdTime",
)  # fmt: skip
ENROLLMENT_COLUMNS: tuple[str, ...] = (
    "participantId", "enrollmentState", "successfulRatingNeededToEarnIn",
    "timestampOfLastStateChange", "timestampOfLastEarnOut", "modelingPopulation",
    "modelingGroup", "numberOfTimesEarnedOut",
)  # fmt: skip
# Not X's: tsv.read_ratings packs the 22 tag columns into these two bit masks (bit i is
# HELPFUL_TAGS[i] or NOT_HELPFUL_TAGS[i]) as it reads, 4 bytes a rating instead of 22.
PACKED_TAG_COLUMNS: tuple[str, str] = ("helpfulTagMask", "notHelpfulTagMask")
assert len(NOTES_COLUMNS) == 24
assert len(RATINGS_COLUMNS) == 35
assert len(HISTORY_COLUMNS) == 24
assert len(ENROLLMENT_COLUMNS) == 8
assert RATINGS_COLUMNS[18:31] == NOT_HELPFUL_TAGS


def latest_per_pair(
    rows: np.ndarray | None,
    *,
    note: np.ndarray,
    rater: np.ndarray,
    created: np.ndarray,
    n_raters: int,
) -> np.ndarray | None:
    """Of `rows` (None: every row), the latest rating of each (note, rater) pair, in row
    order; of two at the same time, the later row. None when that is every row.

    X's raters rate a note once, so repeated pairs are found with one sort of the pair
    keys (1.3 s at 10M ratings here, where a hash table took 1.8 to 4 s for its cache
    misses) and only the rare repeated ones are sorted by time.
    """
    picked_note = note if rows is None else note[rows]
    picked_rater = rater if rows is None else rater[rows]
    pair = picked_note.astype(np.int64) * max(n_raters, 1) + picked_rater
    del picked_note, picked_rater
    ordered = np.sort(pair)
    repeats = unique_values(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if len(repeats) == 0:
        return rows
    if rows is None:
        rows = np.arange(len(note))
    # Each row's pair among the few repeated ones, by binary search.
    position = np.minimum(np.searchsorted(repeats, pair), len(repeats) - 1)
    repeated = repeats[position] == pair
    del pair, position
    again = rows[repeated]
    order = again[np.argsort(created[again], kind="stable")]
    ordered_pair = note[order].astype(np.int64) * max(n_raters, 1) + rater[order]
    _, last_reversed = np.unique(ordered_pair[::-1], return_index=True)
    latest = order[len(order) - 1 - last_reversed]
    return np.sort(np.concatenate([rows[~repeated], latest]))


def input_from_frames(
    *,
    notes: pd.DataFrame,
    ratings: pd.DataFrame,
    status_history: pd.DataFrame | None = None,
    enrollment: pd.DataFrame | None = None,
    first_activity: pd.Series | None = None,
) -> ScoringInput:
    """Build the engine's input from frames with X's column names.

    Ratings on unknown notes or with an unknown helpfulnessLevel are dropped; a rater who
    rated a note twice keeps the latest rating. `first_activity` (optional, not an X
    file) maps participant ids to when each account was first active, in epoch millis;
    a participant missing from it counts as a new account.
    """
    note_ids = notes["noteId"].to_numpy(dtype=np.int64)
    rater, author, participants = _participant_codes(
        ratings["raterParticipantId"], notes["noteAuthorParticipantId"]
    )

    # int32 at once: the indexer's own int64 array is the largest per-rating one here.
    note = pd.Index(note_ids).get_indexer(ratings["noteId"].to_numpy(dtype=np.int64))
    note = note.astype(np.int32)
    helpful_num = (
        _helpful_num(ratings["helpfulnessLevel"])
        if "helpfulnessLevel" in ratings.columns
        else ratings["helpfulNum"].to_numpy(dtype=np.float32)
    )
    created = ratings["createdAtMillis"].to_numpy(dtype=np.int64)
    usable = (note >= 0) & ~np.isnan(helpful_num)
    keep = latest_per_pair(
        None if usable.all() else np.flatnonzero(usable),
        note=note,
        rater=rater,
        created=created,
        n_raters=len(participants),
    )
    del usable

    def kept(values: np.ndarray) -> np.ndarray:
        """Only the kept ratings; when that is all of them (X's files), no copy at all."""
        return values if keep is None else values[keep]

    tweet = _tweet_ids(notes["tweetId"])
    data_notes = Notes(
        note_id=note_ids,
        author=author,
        created_at=notes["createdAtMillis"].to_numpy(dtype=np.int64),
        misleading=(notes["classification"] != k.NOT_MISLEADING).to_numpy(dtype=bool),
        tweet_id=tweet,
    )
    data_ratings = Ratings(
        note=kept(note),
        rater=kept(rater),
        created_at=kept(created),
        helpful_num=kept(helpful_num),
        helpful_tags=kept(_tag_masks(ratings, PACKED_TAG_COLUMNS[0], HELPFUL_TAGS)),
        not_helpful_tags=kept(_tag_masks(ratings, PACKED_TAG_COLUMNS[1], NOT_HELPFUL_TAGS)),
    )
    modeling_group = None
    if enrollment is not None and len(enrollment):
        groups = pd.Series(
            pd.to_numeric(enrollment["modelingGroup"], errors="coerce").to_numpy(dtype=float),
            index=enrollment["participantId"].astype(str).to_numpy(dtype=object),
        )
        groups = groups[~groups.index.duplicated(keep="last")]
        modeling_group = groups.reindex(participants).to_numpy(dtype=np.float64)
    first_activity_millis = None
    if first_activity is not None:
        by_id = pd.Series(
            pd.to_numeric(first_activity, errors="coerce").to_numpy(dtype=np.float64),
            index=first_activity.index.astype(str),
        )
        by_id = by_id[~by_id.index.duplicated(keep="last")]
        known = by_id.reindex(participants).to_numpy(dtype=np.float64)
        new_account = float(np.iinfo(np.int64).max)  # never established
        first_activity_millis = np.nan_to_num(known, nan=new_account).astype(np.int64)
    return ScoringInput(
        participants=np.asarray(participants, dtype=object),
        notes=data_notes,
        ratings=data_ratings,
        history=history_from_frame(status_history, note_ids),
        history_frame=status_history,
        modeling_group=modeling_group,
        first_activity_millis=first_activity_millis,
    )


def _tag_masks(
    ratings: pd.DataFrame, packed: str, columns: tuple[str, ...]
) -> npt.NDArray[np.uint16]:
    """The tag bit masks: as the TSV reader packed them, or packed from X's columns."""
    if packed not in ratings.columns:
        return pack_tags(ratings, columns)
    masks: npt.NDArray[np.uint16] = ratings[packed].to_numpy(dtype=np.uint16)
    return masks


def _participant_codes(
    raters: pd.Series, authors: pd.Series
) -> tuple[Int32Array, Int32Array, npt.NDArray[np.object_]]:
    """Codes of raters and authors in one participant table, numbered in order of first
    appearance over raters then authors (as one factorization of both would)."""
    rater_codes, rater_ids = _factorized_ids(raters)
    author_codes, author_ids = _factorized_ids(authors)
    known = pd.Index(rater_ids).get_indexer(author_ids)
    new = known < 0
    known[new] = len(rater_ids) + np.arange(np.count_nonzero(new))
    participants = np.concatenate([rater_ids, author_ids[new]])
    return (
        rater_codes.astype(np.int32),
        known[author_codes].astype(np.int32),
        participants,
    )


def _factorized_ids(ids: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Codes in order of first appearance and the distinct ids as text. A Categorical of
    text (the TSV reader's) is factorized by its integer codes, without one Python
    string per row."""
    if (
        isinstance(ids.dtype, pd.CategoricalDtype)
        and ids.cat.categories.inferred_type in ("string", "empty")
        and not ids.isna().any()
    ):
        codes, uniques = pd.factorize(ids)
        return codes, np.asarray(uniques.astype(object), dtype=object)
    codes, uniques = pd.factorize(ids.astype(str).to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _tweet_ids(ids: pd.Series) -> Int64Array:
    """Post ids as int64, -1 when missing or not a number. Integers written as text are
    converted exactly: one blank field must not turn them all into rounded floats."""
    numbers = pd.to_numeric(ids, errors="coerce").fillna(-1)
    tweet: Int64Array = numbers.to_numpy(dtype=np.int64, copy=True)
    if ids.dtype == object or pd.api.types.is_string_dtype(ids.dtype):
        text = ids.astype(str)
        exact = text.str.fullmatch(r"-?[0-9]{1,19}").to_numpy(dtype=bool)
        digits = text[exact].to_numpy(dtype=object)
        try:
            tweet[exact] = digits.astype(np.int64)
        except OverflowError:  # a 19-digit number beyond int64 stays as it was
            tweet[exact] = [
                _int64_or(value, fallback)
                for value, fallback in zip(digits, tweet[exact], strict=True)
            ]
    return tweet


def _int64_or(text: str, fallback: int) -> int:
    number = int(text)
    return number if -(2**63) <= number < 2**63 else fallback


def _helpful_num(levels: pd.Series) -> npt.NDArray[np.float32]:
    """helpful_num_from_levels, looked up once per category when the column is one."""
    if not isinstance(levels.dtype, pd.CategoricalDtype):
        return helpful_num_from_levels(levels)
    per_category = helpful_num_from_levels(pd.Series(levels.cat.categories.astype(object)))
    table = np.append(per_category, np.float32(np.nan)).astype(np.float32)
    codes = levels.cat.codes.to_numpy()
    return table[np.where(codes < 0, len(per_category), codes)]


def history_from_frame(frame: pd.DataFrame | None, note_ids: Any) -> History:
    """Align X's noteStatusHistory rows with the notes being scored."""
    if frame is None or len(frame) == 0:
        return History.empty(len(note_ids))
    aligned = history_by_note(frame).reindex(note_ids)

    def millis(column: str) -> Any:
        return pd.to_numeric(aligned[column], errors="coerce").to_numpy(dtype=np.float64)

    return History(
        current_status=status_codes(aligned["currentStatus"]),
        most_recent_non_nmr_millis=millis("timestampMillisOfLatestNonNMRStatus"),
        stabilization_millis=millis("timestampMillisOfNmrDueToMinStableCrhTime"),
    )


def history_by_note(frame: pd.DataFrame) -> pd.DataFrame:
    """History rows indexed by integer noteId (files are read as text), last row winning."""
    ids = pd.to_numeric(frame["noteId"], errors="coerce")
    indexed = frame.drop(columns="noteId").set_index(pd.Index(ids, name="noteId"))
    indexed = indexed[indexed.index.notna()]
    indexed.index = indexed.index.astype(np.int64)
    return indexed[~indexed.index.duplicated(keep="last")]
