"""Groups of raters who break from their camp together: the defence that needs no clock.

In a live blog's burst everyone rates the same notes at the same moment, so timing alone
cannot tell a brigade from the crowd. What honest members of a camp do not do is leave
their camp's verdict on the same notes, in the same direction, again and again. After
the first fit each rating is compared with the median of its camp on that note (the
rater's own leniency removed); raters who share most of their departures on several
notes form a group, and a group's ratings are set aside for the run. The median, not
the fit, is the verdict, so a group is seen until it outnumbers its camp's honest
raters on the notes it attacks; with account ages, only established accounts set it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from liveticker.scoring import constants as k
from liveticker.scoring.arrays import unique_values
from liveticker.scoring.data import BoolArray, FloatArray, Int64Array, Ratings
from liveticker.scoring.gaming import components


@dataclass(frozen=True, kw_only=True)
class Departures:
    """How far each judged rating lies from its camp's verdict (signed, rating positions)."""

    rating: Int64Array
    note: Int64Array
    side: BoolArray  # the rater's camp: the sign of the first fit's rater factor (True: ≥ 0)
    offset: FloatArray

    def beyond(self, threshold: float) -> BoolArray:
        """The ratings at least `threshold` away from their camp's verdict."""
        return np.asarray(np.abs(self.offset) >= threshold)

    def column(self) -> Int64Array:
        """(note, direction) as one code: 2·note, +1 when above the verdict."""
        return np.asarray(self.note * 2 + (self.offset > 0), dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class CoDeviation:
    """Group id per participant (-1: none), and the ratings that still count."""

    group: npt.NDArray[np.int32]
    keep: BoolArray  # per rating of the scope
    flagged_pairs: int
    set_aside: int  # ratings of the groups' members
    skipped_notes: int  # notes with more departures than the pair bound allows

    @property
    def count(self) -> int:
        return int(self.group.max()) + 1 if len(self.group) else 0

    @staticmethod
    def none(n_participants: int, n_ratings: int) -> CoDeviation:
        """No group found: every rating kept."""
        return CoDeviation(
            group=np.full(n_participants, -1, dtype=np.int32),
            keep=np.ones(n_ratings, dtype=bool),
            flagged_pairs=0,
            set_aside=0,
            skipped_notes=0,
        )


def departures(
    ratings: Ratings,
    used: BoolArray,
    *,
    mu: float,
    rater_intercept: FloatArray,
    rater_factor: FloatArray,
    established: BoolArray | None = None,
) -> Departures:
    """How far each `used` rating lies from the median of its camp on its note.

    A camp is a side of the first fit's rater factor; a rater's value is the rating minus
    μ and the rater's intercept, so lenient and harsh raters are compared fairly. With
    `established` (per rating), the median is that of the established raters wherever
    at least CODEV_MIN_CAMP_RATERS of them rated the note.
    """
    rows = np.flatnonzero(used & ~np.isnan(rater_intercept)[ratings.rater])
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Departures(
            rating=empty, note=empty, side=np.zeros(0, dtype=bool), offset=np.zeros(0)
        )
    rater, note = ratings.rater[rows], ratings.note[rows].astype(np.int64)
    value = ratings.helpful_num[rows] - mu - rater_intercept[rater]
    side = rater_factor[rater] >= 0
    cell = note * 2 + side
    n_cells = int(cell.max()) + 1
    center = _cell_medians(cell, value, n_cells)
    if established is not None:
        old = established[rows]
        old_center = _cell_medians(cell[old], value[old], n_cells)
        center = np.where(np.isnan(old_center), center, old_center)
    del rater
    center = center[cell]
    del cell
    judged = ~np.isnan(center)
    # In place: value − center is float64 whatever value's type, as center is.
    offset = np.subtract(value, center, out=center)
    del value
    return Departures(
        rating=rows[judged].astype(np.int64, copy=False),
        note=note[judged],
        side=side[judged],
        offset=offset[judged],
    )


def _cell_medians(cell: Int64Array, value: FloatArray, n_cells: int) -> FloatArray:
    """Median value per cell, NaN for cells with fewer than CODEV_MIN_CAMP_RATERS values.

    The values are ordered by one float key, cell · 16 + value (values lie well inside
    ±4), ties by position; the key rounds values, so this order, not the exact values',
    decides which values are the middle ones. Sorting the keys alone is much faster than
    an argsort; the middle elements are then found by their keys.
    """
    center = np.full(n_cells, np.nan)
    if len(cell) == 0:
        return center
    key: FloatArray = np.asarray(cell * 16.0 + np.clip(value, -7.5, 7.5), dtype=np.float64)
    if np.isnan(key).any():  # NaN sorts last, not within its cell: the argsort handles it
        return _cell_medians_by_argsort(key, cell, value, center)
    sizes = np.bincount(cell, minlength=n_cells)
    enough = np.flatnonzero(sizes >= k.CODEV_MIN_CAMP_RATERS)
    if len(enough) == 0:
        return center
    # Cells are 16 apart and values within ±7.5 of theirs: sorted keys run cell by cell.
    starts = np.cumsum(sizes) - sizes
    ordered = np.sort(key)
    low = _ordered_values(
        key, ordered, cell, value, enough, starts[enough] + (sizes[enough] - 1) // 2
    )
    high = _ordered_values(key, ordered, cell, value, enough, starts[enough] + sizes[enough] // 2)
    center[enough] = (low + high) / 2
    return center


def _cell_medians_by_argsort(
    key: FloatArray, cell: Int64Array, value: FloatArray, center: FloatArray
) -> FloatArray:
    """_cell_medians through a stable argsort of the keys, whatever they hold."""
    order = np.argsort(key, kind="stable")
    sorted_cell, sorted_value = cell[order], value[order]
    starts = np.flatnonzero(np.r_[True, sorted_cell[1:] != sorted_cell[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    median = (sorted_value[starts + (sizes - 1) // 2] + sorted_value[starts + sizes // 2]) / 2
    enough = sizes >= k.CODEV_MIN_CAMP_RATERS
    center[sorted_cell[starts[enough]]] = median[enough]
    return center


def _ordered_values(
    key: FloatArray,
    ordered: FloatArray,
    cell: Int64Array,
    value: FloatArray,
    cells: Int64Array,
    position: Int64Array,
) -> FloatArray:
    """The value at `position` of the (key, index) order, one position in each of `cells`.

    The element at a sorted position is the one of its cell with that key; among equal
    keys, the one whose rank by index is the position's rank among them.
    """
    target = np.full(int(cell.max()) + 1, np.nan)  # NaN equals no key
    target[cells] = ordered[position]
    hit = np.flatnonzero(key == target[cell])  # in index order
    hit = hit[np.argsort(cell[hit], kind="stable")]  # by cell, then index
    rank = position - np.searchsorted(ordered, ordered[position], side="left")
    first = np.searchsorted(cell[hit], cells, side="left")
    result: FloatArray = value[hit[first + rank]]
    return result


def established_ratings(
    ratings: Ratings, note_created: Int64Array, first_activity: Int64Array
) -> BoolArray:
    """Ratings by accounts first active CODEV_ESTABLISHED_MILLIS before the note was written."""
    age = note_created[ratings.note] - first_activity[ratings.rater]
    return np.asarray(age >= k.CODEV_ESTABLISHED_MILLIS)


def one_camp_groups(ratings: Ratings, found: Departures, group: npt.NDArray[np.int32]) -> BoolArray:
    """Per group id (plus a last False entry for -1): fewer than CODEV_MIN_PER_CAMP of its
    departures were from one of the two camps, so the group speaks for one camp."""
    n_groups = int(group.max()) + 1 if len(group) else 0
    away = found.beyond(k.CODEV_MIN_DEPARTURE)
    owner = group[ratings.rater[found.rating[away]]].astype(np.int64)
    grouped = owner >= 0
    cell = owner[grouped] * 2 + found.side[away][grouped]
    per_side = np.bincount(cell, minlength=2 * n_groups).reshape(-1, 2)
    one_camp: BoolArray = np.r_[per_side.min(axis=1) < k.CODEV_MIN_PER_CAMP, False]
    return one_camp


def co_deviating_groups(
    ratings: Ratings, found: Departures, clique: npt.NDArray[np.int32]
) -> CoDeviation:
    """Link raters who share most of their departures on several notes; set the groups aside.

    A post-selection clique already speaks once per note, through whichever member rated
    first, so it takes part as one rater (`clique` per participant, -1: none).
    """
    n_participants = len(clique)
    identity = np.where(clique >= 0, n_participants + clique, np.arange(n_participants))
    n_identities = n_participants + int(clique.max()) + 1 if n_participants else 0
    away = found.beyond(k.CODEV_MIN_DEPARTURE)
    rater = identity[ratings.rater[found.rating[away]]]
    column = found.column()[away]
    per_rater = np.bincount(rater, minlength=n_identities)
    judged = np.bincount(identity[ratings.rater[found.rating]], minlength=n_identities)
    # Chronic dissenters (random raters) depart on much of what they rate, and with
    # everyone: they are left to the helpfulness filter, not linked.
    chronic = per_rater > k.CODEV_MAX_DEPARTURE_SHARE * judged
    # Exact pruning: a pair needs CODEV_MIN_SHARED shared departures, so each rater needs
    # that many; columns (note, direction) with too many departures are skipped to bound
    # the pair count, as quasi-cliques skip crowded notes.
    active = (per_rater[rater] >= k.CODEV_MIN_SHARED) & ~chronic[rater]
    per_column = np.bincount(column[active]) if active.any() else np.zeros(0, dtype=np.int64)
    crowded = np.zeros(len(column), dtype=bool)
    crowded[active] = per_column[column[active]] > k.CODEV_MAX_DEPARTURES_PER_NOTE
    use = active & ~crowded
    skipped = len(unique_values(found.note[away][crowded]))
    if not use.any():
        return replace(CoDeviation.none(n_participants, len(ratings)), skipped_notes=skipped)
    raters, rows = np.unique(rater[use], return_inverse=True)
    columns, cols = np.unique(column[use], return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(raters), len(columns))
    )
    shared = sp.triu(incidence @ incidence.T, k=1).tocoo()
    fewer = np.minimum(per_rater[raters[shared.row]], per_rater[raters[shared.col]])
    flagged = (shared.data >= k.CODEV_MIN_SHARED) & (
        shared.data / (fewer + k.CODEV_SHARE_PSEUDOCOUNT) >= k.CODEV_MIN_SHARE
    )
    linked = components(
        raters[shared.row[flagged]].astype(np.int64),
        raters[shared.col[flagged]].astype(np.int64),
        n_identities,
        min_size=2,
    )
    linked = _extend(linked, rater[~chronic[rater]], column[~chronic[rater]], per_rater)
    group = linked[identity]
    keep = group[ratings.rater] < 0
    return CoDeviation(
        group=group,
        keep=keep,
        flagged_pairs=int(flagged.sum()),
        set_aside=int((~keep).sum()),
        skipped_notes=skipped,
    )


def _extend(
    linked: npt.NDArray[np.int32],
    rater: Int64Array,
    column: Int64Array,
    per_rater: Int64Array,
) -> npt.NDArray[np.int32]:
    """Let a rater join the group whose joint departures hold most of its own departures.

    A member whose camp was split on one target departs visibly on the others only; one
    shared departure fewer than a pair needs is enough against a whole group's pattern.
    """
    grouped = linked[rater] >= 0
    if not grouped.any():
        return linked
    n_columns = int(column.max()) + 1
    joint_key, joint_count = np.unique(
        linked[rater[grouped]].astype(np.int64) * n_columns + column[grouped], return_counts=True
    )
    joint_key = joint_key[joint_count >= 2]  # a group's joint departure: ≥ 2 members
    joint_group, joint_column = joint_key // n_columns, joint_key % n_columns
    loose = np.flatnonzero(~grouped)
    order = np.argsort(joint_column, kind="stable")
    joint_group, joint_column = joint_group[order], joint_column[order]
    start = np.searchsorted(joint_column, column[loose], side="left")
    stop = np.searchsorted(joint_column, column[loose], side="right")
    hits = stop - start
    if hits.sum() == 0:
        return linked
    # Every (loose departure, group with a joint departure on its column) pair.
    which = np.repeat(np.arange(len(loose)), hits)
    offset = np.arange(int(hits.sum())) - np.repeat(np.cumsum(hits) - hits, hits)
    candidate = joint_group[np.repeat(start, hits) + offset]
    who = rater[loose][which]
    pairs, counts = np.unique(who * (int(linked.max()) + 1) + candidate, return_counts=True)
    member, group = pairs // (int(linked.max()) + 1), pairs % (int(linked.max()) + 1)
    joins = (counts >= k.CODEV_MIN_SHARED - 1) & (
        counts / (per_rater[member] + k.CODEV_SHARE_PSEUDOCOUNT) >= k.CODEV_MIN_SHARE
    )
    if not joins.any():
        return linked
    # A rater matching two groups joins the one sharing more (ties: the first group).
    best = np.lexsort((group[joins], -counts[joins], member[joins]))
    chosen_member, chosen_group = member[joins][best], group[joins][best]
    first = np.r_[True, chosen_member[1:] != chosen_member[:-1]]
    extended = linked.copy()
    extended[chosen_member[first]] = chosen_group[first].astype(np.int32)
    return extended
