"""The fast paths of gaming.py and collusion.py against their plain equivalents.

Each fast path (one sort key instead of a lexsort, sorted keys instead of an argsort,
dense codes instead of np.unique) must give exactly what the plain computation gives,
ties and edge cases included: results are compared bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from liveticker.scoring import collusion, gaming
from liveticker.scoring import constants as k
from liveticker.scoring.data import Ratings


def _ratings(note: np.ndarray, rater: np.ndarray, time: np.ndarray) -> Ratings:
    n = len(note)
    return Ratings(
        note=note.astype(np.int32),
        rater=rater.astype(np.int32),
        created_at=time.astype(np.int64),
        helpful_num=np.ones(n, dtype=np.float32),
        helpful_tags=np.zeros(n, dtype=np.uint16),
        not_helpful_tags=np.zeros(n, dtype=np.uint16),
    )


@pytest.mark.parametrize("seed", range(6))
def test_reaches_match_the_offset_by_offset_check(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4000
    note = rng.integers(0, 6, n)
    # Bursts with repeated timestamps (ties) and a note dense enough to reach the cap.
    time = np.where(note == 0, rng.integers(0, 50, n), rng.integers(0, 400_000, n))
    ratings = _ratings(note, rng.integers(0, 40, n), time)
    rows = np.flatnonzero(rng.random(n) < 0.9)
    window = int(rng.choice([1_000, 20_000, 1_200_000]))
    order, start, reach = gaming._reaches(ratings, rows, window)
    plain = gaming._reaches_by_offset(ratings.note[rows], ratings.created_at[rows], window)
    for fast, slow in zip((order, start, reach), plain, strict=True):
        np.testing.assert_array_equal(fast, slow)
    assert reach.max() == k.PSS_MAX_PAIRS_PER_RATING


def test_pair_codes_keep_the_pair_order() -> None:
    codes = gaming.PairCodes(7, n_posts=3)
    lo, hi = np.triu_indices(7, k=1)
    code = codes.encode(hi.astype(np.int64), lo.astype(np.int64))  # either way round
    np.testing.assert_array_equal(code, np.arange(21))
    back_lo, back_hi = codes.decode(code)
    np.testing.assert_array_equal(back_lo, lo)
    np.testing.assert_array_equal(back_hi, hi)


@pytest.mark.parametrize("seed", range(4))
def test_co_ratings_with_and_without_the_combined_key(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    rater = rng.integers(0, 30, n).astype(np.int32)
    post = rng.integers(0, 5, n).astype(np.int32)
    start = np.sort(rng.choice(n - 20, 600, replace=False)).astype(np.int64)
    reach = rng.integers(1, 20, len(start)).astype(np.int64)
    by_reach = np.argsort(-reach, kind="stable")
    start, reach = start[by_reach], reach[by_reach]
    combined = gaming.PairCodes(30, n_posts=5)
    separate = gaming.PairCodes(30, n_posts=5)
    separate.with_post = False
    fast = gaming._runs(*gaming._co_ratings(start, reach, rater, post[start], combined))
    plain = gaming._runs(*gaming._co_ratings(start, reach, rater, post[start], separate))
    for fast_part, plain_part in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(fast_part, plain_part)
    # The plain count: each (pair, post) once.
    seen = {
        (min(rater[i], rater[i + o]), max(rater[i], rater[i + o]), post[i])
        for i, r in zip(start, reach, strict=True)
        for o in range(1, r + 1)
        if rater[i] != rater[i + o]
    }
    assert fast[1].sum() == len(seen)


def test_distinct_items_and_dense_codes_match_np_unique() -> None:
    rng = np.random.default_rng(3)
    item = rng.integers(0, 50, 5000).astype(np.int32)
    rater = rng.integers(0, 80, 5000).astype(np.int32)
    totals, n_items = gaming._distinct_items(item, rater, 80)
    pairs = np.unique(item.astype(np.int64) * 80 + rater)
    assert n_items == len(pairs)
    np.testing.assert_array_equal(totals, np.bincount(pairs % 80, minlength=80))
    values, codes = gaming._dense_codes(rater, 100)
    expected_values, expected_codes = np.unique(rater, return_inverse=True)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(codes, expected_codes)


@pytest.mark.parametrize("seed", range(6))
def test_cell_medians_match_the_argsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 20_000
    # Large cell numbers round values that differ by ~1e-9 to the same key; clipped
    # values and exact repeats tie as well: the key order, ties by position, decides.
    cell = rng.integers(2**20, 2**20 + 300, n).astype(np.int64)
    value = rng.choice([-0.5, 0.25, 0.5, 9.0, -9.0], n) + rng.integers(0, 3, n) * 1e-9
    if seed % 2:
        value = value + rng.normal(0, 0.5, n)
    n_cells = int(cell.max()) + 1
    fast = collusion._cell_medians(cell, value, n_cells)
    key = cell * 16.0 + np.clip(value, -7.5, 7.5)
    plain = collusion._cell_medians_by_argsort(key, cell, value, np.full(n_cells, np.nan))
    np.testing.assert_array_equal(fast, plain)
    assert np.isfinite(fast).sum() > 100
