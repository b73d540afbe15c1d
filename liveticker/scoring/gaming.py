"""Resisting coordinated gaming: post-selection similarity, cliques, correlated raters.

All pair counting is vectorized: ratings are sorted by note and time and each rating is
paired with the next ones of the same note inside the window, one offset at a time. The
window is X's 20 minutes unless the population itself rates in a burst (burst_window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from liveticker.scoring import constants as k
from liveticker.scoring.data import BoolArray, Int64Array, Notes, Ratings

DAY_MILLIS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, kw_only=True)
class Cliques:
    """Post-selection-similarity outcome: clique id per participant (-1: none)."""

    clique: npt.NDArray[np.int32]
    flagged_pairs: int
    capped_notes: int  # notes where the per-rating pair cap was reached
    window_millis: int = k.PSS_WINDOW_MILLIS

    @property
    def count(self) -> int:
        return int(self.clique.max()) + 1 if len(self.clique) else 0


@dataclass(frozen=True, kw_only=True)
class BurstWindow:
    """The co-rating window and the share of same-note rating pairs that chance puts in it."""

    millis: int
    near_share: float

    @property
    def discount(self) -> float:
        """Weight of one co-rating: 1, or only its part beyond chance at the window's floor."""
        if self.near_share <= k.PSS_BASELINE_NEAR_SHARE:
            return 1.0
        excess = (1.0 - self.near_share) / (1.0 - k.PSS_BASELINE_NEAR_SHARE)
        return float(max(0.0, excess))


def burst_window(ratings: Ratings, notes: Notes) -> BurstWindow:
    """X's window, or the shorter gap that only PSS_BASELINE_NEAR_SHARE of pairs reach.

    Two ratings of the same note are d1 and d2 after the note was written; pooling every
    rating's delay gives the population's own burst, the chance baseline for |d1 − d2|.
    """
    delays = notes.created_at[ratings.note]
    np.subtract(ratings.created_at, delays, out=delays)  # in place: one array per rating
    delays.sort()
    if len(delays) > k.PSS_BASELINE_SAMPLE:
        delays = delays[np.linspace(0, len(delays) - 1, k.PSS_BASELINE_SAMPLE).astype(np.int64)]
    if len(delays) < 2:
        return BurstWindow(millis=k.PSS_WINDOW_MILLIS, near_share=0.0)
    pairs = len(delays) * (len(delays) - 1) / 2
    positions = np.arange(len(delays))

    def near_share(window: int) -> float:
        reach = np.searchsorted(delays, delays + window, side="right")
        return float((reach - positions - 1).sum()) / pairs

    target = k.PSS_BASELINE_NEAR_SHARE
    share = near_share(k.PSS_WINDOW_MILLIS)
    if share <= target:
        return BurstWindow(millis=k.PSS_WINDOW_MILLIS, near_share=share)
    low, high = k.PSS_MIN_WINDOW_MILLIS, k.PSS_WINDOW_MILLIS
    floor_share = near_share(low)
    if floor_share >= target:
        return BurstWindow(millis=low, near_share=floor_share)
    while high - low > 1:  # near_share(low) < target < near_share(high)
        middle = (low + high) // 2
        if near_share(middle) <= target:
            low = middle
        else:
            high = middle
    return BurstWindow(millis=low, near_share=near_share(low))


def post_selection_cliques(ratings: Ratings, notes: Notes, n_participants: int) -> Cliques:
    """Flag rater pairs who repeatedly rate the same posts closer in time than the crowd."""
    window = burst_window(ratings, notes)
    # Posts are coded per note (codes only need to tell posts apart), so no per-rating
    # int64 copy of the post ids is sorted; indices stay 32-bit where they fit.
    _, note_post = np.unique(notes.tweet_id, return_inverse=True)
    note_post = note_post.astype(np.int32)
    rows = np.flatnonzero(notes.tweet_id[ratings.note] != -1)
    rater = ratings.rater[rows]
    # Items are posts: a rater's total counts distinct posts rated, N all (post, rater) pairs.
    post_rater = note_post[ratings.note[rows]].astype(np.int64)
    post_rater *= n_participants
    post_rater += rater
    post_rater = np.unique(post_rater)
    totals = np.bincount(post_rater % n_participants, minlength=n_participants)
    n_items = len(post_rater)
    del post_rater
    eligible = totals >= k.PSS_MIN_UNIQUE_POSTS  # pairs below this can never be flagged

    rows = rows[eligible[rater]]
    del rater
    rows = rows[np.lexsort((ratings.created_at[rows], ratings.note[rows]))]
    note, time, rater = ratings.note[rows], ratings.created_at[rows], ratings.rater[rows]
    post = note_post[note]
    del rows

    # Pairs as one key (smaller rater · n + larger) with their post: 12 bytes a pair.
    pair_parts: list[Int64Array] = []
    post_parts: list[npt.NDArray[np.int32]] = []
    # The first offset compares neighbours through slices; later ones only the survivors.
    small = len(note) + k.PSS_MAX_PAIRS_PER_RATING < np.iinfo(np.int32).max
    near = note[1:] == note[:-1]
    near &= (time[1:] - time[:-1]) <= window.millis
    active: npt.NDArray[np.signedinteger[Any]] = np.flatnonzero(near)
    if small:
        active = active.astype(np.int32)
    del near
    capped = np.zeros(0, dtype=np.int64)
    for offset in range(1, k.PSS_MAX_PAIRS_PER_RATING + 1):
        if offset > 1:
            active = active[active + offset < len(note)]
            partner = active + offset
            near = (note[partner] == note[active]) & (time[partner] - time[active] <= window.millis)
            active = active[near]
        partner = active + offset
        if len(active) == 0:
            break
        if offset == k.PSS_MAX_PAIRS_PER_RATING:
            capped = np.unique(note[active])
        different = rater[active] != rater[partner]
        a, b = rater[active][different], rater[partner][different]
        key = np.minimum(a, b).astype(np.int64)
        key *= n_participants
        key += np.maximum(a, b)
        pair_parts.append(key)
        post_parts.append(post[active][different])
    clique = np.full(n_participants, -1, dtype=np.int32)
    if not pair_parts or window.discount == 0.0:
        return Cliques(
            clique=clique, flagged_pairs=0, capped_notes=len(capped), window_millis=window.millis
        )

    pair = np.concatenate(pair_parts)
    pair_post = np.concatenate(post_parts)
    del pair_parts, post_parts
    # A pair counts once per post: collapse repeats from several notes on the same post.
    pair, pair_post = _unique_pair_items(pair, pair_post)
    del pair_post
    left, right = _flagged_pairs(pair, totals, n_items=n_items, discount=window.discount)
    del pair
    clique = components(left, right, n_participants, min_size=2)
    return Cliques(
        clique=clique,
        flagged_pairs=len(left),
        capped_notes=len(capped),
        window_millis=window.millis,
    )


def _flagged_pairs(
    pair: Int64Array, totals: Int64Array, *, n_items: int, discount: float
) -> tuple[Int64Array, Int64Array]:
    """The (left, right) raters of the flagged pairs among `pair` (sorted, one per post).

    A function of its own, freeing each per-pair array once used: a burst makes several
    pairs per rating, and these arrays were the stage's peak.
    """
    n_participants = len(totals)
    # `pair` is sorted: its runs are the distinct pairs, as np.unique would count them.
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else pair
    pairs = pair[starts]
    co = np.diff(np.r_[starts, len(pair)]) * discount
    del starts
    left, right = pairs // n_participants, pairs % n_participants
    del pairs
    left_total, right_total = totals[left].astype(np.float64), totals[right].astype(np.float64)
    smoothing = k.PSS_PMI_PSEUDOCOUNTS
    pmi = np.log(co * n_items / ((left_total + smoothing) * (right_total + smoothing)))
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = pmi / -np.log(co / n_items)
    del pmi
    min_sim = co / (np.minimum(left_total, right_total) + k.PSS_MIN_SIM_PSEUDOCOUNTS)
    del left_total, right_total, co
    flagged = (npmi >= k.PSS_NPMI_THRESHOLD) | (min_sim >= k.PSS_MIN_RATING_PROPORTION)
    return left[flagged], right[flagged]


def _unique_pair_items(
    pair: Int64Array, item: npt.NDArray[np.int32]
) -> tuple[Int64Array, npt.NDArray[np.int32]]:
    """Distinct (pair, item) rows, sorted by pair then item."""
    if len(pair) == 0:
        return pair, item
    order = np.lexsort((item, pair))
    pair, item = pair[order], item[order]
    first = np.r_[True, (pair[1:] != pair[:-1]) | (item[1:] != item[:-1])]
    return pair[first], item[first]


def components(
    left: Int64Array, right: Int64Array, n_nodes: int, *, min_size: int
) -> npt.NDArray[np.int32]:
    """Connected components of the pair graph, numbered 0.. in order of their smallest member."""
    result = np.full(n_nodes, -1, dtype=np.int32)
    if len(left) == 0:
        return result
    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    member = sizes[labels] >= min_size
    _, first_member = np.unique(labels[member], return_index=True)
    label_order = labels[member][np.sort(first_member)]
    renumber = np.full(len(sizes), -1, dtype=np.int32)
    renumber[label_order] = np.arange(len(label_order), dtype=np.int32)
    result[member] = renumber[labels[member]]
    return result


def clique_filter(ratings: Ratings, notes: Notes, clique: npt.NDArray[np.int32]) -> BoolArray:
    """Ratings to keep: a clique keeps its first rating per note and none on its own notes."""
    keep = np.ones(len(ratings), dtype=bool)
    rater_clique = clique[ratings.rater]
    member = np.flatnonzero(rater_clique >= 0)
    if len(member) == 0:
        return keep
    author = notes.author[ratings.note[member]]
    author_clique = np.where(author >= 0, clique[np.maximum(author, 0)], -1)
    keep[member[author_clique == rater_clique[member]]] = False
    keys = (ratings.created_at[member], ratings.note[member], rater_clique[member])
    order = member[np.lexsort(keys)]
    group = rater_clique[order].astype(np.int64) * len(notes) + ratings.note[order]
    repeat = np.r_[False, group[1:] == group[:-1]]
    keep[order[repeat]] = False
    return keep


def high_volume_raters(ratings: Ratings, n_notes: int, n_participants: int) -> BoolArray:
    """Raters above the 99.9th percentile of ratings over the last 7 or 28 days."""
    flagged = np.zeros(n_participants, dtype=bool)
    if n_notes < k.MIN_NOTES_FOR_HIGH_VOLUME or len(ratings) == 0:
        return flagged
    latest = int(ratings.created_at.max())
    for days in k.HIGH_VOLUME_WINDOWS_DAYS:
        recent = ratings.created_at > latest - days * DAY_MILLIS
        counts = np.bincount(ratings.rater[recent], minlength=n_participants)
        active = counts > 0
        if not active.any():
            continue
        threshold = np.quantile(counts[active], k.HIGH_VOLUME_QUANTILE)
        flagged |= counts > threshold
    return flagged


def correlated_raters(ratings: Ratings, notes: Notes, n_participants: int) -> BoolArray:
    """Members of quasi-cliques: groups of ≥ 5 raters linked by ≥ 50 identical ratings.

    Only misleading notes count, as in the reference. A pair needs 50 aligned ratings, so
    only raters with 50 ratings can take part; notes with more than 1,000 such raters are
    skipped to bound the pair count (see docs/notes-scoring.md).
    """
    on_misleading = notes.misleading[ratings.note] & (notes.tweet_id[ratings.note] != -1)
    counts = np.bincount(ratings.rater[on_misleading], minlength=n_participants)
    busy = counts >= k.QUASI_CLIQUE_MIN_ALIGNED_RATINGS
    use = np.flatnonzero(on_misleading & busy[ratings.rater])
    flagged = np.zeros(n_participants, dtype=bool)
    if len(use) == 0:
        return flagged
    level = np.rint(ratings.helpful_num[use] * 2).astype(np.int64)
    column = ratings.note[use].astype(np.int64) * 3 + level
    per_note = np.bincount(ratings.note[use], minlength=len(notes))
    small = per_note[ratings.note[use]] <= k.QUASI_CLIQUE_MAX_RATERS_PER_NOTE
    raters, rows = np.unique(ratings.rater[use][small], return_inverse=True)
    columns, cols = np.unique(column[small], return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(raters), len(columns))
    )
    aligned = sp.triu(incidence @ incidence.T, k=1).tocoo()
    strong = aligned.data >= k.QUASI_CLIQUE_MIN_ALIGNED_RATINGS
    groups = components(
        aligned.row[strong].astype(np.int64),
        aligned.col[strong].astype(np.int64),
        len(raters),
        min_size=k.QUASI_CLIQUE_MIN_RATERS,
    )
    flagged[raters[groups >= 0]] = True
    return flagged
