"""Synthetic rater populations with known ground truth, for tests, benchmarks and comparisons.

Two opinion camps of different sizes, lenient, harsh and random raters, notes helpful to
both camps, to one camp only or to neither, and optional coordinated groups (brigades)
that rate the same notes within minutes of each other. Times can be compressed into a
live blog's burst without changing who rated what or how (brigades.py adds other attacks).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import pandas as pd

from liveticker.scoring.arrays import unique_values
from liveticker.scoring.data import (
    HELPFUL_TAGS,
    NOT_HELPFUL_TAGS,
    History,
    Notes,
    Ratings,
    ScoringInput,
)

NOTE_KINDS = ("both", "camp_a", "camp_b", "neither")
RATER_KINDS = ("normal", "lenient", "harsh", "random", "brigade")
BASE_MILLIS = 1_767_225_600_000  # 2026-01-01T00:00Z
HOUR = 3_600_000
MINUTE = 60_000
DAY = 24 * HOUR
_TRUE_NOTE = {  # kind -> (intercept, factor); camp A has factor +1, camp B -1
    "both": (0.55, 0.0),
    "camp_a": (0.05, 0.7),
    "camp_b": (0.05, -0.7),
    "neither": (-0.55, 0.0),
}


@dataclass(frozen=True, kw_only=True)
class PopulationSpec:
    """Shape of a synthetic population; defaults give ~48k ratings like the reference test."""

    n_ratings: int = 48_000
    n_raters: int | None = None  # default: n_ratings / 20
    n_notes: int | None = None  # default: n_ratings / 50
    camp_a_share: float = 0.6
    lenient_share: float = 0.1
    harsh_share: float = 0.1
    random_share: float = 0.05
    note_kind_shares: tuple[float, float, float, float] = (0.3, 0.2, 0.2, 0.3)
    not_misleading_share: float = 0.05
    brigades: int = 0
    brigade_size: int = 30
    brigade_targets: int = 20
    notes_per_post: int = 1  # notes sharing one post (post-selection items are posts)
    # Time compression, drawn from a separate stream so that the same spec with other
    # times has the very same ratings: notes are created within `note_span_minutes` of
    # the start (default 14 days) and each rating lands within `rating_minutes` of its
    # note's creation, uniformly (default: exponential delays with an 8-hour mean).
    note_span_minutes: float | None = None
    rating_minutes: float | None = None
    seed: int = 0
    # True: exactly n_ratings honest ratings (plus each brigade's), topped up from a
    # separate random stream when the draws repeat (rater, note) pairs, so the ratings
    # drawn first stay the same. False: only the distinct pairs among the draws, fewer
    # on a small grid (the live-blog community of brigades.py was tuned on that).
    exact_count: bool = True


@dataclass(frozen=True, kw_only=True)
class Latent:
    """The model the ratings were drawn from, so that attacks can imitate honest raters."""

    note_bias: npt.NDArray[np.float64]
    note_factor: npt.NDArray[np.float64]
    tag_pick: npt.NDArray[np.int64]  # per note, its two characteristic helpful tags


@dataclass(frozen=True, kw_only=True)
class Population:
    """A generated input with its ground truth: what each note and rater really is."""

    data: ScoringInput
    note_kind: npt.NDArray[np.object_]
    rater_kind: npt.NDArray[np.object_]
    rater_camp: npt.NDArray[np.int8]  # +1 camp A, -1 camp B, 0 random
    latent: Latent
    first_activity: npt.NDArray[np.int64]  # per participant: the account's first activity

    def truth_notes(self) -> pd.DataFrame:
        """noteId and true kind per note (truth_notes.tsv)."""
        return pd.DataFrame({"noteId": self.data.notes.note_id, "kind": self.note_kind})

    def truth_raters(self) -> pd.DataFrame:
        """participantId, true kind and camp per participant (truth_raters.tsv)."""
        return pd.DataFrame(
            {
                "participantId": self.data.participants,
                "kind": self.rater_kind,
                "camp": self.rater_camp,
            }
        )


def participant_ids(count: int, seed: int) -> npt.NDArray[np.object_]:
    """Distinct 64-hex-digit ids shaped like X's participant ids."""
    rng = np.random.default_rng(seed + 7919)
    high = rng.integers(0, 2**62, count, dtype=np.int64)
    return np.array([f"{h:016X}{i:048X}" for i, h in enumerate(high.tolist())], dtype=object)


def generate(spec: PopulationSpec) -> Population:
    """Draw a synthetic population as `spec` describes; the same spec gives the same data."""
    rng = np.random.default_rng(spec.seed)
    n_raters = spec.n_raters or max(spec.n_ratings // 20, 50)
    n_notes = spec.n_notes or max(spec.n_ratings // 50, 20)

    # Raters: camp, kind, latent intercept and factor.
    camp = np.where(rng.random(n_raters) < spec.camp_a_share, 1, -1).astype(np.int8)
    kind = np.full(n_raters, "normal", dtype=object)
    draw = rng.random(n_raters)
    cuts = np.cumsum([spec.lenient_share, spec.harsh_share, spec.random_share])
    kind[draw < cuts[0]] = "lenient"
    kind[(draw >= cuts[0]) & (draw < cuts[1])] = "harsh"
    kind[(draw >= cuts[1]) & (draw < cuts[2])] = "random"
    n_brigade = spec.brigades * spec.brigade_size
    brigade_of = np.full(n_raters, -1)
    if n_brigade:
        members = rng.choice(np.flatnonzero(kind == "normal"), n_brigade, replace=False)
        kind[members] = "brigade"
        brigade_of[members] = np.repeat(np.arange(spec.brigades), spec.brigade_size)
        camp[members] = -1  # brigades push the smaller camp's view
    camp[kind == "random"] = 0
    rater_bias = rng.normal(0.0, 0.08, n_raters)
    rater_bias[kind == "lenient"] += 0.35
    rater_bias[kind == "harsh"] -= 0.35
    rater_factor = camp * np.abs(rng.normal(1.0, 0.25, n_raters))

    # Notes: kind, latent parameters, author, time, classification.
    note_kind_index = rng.choice(len(NOTE_KINDS), n_notes, p=np.array(spec.note_kind_shares))
    note_kind = np.array(NOTE_KINDS, dtype=object)[note_kind_index]
    true = np.array([_TRUE_NOTE[name] for name in NOTE_KINDS])
    note_bias = true[note_kind_index, 0] + rng.normal(0.0, 0.05, n_notes)
    note_factor = true[note_kind_index, 1] + rng.normal(0.0, 0.05, n_notes)
    note_created = BASE_MILLIS + rng.integers(0, 14 * 24 * HOUR, n_notes)
    clock = np.random.default_rng([spec.seed, 1])  # times only: see PopulationSpec
    if spec.note_span_minutes is not None:
        span = max(int(spec.note_span_minutes * MINUTE), 1)
        note_created = BASE_MILLIS + clock.integers(0, span, n_notes)
    misleading = rng.random(n_notes) >= spec.not_misleading_share
    author = rng.integers(0, n_raters, n_notes).astype(np.int32)
    tag_pick = np.argsort(rng.random((n_notes, len(HELPFUL_TAGS))), axis=1)[:, :2]

    # Who rates what: skewed activity and popularity, one rating per (rater, note).
    activity = rng.lognormal(0.0, 0.8, n_raters)
    popularity = rng.lognormal(0.0, 0.6, n_notes)
    draws = int(spec.n_ratings * 1.03)
    rater = rng.choice(n_raters, draws, p=activity / activity.sum())
    note = rng.choice(n_notes, draws, p=popularity / popularity.sum())
    rater, note = _unique_pairs(rater, note, n_notes, spec.n_ratings)
    created = note_created[note] + rng.exponential(8 * HOUR, len(note)).astype(np.int64)
    if spec.rating_minutes is not None:
        window = max(int(spec.rating_minutes * MINUTE), 1)
        created = note_created[note] + clock.integers(0, window, len(note))

    # Brigades: every member rates the same target notes HELPFUL within minutes.
    brigade_rows: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]]
    brigade_rows = []
    for group in range(spec.brigades):
        group_members = np.flatnonzero(brigade_of == group)
        candidates = np.flatnonzero(note_kind == "camp_b")
        targets = rng.choice(candidates, min(spec.brigade_targets, len(candidates)), replace=False)
        start = note_created[targets] + rng.integers(HOUR, 6 * HOUR, len(targets))
        r = np.repeat(group_members, len(targets))
        n = np.tile(targets, len(group_members))
        t = np.tile(start, len(group_members)) + rng.integers(0, 8 * 60_000, len(r))
        brigade_rows.append((r, n, t))
    if brigade_rows:
        extra_r = np.concatenate([row[0] for row in brigade_rows])
        extra_n = np.concatenate([row[1] for row in brigade_rows])
        extra_t = np.concatenate([row[2] for row in brigade_rows])
        clash = np.isin(note.astype(np.int64) * n_raters + rater, extra_n * n_raters + extra_r)
        keep = ~clash
        rater = np.concatenate([rater[keep], extra_r])
        note = np.concatenate([note[keep], extra_n])
        created = np.concatenate([created[keep], extra_t])
    is_brigade_rating = np.zeros(len(rater), dtype=bool)
    if brigade_rows:
        is_brigade_rating[len(rater) - len(extra_r) :] = True

    # Rating levels from the latent model, with noise; random raters answer at random.
    level = rating_levels(
        note_bias[note] + rater_bias[rater],
        np.asarray(rater_factor[rater], dtype=np.float64),
        note_factor[note],
        rng.normal(0.0, 0.25, len(rater)),
    )
    random_rater = kind[rater] == "random"
    level[random_rater] = rng.choice([0.0, 0.5, 1.0], int(random_rater.sum()))
    level[is_brigade_rating] = 1.0

    helpful_tags = helpful_tag_masks(rng, level, tag_pick[note])
    not_helpful_tags = not_helpful_tag_masks(rng, level, note_kind[note])

    wanted = spec.n_ratings + (len(extra_r) if brigade_rows else 0)
    if spec.exact_count and len(rater) < wanted:
        top = _TopUp(
            rng=np.random.default_rng([spec.seed, 3]),
            activity=activity,
            popularity=popularity,
            note_created=note_created,
        )
        new_rater, new_note = top.pairs(rater, note, wanted - len(rater))
        new_created = top.created(new_note, spec)
        new_level = rating_levels(
            note_bias[new_note] + rater_bias[new_rater],
            np.asarray(rater_factor[new_rater], dtype=np.float64),
            note_factor[new_note],
            top.rng.normal(0.0, 0.25, len(new_rater)),
        )
        random_new = kind[new_rater] == "random"
        new_level[random_new] = top.rng.choice([0.0, 0.5, 1.0], int(random_new.sum()))
        rater = np.concatenate([rater, new_rater])
        note = np.concatenate([note, new_note])
        created = np.concatenate([created, new_created])
        level = np.concatenate([level, new_level])
        helpful_tags = np.concatenate(
            [helpful_tags, helpful_tag_masks(top.rng, new_level, tag_pick[new_note])]
        )
        not_helpful_tags = np.concatenate(
            [not_helpful_tags, not_helpful_tag_masks(top.rng, new_level, note_kind[new_note])]
        )

    notes = Notes(
        note_id=(1_800_000_000_000_000_000 + np.arange(n_notes, dtype=np.int64) * 7919),
        author=author,
        created_at=note_created.astype(np.int64),
        misleading=misleading,
        tweet_id=(
            1_900_000_000_000_000_000
            + (np.arange(n_notes, dtype=np.int64) // max(spec.notes_per_post, 1)) * 104729
        ),
    )
    ratings = Ratings(
        note=note.astype(np.int32),
        rater=rater.astype(np.int32),
        created_at=created.astype(np.int64),
        helpful_num=level.astype(np.float32),
        helpful_tags=helpful_tags,
        not_helpful_tags=not_helpful_tags,
    )
    data = ScoringInput(
        participants=participant_ids(n_raters, spec.seed),
        notes=notes,
        ratings=ratings,
        history=History.empty(n_notes),
    )
    # Accounts are a week to a year old when the population starts rating.
    first_activity = BASE_MILLIS - clock.integers(7 * DAY, 365 * DAY, n_raters)
    return Population(
        data=data,
        note_kind=note_kind,
        rater_kind=kind,
        rater_camp=camp,
        latent=Latent(note_bias=note_bias, note_factor=note_factor, tag_pick=tag_pick),
        first_activity=first_activity.astype(np.int64),
    )


def rating_levels(
    bias: npt.NDArray[np.float64],
    rater_factor: npt.NDArray[np.float64],
    note_factor: npt.NDArray[np.float64],
    noise: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """HELPFUL (1), SOMEWHAT_HELPFUL (0.5) or NOT_HELPFUL (0) from each rating's latent score."""
    score = bias + 0.75 * rater_factor * note_factor + noise
    level: npt.NDArray[np.float64] = np.where(score > 0.3, 1.0, np.where(score < -0.05, 0.0, 0.5))
    return level


@dataclass(frozen=True, kw_only=True)
class _TopUp:
    """More (rater, note) pairs drawn like the first ones, none of them already rated."""

    rng: np.random.Generator
    activity: npt.NDArray[np.float64]
    popularity: npt.NDArray[np.float64]
    note_created: npt.NDArray[np.int64]

    def pairs(
        self, rater: npt.NDArray[np.int64], note: npt.NDArray[np.int64], count: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        n_raters, n_notes = len(self.activity), len(self.popularity)
        cells = n_raters * n_notes
        if len(rater) + count > cells:
            raise ValueError(
                f"{len(rater) + count} ratings do not fit {n_raters} raters × {n_notes} notes "
                "(one rating per rater and note)"
            )
        taken = unique_values(rater.astype(np.int64) * n_notes + note)
        if cells <= 8 * (len(taken) + count):
            # A dense grid: weighted sampling without replacement over the free cells
            # (exponential keys over weights), since repeated draws would rarely hit them.
            free = np.setdiff1d(np.arange(cells, dtype=np.int64), taken, assume_unique=True)
            weight = self.activity[free // n_notes] * self.popularity[free % n_notes]
            keys = self.rng.exponential(1.0, len(free)) / weight
            chosen = free[np.sort(np.argsort(keys, kind="stable")[:count])]
        else:
            chosen = np.zeros(0, dtype=np.int64)
            while len(chosen) < count:
                size = 2 * (count - len(chosen)) + 16
                r = self.rng.choice(n_raters, size, p=self.activity / self.activity.sum())
                n = self.rng.choice(n_notes, size, p=self.popularity / self.popularity.sum())
                drawn = np.concatenate([chosen, r.astype(np.int64) * n_notes + n])
                _, first = np.unique(drawn, return_index=True)
                first = np.sort(first)  # keep draw order so the sample stays random
                fresh = drawn[first]
                chosen = fresh[~np.isin(fresh, taken)][:count]
        return chosen // n_notes, chosen % n_notes

    def created(self, note: npt.NDArray[np.int64], spec: PopulationSpec) -> npt.NDArray[np.int64]:
        if spec.rating_minutes is not None:
            window = max(int(spec.rating_minutes * MINUTE), 1)
            return self.note_created[note] + self.rng.integers(0, window, len(note))
        delay = self.rng.exponential(8 * HOUR, len(note)).astype(np.int64)
        return self.note_created[note] + delay


def _unique_pairs(
    rater: npt.NDArray[np.int64], note: npt.NDArray[np.int64], n_notes: int, limit: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    key = rater.astype(np.int64) * n_notes + note
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)[:limit]  # keep draw order so the sample stays random
    return rater[first], note[first]


def helpful_tag_masks(
    rng: np.random.Generator, level: npt.NDArray[np.float64], picks: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint16]:
    # Helpful ratings tick the note's two characteristic tags often and others rarely.
    tags = np.zeros(len(level), dtype=np.uint16)
    helpful = level > 0
    for column in range(picks.shape[1]):
        tick = helpful & (rng.random(len(level)) < 0.6)
        tags[tick] |= (np.uint16(1) << picks[tick, column].astype(np.uint16)).astype(np.uint16)
    noise = helpful & (rng.random(len(level)) < 0.1)
    bits = rng.integers(0, len(HELPFUL_TAGS), len(level)).astype(np.uint16)
    tags[noise] |= (np.uint16(1) << bits[noise]).astype(np.uint16)
    return tags


def not_helpful_tag_masks(
    rng: np.random.Generator, level: npt.NDArray[np.float64], kind: npt.NDArray[np.object_]
) -> npt.NDArray[np.uint16]:
    tags = np.zeros(len(level), dtype=np.uint16)
    unhelpful = level < 1
    incorrect = unhelpful & (kind == "neither") & (rng.random(len(level)) < 0.5)
    tags[incorrect] |= np.uint16(1 << NOT_HELPFUL_TAGS.index("notHelpfulIncorrect"))
    biased = unhelpful & (kind != "neither") & (rng.random(len(level)) < 0.5)
    tags[biased] |= np.uint16(1 << NOT_HELPFUL_TAGS.index("notHelpfulArgumentativeOrBiased"))
    sources = unhelpful & (rng.random(len(level)) < 0.3)
    tags[sources] |= np.uint16(1 << NOT_HELPFUL_TAGS.index("notHelpfulSourcesMissingOrUnreliable"))
    return tags


def to_frames(population: Population, *, with_ratings: bool = True) -> dict[str, pd.DataFrame]:
    """The population as X's notes, ratings and userEnrollment frames plus its ground truth
    (without the ratings when `with_ratings` is false: see ratings_frame)."""
    from liveticker.scoring.tables import ENROLLMENT_COLUMNS, NOTES_COLUMNS

    data = population.data
    notes = data.notes
    note_frame = pd.DataFrame({column: "" for column in NOTES_COLUMNS}, index=range(len(notes)))
    note_frame["noteId"] = notes.note_id
    note_frame["noteAuthorParticipantId"] = data.participants[notes.author]
    note_frame["createdAtMillis"] = notes.created_at
    note_frame["tweetId"] = notes.tweet_id
    note_frame["classification"] = np.where(
        notes.misleading, "MISINFORMED_OR_POTENTIALLY_MISLEADING", "NOT_MISLEADING"
    )
    for column in NOTES_COLUMNS[8:21]:
        note_frame[column] = 0
    note_frame["misleadingFactualError"] = notes.misleading.astype(int)
    note_frame["notMisleadingFactuallyCorrect"] = (~notes.misleading).astype(int)
    note_frame["summary"] = "Synthetic note " + pd.Series(np.arange(len(notes))).astype(str)
    note_frame["isMediaNote"] = 0
    note_frame["isCollaborativeNote"] = 0

    enrollment = pd.DataFrame(
        {
            "participantId": data.participants,
            "enrollmentState": "newUser",
            "successfulRatingNeededToEarnIn": 5,
            "timestampOfLastStateChange": BASE_MILLIS,
            "timestampOfLastEarnOut": 1,
            "modelingPopulation": "CORE",
            "modelingGroup": 13,
            "numberOfTimesEarnedOut": 0,
        }
    )
    frames = {
        "notes": note_frame[list(NOTES_COLUMNS)],
        "userEnrollment": enrollment[list(ENROLLMENT_COLUMNS)],
        "truth_notes": population.truth_notes(),
        "truth_raters": population.truth_raters(),
    }
    if with_ratings:
        frames["ratings"] = ratings_frame(population, 0, len(data.ratings))
    return frames


def ratings_frame(population: Population, start: int, stop: int) -> pd.DataFrame:
    """Ratings start..stop of the population as X's ratings frame, every column; a slice
    at a time lets a benchmark write 100M ratings without holding one frame of them all."""
    from liveticker.scoring.tables import RATINGS_COLUMNS

    data = population.data
    notes = data.notes
    ratings = Ratings(
        **{field.name: getattr(data.ratings, field.name)[start:stop] for field in fields(Ratings)}
    )
    level_names = np.array(["NOT_HELPFUL", "SOMEWHAT_HELPFUL", "HELPFUL"], dtype=object)
    level = level_names[np.rint(ratings.helpful_num * 2).astype(int)]
    rating_frame = pd.DataFrame(
        {
            "noteId": notes.note_id[ratings.note],
            "raterParticipantId": data.participants[ratings.rater],
            "createdAtMillis": ratings.created_at,
            "version": 2,
            "agree": 0,
            "disagree": 0,
            "helpful": 0,
            "notHelpful": 0,
            "helpfulnessLevel": level,
        }
    )
    for bit, column in enumerate(HELPFUL_TAGS):
        rating_frame[column] = (ratings.helpful_tags >> np.uint16(bit)) & 1
    for bit, column in enumerate(NOT_HELPFUL_TAGS):
        rating_frame[column] = (ratings.not_helpful_tags >> np.uint16(bit)) & 1
    rating_frame["ratedOnTweetId"] = notes.tweet_id[ratings.note]
    rating_frame["ratingSourceBucketed"] = "DEFAULT"
    rating_frame["suggestion"] = ""
    rating_frame["suggestionId"] = ""
    return rating_frame[list(RATINGS_COLUMNS)]
