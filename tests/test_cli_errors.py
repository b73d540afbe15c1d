"""Wrong invocations of the `liveticker` command: one clear line each, never a traceback.

The table is what an operator gets wrong: malformed input files, output paths that
exist, are missing or cannot be written, values over a limit, names the service would
have to change. Each row says what the error line must contain.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from liveticker.cli import main

PASSWORD = "long enough pw\n"


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database with an editor `ed` and a live blog `storm`, and files to point at."""
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("LIVETICKER_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(
        main, ["user", "create", "ed", "--role", "editor", "--password-stdin"], input=PASSWORD
    )
    assert made.exit_code == 0, made.output
    made = runner.invoke(
        main, ["blog", "create", "storm", "--title", "S", "--publish", "--as", "ed"]
    )
    assert made.exit_code == 0, made.output
    (tmp_path / "bad.json").write_text('{"body": "x",\n  oops}')
    (tmp_path / "latin1.json").write_bytes('{"body": "Café"}'.encode("latin-1"))
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "number.json").write_text('{"body": 5}')
    (tmp_path / "existing.txt").write_text("keep me")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something.tsv").write_text("x")
    (tmp_path / "scored.tsv").write_text(
        "coreNoteIntercept\tcoreNoteFactor1\tcoreRatingStatus\tfinalRatingStatus\n"
        "\t\tNEEDS_MORE_RATINGS\tNEEDS_MORE_RATINGS\n"
    )
    return tmp_path


EXPORT = ["notes", "export", "--out"]
SYNTH = ["notes", "synth", "--ratings", "200", "--out"]
PLOT = ["notes", "plot", "--scored", "scored.tsv", "--out"]
POST = ["post", "create", "storm", "--as", "ed"]

WRONG: list[tuple[list[str], str | bytes | None, str]] = [
    # post create: the --json file and the values in it
    ([*POST, "--json", "bad.json"], None, "bad.json:2:3: not valid JSON"),
    ([*POST, "--json", "latin1.json"], None, "latin1.json: not UTF-8 text (byte 13)"),
    ([*POST, "--json", "-"], "{\x00", "standard input:1:2: not valid JSON"),
    ([*POST, "--json", "list.json"], None, "--json must hold a JSON object"),
    ([*POST, "--json", "missing.json"], None, "missing.json: No such file or directory"),
    ([*POST, "--json", "number.json"], None, "body: must be text"),
    ([*POST, "--headline", "h" * 300, "--body", "x"], None, "headline: at most 200 characters"),
    ([*POST, "--body", ""], None, "body"),
    ([*POST, "--publish-at", "tomorrow", "--body", "x"], None, "publish_at"),
    ([*POST, "--body", "-"], b"caf\xe9", "the input is not UTF-8 text (byte 3)"),
    (
        ["user", "create", "ana", "--password-stdin"],
        b"pass\xffword long\n",
        "the input is not UTF-8 text (byte 4)",
    ),
    # names the service would otherwise change quietly
    (
        ["user", "create", "Bad_Name", "--role", "editor", "--password-stdin"],
        PASSWORD,
        "usernames are lowercase: use 'bad_name'",
    ),
    # output folders and files: existing, missing, not writable
    ([*EXPORT, "existing.txt"], None, "existing.txt is a file; give a folder"),
    ([*EXPORT, "full"], None, "full is not empty; give a new or empty folder"),
    ([*EXPORT, "nowhere/deeper/out"], None, "folder nowhere/deeper does not exist"),
    ([*EXPORT, "existing.txt/out"], None, "existing.txt is a file, not a folder"),
    ([*SYNTH, "existing.txt"], None, "existing.txt is a file; give a folder"),
    ([*SYNTH, "nowhere/out"], None, "folder nowhere does not exist"),
    ([*SYNTH, "/proc/liveticker-cannot-write"], None, "/proc"),
    ([*PLOT, "existing.txt"], None, "existing.txt exists already; pass --force"),
    ([*PLOT, "full"], None, "full is a folder; give the name of a file"),
    ([*PLOT, "nowhere/plot.png"], None, "folder nowhere does not exist"),
    (["notes", "plot", "--scored", "full/something.tsv", "--out", "p.png"], None, "not a scored"),
    (["notes", "plot", "--scored", "scored.tsv", "--out", "p.png"], None, "nothing to draw"),
    (
        ["notes", "score", "--notes", "missing.tsv", "--ratings", "full", "--out", "o"],
        None,
        "missing.tsv' does not exist",
    ),
]


@pytest.mark.parametrize(
    ("args", "stdin", "expected"), WRONG, ids=[" ".join(row[0])[:60] for row in WRONG]
)
def test_wrong_invocation_is_one_clear_line(
    place: Path, args: list[str], stdin: str | bytes | None, expected: str
) -> None:
    before = sorted(p.name for p in place.rglob("*"))
    result = CliRunner().invoke(main, args, input=stdin)
    # No exception escaped the command: click ended it with a message and an exit code.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert expected in result.output, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1, result.output
    # A refused command leaves no file behind (the database may have been touched).
    after = sorted(p.name for p in place.rglob("*") if not p.name.startswith("cli.db"))
    assert after == [name for name in before if not name.startswith("cli.db")]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["export", "--out", "-"]])
def test_a_database_from_a_newer_liveticker_is_one_clear_line(
    place: Path, command: list[str]
) -> None:
    import sqlite3

    with contextlib.closing(sqlite3.connect(place / "cli.db")) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0999'")
        raw.commit()
    result = CliRunner().invoke(main, command)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert "has a schema this version of Liveticker does not know" in result.output
    assert "'0999'" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
