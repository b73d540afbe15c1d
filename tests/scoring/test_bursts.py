"""Honest bursts are not brigades: a live blog's community rating within minutes scores as
if it had rated over a day, and coordinated groups still cannot move the notes they attack.

The community is the issue's (two camps of 60 readers, 36 notes on 12 posts; see
brigades.live_blog). Brigade sizes tested here are at or below what bench/brigades.py
measured as withstood on the seeds used; docs/notes-defences.md has the full table.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from liveticker.scoring import constants as k
from liveticker.scoring.brigades import (
    BrigadeSpec,
    add_brigade,
    live_blog,
    pick_targets,
    young_accounts_wait,
)
from liveticker.scoring.data import ScoringInput
from liveticker.scoring.gaming import burst_window
from liveticker.scoring.pipeline import score, score_frames
from liveticker.scoring.synth import DAY, Population, PopulationSpec, generate, to_frames

from .conftest import NOW

CRH, CRNH = "CURRENTLY_RATED_HELPFUL", "CURRENTLY_RATED_NOT_HELPFUL"
TEN_MINUTES, ONE_DAY = 10.0, 1440.0
SEEDS = (1, 2)


@cache
def community(seed: int, rating_minutes: float) -> Population:
    return generate(live_blog(seed=seed, rating_minutes=rating_minutes))


@cache
def honest_outcome(seed: int) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """Core status and intercept per note of the honest community rating over a day."""
    notes = score(community(seed, ONE_DAY).data, now_millis=NOW).notes
    return notes["coreRatingStatus"].to_numpy(), notes["coreNoteIntercept"].to_numpy()


def core_status(data: ScoringInput) -> npt.NDArray[np.object_]:
    status: npt.NDArray[np.object_] = (
        score(data, now_millis=NOW).notes["coreRatingStatus"].to_numpy()
    )
    return status


@pytest.fixture
def fixed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """X's behaviour: a 20-minute window whatever the population's own pace."""
    monkeypatch.setattr(k, "PSS_BASELINE_NEAR_SHARE", 1.0)


@pytest.fixture
def no_defences(monkeypatch: pytest.MonkeyPatch) -> None:
    """X's scorer below 200 notes: no post-selection similarity, and no co-deviating groups."""
    monkeypatch.setattr(k, "PSS_MIN_UNIQUE_POSTS", 10**9)
    monkeypatch.setattr(k, "CODEV_MIN_SHARED", 10**9)


# Honest bursts.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("note_span", "rating_minutes"),
    [(10.0, TEN_MINUTES), (5.0, 5.0), (10.0, 60.0)],
    ids=["each-note-within-10-min", "everything-within-10-min", "within-the-hour"],
)
def test_an_honest_burst_scores_like_the_same_ratings_over_a_day(
    seed: int, note_span: float, rating_minutes: float
) -> None:
    spread = community(seed, ONE_DAY)
    burst = generate(
        replace(live_blog(seed=seed, rating_minutes=rating_minutes), note_span_minutes=note_span)
    )
    # The same ratings (who, what, how), only their times differ.
    assert np.array_equal(burst.data.ratings.helpful_num, spread.data.ratings.helpful_num)
    assert burst.data.ratings.created_at.max() - burst.data.ratings.created_at.min() <= (
        (note_span + rating_minutes) * 60_000
    )
    status = core_status(burst.data)
    assert list(status) == list(core_status(spread.data))
    kind = burst.note_kind
    assert np.mean(status[kind == "both"] == CRH) >= 0.5
    assert (status[kind == "neither"] == CRNH).all()
    assert not (status[np.isin(kind, ("camp_a", "camp_b"))] == CRH).any()


@pytest.mark.usefixtures("fixed_window")
def test_a_fixed_twenty_minute_window_turns_the_burst_into_one_clique() -> None:
    # The failure this file guards against, kept visible: X's window makes the honest
    # burst one post-selection clique, and every note needs more ratings.
    result = score(community(1, TEN_MINUTES).data, now_millis=NOW)
    assert result.summary["cliques"] == 1
    assert (result.notes["coreRatingStatus"] == "NEEDS_MORE_RATINGS").all()


def test_the_window_is_x_window_on_x_shaped_data_and_shrinks_in_a_burst() -> None:
    x_shaped = generate(PopulationSpec(n_ratings=20_000, seed=3)).data
    assert burst_window(x_shaped.ratings, x_shaped.notes).millis == k.PSS_WINDOW_MILLIS
    burst = community(1, TEN_MINUTES).data
    window = burst_window(burst.ratings, burst.notes)
    assert k.PSS_MIN_WINDOW_MILLIS < window.millis < 60_000
    assert window.near_share == pytest.approx(k.PSS_BASELINE_NEAR_SHARE, abs=0.01)


def test_honest_populations_form_no_co_deviating_group() -> None:
    for seed in SEEDS:
        for minutes in (TEN_MINUTES, ONE_DAY):
            assert score(community(seed, minutes).data, now_millis=NOW).summary["codev_groups"] == 0
    x_shaped = generate(PopulationSpec(n_ratings=60_000, random_share=0.1, seed=12)).data
    assert score(x_shaped, now_millis=NOW).summary["codev_groups"] == 0


# Brigades.


def attacked(
    seed: int, *, style: str, goal: str, size: int, rating_minutes: float = TEN_MINUTES
) -> tuple[Population, tuple[int, ...]]:
    honest = community(seed, rating_minutes)
    status, intercept = honest_outcome(seed)
    targets = pick_targets(honest, goal, status=status, intercept=intercept)
    assert len(targets) == 3
    spec = BrigadeSpec(size=size, style=style, goal=goal, target_notes=targets, seed=seed)
    return add_brigade(honest, spec), targets


def assert_withstood(status: npt.NDArray[np.object_], goal: str, targets: tuple[int, ...]) -> None:
    status = status[list(targets)]
    if goal == "promote":
        assert not (status == CRH).any(), f"a one-sided note became Helpful: {status}"
    else:
        assert (status == CRH).all(), f"a bridging note was buried: {status}"


# Lockstep groups are caught at any size; mimicking and aged groups until they rival the
# honest raters of the camp they imitate on the attacked notes (14 to 22 a camp here).
ENGINE_SIZES = {"lockstep": (5, 10, 20, 40, 80), "mimic": (5, 10, 15), "aged": (5, 10, 15)}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("goal", ["promote", "bury"])
@pytest.mark.parametrize("style", list(ENGINE_SIZES))
def test_brigades_of_growing_size_cannot_promote_or_bury_in_a_burst(
    seed: int, goal: str, style: str
) -> None:
    for size in ENGINE_SIZES[style]:
        population, targets = attacked(seed, style=style, goal=goal, size=size)
        assert_withstood(core_status(population.data), goal, targets)


@pytest.mark.parametrize("goal", ["promote", "bury"])
@pytest.mark.parametrize("style", ["lockstep", "mimic"])
def test_brigades_rating_over_a_day_cannot_promote_or_bury_either(goal: str, style: str) -> None:
    for size in ENGINE_SIZES[style]:
        population, targets = attacked(1, style=style, goal=goal, size=size, rating_minutes=ONE_DAY)
        assert_withstood(core_status(population.data), goal, targets)


@pytest.mark.parametrize("goal", ["promote", "bury"])
def test_new_accounts_cannot_move_their_camp_when_account_age_is_given(goal: str) -> None:
    # With first_activity_millis the camp's verdict comes from established accounts, so a
    # mimicking brigade of new accounts is seen even when it outnumbers the honest raters.
    for size in (5, 20, 40, 80 if goal == "promote" else 60):
        population, targets = attacked(1, style="mimic", goal=goal, size=size)
        data = replace(population.data, first_activity_millis=population.first_activity)
        assert_withstood(core_status(data), goal, targets)


def test_the_service_passes_account_ages_with_the_frames() -> None:
    population, targets = attacked(1, style="mimic", goal="bury", size=40)
    frames = to_frames(population)
    ages = pd.Series(population.first_activity, index=population.data.participants)
    result = score_frames(
        notes=frames["notes"], ratings=frames["ratings"], first_activity=ages, now_millis=NOW
    )
    data = replace(population.data, first_activity_millis=population.first_activity)
    assert list(result.notes["coreRatingStatus"]) == list(core_status(data))
    assert_withstood(result.notes["coreRatingStatus"].to_numpy(), "bury", targets)


def test_account_age_changes_nothing_for_an_honest_community() -> None:
    honest = community(1, TEN_MINUTES)
    with_age = replace(honest.data, first_activity_millis=honest.first_activity)
    assert list(core_status(with_age)) == list(core_status(honest.data))


@pytest.mark.parametrize("style", ["lockstep", "mimic"])
def test_in_the_product_new_accounts_wait_and_the_brigade_is_not_counted(style: str) -> None:
    population, targets = attacked(1, style=style, goal="bury", size=80)
    waited = young_accounts_wait(population, DAY)
    assert len(waited.data.ratings) == len(community(1, TEN_MINUTES).data.ratings)
    assert_withstood(core_status(waited.data), "bury", targets)


@pytest.mark.usefixtures("no_defences")
@pytest.mark.parametrize(
    ("style", "goal", "size"),
    [("lockstep", "promote", 40), ("mimic", "bury", 15), ("aged", "bury", 5)],
)
def test_without_the_defences_these_brigades_win(style: str, goal: str, size: int) -> None:
    # The tests above can fail: the same brigades beat the engine with X's small-site
    # behaviour (no post-selection similarity below 200 notes) and no co-deviating groups.
    population, targets = attacked(1, style=style, goal=goal, size=size)
    status = core_status(population.data)[list(targets)]
    if goal == "promote":
        assert (status == CRH).any()
    else:
        assert not (status == CRH).all()
