"""Fits on a subset of the ratings: which ratings are in scope, the training filter, one
factorization on the chosen ratings with its parameters expanded back to every
participant and note, and the final round's note refit with the raters held fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from liveticker.scoring import constants as k
from liveticker.scoring.data import BoolArray, FloatArray, Int32Array, Ratings, ScoringInput
from liveticker.scoring.factorization import (
    Factors,
    NoteStatistics,
    Penalties,
    RatingMatrix,
    fit,
    note_statistics,
    solve_notes,
)


@dataclass(frozen=True, kw_only=True)
class SubsetFit:
    """A fit on a subset of ratings, with parameters expanded to participants and notes."""

    factors: Factors
    rater_intercept: FloatArray  # per participant, NaN outside the fit
    rater_factor: FloatArray
    note_intercept: FloatArray  # per note, NaN outside the fit
    note_factor: FloatArray
    n_ratings: int
    n_notes: int


def frozen_note_fit(
    ratings: Ratings, use: BoolArray, second: SubsetFit, *, n_notes: int, penalties: Penalties
) -> tuple[NoteStatistics, FloatArray, FloatArray]:
    """Refit the notes on the ratings in `use`, raters and μ frozen at the second fit."""
    # The final round scales note penalties by the second fit's ratings per note.
    per_note = second.n_ratings / max(second.n_notes, 1)
    stats = note_statistics(
        rater=ratings.rater[use],
        note=ratings.note[use],
        value=ratings.helpful_num[use],
        n_notes=n_notes,
        mu=second.factors.mu,
        rater_intercept=np.nan_to_num(second.rater_intercept),
        rater_factor=np.nan_to_num(second.rater_factor),
    )
    intercept, factor = solve_notes(
        stats,
        alpha_intercept=penalties.intercept * per_note,
        alpha_factor=penalties.factor * per_note,
    )
    return stats, intercept, factor


def core_scope(data: ScoringInput) -> Ratings:
    """Ratings of raters in the core modeling groups, or not enrolled in any group."""
    if data.modeling_group is None:
        return data.ratings
    group = data.modeling_group[data.ratings.rater]
    core = np.isin(group, np.array(sorted(k.CORE_MODELING_GROUPS), dtype=np.float64))
    unassigned = np.isnan(group) | (group == 0)
    return data.ratings.subset(core | unassigned)


def training_filter(ratings: Ratings, n_notes: int, n_participants: int) -> BoolArray:
    """Notes with ≥ 5 raters, then raters with ≥ 10 ratings, then notes with ≥ 5 again."""
    keep = (np.bincount(ratings.note, minlength=n_notes) >= k.MIN_RATERS_PER_NOTE)[ratings.note]
    rater_count = np.bincount(ratings.rater[keep], minlength=n_participants)
    keep &= (rater_count >= k.MIN_RATINGS_PER_RATER)[ratings.rater]
    note_count = np.bincount(ratings.note[keep], minlength=n_notes)
    keep &= (note_count >= k.MIN_RATERS_PER_NOTE)[ratings.note]
    return np.asarray(keep)


def fit_subset(
    ratings: Ratings,
    mask: BoolArray,
    n_participants: int,
    n_notes: int,
    *,
    seed: int,
    penalties: Penalties,
    warm: SubsetFit | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> SubsetFit:
    """Fit the ratings in `mask`, warm-started from `warm` if given, NaN outside them.

    `dtype` stores the rating values in the solver's matrix (see RatingMatrix).
    """
    if not mask.any():
        return _empty_fit(n_participants, n_notes)
    raters, notes, matrix = _matrix(ratings, mask, n_participants, n_notes, dtype=dtype)
    init = None
    if warm is not None:
        init = Factors(
            mu=warm.factors.mu,
            rater_intercept=np.nan_to_num(warm.rater_intercept[raters]),
            rater_factor=np.nan_to_num(warm.rater_factor[raters]),
            note_intercept=np.nan_to_num(warm.note_intercept[notes]),
            note_factor=np.nan_to_num(warm.note_factor[notes]),
            loss=np.inf,
            iterations=0,
            converged=False,
        )
    factors = fit(matrix, seed=seed, penalties=penalties, init=init)
    rater_intercept = np.full(n_participants, np.nan)
    rater_factor = np.full(n_participants, np.nan)
    note_intercept = np.full(n_notes, np.nan)
    note_factor = np.full(n_notes, np.nan)
    rater_intercept[raters] = factors.rater_intercept
    rater_factor[raters] = factors.rater_factor
    note_intercept[notes] = factors.note_intercept
    note_factor[notes] = factors.note_factor
    return SubsetFit(
        factors=factors,
        rater_intercept=rater_intercept,
        rater_factor=rater_factor,
        note_intercept=note_intercept,
        note_factor=note_factor,
        n_ratings=matrix.n_ratings,
        n_notes=matrix.n_notes,
    )


def _matrix(
    ratings: Ratings, mask: BoolArray, n_participants: int, n_notes: int, *, dtype: npt.DTypeLike
) -> tuple[Int32Array, Int32Array, RatingMatrix]:
    """The masked ratings as a matrix on compact indices, with the codes of those indices.

    A function of its own so that the per-rating inputs are freed once the matrix holds
    its CSR views: the fit then runs with those views only.
    """
    raters, rater_index = _compact(ratings.rater[mask], n_participants)
    notes, note_index = _compact(ratings.note[mask], n_notes)
    matrix = RatingMatrix(
        rater=rater_index,
        note=note_index,
        value=ratings.helpful_num[mask],
        n_raters=len(raters),
        n_notes=len(notes),
        dtype=dtype,
    )
    return raters, notes, matrix


def _compact(index: Int32Array, size: int) -> tuple[Int32Array, Int32Array]:
    """Used codes in increasing order, and each entry's position among them."""
    present = np.bincount(index, minlength=size) > 0
    codes = np.flatnonzero(present).astype(np.int32)
    position = (np.cumsum(present, dtype=np.int64) - 1).astype(np.int32)
    return codes, position[index]


def _empty_fit(n_participants: int, n_notes: int) -> SubsetFit:
    empty = np.zeros(0)
    factors = Factors(
        mu=0.0,
        rater_intercept=empty,
        rater_factor=empty,
        note_intercept=empty,
        note_factor=empty,
        loss=np.nan,
        iterations=0,
        converged=True,
    )
    return SubsetFit(
        factors=factors,
        rater_intercept=np.full(n_participants, np.nan),
        rater_factor=np.full(n_participants, np.nan),
        note_intercept=np.full(n_notes, np.nan),
        note_factor=np.full(n_notes, np.nan),
        n_ratings=0,
        n_notes=0,
    )
