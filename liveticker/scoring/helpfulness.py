"""Rater helpfulness: which raters count in the final fit.

A rater counts when their "valid" ratings (made early, before the note had a status)
mostly agreed with the provisional outcome, and their own notes have a fair track record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from liveticker.scoring import constants as k
from liveticker.scoring.data import BoolArray, FloatArray, History, Notes, Ratings, Status

CRH = int(Status.CURRENTLY_RATED_HELPFUL)
CRNH = int(Status.CURRENTLY_RATED_NOT_HELPFUL)


@dataclass(frozen=True, kw_only=True)
class Helpfulness:
    """Per participant (NaN where a part does not apply)."""

    valid_ratings: npt.NDArray[np.int64]
    agreeing_ratings: npt.NDArray[np.int64]
    agree_ratio: FloatArray
    crh_crnh_ratio_difference: FloatArray
    mean_note_score: FloatArray
    included: BoolArray


def valid_ratings(ratings: Ratings, notes: Notes, history: History) -> BoolArray:
    """Ratings made within 48 h of the note and before its most recent non-NMR status.

    Notes older than the status history (May 2022) have no such timestamp: their first
    five ratings inside the 48 hours count, as in the reference.
    """
    note_created = notes.created_at[ratings.note]
    early = (ratings.created_at - note_created) < k.VALID_RATING_WINDOW_MILLIS
    status_at = history.most_recent_non_nmr_millis[ratings.note]
    with np.errstate(invalid="ignore"):
        before_status = np.isnan(status_at) | (ratings.created_at < status_at)
    old = note_created < k.TOMBSTONES_LAUNCH_MILLIS
    valid = early & before_status & ~old
    old_early = np.flatnonzero(old & early)
    if len(old_early):
        order = old_early[np.lexsort((ratings.created_at[old_early], ratings.note[old_early]))]
        notes_sorted = ratings.note[order]
        starts = np.flatnonzero(np.r_[True, notes_sorted[1:] != notes_sorted[:-1]])
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        valid[order[rank < k.MAX_HISTORICAL_VALID_RATINGS]] = True
    return np.asarray(valid)


def rater_helpfulness(
    *,
    ratings: Ratings,
    notes: Notes,
    history: History,
    provisional_status: npt.NDArray[np.int8],
    note_intercept: FloatArray,
    n_participants: int,
) -> Helpfulness:
    """Agreement ratio on valid ratings plus the author track record, per participant."""
    note_status = provisional_status[ratings.note]
    binary = (ratings.helpful_num == 1.0) | (ratings.helpful_num == 0.0)
    decided = (note_status == CRH) | (note_status == CRNH)
    counted = valid_ratings(ratings, notes, history) & binary & decided
    agrees = counted & (
        ((note_status == CRH) & (ratings.helpful_num == 1.0))
        | ((note_status == CRNH) & (ratings.helpful_num == 0.0))
    )
    valid_count = np.bincount(ratings.rater[counted], minlength=n_participants)
    agree_count = np.bincount(ratings.rater[agrees], minlength=n_participants)
    with np.errstate(invalid="ignore", divide="ignore"):
        agree_ratio = agree_count / np.where(valid_count > 0, valid_count, np.nan)

    # Author part: only notes the first fit scored.
    scored = ~np.isnan(note_intercept) & (notes.author >= 0)
    author = notes.author[scored]
    written = np.bincount(author, minlength=n_participants).astype(np.float64)
    crh = np.bincount(author, weights=provisional_status[scored] == CRH, minlength=n_participants)
    crnh = np.bincount(author, weights=provisional_status[scored] == CRNH, minlength=n_participants)
    score_sum = np.bincount(author, weights=note_intercept[scored], minlength=n_participants)
    has_notes = written > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.where(has_notes, written, np.nan)
        difference = crh / denominator - k.CRNH_AUTHOR_MULTIPLIER * crnh / denominator
        mean_score = score_sum / denominator
        author_ok = ~has_notes | (
            (difference >= k.MIN_CRH_VS_CRNH_RATIO) & (mean_score >= k.MIN_MEAN_NOTE_SCORE)
        )
        # Raters with no valid rating have a NaN ratio and are dropped, as in the reference.
        included = author_ok & (agree_ratio >= k.MIN_RATER_AGREE_RATIO)
    return Helpfulness(
        valid_ratings=valid_count,
        agreeing_ratings=agree_count,
        agree_ratio=agree_ratio,
        crh_crnh_ratio_difference=difference,
        mean_note_score=mean_score,
        included=np.asarray(included),
    )
