"""The engine's memory work changes no result, and the defects of issue 12, point 7 stay fixed."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from liveticker.scoring import factorization
from liveticker.scoring.brigades import BrigadeSpec, add_brigade, live_blog
from liveticker.scoring.cli import notes
from liveticker.scoring.data import Ratings
from liveticker.scoring.factorization import (
    NoteStatistics,
    RatingMatrix,
    fit,
    solve_notes,
)
from liveticker.scoring.pipeline import score
from liveticker.scoring.synth import PopulationSpec, generate

NOW = 1_768_000_000_000
STATUS_COLUMNS = ["coreRatingStatus", "finalRatingStatus", "decidedBy", "rules"]


@pytest.mark.parametrize(
    "spec",
    [
        PopulationSpec(n_ratings=30_000, brigades=1, seed=21),
        PopulationSpec(n_ratings=30_000, camp_a_share=0.35, random_share=0.1, seed=22),
        PopulationSpec(n_ratings=20_000, brigades=2, brigade_size=12, seed=23),
        # A burst: post-selection cliques and co-deviating groups both have work to do.
        PopulationSpec(n_ratings=20_000, brigades=1, note_span_minutes=60, rating_minutes=30),
    ],
    ids=["brigade", "minority-camp", "two-brigades", "burst"],
)
def test_float32_ratings_give_the_float64_statuses(spec: PopulationSpec) -> None:
    population = add_brigade(generate(spec), BrigadeSpec(size=10, style="mimic"))
    narrow = score(population.data, now_millis=NOW, seed=0)
    wide = score(population.data, now_millis=NOW, seed=0, dtype=np.float64)
    assert narrow.notes["finalRatingStatus"].nunique() > 1  # the comparison means something
    pd.testing.assert_frame_equal(narrow.notes[STATUS_COLUMNS], wide.notes[STATUS_COLUMNS])
    # Rating levels are exact in float32 and the products run in float64: not even the
    # parameters move.
    pd.testing.assert_frame_equal(narrow.notes, wide.notes, check_exact=True)
    pd.testing.assert_frame_equal(narrow.raters, wide.raters, check_exact=True)


def test_rating_matrix_keeps_only_its_compact_views(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factorization, "BLOCK_RATINGS", 600)  # several row blocks
    rng = np.random.default_rng(4)
    n = 5_000
    rater = np.r_[np.arange(100), rng.integers(0, 100, n - 100)].astype(np.int32)
    note = np.r_[rng.integers(0, 40, n - 40), np.arange(40)].astype(np.int32)
    value = rng.choice([0.0, 0.5, 1.0], n).astype(np.float32)
    matrix = RatingMatrix(rater=rater, note=note, value=value, n_raters=100, n_notes=40)
    sides = (matrix.by_rater, matrix.by_note)
    # Per rating, each orientation keeps its column indices and values: four arrays of
    # 4 bytes a rating. Its row blocks are views on them, and all count blocks share one
    # array of float64 ones, as long as the longest block only.
    assert all(s.indices.itemsize == 4 and s.values.itemsize == 4 for s in sides)
    ones = matrix.by_rater.counts[0].data
    assert ones.base is not None
    assert len(ones.base) < n // 2
    for side in sides:
        assert len(side.counts) > 3
        for counts, weighted in zip(side.counts, side.weighted, strict=True):
            assert np.shares_memory(counts.indices, side.indices)
            assert np.shares_memory(weighted.indices, side.indices)
            assert np.shares_memory(weighted.data, side.values)
            assert np.shares_memory(counts.data, ones)
    assert not hasattr(matrix, "__dict__") or not any(
        isinstance(v, np.ndarray) and len(v) == n for v in vars(matrix).values()
    )
    # The views still give back every rating (in the raters' order).
    order = np.lexsort((note, rater))
    kept = np.lexsort((matrix.note, matrix.rater))
    assert np.array_equal(matrix.rater[kept], rater[order])
    assert np.array_equal(matrix.note[kept], note[order])
    assert np.array_equal(matrix.value[kept], value[order])


def test_a_mask_keeping_every_rating_copies_nothing() -> None:
    ratings = generate(PopulationSpec(n_ratings=2_000, seed=1)).data.ratings
    assert ratings.subset(np.ones(len(ratings), dtype=bool)) is ratings
    fewer = ratings.subset(np.arange(len(ratings)) % 2 == 0)
    assert isinstance(fewer, Ratings)
    assert len(fewer) == (len(ratings) + 1) // 2


def test_a_rater_or_note_left_without_ratings_raises_no_warning() -> None:
    # Filtering can leave an index without ratings. Warnings are errors here: the solver
    # must not divide by a zero determinant at all (it used to, then hid the warning).
    rater = np.array([0, 0, 1, 1, 1], dtype=np.int32)
    note = np.array([0, 1, 0, 1, 0], dtype=np.int32)
    value = np.array([1.0, 0.0, 1.0, 0.5, 1.0])
    matrix = RatingMatrix(rater=rater, note=note, value=value, n_raters=3, n_notes=3)
    stats = NoteStatistics(
        count=np.array([3.0, 0.0]),
        sum_f=np.array([0.5, 0.0]),
        sum_ff=np.array([1.0, 0.0]),
        sum_y=np.array([1.2, 0.0]),
        sum_yf=np.array([0.4, 0.0]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        factors = fit(matrix, seed=0)
        # No penalty (an empty second fit): the empty note's system is all zeros.
        intercept, factor = solve_notes(stats, alpha_intercept=0.0, alpha_factor=0.0)
    assert np.isfinite(factors.rater_intercept).all()
    assert factors.rater_intercept[2] == 0.0  # no ratings: the penalty's own minimum
    assert factors.note_factor[2] == 0.0
    assert np.isfinite([intercept[0], factor[0]]).all()
    assert np.isnan([intercept[1], factor[1]]).all()


def test_a_small_run_raises_no_numpy_warning() -> None:
    # A population so small that the filters leave notes and raters without ratings.
    data = generate(PopulationSpec(n_ratings=400, seed=2)).data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = score(data, now_millis=NOW, seed=0)
    assert len(result.notes) == len(data.notes)


@pytest.mark.parametrize(
    ("n_ratings", "n_raters", "n_notes"),
    [(1_000, None, None), (5_000, None, None), (48_000, None, None), (900, 30, 30)],
)
def test_synth_writes_exactly_the_ratings_asked_for(
    n_ratings: int, n_raters: int | None, n_notes: int | None
) -> None:
    spec = PopulationSpec(n_ratings=n_ratings, n_raters=n_raters, n_notes=n_notes, seed=3)
    ratings = generate(spec).data.ratings
    assert len(ratings) == n_ratings
    pairs = ratings.note.astype(np.int64) * 10**6 + ratings.rater
    assert len(np.unique(pairs)) == n_ratings  # still one rating per rater and note
    assert set(np.unique(ratings.helpful_num)) <= {0.0, 0.5, 1.0}


def test_synth_tops_up_without_changing_the_ratings_drawn_first() -> None:
    exact = generate(PopulationSpec(n_ratings=5_000, seed=3)).data.ratings
    drawn = generate(PopulationSpec(n_ratings=5_000, seed=3, exact_count=False)).data.ratings
    assert len(drawn) < len(exact)
    for name in ("note", "rater", "created_at", "helpful_num", "helpful_tags"):
        assert np.array_equal(getattr(exact, name)[: len(drawn)], getattr(drawn, name))


def test_synth_counts_brigades_on_top_and_refuses_an_impossible_grid() -> None:
    spec = PopulationSpec(n_ratings=20_000, brigades=2, brigade_size=10, brigade_targets=8)
    assert len(generate(spec).data.ratings) == 20_000 + 2 * 10 * 8
    with pytest.raises(ValueError, match="do not fit 50 raters × 20 notes"):
        generate(PopulationSpec(n_ratings=1_001, seed=0))
    # The live-blog community keeps the shape its defences were tuned on.
    assert len(generate(live_blog(seed=1, rating_minutes=10)).data.ratings) < 2_160


def test_stabilization_timestamps_are_written_as_integer_millis() -> None:
    data = generate(PopulationSpec(n_ratings=20_000, seed=5)).data
    notes = score(data, now_millis=NOW + 123, seed=0).notes
    column = notes["timestampMillisOfNmrDueToMinStableCrhTime"]
    assert column.dtype == "Int64"
    assert column.notna().any()
    assert (column.dropna() == NOW + 123).all()
    text = io.StringIO()
    notes[["noteId", "timestampMillisOfNmrDueToMinStableCrhTime"]].to_csv(
        text, sep="\t", index=False, na_rep="", float_format="%.10g"
    )
    written = [line.split("\t")[1] for line in text.getvalue().splitlines()[1:]]
    assert set(written) == {"", str(NOW + 123)}


def test_notes_synth_writes_the_ratings_asked_for(tmp_path: Path) -> None:
    result = CliRunner().invoke(notes, ["synth", "--out", str(tmp_path), "--ratings", "1000"])
    assert result.exit_code == 0, result.output
    assert "1000 ratings" in result.output
    lines = (tmp_path / "ratings.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 1000
