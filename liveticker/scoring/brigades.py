"""Coordinated groups added to a synthetic population, to test what the engine withstands.

A brigade is a set of new participants who push a few target notes: "promote" rates
notes that only camp B likes HELPFUL while looking like camp A (fake bridging), "bury"
rates bridging notes NOT_HELPFUL while looking like both camps. Three styles: `lockstep`
accounts copy one answer sheet within the same minute, `mimic` accounts rate like
independent camp members at the population's own pace, and `aged` accounts do the same
with a rating history across the whole population and old accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from liveticker.scoring.data import NOT_HELPFUL_TAGS, Ratings, Status
from liveticker.scoring.synth import (
    DAY,
    MINUTE,
    Population,
    PopulationSpec,
    helpful_tag_masks,
    not_helpful_tag_masks,
    rating_levels,
)

STYLES = ("lockstep", "mimic", "aged")
GOALS = ("promote", "bury")
# A bridging note to bury must be Helpful with a margin: one more honest dissent moves a
# note of ~35 ratings by about 0.03, and a brigade is not needed for that.
BURY_MIN_INTERCEPT = 0.45
_TARGET_KIND = {"promote": "camp_b", "bury": "both"}
_BURY_TAGS = np.uint16(
    (1 << NOT_HELPFUL_TAGS.index("notHelpfulIncorrect"))
    | (1 << NOT_HELPFUL_TAGS.index("notHelpfulSourcesMissingOrUnreliable"))
)


@dataclass(frozen=True, kw_only=True)
class BrigadeSpec:
    """One coordinated group: its size, style, goal and number of target notes."""

    size: int
    style: str = "lockstep"
    goal: str = "promote"
    targets: int = 3
    target_notes: tuple[int, ...] | None = None  # explicit targets (note positions)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.style not in STYLES or self.goal not in GOALS:
            raise ValueError(f"unknown brigade style {self.style!r} or goal {self.goal!r}")


def live_blog(*, seed: int, rating_minutes: float) -> PopulationSpec:
    """The issue's community: two camps of 60 readers, 36 notes on 12 posts, ~1,300
    ratings, notes written within 10 minutes and each rated within `rating_minutes`."""
    return PopulationSpec(
        n_ratings=3000,
        n_raters=60,
        n_notes=36,
        notes_per_post=3,
        note_span_minutes=10,
        rating_minutes=rating_minutes,
        seed=seed,
        exact_count=False,
    )


def pick_targets(
    population: Population,
    goal: str,
    *,
    status: npt.NDArray[np.object_],
    intercept: npt.NDArray[np.float64],
    count: int = 3,
) -> tuple[int, ...]:
    """The latest misleading notes worth attacking, given the honest run's outcome.

    "promote": notes only camp B likes; "bury": bridging notes the honest run made
    Helpful with an intercept of at least BURY_MIN_INTERCEPT.
    """
    notes = population.data.notes
    wanted = population.note_kind == _TARGET_KIND[goal]
    if goal == "bury":
        helpful = status == Status.CURRENTLY_RATED_HELPFUL.name
        wanted &= helpful & (np.nan_to_num(intercept) >= BURY_MIN_INTERCEPT)
    candidates = np.flatnonzero(wanted & notes.misleading)
    latest = candidates[np.argsort(-notes.created_at[candidates], kind="stable")][:count]
    return tuple(int(n) for n in np.sort(latest))


def young_accounts_wait(population: Population, min_age_millis: int) -> Population:
    """The service's rule while a story is younger than the minimum age: ratings by
    accounts that were younger than it when they rated do not count yet."""
    data = population.data
    ratings = data.ratings
    age = ratings.created_at - population.first_activity[ratings.rater]
    return replace(population, data=replace(data, ratings=ratings.subset(age >= min_age_millis)))


def targets_of(population: Population, spec: BrigadeSpec) -> npt.NDArray[np.int64]:
    """The notes a brigade attacks: the latest misleading notes of its target kind."""
    if spec.target_notes is not None:
        return np.sort(np.array(spec.target_notes, dtype=np.int64))
    notes = population.data.notes
    kind = _TARGET_KIND[spec.goal]
    candidates = np.flatnonzero((population.note_kind == kind) & notes.misleading)
    latest = candidates[np.argsort(-notes.created_at[candidates], kind="stable")]
    return np.sort(latest[: spec.targets]).astype(np.int64)


def add_brigade(population: Population, spec: BrigadeSpec) -> Population:
    """The population with `spec.size` new accounts rating as the brigade's style says."""
    if spec.size <= 0:
        return population
    rng = np.random.default_rng([spec.seed, 2, STYLES.index(spec.style), GOALS.index(spec.goal)])
    data = population.data
    notes, ratings = data.notes, data.ratings
    n_old = data.n_participants
    targets = targets_of(population, spec)
    honest_counts = np.bincount(ratings.rater, minlength=n_old)
    n_cover = max(int(np.median(honest_counts[honest_counts > 0])) - len(targets), 10)
    delays = ratings.created_at - notes.created_at[ratings.note]
    camp = np.ones(spec.size, dtype=np.int8)
    if spec.goal == "bury":
        camp[1::2] = -1  # half look like each camp, so the note seems disliked by both

    others = np.setdiff1d(np.arange(len(notes)), targets)
    popularity = np.bincount(ratings.note, minlength=len(notes))[others] + 1.0
    if spec.style != "aged":
        # New accounts: only the notes of the attack's own story (the last day), or the
        # latest notes when that day holds too few.
        recent = notes.created_at[others] >= notes.created_at[targets].min() - DAY
        if recent.sum() < n_cover:
            recent = np.zeros(len(others), dtype=bool)
            recent[np.argsort(-notes.created_at[others])[:n_cover]] = True
        others, popularity = others[recent], popularity[recent]
    n_cover = min(n_cover, len(others))

    rows_rater: list[npt.NDArray[np.int64]] = []
    rows_note: list[npt.NDArray[np.int64]] = []
    rows_level: list[npt.NDArray[np.float64]] = []
    rows_time: list[npt.NDArray[np.int64]] = []
    latent = population.latent
    sheets: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
    shared_time = notes.created_at + rng.choice(delays, len(notes))  # lockstep: one minute
    for member in range(spec.size):
        side = int(camp[member])
        if spec.style == "lockstep" and side in sheets:
            cover, cover_level = sheets[side]
        else:
            cover = rng.choice(others, n_cover, replace=False, p=popularity / popularity.sum())
            cover_level = rating_levels(
                latent.note_bias[cover] + rng.normal(0.0, 0.08),
                np.full(len(cover), side * abs(rng.normal(1.0, 0.25))),
                latent.note_factor[cover],
                rng.normal(0.0, 0.25, len(cover)),
            )
            sheets[side] = (cover, cover_level)
        rated = np.concatenate([cover, targets])
        level = np.concatenate([cover_level, np.full(len(targets), _goal_level(spec))])
        if spec.style == "lockstep":
            time = shared_time[rated] + rng.integers(0, MINUTE, len(rated))
        else:
            time = notes.created_at[rated] + rng.choice(delays, len(rated))
        rows_rater.append(np.full(len(rated), n_old + member, dtype=np.int64))
        rows_note.append(rated)
        rows_level.append(level)
        rows_time.append(time)

    rater = np.concatenate(rows_rater)
    note = np.concatenate(rows_note)
    level = np.concatenate(rows_level)
    created = np.concatenate(rows_time).astype(np.int64)
    helpful_tags = helpful_tag_masks(rng, level, latent.tag_pick[note])
    not_helpful_tags = not_helpful_tag_masks(rng, level, population.note_kind[note])
    on_target = np.isin(note, targets)
    if spec.goal == "bury":
        not_helpful_tags[on_target] = _BURY_TAGS
    new_ratings = Ratings(
        note=np.concatenate([ratings.note, note.astype(np.int32)]),
        rater=np.concatenate([ratings.rater, rater.astype(np.int32)]),
        created_at=np.concatenate([ratings.created_at, created]),
        helpful_num=np.concatenate([ratings.helpful_num, level.astype(np.float32)]),
        helpful_tags=np.concatenate([ratings.helpful_tags, helpful_tags]),
        not_helpful_tags=np.concatenate([ratings.not_helpful_tags, not_helpful_tags]),
    )
    first_rating = np.array([t.min() for t in rows_time], dtype=np.int64)
    if spec.style == "aged":
        first_activity = first_rating - rng.integers(30 * DAY, 365 * DAY, spec.size)
    else:
        first_activity = first_rating - rng.integers(0, 60 * MINUTE, spec.size)
    ids = np.array([f"{0xB81647E0:016X}{n_old + i:048X}" for i in range(spec.size)], dtype=object)
    return replace(
        population,
        data=replace(
            data, participants=np.concatenate([data.participants, ids]), ratings=new_ratings
        ),
        rater_kind=np.concatenate([population.rater_kind, np.full(spec.size, "brigade")]),
        rater_camp=np.concatenate([population.rater_camp, camp]),
        first_activity=np.concatenate([population.first_activity, first_activity]),
    )


def _goal_level(spec: BrigadeSpec) -> float:
    return 1.0 if spec.goal == "promote" else 0.0
