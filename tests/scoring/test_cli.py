"""`liveticker notes …` end to end: TSV files in X's format in, TSV files and a picture out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from liveticker.scoring.cli import notes
from liveticker.scoring.errors import ScoringInputError
from liveticker.scoring.tables import HISTORY_COLUMNS, NOTES_COLUMNS, RATINGS_COLUMNS
from liveticker.scoring.tsv import read_notes, read_ratings

NOW = 1_768_000_000_000
MINUTE = 60_000


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    result = CliRunner().invoke(
        notes, ["synth", "--out", str(out), "--ratings", "30000", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    return out


def _score(population: Path, out: Path, now: int, status: Path | None = None) -> pd.DataFrame:
    args = [
        "score",
        "--notes",
        str(population / "notes.tsv"),
        "--ratings",
        str(population / "ratings.tsv"),
        "--enrollment",
        str(population / "userEnrollment.tsv"),
        "--out",
        str(out),
        "--now",
        str(now),
    ]
    if status is not None:
        args += ["--status", str(status)]
    result = CliRunner().invoke(notes, args)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "scored_notes.tsv", sep="\t")


def test_synth_writes_x_format_with_truth(population: Path) -> None:
    assert list(pd.read_csv(population / "notes.tsv", sep="\t", nrows=1).columns) == list(
        NOTES_COLUMNS
    )
    assert list(pd.read_csv(population / "ratings.tsv", sep="\t", nrows=1).columns) == list(
        RATINGS_COLUMNS
    )
    truth = pd.read_csv(population / "truth_notes.tsv", sep="\t")
    assert set(truth["kind"]) == {"both", "camp_a", "camp_b", "neither"}


def test_score_writes_outputs_and_history_continues_with_stabilization(
    population: Path, tmp_path: Path
) -> None:
    first = _score(population, tmp_path / "run1", NOW)
    for column in (
        "noteId",
        "numRatings",
        "coreNoteIntercept",
        "coreNoteFactor1",
        "coreNoteInterceptMin",
        "coreNoteInterceptMax",
        "coreRatingStatus",
        "finalRatingStatus",
        "decidedBy",
        "rules",
    ):
        assert column in first.columns
    raters = pd.read_csv(tmp_path / "run1" / "helpfulness_scores.tsv", sep="\t")
    assert {
        "raterParticipantId",
        "coreRaterIntercept",
        "coreRaterFactor1",
        "raterAgreeRatio",
        "included",
    } <= set(raters.columns)
    history = tmp_path / "run1" / "note_status_history.tsv"
    assert list(pd.read_csv(history, sep="\t", nrows=1).columns) == list(HISTORY_COLUMNS)
    helpful_core = first["coreRatingStatus"] == "CURRENTLY_RATED_HELPFUL"
    assert helpful_core.sum() > 20
    assert (first.loc[helpful_core, "finalRatingStatus"] == "NEEDS_MORE_RATINGS").all()

    second = _score(population, tmp_path / "run2", NOW + 10 * MINUTE, history)
    assert (second["finalRatingStatus"] != "CURRENTLY_RATED_HELPFUL").all()
    third = _score(
        population,
        tmp_path / "run3",
        NOW + 31 * MINUTE,
        tmp_path / "run2" / "note_status_history.tsv",
    )
    shown = third["finalRatingStatus"] == "CURRENTLY_RATED_HELPFUL"
    assert shown.sum() >= 0.9 * helpful_core.sum()
    assert set(third.loc[shown, "noteId"]) <= set(first.loc[helpful_core, "noteId"])
    history3 = pd.read_csv(tmp_path / "run3" / "note_status_history.tsv", sep="\t")
    assert len(history3) == len(first)
    crh = history3[history3["currentStatus"] == "CURRENTLY_RATED_HELPFUL"]
    assert (crh["timestampMillisOfFirstNonNMRStatus"] == NOW + 31 * MINUTE).all()
    assert (crh["timestampMillisOfFirstNmrDueToMinStableCrhTime"] == NOW).all()


def test_reader_rejects_wrong_columns_with_position(population: Path, tmp_path: Path) -> None:
    text = (population / "notes.tsv").read_text()
    bad = tmp_path / "notes.tsv"
    bad.write_text(text.replace("\ttweetId\t", "\tpostId\t", 1))
    with pytest.raises(ScoringInputError) as error:
        read_notes(bad)
    assert str(error.value) == f"{bad}:1:4: expected column 'tweetId', found 'postId'"
    swapped = tmp_path / "ratings.tsv"
    lines = (population / "ratings.tsv").read_text().splitlines()
    swapped.write_text("\n".join([lines[0].rsplit("\t", 1)[0], *lines[1:3]]) + "\n")
    with pytest.raises(ScoringInputError, match=r":1:35: missing column 'suggestionId'"):
        read_ratings(swapped)


def test_reader_reports_bad_values_by_line_and_column(population: Path, tmp_path: Path) -> None:
    lines = (population / "ratings.tsv").read_text().splitlines()
    fields = lines[3].split("\t")
    fields[8] = "VERY_HELPFUL"
    lines[3] = "\t".join(fields)
    bad = tmp_path / "ratings.tsv"
    bad.write_text("\n".join(lines[:10]) + "\n")
    with pytest.raises(
        ScoringInputError, match=r"ratings.tsv:4:9: helpfulnessLevel must be one of"
    ):
        read_ratings(bad)


def test_cli_error_is_a_message_not_a_traceback(population: Path, tmp_path: Path) -> None:
    lines = (population / "notes.tsv").read_text().splitlines()
    lines[2] = "12x" + lines[2].split("\t", 1)[1]
    bad = tmp_path / "notes.tsv"
    bad.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        notes,
        [
            "score",
            "--notes",
            str(bad),
            "--ratings",
            str(population / "ratings.tsv"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code != 0
    assert f"{bad}:3:1: noteId must be an integer" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_plot_draws_a_png(population: Path, tmp_path: Path) -> None:
    _score(population, tmp_path / "run", NOW)
    picture = tmp_path / "notes.png"
    result = CliRunner().invoke(
        notes, ["plot", "--scored", str(tmp_path / "run"), "--out", str(picture)]
    )
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000
