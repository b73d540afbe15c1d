"""The whole scoring run: filters, first fit, co-deviating groups, helpfulness, final fit,
guards and statuses.

`score()` takes the typed input (or `score_frames()` frames in X's layout) and returns
per-note and per-rater results plus the next status history; it never touches the web
layer or the database, so the service and the CLI call the same function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from liveticker.scoring import constants as k
from liveticker.scoring import subsets
from liveticker.scoring.aggregates import (
    incorrect_votes,
    side_counts,
    tag_counts,
    tag_outliers,
    tag_thresholds,
)
from liveticker.scoring.collusion import (
    CoDeviation,
    co_deviating_groups,
    departures,
    established_ratings,
    one_camp_groups,
)
from liveticker.scoring.confidence import Bounds, pseudo_rater_bounds
from liveticker.scoring.data import (
    BoolArray,
    FloatArray,
    Int64Array,
    Ratings,
    ScoringInput,
    Status,
)
from liveticker.scoring.factorization import (
    DEFAULT_PENALTIES,
    Penalties,
)
from liveticker.scoring.gaming import (
    Cliques,
    clique_filter,
    correlated_raters,
    high_volume_raters,
    post_selection_cliques,
)
from liveticker.scoring.helpfulness import Helpfulness, rater_helpfulness
from liveticker.scoring.report import ScoringResult, build_result
from liveticker.scoring.rules import (
    Decision,
    NoteFacts,
    core_status,
    insufficient_explanation,
    stabilize,
)
from liveticker.scoring.tables import input_from_frames

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


def score_frames(
    *,
    notes: pd.DataFrame,
    ratings: pd.DataFrame,
    status_history: pd.DataFrame | None = None,
    enrollment: pd.DataFrame | None = None,
    first_activity: pd.Series | None = None,
    now_millis: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> ScoringResult:
    """Score frames in X's column layout (see tables.py); the other arguments as score().

    `first_activity` (optional) maps participant ids to when each account was first
    active, in epoch millis (ScoringInput.first_activity_millis).
    """
    data = input_from_frames(
        notes=notes,
        ratings=ratings,
        status_history=status_history,
        enrollment=enrollment,
        first_activity=first_activity,
    )
    return score(data, now_millis=now_millis, seed=seed, progress=progress)


def score(
    data: ScoringInput,
    *,
    now_millis: int,
    seed: int = 0,
    penalties: Penalties = DEFAULT_PENALTIES,
    progress: Progress | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> ScoringResult:
    """Run the bridging algorithm; deterministic for a given input and seed.

    `dtype` stores the rating values inside the fits; float64 exists only so that a test
    can show float32 gives the very same result (docs/notes-scoring.md, "Memory").
    """
    clock = _Clock(progress)
    fits = _FitOptions(seed=seed, penalties=penalties, dtype=dtype)
    with clock.stage("post-selection similarity"):
        scope = _select_ratings(data)
    with clock.stage("first fit"):
        first = _first_round(data, scope, fits)
    with clock.stage("co-deviating groups"):
        scope, first, counted = _co_deviation(data, scope, first, fits)
        helpful_counted = None
        if counted is not None:
            # The same rounds with one-camp groups counted, for WithOneCampGroups.
            counted_rounds = _rounds(
                data,
                *counted,
                _Clock(None),
                fits,
                now_millis=now_millis,
                helpful_counted=None,
            )
            helpful_counted = counted_rounds.statuses.core.status == Status.CURRENTLY_RATED_HELPFUL
            del counted, counted_rounds  # their ratings copy is not needed any more
    rounds = _rounds(
        data,
        scope,
        first,
        clock,
        fits,
        now_millis=now_millis,
        helpful_counted=helpful_counted,
    )
    with clock.stage("results"):
        return _results(
            data,
            scope,
            first,
            rounds.second,
            rounds.helpfulness,
            rounds.final,
            rounds.robustness,
            rounds.statuses,
            now_millis=now_millis,
            timings=clock.timings,
        )


def _rounds(
    data: ScoringInput,
    scope: _Scope,
    first: _FirstRound,
    clock: _Clock,
    fits: _FitOptions,
    *,
    now_millis: int,
    helpful_counted: BoolArray | None,
) -> _Rounds:
    """Everything after the first round, up to the statuses."""
    with clock.stage("rater helpfulness"):
        helpfulness, second_round = _rater_helpfulness(data, scope, first)
    with clock.stage("second fit"):
        second = _second_fit(data, scope, first, second_round, fits)
    with clock.stage("tag thresholds"):
        thresholds = _tag_thresholds(scope, second, first.provisional)
    with clock.stage("final fit and confidence"):
        final = _final_round(data, scope, second, penalties=fits.penalties)
    with clock.stage("correlated and high-volume raters"):
        robustness = _robustness(data, scope, second, final, penalties=fits.penalties)
    with clock.stage("status rules"):
        statuses = _status_rules(
            data,
            scope,
            second,
            final,
            robustness,
            thresholds=thresholds,
            now_millis=now_millis,
            helpful_counted=helpful_counted,
        )
    return _Rounds(
        helpfulness=helpfulness,
        second=second,
        final=final,
        robustness=robustness,
        statuses=statuses,
    )


@dataclass(frozen=True, kw_only=True)
class _FitOptions:
    """What every fit of one run shares."""

    seed: int
    penalties: Penalties
    dtype: npt.DTypeLike


@dataclass(frozen=True, kw_only=True)
class _Scope:
    """The ratings scored after the core-group scope and the clique filter."""

    ratings: Ratings
    cliques: Cliques
    num_ratings: Int64Array  # per note
    in_scope: BoolArray  # per participant: rated in the core scope, before any filter
    groups: CoDeviation | None = None


@dataclass(frozen=True, kw_only=True)
class _FirstRound:
    """The first fit on the training ratings and the provisional statuses it gives."""

    training: BoolArray  # per rating
    fit: subsets.SubsetFit
    provisional: Decision


@dataclass(frozen=True, kw_only=True)
class _FinalRound:
    """The notes refit on the second fit's frozen raters, with confidence bounds."""

    has_params: BoolArray  # per participant: a rater of the second fit
    in_round: BoolArray  # per rating: used in the final round
    intercept: FloatArray
    factor: FloatArray
    bounds: Bounds


@dataclass(frozen=True, kw_only=True)
class _Robustness:
    """Suspect raters and the final intercepts refit without each group of them."""

    high_volume: BoolArray
    correlated: BoolArray
    intercept_no_high_vol: FloatArray
    intercept_no_correlated: FloatArray


@dataclass(frozen=True, kw_only=True)
class _Rounds:
    """What the rounds after the first one produce."""

    helpfulness: Helpfulness
    second: subsets.SubsetFit
    final: _FinalRound
    robustness: _Robustness
    statuses: _Statuses


@dataclass(frozen=True, kw_only=True)
class _Statuses:
    """Core statuses, final statuses after the guards, and the stabilization times."""

    core: Decision
    final: Decision
    stabilization: FloatArray


def _select_ratings(data: ScoringInput) -> _Scope:
    """Core-group ratings that pass the post-selection-similarity clique filter."""
    ratings = subsets.core_scope(data)
    in_scope = np.bincount(ratings.rater, minlength=data.n_participants) > 0
    cliques = post_selection_cliques(ratings, data.notes, data.n_participants)
    ratings = ratings.subset(clique_filter(ratings, data.notes, cliques.clique))
    num_ratings = np.bincount(ratings.note, minlength=len(data.notes))
    return _Scope(ratings=ratings, cliques=cliques, num_ratings=num_ratings, in_scope=in_scope)


def _first_round(
    data: ScoringInput,
    scope: _Scope,
    fits: _FitOptions,
    *,
    warm: subsets.SubsetFit | None = None,
) -> _FirstRound:
    n_participants, n_notes = data.n_participants, len(data.notes)
    training = subsets.training_filter(scope.ratings, n_notes, n_participants)
    first = subsets.fit_subset(
        scope.ratings,
        training,
        n_participants,
        n_notes,
        seed=fits.seed,
        penalties=fits.penalties,
        warm=warm,
        dtype=fits.dtype,
    )
    provisional = core_status(
        NoteFacts(
            num_ratings=scope.num_ratings,
            intercept=first.note_intercept,
            factor=first.note_factor,
            misleading=data.notes.misleading,
            previous_status=data.history.current_status,
        ),
        final_round=False,
    )
    return _FirstRound(training=training, fit=first, provisional=provisional)


def _co_deviation(
    data: ScoringInput, scope: _Scope, first: _FirstRound, fits: _FitOptions
) -> tuple[_Scope, _FirstRound, tuple[_Scope, _FirstRound] | None]:
    """Set aside groups that left their camp together, and refit the first round without them.

    Also returns the scope and first round with the one-camp groups' ratings counted, when
    there are any: once a brigade owns a camp's median on a note, the camp's honest
    dissenters are the ones who depart together, so setting a one-camp group aside must
    not be what makes a note Helpful (the hold rule WithOneCampGroups).
    """
    fit = first.fit
    established = None
    if data.first_activity_millis is not None:
        established = established_ratings(
            scope.ratings, data.notes.created_at, data.first_activity_millis
        )
    found = departures(
        scope.ratings,
        first.training,
        mu=fit.factors.mu,
        rater_intercept=fit.rater_intercept,
        rater_factor=fit.rater_factor,
        established=established,
    )
    groups = co_deviating_groups(scope.ratings, found, scope.cliques.clique)
    if groups.set_aside == 0:
        return replace(scope, groups=groups), first, None
    one_camp = one_camp_groups(scope.ratings, found, groups.group)[
        groups.group[scope.ratings.rater]
    ]
    counted = None
    if (one_camp & ~groups.keep).any():
        counted_scope = _narrowed(data, scope, groups.keep | one_camp, groups)
        counted_first = _first_round(data, counted_scope, fits, warm=fit)
        counted = (counted_scope, counted_first)
    narrowed = _narrowed(data, scope, groups.keep, groups)
    return (
        narrowed,
        _first_round(data, narrowed, fits, warm=fit),
        counted,
    )


def _narrowed(data: ScoringInput, scope: _Scope, keep: BoolArray, groups: CoDeviation) -> _Scope:
    ratings = scope.ratings.subset(keep)
    return _Scope(
        ratings=ratings,
        cliques=scope.cliques,
        num_ratings=np.bincount(ratings.note, minlength=len(data.notes)),
        in_scope=scope.in_scope,
        groups=groups,
    )


def _rater_helpfulness(
    data: ScoringInput, scope: _Scope, first: _FirstRound
) -> tuple[Helpfulness, BoolArray]:
    """Helpfulness per participant, and the training ratings of helpful raters."""
    helpfulness = rater_helpfulness(
        ratings=scope.ratings,
        notes=data.notes,
        history=data.history,
        provisional_status=first.provisional.status,
        note_intercept=first.fit.note_intercept,
        n_participants=data.n_participants,
    )
    return helpfulness, first.training & helpfulness.included[scope.ratings.rater]


def _second_fit(
    data: ScoringInput,
    scope: _Scope,
    first: _FirstRound,
    second_round: BoolArray,
    fits: _FitOptions,
) -> subsets.SubsetFit:
    """Refit on the training ratings of helpful raters, warm-started from the first fit."""
    return subsets.fit_subset(
        scope.ratings,
        second_round,
        data.n_participants,
        len(data.notes),
        seed=fits.seed,
        penalties=fits.penalties,
        warm=first.fit,
        dtype=fits.dtype,
    )


def _tag_thresholds(scope: _Scope, second: subsets.SubsetFit, provisional: Decision) -> FloatArray:
    # As in the reference: second-fit viewpoints, provisional (first fit) Helpful notes.
    return tag_thresholds(
        tag_outliers(
            scope.ratings, note_factor=second.note_factor, rater_factor=second.rater_factor
        ),
        provisional.status == 1,
    )


def _final_round(
    data: ScoringInput, scope: _Scope, second: subsets.SubsetFit, *, penalties: Penalties
) -> _FinalRound:
    ratings = scope.ratings
    has_params = ~np.isnan(second.rater_intercept)
    enough_raters = scope.num_ratings >= k.MIN_RATERS_PER_NOTE
    final_round = enough_raters[ratings.note] & has_params[ratings.rater]
    stats, intercept, factor = subsets.frozen_note_fit(
        ratings, final_round, second, n_notes=len(data.notes), penalties=penalties
    )
    bounds = pseudo_rater_bounds(
        stats,
        mu=second.factors.mu,
        rater_intercept=second.rater_intercept[has_params],
        rater_factor=second.rater_factor[has_params],
        penalties=penalties,
    )
    return _FinalRound(
        has_params=has_params,
        in_round=final_round,
        intercept=intercept,
        factor=factor,
        bounds=bounds,
    )


def _robustness(
    data: ScoringInput,
    scope: _Scope,
    second: subsets.SubsetFit,
    final: _FinalRound,
    *,
    penalties: Penalties,
) -> _Robustness:
    ratings, n_notes = scope.ratings, len(data.notes)
    high_volume = high_volume_raters(ratings, n_notes, data.n_participants)
    correlated = correlated_raters(ratings, data.notes, data.n_participants)

    def intercept_without(excluded: BoolArray) -> FloatArray:
        """The final round's intercepts without the `excluded` raters' ratings."""
        subset = ~excluded[ratings.rater]
        subset_count = np.bincount(ratings.note[subset], minlength=n_notes)
        use = subset & (subset_count >= k.MIN_RATERS_PER_NOTE)[ratings.note] & final.in_round
        _, intercept, _ = subsets.frozen_note_fit(
            ratings, use, second, n_notes=n_notes, penalties=penalties
        )
        return intercept

    return _Robustness(
        high_volume=high_volume,
        correlated=correlated,
        intercept_no_high_vol=intercept_without(high_volume),
        intercept_no_correlated=intercept_without(correlated),
    )


def _status_rules(
    data: ScoringInput,
    scope: _Scope,
    second: subsets.SubsetFit,
    final: _FinalRound,
    robustness: _Robustness,
    *,
    thresholds: FloatArray,
    now_millis: int,
    helpful_counted: BoolArray | None,
) -> _Statuses:
    ratings, n_notes = scope.ratings, len(data.notes)
    counted = final.has_params[ratings.rater]
    sides = side_counts(ratings, second.rater_factor, counted, n_notes)
    votes = incorrect_votes(
        ratings,
        rater_factor=second.rater_factor,
        note_factor=final.factor,
        counted=counted,
        n_participants=data.n_participants,
    )
    outliers = tag_outliers(ratings, note_factor=final.factor, rater_factor=second.rater_factor)
    facts = NoteFacts(
        num_ratings=scope.num_ratings,
        intercept=final.intercept,
        factor=final.factor,
        misleading=data.notes.misleading,
        previous_status=data.history.current_status,
        intercept_max=final.bounds.intercept_max,
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
        intercept_no_high_vol=robustness.intercept_no_high_vol,
        intercept_no_correlated=robustness.intercept_no_correlated,
        helpful_with_one_camp_groups=helpful_counted,
    )
    core = core_status(facts, final_round=True)
    decision = core.copy()
    decided = np.isin(decision.status, (1, 2))
    helpful_tags, not_helpful_tags = tag_counts(ratings, decided, n_notes)
    insufficient_explanation(decision, helpful_tags, not_helpful_tags)
    stabilization = stabilize(
        decision,
        previous_status=data.history.current_status,
        stabilization_millis=data.history.stabilization_millis,
        now_millis=now_millis,
    )
    return _Statuses(core=core, final=decision, stabilization=stabilization)


def _results(
    data: ScoringInput,
    scope: _Scope,
    first: _FirstRound,
    second: subsets.SubsetFit,
    helpfulness: Helpfulness,
    final: _FinalRound,
    robustness: _Robustness,
    statuses: _Statuses,
    *,
    now_millis: int,
    timings: dict[str, float],
) -> ScoringResult:
    ratings, n_notes, n_participants = scope.ratings, len(data.notes), data.n_participants
    groups = scope.groups or CoDeviation.none(n_participants, len(ratings))
    final_round_ratings = np.bincount(ratings.note[final.in_round], minlength=n_notes)
    rated = np.bincount(ratings.rater, minlength=n_participants)
    return build_result(
        data=data,
        now_millis=now_millis,
        num_ratings=scope.num_ratings,
        final_round_ratings=final_round_ratings,
        intercept=final.intercept,
        factor=final.factor,
        bounds=final.bounds,
        without={
            "high_volume": robustness.intercept_no_high_vol,
            "correlated": robustness.intercept_no_correlated,
        },
        core=statuses.core,
        final=statuses.final,
        stabilization=statuses.stabilization,
        first=(first.fit.rater_intercept, first.fit.rater_factor),
        second=(second.rater_intercept, second.rater_factor),
        helpfulness=helpfulness,
        rated=rated,
        in_scope=scope.in_scope,
        included=np.bincount(ratings.rater[final.in_round], minlength=n_participants) > 0,
        clique=scope.cliques.clique,
        co_deviation_group=groups.group,
        high_volume=robustness.high_volume,
        correlated=robustness.correlated,
        timings=timings,
        summary={
            "ratings_in": len(data.ratings),
            "ratings_scored": len(ratings),
            "first_fit_ratings": first.fit.n_ratings,
            "first_fit_iterations": first.fit.factors.iterations,
            "second_fit_ratings": second.n_ratings,
            "second_fit_iterations": second.factors.iterations,
            "cliques": scope.cliques.count,
            "pss_flagged_pairs": scope.cliques.flagged_pairs,
            "pss_capped_notes": scope.cliques.capped_notes,
            "pss_window_millis": scope.cliques.window_millis,
            "codev_groups": groups.count,
            "codev_flagged_pairs": groups.flagged_pairs,
            "codev_set_aside_ratings": groups.set_aside,
            "codev_skipped_notes": groups.skipped_notes,
        },
    )
