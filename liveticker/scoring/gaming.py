"""Resisting coordinated gaming: post-selection similarity, cliques, correlated raters.

All pair counting is vectorized: ratings are sorted by note and time and each rating is
paired with the next ones of the same note inside the window, one offset at a time. The
window is X's 20 minutes unless the population itself rates in a burst (burst_window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from liveticker.scoring import constants as k
from liveticker.scoring.arrays import unique_values
from liveticker.scoring.data import BoolArray, FloatArray, Int64Array, Notes, Ratings

DAY_MILLIS = 24 * 60 * 60 * 1000
_CHUNK = 1 << 20  # pairs (or start ratings) handled at once: bounds the temporaries


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
    note_post: npt.NDArray[np.int32]
    note_post = np.unique(notes.tweet_id, return_inverse=True)[1].astype(np.int32)
    rows = np.flatnonzero((notes.tweet_id != -1)[ratings.note])
    # Items are posts: a rater's total counts distinct posts rated, N all (post, rater) pairs.
    rater = ratings.rater[rows]
    totals, n_items = _distinct_items(note_post[ratings.note[rows]], rater, n_participants)
    eligible = totals >= k.PSS_MIN_UNIQUE_POSTS  # pairs below this can never be flagged
    rows = rows[eligible[rater]]
    del rater

    order, start, reach = _reaches(ratings, rows, window.millis)
    rows = rows[order]
    del order
    capped = 0
    if len(reach) and int(reach.max()) >= k.PSS_MAX_PAIRS_PER_RATING:
        capped_at = start[reach >= k.PSS_MAX_PAIRS_PER_RATING]
        capped = len(unique_values(ratings.note[rows[capped_at]]))
    clique = np.full(n_participants, -1, dtype=np.int32)
    if len(start) == 0 or window.discount == 0.0:
        return Cliques(
            clique=clique, flagged_pairs=0, capped_notes=capped, window_millis=window.millis
        )
    # Eligible raters renumbered 0..m-1 in the same order keep the pair codes small.
    eligible_ids = np.flatnonzero(eligible)
    codes = PairCodes(len(eligible_ids), n_posts=len(note_post) and int(note_post.max()) + 1)
    compact = (np.cumsum(eligible, dtype=np.int32) - 1)[ratings.rater[rows]]
    # Starts by decreasing reach: the ones still pairing at an offset are a prefix.
    by_reach = np.argsort(-reach.astype(np.int16), kind="stable")  # 16-bit: a radix sort
    start, reach = start[by_reach], reach[by_reach]
    del by_reach
    start_post = note_post[ratings.note[rows[start]]]  # a partner's post is the same
    del rows
    pair, first = _co_ratings(start, reach, compact, start_post, codes)
    del start, reach, compact, start_post
    # In chunks of whole runs of a pair: the per-pair arrays stay small.
    pair_totals = totals[eligible_ids].astype(np.float64)
    lefts, rights = [], []
    begin = 0
    while begin < len(pair):
        end = min(begin + _CHUNK, len(pair))
        end = int(np.searchsorted(pair, pair[end - 1], side="right"))
        pairs, co = _runs(pair[begin:end], first[begin:end])
        lo, hi = codes.decode(pairs)
        flagged = _flagged(co * window.discount, pair_totals[lo], pair_totals[hi], n_items=n_items)
        lefts.append(lo[flagged])
        rights.append(hi[flagged])
        begin = end
    del pair, first
    left = eligible_ids[np.concatenate(lefts)] if lefts else eligible_ids[:0]
    right = eligible_ids[np.concatenate(rights)] if rights else eligible_ids[:0]
    clique = components(left, right, n_participants, min_size=2)
    return Cliques(
        clique=clique,
        flagged_pairs=len(left),
        capped_notes=capped,
        window_millis=window.millis,
    )


def _distinct_items(
    item: npt.NDArray[np.int32], rater: npt.NDArray[np.int32], n_participants: int
) -> tuple[Int64Array, int]:
    """Distinct items per rater, and the number of distinct (item, rater) pairs.

    One in-place sort of a combined key: a plain np.unique would hash, far slower.
    """
    key = item.astype(np.int64)
    key *= n_participants
    key += rater
    key.sort()
    first = np.empty(len(key), dtype=bool)
    first[:1] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    distinct = key[first]
    del key, first
    distinct %= n_participants
    return np.bincount(distinct, minlength=n_participants), len(distinct)


def _reaches(ratings: Ratings, rows: Int64Array, window: int) -> tuple[Int64Array, ...]:
    """Order of `rows` by (note, time), as a stable lexsort; the sorted positions of the
    ratings followed by another of their note within `window`, and how many follow (at
    most PSS_MAX_PAIRS_PER_RATING).

    Note and time usually fit one int64 key (note · span + time), with notes a span
    apart so that no two notes come within the window: one argsort instead of a
    lexsort, and one binary search per rating instead of a check per offset.
    """
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    earliest = int(ratings.created_at.min())
    span = int(ratings.created_at.max()) - earliest + window + 1
    if (int(ratings.note.max()) + 1) * span >= 2**63:
        return _reaches_by_offset(ratings.note[rows], ratings.created_at[rows], window)
    key = ratings.note[rows].astype(np.int64)
    key *= span
    key -= earliest
    key += ratings.created_at[rows]
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero((key[1:] - key[:-1]) <= window)
    reach = key[start]
    reach += window
    reach = np.searchsorted(key, reach, side="right")
    del key
    reach -= start
    reach -= 1
    np.minimum(reach, k.PSS_MAX_PAIRS_PER_RATING, out=reach)
    return order, start, reach


def _reaches_by_offset(
    note: npt.NDArray[np.int32], time: Int64Array, window: int
) -> tuple[Int64Array, ...]:
    """_reaches for times too far apart for one key: a lexsort, then one check per offset."""
    order = np.lexsort((time, note))
    note, time = note[order], time[order]
    start = np.flatnonzero((note[1:] == note[:-1]) & ((time[1:] - time[:-1]) <= window))
    reach = np.zeros(len(note), dtype=np.int64)
    reach[start] = 1
    active = start
    for offset in range(2, k.PSS_MAX_PAIRS_PER_RATING + 1):
        active = active[active + offset < len(note)]
        partner = active + offset
        active = active[(note[partner] == note[active]) & (time[partner] - time[active] <= window)]
        if len(active) == 0:
            break
        reach[active] += 1
    return order, start, reach[start]


class PairCodes:
    """Rater pairs lo < hi of m raters as codes 0.., increasing in (lo, hi); with their
    post in one int64 (code · n_posts + post) when it fits."""

    def __init__(self, m: int, *, n_posts: int) -> None:
        self.m, self.n_posts = m, max(n_posts, 1)
        self.with_post = (m * (m - 1) // 2) * self.n_posts < 2**63
        lo = np.arange(m, dtype=np.int64)
        self.row_start: Int64Array = lo * (2 * m - 1 - lo) // 2  # code of (lo, lo + 1)

    def encode(
        self, a: npt.NDArray[np.signedinteger], b: npt.NDArray[np.signedinteger]
    ) -> Int64Array:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        code: Int64Array = self.row_start[lo]
        code += hi
        code -= lo
        code -= 1
        return code

    def decode(self, code: Int64Array) -> tuple[Int64Array, Int64Array]:
        lo = np.searchsorted(self.row_start, code, side="right") - 1
        hi = code - self.row_start[lo]
        hi += lo
        hi += 1
        return lo, hi


def _co_ratings(
    start: Int64Array,
    reach: Int64Array,
    rater: npt.NDArray[np.int32],
    start_post: npt.NDArray[np.int32],
    codes: PairCodes,
) -> tuple[Int64Array, BoolArray]:
    """Sorted pair codes of the co-ratings by two raters, and which are the first of
    their (pair, post): a pair counts once per post.

    Each start rating (by decreasing reach) pairs with the next reach[i] ratings. The
    pairs go straight into one buffer, 8 bytes a pair, sorted in place; they are made
    _CHUNK starts at a time so that the temporaries stay small.
    """
    start_rater = rater[start]
    # at_least[o]: how many starts pair at offset o.
    at_least = np.cumsum(np.bincount(reach, minlength=k.PSS_MAX_PAIRS_PER_RATING + 1)[::-1])[::-1]
    chunks = [
        (offset, slice(first, min(first + _CHUNK, int(at_least[offset]))))
        for offset in range(1, len(at_least))
        for first in range(0, int(at_least[offset]), _CHUNK)
    ]
    if not codes.with_post:
        pair_parts: list[Int64Array] = []
        post_parts: list[npt.NDArray[np.int32]] = []
        for offset, chunk in chunks:
            partner_rater = rater[start[chunk] + offset]
            different = start_rater[chunk] != partner_rater
            pair_parts.append(codes.encode(start_rater[chunk][different], partner_rater[different]))
            post_parts.append(start_post[chunk][different])
        pairs, _ = _unique_pair_items(np.concatenate(pair_parts), np.concatenate(post_parts))
        return pairs, np.ones(len(pairs), dtype=bool)
    buffer = np.empty(int(reach.sum()), dtype=np.int64)
    filled = 0
    for offset, chunk in chunks:
        partner_rater = rater[start[chunk] + offset]
        code = codes.encode(start_rater[chunk], partner_rater)
        code *= codes.n_posts
        code += start_post[chunk]
        code = code[start_rater[chunk] != partner_rater]  # nobody pairs with oneself
        buffer[filled : filled + len(code)] = code
        filled += len(code)
    pair = buffer[:filled]
    del buffer
    pair.sort()
    first = np.empty(len(pair), dtype=bool)
    first[:1] = True
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    pair //= codes.n_posts
    return pair, first


def _runs(pair: Int64Array, counted: BoolArray) -> tuple[Int64Array, Int64Array]:
    """The distinct values of sorted `pair`, and how many `counted` entries each has."""
    change = np.empty(len(pair), dtype=bool)
    change[:1] = True
    np.not_equal(pair[1:], pair[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return pair[starts], np.add.reduceat(counted, starts, dtype=np.int64)


def _flagged(
    co: npt.NDArray[np.floating], left: FloatArray, right: FloatArray, *, n_items: int
) -> BoolArray:
    """Pairs flagged by PMI or minimum similarity, from their (discounted) co-ratings and
    the two raters' totals."""
    smoothing = k.PSS_PMI_PSEUDOCOUNTS
    pmi = np.log(co * n_items / ((left + smoothing) * (right + smoothing)))
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = pmi / -np.log(co / n_items)
    del pmi
    min_sim = co / (np.minimum(left, right) + k.PSS_MIN_SIM_PSEUDOCOUNTS)
    flagged: BoolArray = (npmi >= k.PSS_NPMI_THRESHOLD) | (min_sim >= k.PSS_MIN_RATING_PROPORTION)
    return flagged


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
    per_note = np.bincount(ratings.note[use], minlength=len(notes))
    use = use[per_note[ratings.note[use]] <= k.QUASI_CLIQUE_MAX_RATERS_PER_NOTE]
    if len(use) == 0:
        return np.zeros(n_participants, dtype=bool)
    level = np.rint(ratings.helpful_num[use] * 2).astype(np.int64)
    column = ratings.note[use].astype(np.int64) * 3 + level
    rater = ratings.rater[use]
    raters, rows = _dense_codes(rater, n_participants)
    columns, cols = _dense_codes(column, int(column.max()) + 1)
    incidence = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(raters), len(columns))
    )
    aligned = (incidence @ incidence.T).tocsr()
    # The graph is undirected: both halves of the symmetric product give the same
    # components, and a rater's own count (the diagonal) links nobody.
    strong = np.flatnonzero(aligned.data >= k.QUASI_CLIQUE_MIN_ALIGNED_RATINGS)
    left = np.searchsorted(aligned.indptr, strong, side="right") - 1
    right = aligned.indices[strong].astype(np.int64)
    other = left != right
    groups = components(
        raters[left[other]].astype(np.int64),
        raters[right[other]].astype(np.int64),
        n_participants,
        min_size=k.QUASI_CLIQUE_MIN_RATERS,
    )
    return np.asarray(groups >= 0)


def _dense_codes(
    values: Int64Array | npt.NDArray[np.int32], n_values: int
) -> tuple[Int64Array, Int64Array]:
    """np.unique(values, return_inverse=True) for values in 0..n_values-1, without a sort."""
    present = np.zeros(n_values, dtype=bool)
    present[values] = True
    code = np.cumsum(present) - 1
    return np.flatnonzero(present), code[values]
