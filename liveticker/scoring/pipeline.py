"""The whole scoring run: filters, first fit, helpfulness, final fit, guards and statuses.

`score()` takes the typed input (or `score_frames()` frames in X's layout) and returns
per-note and per-rater results plus the next status history; it never touches the web
layer or the database, so the service and the CLI call the same function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liveticker.scoring import constants as k
from liveticker.scoring.aggregates import (
    incorrect_votes,
    side_counts,
    tag_counts,
    tag_outliers,
    tag_thresholds,
)
from liveticker.scoring.confidence import pseudo_rater_bounds
from liveticker.scoring.data import BoolArray, FloatArray, Int32Array, Ratings, ScoringInput
from liveticker.scoring.factorization import (
    DEFAULT_PENALTIES,
    Factors,
    NoteStatistics,
    Penalties,
    RatingMatrix,
    fit,
    note_statistics,
    solve_notes,
)
from liveticker.scoring.frames import input_from_frames
from liveticker.scoring.gaming import (
    clique_filter,
    correlated_raters,
    high_volume_raters,
    post_selection_cliques,
)
from liveticker.scoring.helpfulness import rater_helpfulness
from liveticker.scoring.report import ScoringResult, build_result
from liveticker.scoring.rules import NoteFacts, core_status, insufficient_explanation, stabilize

Progress = Callable[[str], None]


@dataclass
class _Clock:
    progress: Progress | None
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress(name)
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start


@dataclass(frozen=True, kw_only=True)
class _Fit:
    """A fit on a subset of ratings, with parameters expanded to participants and notes."""

    factors: Factors
    rater_intercept: FloatArray  # per participant, NaN outside the fit
    rater_factor: FloatArray
    note_intercept: FloatArray  # per note, NaN outside the fit
    note_factor: FloatArray
    n_ratings: int
    n_notes: int


def score_frames(
    *,
    notes: pd.DataFrame,
    ratings: pd.DataFrame,
    status_history: pd.DataFrame | None = None,
    enrollment: pd.DataFrame | None = None,
    now_millis: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> ScoringResult:
    """Score frames in X's column layout (see frames.py); the other arguments as score()."""
    data = input_from_frames(
        notes=notes, ratings=ratings, status_history=status_history, enrollment=enrollment
    )
    return score(data, now_millis=now_millis, seed=seed, progress=progress)


def score(
    data: ScoringInput,
    *,
    now_millis: int,
    seed: int = 0,
    penalties: Penalties = DEFAULT_PENALTIES,
    progress: Progress | None = None,
) -> ScoringResult:
    """Run the bridging algorithm; deterministic for a given input and seed."""
    clock = _Clock(progress)
    notes, n_participants, n_notes = data.notes, data.n_participants, len(data.notes)

    with clock.stage("post-selection similarity"):
        ratings = _core_scope(data)
        cliques = post_selection_cliques(ratings, notes, n_participants)
        ratings = ratings.subset(clique_filter(ratings, notes, cliques.clique))
        num_ratings = np.bincount(ratings.note, minlength=n_notes)

    with clock.stage("first fit"):
        training = _training_filter(ratings, n_notes, n_participants)
        first = _fit(ratings, training, n_participants, n_notes, seed=seed, penalties=penalties)
        provisional = core_status(
            NoteFacts(
                num_ratings=num_ratings,
                intercept=first.note_intercept,
                factor=first.note_factor,
                misleading=notes.misleading,
                previous_status=data.history.current_status,
            ),
            final_round=False,
        )

    with clock.stage("rater helpfulness"):
        helpfulness = rater_helpfulness(
            ratings=ratings,
            notes=notes,
            history=data.history,
            provisional_status=provisional.status,
            note_intercept=first.note_intercept,
            n_participants=n_participants,
        )
        second_round = training & helpfulness.included[ratings.rater]

    with clock.stage("second fit"):
        second = _fit(
            ratings,
            second_round,
            n_participants,
            n_notes,
            seed=seed,
            penalties=penalties,
            warm=first,
        )

    with clock.stage("tag thresholds"):
        # As in the reference: second-fit viewpoints, provisional (first fit) Helpful notes.
        thresholds = tag_thresholds(
            tag_outliers(ratings, note_factor=second.note_factor, rater_factor=second.rater_factor),
            provisional.status == 1,
        )

    with clock.stage("final fit and confidence"):
        has_params = ~np.isnan(second.rater_intercept)
        enough_raters = num_ratings >= k.MIN_RATERS_PER_NOTE
        final_round = enough_raters[ratings.note] & has_params[ratings.rater]
        mu = second.factors.mu
        # The final round scales note penalties by the second fit's ratings per note.
        per_note = second.n_ratings / max(second.n_notes, 1)

        def frozen_note_fit(use: BoolArray) -> tuple[NoteStatistics, FloatArray, FloatArray]:
            """Refit the notes on the ratings in `use`, raters and μ frozen."""
            stats = note_statistics(
                rater=ratings.rater[use],
                note=ratings.note[use],
                value=ratings.helpful_num[use].astype(np.float64),
                n_notes=n_notes,
                mu=mu,
                rater_intercept=np.nan_to_num(second.rater_intercept),
                rater_factor=np.nan_to_num(second.rater_factor),
            )
            intercept, factor = solve_notes(
                stats,
                alpha_intercept=penalties.intercept * per_note,
                alpha_factor=penalties.factor * per_note,
            )
            return stats, intercept, factor

        stats, intercept, factor = frozen_note_fit(final_round)
        bounds = pseudo_rater_bounds(
            stats,
            mu=mu,
            rater_intercept=second.rater_intercept[has_params],
            rater_factor=second.rater_factor[has_params],
            penalties=penalties,
        )

    with clock.stage("correlated and high-volume raters"):
        high_volume = high_volume_raters(ratings, n_notes, n_participants)
        correlated = correlated_raters(ratings, notes, n_participants)
        without: dict[str, FloatArray] = {}
        for name, excluded in (("high_volume", high_volume), ("correlated", correlated)):
            subset = ~excluded[ratings.rater]
            subset_count = np.bincount(ratings.note[subset], minlength=n_notes)
            use = subset & (subset_count >= k.MIN_RATERS_PER_NOTE)[ratings.note] & final_round
            _, without[name], _ = frozen_note_fit(use)

    with clock.stage("status rules"):
        counted = has_params[ratings.rater]
        sides = side_counts(ratings, second.rater_factor, counted, n_notes)
        votes = incorrect_votes(
            ratings,
            rater_factor=second.rater_factor,
            note_factor=factor,
            counted=counted,
            n_participants=n_participants,
        )
        outliers = tag_outliers(ratings, note_factor=factor, rater_factor=second.rater_factor)
        facts = NoteFacts(
            num_ratings=num_ratings,
            intercept=intercept,
            factor=factor,
            misleading=notes.misleading,
            previous_status=data.history.current_status,
            intercept_max=bounds.intercept_max,
            neg_mean_helpful=sides.neg_mean_helpful,
            pos_mean_helpful=sides.pos_mean_helpful,
            min_sign_count=sides.min_sign_count,
            net_min_helpful=sides.net_min_helpful,
            net_min_helpful_ratio=sides.net_min_helpful_ratio,
            incorrect_tags=votes.tags,
            incorrect_voters=votes.voters,
            incorrect_weighted=votes.weighted,
            tag_adjusted=outliers.adjusted,
            tag_ratio=outliers.ratio,
            tag_thresholds=thresholds,
            intercept_no_high_vol=without["high_volume"],
            intercept_no_correlated=without["correlated"],
        )
        core = core_status(facts, final_round=True)
        final = core.copy()
        decided = np.isin(final.status, (1, 2))
        helpful_tags, not_helpful_tags = tag_counts(ratings, decided, n_notes)
        insufficient_explanation(final, helpful_tags, not_helpful_tags)
        stabilization = stabilize(
            final,
            previous_status=data.history.current_status,
            stabilization_millis=data.history.stabilization_millis,
            now_millis=now_millis,
        )

    with clock.stage("results"):
        final_round_ratings = np.bincount(ratings.note[final_round], minlength=n_notes)
        rated = np.bincount(ratings.rater, minlength=n_participants)
        return build_result(
            data=data,
            now_millis=now_millis,
            num_ratings=num_ratings,
            final_round_ratings=final_round_ratings,
            intercept=intercept,
            factor=factor,
            bounds=bounds,
            without=without,
            core=core,
            final=final,
            stabilization=stabilization,
            first=(first.rater_intercept, first.rater_factor),
            second=(second.rater_intercept, second.rater_factor),
            helpfulness=helpfulness,
            rated=rated,
            included=np.bincount(ratings.rater[final_round], minlength=n_participants) > 0,
            clique=cliques.clique,
            high_volume=high_volume,
            correlated=correlated,
            timings=clock.timings,
            summary={
                "ratings_in": len(data.ratings),
                "ratings_scored": len(ratings),
                "first_fit_ratings": first.n_ratings,
                "first_fit_iterations": first.factors.iterations,
                "second_fit_ratings": second.n_ratings,
                "second_fit_iterations": second.factors.iterations,
                "cliques": cliques.count,
                "pss_flagged_pairs": cliques.flagged_pairs,
                "pss_capped_notes": cliques.capped_notes,
            },
        )


def _core_scope(data: ScoringInput) -> Ratings:
    """Ratings of raters in the core modeling groups, or not enrolled in any group."""
    if data.modeling_group is None:
        return data.ratings
    group = data.modeling_group[data.ratings.rater]
    core = np.isin(group, np.array(sorted(k.CORE_MODELING_GROUPS), dtype=np.float64))
    unassigned = np.isnan(group) | (group == 0)
    return data.ratings.subset(core | unassigned)


def _training_filter(ratings: Ratings, n_notes: int, n_participants: int) -> BoolArray:
    """Notes with ≥ 5 raters, then raters with ≥ 10 ratings, then notes with ≥ 5 again."""
    keep = (np.bincount(ratings.note, minlength=n_notes) >= k.MIN_RATERS_PER_NOTE)[ratings.note]
    rater_count = np.bincount(ratings.rater[keep], minlength=n_participants)
    keep &= (rater_count >= k.MIN_RATINGS_PER_RATER)[ratings.rater]
    note_count = np.bincount(ratings.note[keep], minlength=n_notes)
    keep &= (note_count >= k.MIN_RATERS_PER_NOTE)[ratings.note]
    return np.asarray(keep)


def _fit(
    ratings: Ratings,
    mask: BoolArray,
    n_participants: int,
    n_notes: int,
    *,
    seed: int,
    penalties: Penalties,
    warm: _Fit | None = None,
) -> _Fit:
    if not mask.any():
        return _empty_fit(n_participants, n_notes)
    raters, rater_index = _compact(ratings.rater[mask], n_participants)
    notes, note_index = _compact(ratings.note[mask], n_notes)
    matrix = RatingMatrix(
        rater=rater_index,
        note=note_index,
        value=ratings.helpful_num[mask].astype(np.float64),
        n_raters=len(raters),
        n_notes=len(notes),
    )
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
    return _Fit(
        factors=factors,
        rater_intercept=rater_intercept,
        rater_factor=rater_factor,
        note_intercept=note_intercept,
        note_factor=note_factor,
        n_ratings=matrix.n_ratings,
        n_notes=matrix.n_notes,
    )


def _compact(index: Int32Array, size: int) -> tuple[Int32Array, Int32Array]:
    """Used codes in increasing order, and each entry's position among them."""
    present = np.bincount(index, minlength=size) > 0
    codes = np.flatnonzero(present).astype(np.int32)
    position = np.cumsum(present, dtype=np.int64) - 1
    return codes, position[index].astype(np.int32)


def _empty_fit(n_participants: int, n_notes: int) -> _Fit:
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
    return _Fit(
        factors=factors,
        rater_intercept=np.full(n_participants, np.nan),
        rater_factor=np.full(n_participants, np.nan),
        note_intercept=np.full(n_notes, np.nan),
        note_factor=np.full(n_notes, np.nan),
        n_ratings=0,
        n_notes=0,
    )
