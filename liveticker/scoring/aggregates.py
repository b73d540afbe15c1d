"""Per-note aggregates that the status rules read: counts by rater side, tags, incorrect votes.

Each is a handful of bincounts over the ratings, so they cost little next to a fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from liveticker.scoring import constants as k
from liveticker.scoring.data import (
    HELPFUL_TAGS,
    INCORRECT_TAG_BIT,
    NOT_HELPFUL_TAGS,
    BoolArray,
    FloatArray,
    Ratings,
)


@dataclass(frozen=True, kw_only=True)
class SideCounts:
    """Ratings split by the sign of the rater's factor (the two viewpoint sides)."""

    neg_mean_helpful: FloatArray
    pos_mean_helpful: FloatArray
    min_sign_count: npt.NDArray[np.int64]
    net_min_helpful: npt.NDArray[np.int64]
    net_min_helpful_ratio: FloatArray


def side_counts(
    ratings: Ratings, rater_factor: FloatArray, counted: BoolArray, n_notes: int
) -> SideCounts:
    """`rater_factor` is per participant; only ratings marked `counted` take part."""
    level = ratings.helpful_num[counted].astype(np.float64)
    # One bincount over (note, side) bins instead of one per side: a bin still sums its
    # ratings in rating order, so the weighted sums are the same to the bit.
    side = ratings.note[counted].astype(np.int64) * 2
    side += (rater_factor < 0)[ratings.rater[counted]]  # 1: negative side (a byte to gather)

    neg_count, pos_count = _per_side(side, n_notes)
    neg_sum, pos_sum = _per_side(side, n_notes, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        neg_mean = neg_sum / neg_count
        pos_mean = pos_sum / pos_count
    neg_helpful, pos_helpful = _per_side(side[level == 1.0], n_notes)
    neg_unhelpful, pos_unhelpful = _per_side(side[level == 0.0], n_notes)
    neg_net = neg_helpful - neg_unhelpful
    pos_net = pos_helpful - pos_unhelpful
    net_min = np.clip(np.minimum(neg_net, pos_net), 0, None)
    total = neg_count + pos_count
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, net_min / total, 0.0)
    return SideCounts(
        neg_mean_helpful=neg_mean,
        pos_mean_helpful=pos_mean,
        min_sign_count=np.minimum(neg_count, pos_count).astype(np.int64),
        net_min_helpful=net_min.astype(np.int64),
        net_min_helpful_ratio=ratio,
    )


def _per_side(
    bins: npt.NDArray[np.int64], n_notes: int, weights: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per note, the (weighted) count of ratings on the negative side and on the other."""
    sums = np.bincount(bins, weights=weights, minlength=2 * n_notes).astype(np.float64)
    return sums[1::2], sums[0::2]


def tag_counts(
    ratings: Ratings, notes_of_interest: BoolArray, n_notes: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per-note counts of each helpful and not-helpful tag (zero outside `notes_of_interest`)."""
    use = notes_of_interest[ratings.note]
    helpful = np.zeros((n_notes, len(HELPFUL_TAGS)), dtype=np.int64)
    not_helpful = np.zeros((n_notes, len(NOT_HELPFUL_TAGS)), dtype=np.int64)
    for all_masks, table in (
        (ratings.helpful_tags, helpful),
        (ratings.not_helpful_tags, not_helpful),
    ):
        # Most ratings tick no tag of a kind: only the others need a look per tag.
        tagged = use & (all_masks != 0)
        note, masks = ratings.note[tagged], all_masks[tagged]
        for bit in range(table.shape[1]):
            ticked = (masks & np.uint16(1 << bit)) != 0
            table[:, bit] = np.bincount(note[ticked], minlength=n_notes)
    return helpful, not_helpful


@dataclass(frozen=True, kw_only=True)
class IncorrectVotes:
    """Per note: "incorrect" tags and voters near the note's factor, and the weighted score."""

    tags: FloatArray
    voters: FloatArray
    weighted: FloatArray


def incorrect_votes(
    ratings: Ratings,
    *,
    rater_factor: FloatArray,
    note_factor: FloatArray,
    counted: BoolArray,
    n_participants: int,
) -> IncorrectVotes:
    """ "Incorrect" tags from raters whose factor is near the note's, weighted by rarity.

    A rater's incorrect rate is their share of "incorrect" among their ratings with any
    not-helpful tag; a note's weighted score divides its incorrect tags by log(1 + Σ rate).
    """
    n_notes = len(note_factor)
    # Only ratings with a not-helpful tag take part. Counts are integers (exact in float64
    # whichever way they are summed); the one float sum, rate_sum, keeps rating order.
    tagged = np.flatnonzero(ratings.not_helpful_tags != 0)
    rater = ratings.rater[tagged]
    incorrect = ((ratings.not_helpful_tags[tagged] >> np.uint16(INCORRECT_TAG_BIT)) & 1).astype(
        bool
    )
    rater_tagged = np.bincount(rater, minlength=n_participants)
    rater_incorrect = np.bincount(rater[incorrect], minlength=n_participants)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.nan_to_num(rater_incorrect / rater_tagged)
    use = counted[tagged]
    rater, incorrect, note = rater[use], incorrect[use], ratings.note[tagged[use]]
    del tagged
    clip = k.INCORRECT_FACTOR_CLIP
    distance = np.abs(
        np.clip(rater_factor, -clip, clip)[rater] - np.clip(note_factor, -clip, clip)[note]
    )
    with np.errstate(invalid="ignore"):
        near = distance < k.INCORRECT_INTERVAL_HALF_WIDTH
    rater, incorrect, note = rater[near], incorrect[near], note[near]
    voters = np.bincount(note, minlength=n_notes).astype(np.float64)
    tags = np.bincount(note[incorrect], minlength=n_notes).astype(np.float64)
    rate_sum = np.bincount(note, weights=rate[rater], minlength=n_notes)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = tags / np.log1p(rate_sum)
    return IncorrectVotes(tags=tags, voters=voters, weighted=weighted)


@dataclass(frozen=True, kw_only=True)
class TagOutliers:
    """Not-helpful tags weighted by how close the rater's viewpoint is to the note's."""

    adjusted: npt.NDArray[np.float64]  # notes × tags: Σ weight·tag
    ratio: npt.NDArray[np.float64]  # adjusted / Σ weight (NaN for unscored notes)


def tag_outliers(
    ratings: Ratings, *, note_factor: FloatArray, rater_factor: FloatArray
) -> TagOutliers:
    """Weights 1/(1 + (d/p40)^5) on the z-normalized factor distance d, as the reference."""
    n_notes = len(note_factor)
    # Gathering flags (a byte a rating) is cheaper than gathering the factors themselves.
    use = ~np.isnan(note_factor)[ratings.note] & ~np.isnan(rater_factor)[ratings.rater]
    note_z = _z_normalized(note_factor)
    rater_z = _z_normalized(rater_factor)
    note = ratings.note[use]
    distance = np.abs(rater_z[ratings.rater[use]] - note_z[note])
    adjusted = np.zeros((n_notes, len(NOT_HELPFUL_TAGS)))
    ratio = np.full((n_notes, len(NOT_HELPFUL_TAGS)), np.nan)
    if len(distance) == 0:
        return TagOutliers(adjusted=adjusted, ratio=ratio)
    scale = np.percentile(distance, k.TAG_DISTANCE_PERCENTILE)
    # 1 / (1 + (d / p40)^5), computed in place: the same operations in the same order.
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.divide(distance, scale, out=distance)
        np.power(weight, 5, out=weight)
        weight += 1.0
        np.divide(1.0, weight, out=weight)
    weight = np.nan_to_num(weight, nan=1.0, copy=False)
    total = np.bincount(note, weights=weight, minlength=n_notes)
    # Untagged ratings would only add +0.0 (weights are ≥ 0), which leaves every sum as it
    # is: only tagged ratings are summed per tag, still in rating order.
    masks = ratings.not_helpful_tags[use]
    tagged = masks != 0
    note, weight, masks = note[tagged], weight[tagged], masks[tagged]
    for bit in range(len(NOT_HELPFUL_TAGS)):
        ticked = (masks & np.uint16(1 << bit)) != 0
        adjusted[:, bit] = np.bincount(note[ticked], weights=weight[ticked], minlength=n_notes)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = adjusted / total[:, None]
    ratio[total == 0] = np.nan
    return TagOutliers(adjusted=adjusted, ratio=ratio)


def tag_thresholds(outliers: TagOutliers, helpful: BoolArray) -> FloatArray:
    """Per tag, the 95th percentile of the adjusted ratio over (provisionally) Helpful notes."""
    ratios = outliers.ratio[helpful & ~np.isnan(outliers.ratio[:, 0])]
    if len(ratios) == 0:
        return np.zeros(len(NOT_HELPFUL_TAGS))
    quantiles = np.zeros(len(NOT_HELPFUL_TAGS))
    quantiles[:] = np.quantile(ratios, k.TAG_FILTER_PERCENTILE / 100, axis=0)
    return quantiles


def _z_normalized(values: FloatArray) -> FloatArray:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return values
    std = float(present.std())
    normalized: FloatArray = (values - float(present.mean())) / (std if std > 0 else 1.0)
    return normalized
