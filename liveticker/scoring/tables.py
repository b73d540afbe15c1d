"""Data frames in X's public column layout, to and from the engine's typed containers.

The library API and the TSV reader both go through here, so a frame from the service
and a file from X's public data are scored the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liveticker.scoring import constants as k
from liveticker.scoring.data import (
    HELPFUL_TAGS,
    NOT_HELPFUL_TAGS,
    History,
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
assert len(NOTES_COLUMNS) == 24
assert len(RATINGS_COLUMNS) == 35
assert len(HISTORY_COLUMNS) == 24
assert len(ENROLLMENT_COLUMNS) == 8
assert RATINGS_COLUMNS[18:31] == NOT_HELPFUL_TAGS


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
    author_ids = notes["noteAuthorParticipantId"].astype(str).to_numpy(dtype=object)
    rater_ids = ratings["raterParticipantId"].astype(str).to_numpy(dtype=object)
    codes, participants = pd.factorize(np.concatenate([rater_ids, author_ids]))
    rater = codes[: len(rater_ids)].astype(np.int32)
    author = codes[len(rater_ids) :].astype(np.int32)

    note = pd.Index(note_ids).get_indexer(ratings["noteId"].to_numpy(dtype=np.int64))
    helpful_num = (
        helpful_num_from_levels(ratings["helpfulnessLevel"])
        if "helpfulnessLevel" in ratings.columns
        else ratings["helpfulNum"].to_numpy(dtype=np.float32)
    )
    created = ratings["createdAtMillis"].to_numpy(dtype=np.int64)
    usable = (note >= 0) & ~np.isnan(helpful_num)
    # Latest rating per (note, rater): sort by time, keep the last of each pair.
    order = np.flatnonzero(usable)[np.argsort(created[usable], kind="stable")]
    pair = note[order].astype(np.int64) * max(len(participants), 1) + rater[order]
    _, last_reversed = np.unique(pair[::-1], return_index=True)
    keep = np.sort(order[len(order) - 1 - last_reversed])

    tweet = pd.to_numeric(notes["tweetId"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    data_notes = Notes(
        note_id=note_ids,
        author=author,
        created_at=notes["createdAtMillis"].to_numpy(dtype=np.int64),
        misleading=(notes["classification"] != k.NOT_MISLEADING).to_numpy(dtype=bool),
        tweet_id=tweet,
    )
    data_ratings = Ratings(
        note=note[keep].astype(np.int32),
        rater=rater[keep],
        created_at=created[keep],
        helpful_num=helpful_num[keep],
        helpful_tags=pack_tags(ratings, HELPFUL_TAGS)[keep],
        not_helpful_tags=pack_tags(ratings, NOT_HELPFUL_TAGS)[keep],
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
