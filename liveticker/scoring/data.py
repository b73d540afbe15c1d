"""Typed containers of the engine's input: notes, ratings, status history and enrollment.

Everything is held as flat numpy arrays indexed by integer codes (participants and notes
are mapped once with a factorization), so that 10M ratings stay a few hundred megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from liveticker.scoring import constants as k

Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Tag columns in X's TSV order; bit i of a rating's tag mask is column i.
HELPFUL_TAGS: tuple[str, ...] = (
    "helpfulOther",
    "helpfulInformative",
    "helpfulClear",
    "helpfulEmpathetic",
    "helpfulGoodSources",
    "helpfulUniqueContext",
    "helpfulAddressesClaim",
    "helpfulImportantContext",
    "helpfulUnbiasedLanguage",
)
NOT_HELPFUL_TAGS: tuple[str, ...] = (
    "notHelpfulOther",
    "notHelpfulIncorrect",
    "notHelpfulSourcesMissingOrUnreliable",
    "notHelpfulOpinionSpeculationOrBias",
    "notHelpfulMissingKeyPoints",
    "notHelpfulOutdated",
    "notHelpfulHardToUnderstand",
    "notHelpfulArgumentativeOrBiased",
    "notHelpfulOffTopic",
    "notHelpfulSpamHarassmentOrAbuse",
    "notHelpfulIrrelevantSources",
    "notHelpfulOpinionSpeculation",
    "notHelpfulNoteNotNeeded",
)
INCORRECT_TAG_BIT = NOT_HELPFUL_TAGS.index("notHelpfulIncorrect")


class Status(IntEnum):
    """A note's status; the names are X's TSV values."""

    NEEDS_MORE_RATINGS = 0
    CURRENTLY_RATED_HELPFUL = 1
    CURRENTLY_RATED_NOT_HELPFUL = 2


NO_STATUS = -1  # int8 code for "no status recorded"
STATUS_NAMES: tuple[str, ...] = tuple(s.name for s in Status)


def status_codes(values: pd.Series) -> npt.NDArray[np.int8]:
    """Map X's status strings (or missing values) to int8 codes, NO_STATUS for missing."""
    mapping = {name: code for code, name in enumerate(STATUS_NAMES)}
    codes: npt.NDArray[np.int8] = values.map(mapping).fillna(NO_STATUS).to_numpy(dtype=np.int8)
    return codes


def status_names(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.object_]:
    """Map int8 codes back to X's status strings, "" for NO_STATUS."""
    table = np.array([*STATUS_NAMES, ""], dtype=object)
    names: npt.NDArray[np.object_] = table[np.where(codes < 0, len(STATUS_NAMES), codes)]
    return names


@dataclass(frozen=True, kw_only=True)
class Notes:
    """One row per note; `author` indexes ScoringInput.participants (-1: unknown)."""

    note_id: Int64Array
    author: Int32Array
    created_at: Int64Array
    misleading: BoolArray  # False: the note says the post is NOT misleading
    tweet_id: Int64Array

    def __len__(self) -> int:
        return len(self.note_id)


@dataclass(frozen=True, kw_only=True)
class Ratings:
    """One row per rating; `note` indexes Notes, `rater` indexes participants."""

    note: Int32Array
    rater: Int32Array
    created_at: Int64Array
    helpful_num: npt.NDArray[np.float32]
    helpful_tags: npt.NDArray[np.uint16]
    not_helpful_tags: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.note)

    def subset(self, keep: BoolArray | Int64Array) -> Ratings:
        """The ratings picked by a boolean mask or an array of row positions.

        A mask that keeps every rating returns the same arrays: no copy of the table.
        """
        if keep.dtype == np.bool_ and len(keep) == len(self) and keep.all():
            return self
        return Ratings(
            note=self.note[keep],
            rater=self.rater[keep],
            created_at=self.created_at[keep],
            helpful_num=self.helpful_num[keep],
            helpful_tags=self.helpful_tags[keep],
            not_helpful_tags=self.not_helpful_tags[keep],
        )


@dataclass(frozen=True, kw_only=True)
class History:
    """The previous run's status per note, aligned with Notes (NaN/NO_STATUS when absent)."""

    current_status: npt.NDArray[np.int8]
    most_recent_non_nmr_millis: FloatArray
    stabilization_millis: FloatArray  # timestampMillisOfNmrDueToMinStableCrhTime

    @staticmethod
    def empty(n_notes: int) -> History:
        """No previous run: no status and no timestamps for any note."""
        return History(
            current_status=np.full(n_notes, NO_STATUS, dtype=np.int8),
            most_recent_non_nmr_millis=np.full(n_notes, np.nan),
            stabilization_millis=np.full(n_notes, np.nan),
        )


@dataclass(frozen=True, kw_only=True)
class ScoringInput:
    """Everything one run needs. `history_frame` keeps X's status history rows verbatim
    (also for notes absent from this run) so that the next history can continue it."""

    participants: npt.NDArray[np.object_]
    notes: Notes
    ratings: Ratings
    history: History
    history_frame: pd.DataFrame | None = None
    modeling_group: FloatArray | None = None  # per participant, NaN when not enrolled
    # Per participant, when the account was first active (epoch millis); optional. When
    # given, only accounts that existed well before a note was written define their
    # camp's verdict on it (collusion.py), so new accounts cannot move the yardstick.
    first_activity_millis: Int64Array | None = None

    @property
    def n_participants(self) -> int:
        return len(self.participants)


def helpful_num_from_levels(levels: pd.Series) -> npt.NDArray[np.float32]:
    """HELPFUL=1, SOMEWHAT_HELPFUL=0.5, NOT_HELPFUL=0; anything else is NaN."""
    values: npt.NDArray[np.float32] = levels.map(k.HELPFUL_NUM).to_numpy(
        dtype=np.float32, na_value=np.nan
    )
    return values


def pack_tags(frame: pd.DataFrame, columns: tuple[str, ...]) -> npt.NDArray[np.uint16]:
    """Pack 0/1 tag columns into one bit mask per row (absent columns count as 0)."""
    mask = np.zeros(len(frame), dtype=np.uint16)
    for bit, name in enumerate(columns):
        if name in frame.columns:
            values = pd.to_numeric(frame[name], errors="coerce").fillna(0).to_numpy()
            mask |= (values.astype(np.uint16) & 1) << np.uint16(bit)
    return mask


def unpack_tags(mask: npt.NDArray[np.uint16], columns: tuple[str, ...]) -> dict[str, Any]:
    """The inverse of pack_tags: one int8 0/1 array per tag column."""
    return {
        name: ((mask >> np.uint16(bit)) & 1).astype(np.int8) for bit, name in enumerate(columns)
    }
