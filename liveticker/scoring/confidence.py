"""Confidence bounds on note intercepts from pseudo-raters.

Three pseudo-raters take the lowest rater intercept and the min, 0 and max rater factor;
each in turn adds one HELPFUL rating to every note, the notes are refit with raters frozen,
and the spread of the intercepts over the refits bounds each note's intercept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from liveticker.scoring import constants as k
from liveticker.scoring.data import FloatArray
from liveticker.scoring.factorization import (
    DEFAULT_PENALTIES,
    NoteStatistics,
    Penalties,
    solve_notes,
)


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """Per note: the range of intercept and factor over the plain and pseudo-rater refits."""

    intercept_min: FloatArray
    intercept_max: FloatArray
    factor_min: FloatArray
    factor_max: FloatArray


def pseudo_rater_bounds(
    stats: NoteStatistics,
    *,
    mu: float,
    rater_intercept: FloatArray,
    rater_factor: FloatArray,
    penalties: Penalties = DEFAULT_PENALTIES,
) -> Bounds:
    """Bounds over the plain refit and the three refits with one pseudo-rating per note.

    `stats` are the final round's note statistics; the rater arrays hold the parameters of
    the raters in that round. As in the reference, the refits use plain mean penalties
    (λ·N/M with N counting the added ratings too).
    """
    scored = stats.count > 0
    n_notes = int(scored.sum())
    n_ratings = float(stats.count.sum())
    if n_notes == 0:
        nan = np.full(len(stats.count), np.nan)
        return Bounds(intercept_min=nan, intercept_max=nan, factor_min=nan, factor_max=nan)
    intercept = float(rater_intercept.min())
    factors = (float(rater_factor.min()), 0.0, float(rater_factor.max()))

    refits = [_solve(stats, penalties, n_ratings, n_notes)]
    one = scored.astype(np.float64)  # a pseudo-rating goes only to notes in the round
    y = k.PSEUDO_RATER_HELPFUL_NUM - mu - intercept
    for factor in factors:
        extra = replace(
            stats,
            count=stats.count + one,
            sum_f=stats.sum_f + one * factor,
            sum_ff=stats.sum_ff + one * factor * factor,
            sum_y=stats.sum_y + one * y,
            sum_yf=stats.sum_yf + one * y * factor,
        )
        refits.append(_solve(extra, penalties, n_ratings + n_notes, n_notes))
    intercepts = np.vstack([r[0] for r in refits])
    note_factors = np.vstack([r[1] for r in refits])
    return Bounds(
        intercept_min=intercepts.min(axis=0),
        intercept_max=intercepts.max(axis=0),
        factor_min=note_factors.min(axis=0),
        factor_max=note_factors.max(axis=0),
    )


def _solve(
    stats: NoteStatistics, penalties: Penalties, n_ratings: float, n_notes: int
) -> tuple[FloatArray, FloatArray]:
    return solve_notes(
        stats,
        alpha_intercept=penalties.intercept * n_ratings / n_notes,
        alpha_factor=penalties.factor * n_ratings / n_notes,
    )
