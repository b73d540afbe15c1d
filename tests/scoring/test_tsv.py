"""The columnar TSV reader: typed columns, gzip, directories, the text reader's errors,
and the same engine input and statuses as reading every column as text."""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from liveticker.scoring.cli import _Stages, notes
from liveticker.scoring.data import HELPFUL_TAGS, ScoringInput
from liveticker.scoring.errors import ScoringInputError
from liveticker.scoring.pipeline import score
from liveticker.scoring.synth import PopulationSpec, generate, to_frames
from liveticker.scoring.tables import (
    NOTES_COLUMNS,
    PACKED_TAG_COLUMNS,
    RATINGS_COLUMNS,
    input_from_frames,
)
from liveticker.scoring.tsv import _zero_one_bits, read_notes, read_ratings, write_tsv

NOW = 1_768_000_000_000
RATER_A = "1776F09FD2CF91CA000000000000000000000000000000000000000000008BCB"
RATER_B = "3EF7FCBBCB0F03E200000000000000000000000000000000000000000000AECC"


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic population in X's full layout (every column), ratings in one file."""
    out = tmp_path_factory.mktemp("population")
    frames = to_frames(generate(PopulationSpec(n_ratings=30_000, brigades=1, seed=5)))
    for name in ("notes", "ratings", "userEnrollment"):
        write_tsv(frames[name], out / f"{name}.tsv")
    return out


def _text_frame(path: Path) -> pd.DataFrame:
    """Every column as text, as the reader before pyarrow gave them to the engine."""
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    lines = ["\t".join(columns)]
    lines += ["\t".join(row.get(column, "0") for column in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _rating(**values: str) -> dict[str, str]:
    base = {
        "noteId": "1800000000000000001",
        "raterParticipantId": RATER_A,
        "createdAtMillis": "1768000000000",
        "helpfulnessLevel": "HELPFUL",
        "ratedOnTweetId": "1900000000000000001",
        "ratingSourceBucketed": "DEFAULT",
        "suggestion": "",
        "suggestionId": "",
    }
    return {**base, **values}


def _note(**values: str) -> dict[str, str]:
    base = {
        "noteId": "1800000000000000001",
        "noteAuthorParticipantId": RATER_B,
        "createdAtMillis": "1767000000000",
        "tweetId": "1900000000000000001",
        "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
        "summary": "a note",
    }
    return {**base, **values}


def _assert_same_input(left: ScoringInput, right: ScoringInput) -> None:
    assert left.participants.dtype == right.participants.dtype == object
    assert list(left.participants) == list(right.participants)
    for part in ("notes", "ratings"):
        a, b = getattr(left, part), getattr(right, part)
        for field in fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            assert x.dtype == y.dtype, (part, field.name)
            assert np.array_equal(x, y, equal_nan=True), (part, field.name)


def test_columns_come_typed_without_text_parsing(tmp_path: Path) -> None:
    ratings = _write(
        tmp_path / "ratings.tsv",
        RATINGS_COLUMNS,
        [
            _rating(helpfulOther="1", notHelpfulIncorrect="0"),
            _rating(raterParticipantId=RATER_B, helpfulnessLevel="NOT_HELPFUL"),
        ],
    )
    frame = read_ratings(ratings)
    assert list(frame.columns) == [
        "noteId",
        "raterParticipantId",
        "createdAtMillis",
        "helpfulnessLevel",
        *PACKED_TAG_COLUMNS,
    ]
    assert frame["noteId"].dtype == np.int64
    assert frame["noteId"].iloc[0] == 1_800_000_000_000_000_001  # beyond float precision
    assert frame["createdAtMillis"].dtype == np.int64
    assert isinstance(frame["raterParticipantId"].dtype, pd.CategoricalDtype)
    assert list(frame["raterParticipantId"]) == [RATER_A, RATER_B]
    assert isinstance(frame["helpfulnessLevel"].dtype, pd.CategoricalDtype)
    assert list(frame["helpfulnessLevel"]) == ["HELPFUL", "NOT_HELPFUL"]
    # The 22 tag columns arrive packed, bit i for the i-th tag of X's order.
    assert all(frame[name].dtype == np.uint16 for name in PACKED_TAG_COLUMNS)
    assert list(frame["helpfulTagMask"]) == [1 << HELPFUL_TAGS.index("helpfulOther"), 0]
    assert list(frame["notHelpfulTagMask"]) == [0, 0]

    notes_file = _write(tmp_path / "notes.tsv", NOTES_COLUMNS, [_note()])
    note_frame = read_notes(notes_file)
    assert note_frame["tweetId"].dtype == np.int64
    assert note_frame["tweetId"].iloc[0] == 1_900_000_000_000_000_001
    assert isinstance(note_frame["classification"].dtype, pd.CategoricalDtype)
    assert isinstance(note_frame["noteAuthorParticipantId"].dtype, pd.CategoricalDtype)


def test_odd_values_give_what_the_text_reader_gave(tmp_path: Path) -> None:
    """Tags that are not 0/1, a blank tweet id: the engine's input is the one the text
    columns give, value for value."""
    odd_tags = ["", "1", "0", "3", "x", "1.0", "-1", "2"]
    rows = [
        _rating(
            raterParticipantId=f"R{row}",
            createdAtMillis=str(1768000000000 + row),
            helpfulInformative=value,
            notHelpfulOther=odd_tags[-row - 1],
        )
        for row, value in enumerate(odd_tags)
    ]
    rows.append(_rating(noteId="1800000000000000002", raterParticipantId="R9"))
    ratings = _write(tmp_path / "ratings.tsv", RATINGS_COLUMNS, rows)
    notes_file = _write(
        tmp_path / "notes.tsv",
        NOTES_COLUMNS,
        [
            _note(),
            _note(noteId="1800000000000000002", tweetId="", classification="NOT_MISLEADING"),
        ],
    )
    typed = input_from_frames(notes=read_notes(notes_file), ratings=read_ratings(ratings))
    text = input_from_frames(notes=_text_frame(notes_file), ratings=_text_frame(ratings))
    assert list(typed.ratings.helpful_tags) == [0, 2, 0, 2, 0, 2, 2, 0, 0]
    assert list(typed.notes.tweet_id) == [1_900_000_000_000_000_001, -1]
    _assert_same_input(typed, text)


def test_an_integer_written_as_12_0_is_read(tmp_path: Path) -> None:
    """The text reader let '….0' through its check and then failed with a traceback."""
    ratings = _write(
        tmp_path / "ratings.tsv", RATINGS_COLUMNS, [_rating(noteId="1800000000000000002.0")]
    )
    assert list(read_ratings(ratings)["noteId"]) == [1_800_000_000_000_000_002]


def test_synthetic_population_same_input_and_statuses_as_text_columns(
    population: Path,
) -> None:
    notes_file, ratings_file = population / "notes.tsv", population / "ratings.tsv"
    typed = input_from_frames(notes=read_notes(notes_file), ratings=read_ratings(ratings_file))
    text_notes, text_ratings = _text_frame(notes_file), _text_frame(ratings_file)
    text = input_from_frames(notes=text_notes, ratings=text_ratings)
    # Participants numbered as one factorization of rater then author ids always was.
    _, expected = pd.factorize(
        np.concatenate(
            [
                text_ratings["raterParticipantId"].to_numpy(dtype=object),
                text_notes["noteAuthorParticipantId"].to_numpy(dtype=object),
            ]
        )
    )
    assert list(typed.participants) == list(expected)
    _assert_same_input(typed, text)
    first = score(typed, now_millis=NOW, seed=0).notes
    second = score(text, now_millis=NOW, seed=0).notes
    assert (first["coreRatingStatus"] == "CURRENTLY_RATED_HELPFUL").sum() > 20
    for column in ("noteId", "coreRatingStatus", "finalRatingStatus", "decidedBy"):
        assert list(first[column]) == list(second[column])


def test_gzip_and_a_directory_of_several_files(population: Path, tmp_path: Path) -> None:
    whole = read_ratings(population / "ratings.tsv")
    lines = (population / "ratings.tsv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    folder = tmp_path / "ratings"
    folder.mkdir()
    thirds = np.array_split(np.arange(len(rows)), 3)
    for number, part in enumerate(thirds):
        text = "\n".join([header, *(rows[i] for i in part)]) + "\n"
        if number == 1:
            with gzip.open(folder / f"ratings-{number:05d}.tsv.gz", "wt") as handle:
                handle.write(text)
        else:
            (folder / f"ratings-{number:05d}.tsv").write_text(text)
    (folder / "ratings-00003.tsv").write_text(header + "\n")  # a header only
    (folder / "README.txt").write_text("not a ratings file")
    done: list[str] = []
    split = read_ratings(folder, file_done=lambda file: done.append(file.name))
    assert sorted(done) == [
        "ratings-00000.tsv",
        "ratings-00001.tsv.gz",
        "ratings-00002.tsv",
        "ratings-00003.tsv",
    ]
    # Rater ids coded across files in order of first appearance, each once.
    first_seen = list(dict.fromkeys(whole["raterParticipantId"].astype(object)))
    assert list(split["raterParticipantId"].cat.categories) == first_seen
    pd.testing.assert_frame_equal(
        split.astype({"raterParticipantId": object, "helpfulnessLevel": object}),
        whole.astype({"raterParticipantId": object, "helpfulnessLevel": object}),
    )
    notes_gz = tmp_path / "notes.tsv.gz"
    with open(population / "notes.tsv", "rb") as source, gzip.open(notes_gz, "wb") as target:
        shutil.copyfileobj(source, target)
    pd.testing.assert_frame_equal(read_notes(notes_gz), read_notes(population / "notes.tsv"))


def test_errors_name_file_line_and_column(tmp_path: Path) -> None:
    def error_of(rows: list[dict[str, str]], name: str = "ratings.tsv") -> str:
        path = _write(tmp_path / name, RATINGS_COLUMNS, rows)
        with pytest.raises(ScoringInputError) as caught:
            read_ratings(path)
        return str(caught.value).removeprefix(f"{path}:")

    # pyarrow would read ' 5' and '0x1' as integers; the text reader's rule stands.
    assert error_of([_rating(), _rating(createdAtMillis=" 5")]) == (
        "3:3: createdAtMillis must be an integer, found ' 5'"
    )
    assert error_of([_rating(noteId="0x1")]) == "2:1: noteId must be an integer, found '0x1'"
    assert error_of([_rating(noteId="99999999999999999999")]) == (
        "2:1: noteId must be a 64-bit integer, found '99999999999999999999'"
    )
    assert error_of([_rating(), _rating(), _rating(helpfulnessLevel="helpful")]) == (
        "4:9: helpfulnessLevel must be one of HELPFUL, SOMEWHAT_HELPFUL, NOT_HELPFUL, "
        "found 'helpful'"
    )
    # Integers are checked before levels, whatever the row, as before.
    assert error_of([_rating(helpfulnessLevel="x"), _rating(noteId="n")]).startswith("3:1:")
    gz = tmp_path / "bad.tsv.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write("noteId\tparticipant\n")
    with pytest.raises(ScoringInputError) as caught:
        read_ratings(gz)
    assert str(caught.value) == (
        f"{gz}:1:2: expected column 'raterParticipantId', found 'participant'"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScoringInputError, match=r"holds no \.tsv or \.tsv\.gz file"):
        read_ratings(empty)


def test_rows_too_long_or_short_as_the_text_reader_read_them(tmp_path: Path) -> None:
    """pyarrow refuses such rows; the text reader takes over with its outcome of before:
    missing fields read as NaN, an extra one (past the first row) ignored."""
    rows = [_rating(helpfulClear="1"), _rating(raterParticipantId=RATER_B, helpfulClear="1")]
    ratings = _write(tmp_path / "ratings.tsv", RATINGS_COLUMNS, [*rows, rows[0]])
    lines = ratings.read_text().splitlines()
    short = "\t".join(lines[2].split("\t")[:11])  # up to helpfulInformative
    ratings.write_text("\n".join([lines[0], lines[1], short, lines[3]]) + "\n")
    notes_file = _write(tmp_path / "notes.tsv", NOTES_COLUMNS, [_note()])
    typed = input_from_frames(notes=read_notes(notes_file), ratings=read_ratings(ratings))
    text = input_from_frames(notes=_text_frame(notes_file), ratings=_text_frame(ratings))
    assert list(typed.ratings.helpful_tags) == [0, 4]  # RATER_B's clear tag is gone
    _assert_same_input(typed, text)

    ratings.write_text("\n".join([*lines[:3], lines[3] + "\textra"]) + "\n")
    clear = 1 << HELPFUL_TAGS.index("helpfulClear")
    assert list(read_ratings(ratings)["helpfulTagMask"]) == [clear] * 3  # extra field ignored


def test_the_first_bad_file_of_a_directory_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "ratings"
    folder.mkdir()
    _write(folder / "ratings-00000.tsv", RATINGS_COLUMNS, [_rating()])
    _write(folder / "ratings-00001.tsv", RATINGS_COLUMNS, [_rating(noteId="x")])
    _write(folder / "ratings-00002.tsv", RATINGS_COLUMNS, [_rating(noteId="y")])
    with pytest.raises(ScoringInputError) as caught:
        read_ratings(folder)
    assert str(caught.value).startswith(f"{folder / 'ratings-00001.tsv'}:2:1: noteId")
    # A bad first file stops the reading (Executor.map cancels the files not started
    # when its error is raised): the error comes at once, not after the other files.
    for number in range(3, 40):
        _write(folder / f"ratings-{number:05d}.tsv", RATINGS_COLUMNS, [_rating()])
    (folder / "ratings-00000.tsv").write_text("not a header\n")
    done: list[Path] = []
    with pytest.raises(ScoringInputError, match=re.escape("ratings-00000.tsv:1:1")):
        read_ratings(folder, file_done=done.append)
    assert len(done) < 10, len(done)


def test_score_prints_both_status_kinds_and_timings(population: Path, tmp_path: Path) -> None:
    gz = tmp_path / "ratings.tsv.gz"
    with open(population / "ratings.tsv", "rb") as source, gzip.open(gz, "wb") as target:
        shutil.copyfileobj(source, target)
    args = ["score", "--notes", str(population / "notes.tsv"), "--ratings", str(gz)]
    args += ["--out", str(tmp_path / "out"), "--now", str(NOW), "--timings"]
    result = CliRunner().invoke(notes, args)
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "out" / "scored_notes.tsv", sep="\t")
    lines = result.output.splitlines()
    final = lines.index("final statuses (finalRatingStatus, what readers are shown):")
    core = next(i for i, line in enumerate(lines) if line.startswith("core statuses"))
    helpful = (scored["coreRatingStatus"] == "CURRENTLY_RATED_HELPFUL").sum()
    assert helpful > 0
    assert f"  CURRENTLY_RATED_HELPFUL: {helpful}" in lines[core:]
    assert "  CURRENTLY_RATED_HELPFUL: 0" in lines[final:core]  # stabilization, first run
    timings = lines[lines.index("timings:") + 1 :]
    stages = [line.split(":")[0].strip() for line in timings]
    assert stages[:3] == ["read notes", "read ratings", "prepare input"]
    assert {"first fit", "results", "write results", "total"} <= set(stages)
    # Each stage gives its seconds and the peak memory so far, which never goes down.
    figures = [
        re.fullmatch(r"  .+: (\d+\.\d\d) s, peak ([\d,]+) MB", line) for line in timings[:-1]
    ]
    assert all(figures), timings
    peaks = [int(match.group(2).replace(",", "")) for match in figures if match]
    assert peaks == sorted(peaks)
    assert peaks[0] > 0
    assert re.fullmatch(r"  total: \d+\.\d\d s", timings[-1])


def test_stages_draw_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    with _Stages(interactive=False) as quiet:
        quiet.start("read ratings", total=10)
        quiet.advance(10)
        quiet.start("first fit")
        quiet.end()
    assert list(quiet.timings) == ["read ratings", "first fit"]
    assert capsys.readouterr().err == ""
    with _Stages(interactive=True) as shown:
        shown.start("read ratings", total=10)
        shown.advance(10)
        shown.end()
    assert "read ratings" in capsys.readouterr().err


@pytest.mark.parametrize("seed", range(6))
def test_latest_rating_per_pair_is_what_sorting_everything_gives(seed: int) -> None:
    """The shortcut (only repeated pairs sorted by time) keeps what sorting all kept."""
    from liveticker.scoring.tables import latest_per_pair

    rng = np.random.default_rng(seed)
    n, n_notes, n_raters = 5_000, 60, 80  # dense enough for many repeated pairs
    note = rng.integers(0, n_notes, n)
    rater = rng.integers(0, n_raters, n)
    created = rng.integers(0, 50, n)  # coarse times: ties happen
    rows = np.flatnonzero(rng.random(n) < 0.9)
    order = rows[np.argsort(created[rows], kind="stable")]
    pair = note[order].astype(np.int64) * n_raters + rater[order]
    _, last_reversed = np.unique(pair[::-1], return_index=True)
    expected = np.sort(order[len(order) - 1 - last_reversed])
    got = latest_per_pair(rows, note=note, rater=rater, created=created, n_raters=n_raters)
    assert np.array_equal(got, expected)
    # With no pair repeated, every row is kept, in order.
    each_own = np.arange(n)
    kept = latest_per_pair(
        rows, note=each_own, rater=np.zeros(n, dtype=np.int64), created=created, n_raters=1
    )
    assert np.array_equal(kept, rows)
    # None stands for every row, in and out: X's files need no copy of the ratings.
    alone = np.zeros(n, dtype=np.int64)
    assert latest_per_pair(None, note=each_own, rater=alone, created=created, n_raters=1) is None
    all_rows = latest_per_pair(None, note=note, rater=rater, created=created, n_raters=n_raters)
    listed = latest_per_pair(
        np.arange(n), note=note, rater=rater, created=created, n_raters=n_raters
    )
    assert all_rows is not None
    assert listed is not None
    assert np.array_equal(all_rows, listed)


def test_a_truncated_gzip_file_is_one_clear_line(population: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.tsv.gz"
    with open(population / "ratings.tsv", "rb") as source, gzip.open(whole, "wb") as target:
        shutil.copyfileobj(source, target)
    cut = tmp_path / "cut.tsv.gz"
    cut.write_bytes(whole.read_bytes()[:3000])  # the header is in, the stream ends early
    args = ["score", "--notes", str(population / "notes.tsv"), "--ratings", str(cut)]
    result = CliRunner().invoke(notes, [*args, "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {cut}:")
    assert "end-of-stream" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["0", "1", "1", "0", "1"], [0, 1, 1, 0, 1]),
        (["1", "0", "10", "1"], None),  # two characters
        (["1", "", "1"], None),  # an empty field
        (["1", "/", "0"], None),  # the character just below "0"
        (["1", "2", "0"], None),
        (["0", "1", "é"], None),
    ],
)
def test_zero_one_tags_are_read_from_the_string_buffers(
    values: list[str], expected: list[int] | None
) -> None:
    array = pa.array(values, type=pa.string())
    bits = _zero_one_bits(array)
    assert (None if bits is None else bits.to_pylist()) == expected
    if expected is not None:
        assert bits is not None
        assert bits.type == pa.int8()
        # A slice starts inside the buffers: offsets and data are taken from its offset.
        sliced = _zero_one_bits(array.slice(1, 3))
        assert sliced is not None
        assert sliced.to_pylist() == expected[1:4]


def test_written_files_are_the_bytes_pandas_wrote(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "noteId": np.array([1, 2, 3, 4], dtype=np.int64),
            "count": np.array([0, 7, -1, 2**31 - 1], dtype=np.int32),
            "intercept": [0.123456789012345, np.nan, -0.0, 1e-12],
            "factor": np.array([np.inf, -np.inf, 3.0, 2.5], dtype=np.float32),
            "millis": pd.array([1_795_792_057_123, None, 5, None], dtype="Int64"),
            "flag": [True, False, True, True],
            "status": pd.array(["CURRENTLY_RATED_HELPFUL", None, "", "x"], dtype="string"),
            "objects": np.array(["a", None, "b", 5], dtype=object),
            "level": pd.Categorical(["HELPFUL", "NOT_HELPFUL", "HELPFUL", "SOMEWHAT_HELPFUL"]),
        }
    )
    expected = frame.to_csv(None, sep="\t", index=False, na_rep="", float_format="%.10g")
    write_tsv(frame, tmp_path / "out.tsv")
    assert (tmp_path / "out.tsv").read_bytes() == expected.encode()
    # A value that would need quoting is left to pandas, which quotes it.
    tabbed = frame.assign(status=["a\tb", "", "", ""])
    expected = tabbed.to_csv(None, sep="\t", index=False, na_rep="", float_format="%.10g")
    write_tsv(tabbed, tmp_path / "tabbed.tsv")
    assert (tmp_path / "tabbed.tsv").read_text() == expected
