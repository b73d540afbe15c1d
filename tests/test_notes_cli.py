"""`liveticker notes run` and `notes export`, the public daily download and its routes, and
the round trip: the exported files, scored by `notes score`, give the statuses shown."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.cli import main
from liveticker.domain import leases, notes, notes_run, posts, users
from liveticker.domain.accounts import Actor
from liveticker.live import notes_runner
from liveticker.scoring.tables import (
    ENROLLMENT_COLUMNS,
    HISTORY_COLUMNS,
    NOTES_COLUMNS,
    RATINGS_COLUMNS,
)
from liveticker.storage.database import Database
from liveticker.storage.models import Note, NotesRun, Post, User
from liveticker.web.app import create_app
from tests.domain.test_notes_run import (
    BASE,
    FIRST_RUN,
    MINUTE_MS,
    Population,
    build,
    settings_for,
)

SHOWN_AT = FIRST_RUN + 31 * MINUTE_MS
COLUMNS = {
    "notes": NOTES_COLUMNS,
    "ratings": RATINGS_COLUMNS,
    "noteStatusHistory": HISTORY_COLUMNS,
    "userEnrollment": ENROLLMENT_COLUMNS,
}


@pytest.fixture
def population(database: Database, monkeypatch: pytest.MonkeyPatch) -> Population:
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", database.url)
    return build(database)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def stored_statuses(database: Database) -> dict[int, str]:
    with database.transaction(write=False) as session:
        return {
            note_id: status for note_id, status in session.execute(select(Note.id, Note.status))
        }


def test_run_prints_one_line_and_skips_when_nothing_changed(population: Population) -> None:
    code, out = cli("notes", "run", "--now", str(FIRST_RUN))
    assert code == 0, out
    assert out.count("\n") == 1
    assert out.startswith("run 1: scored 19 notes from 570 ratings (")
    assert "3 CURRENTLY_RATED_NOT_HELPFUL" in out
    assert all(f"{stage} " in out for stage in ("read", "score", "write"))
    code, out = cli("notes", "run", "--now", str(FIRST_RUN + 10 * MINUTE_MS))
    assert code == 0, out
    assert out.startswith("not scored: nothing changed since the last run")
    code, out = cli("notes", "run", "--now", str(SHOWN_AT))
    assert out.startswith("run 2: ")
    assert "2 status changes, 1 posts updated" in out
    code, out = cli("notes", "run", "--now", str(SHOWN_AT), "--force")
    assert out.startswith("run 3: ")


def test_run_refuses_while_another_process_holds_the_lease(
    database: Database, population: Population
) -> None:
    with database.transaction() as session:
        leases.claim(session, name=notes_run.LEASE, holder="web-1", seconds=60)
    code, out = cli("notes", "run")
    assert code == 1
    assert out == "Error: not scored: another process holds the scorer's lease\n"


def test_bad_arguments_end_in_one_line(tmp_path: Path, population: Population) -> None:
    code, out = cli("notes", "run", "--now", "-5")
    assert code == 2
    assert "--now" in out
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    code, out = cli("notes", "export", "--out", str(tmp_path / "full"))
    assert (code, out) == (
        1,
        f"Error: --out: {tmp_path / 'full'} is not empty; give a new or empty folder\n",
    )
    (tmp_path / "file").write_text("x")
    code, out = cli("notes", "export", "--out", str(tmp_path / "file"))
    assert (code, out) == (1, f"Error: --out: {tmp_path / 'file'} is a file; give a folder\n")
    code, out = cli("notes", "export", "--out", str(tmp_path / "file" / "below"))
    assert (code, out) == (1, f"Error: --out: {tmp_path / 'file'} is a file, not a folder\n")


def test_a_database_that_is_not_there_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code, out = cli("notes", "run")
    assert code == 1
    assert out.startswith("Error: PostgreSQL at 127.0.0.1:1 (database none) did not answer")
    assert out.count("\n") == 1


def _shown_after_a_suspension_and_a_removal(database: Database, population: Population) -> None:
    """Two runs (the bridging notes show), then a suspended rater, a removed note, a
    deleted post, and a third run: the service's statuses to reproduce."""
    cli("notes", "run", "--now", str(FIRST_RUN))
    cli("notes", "run", "--now", str(SHOWN_AT))
    with database.transaction() as session:
        admin = Actor.of(session.get_one(User, population.admin))
        editor = Actor.of(session.get_one(User, population.editor))
        users.set_active(
            session, actor=admin, user=session.get_one(User, population.camp_b[3]), active=False
        )
        notes.remove_note(
            session, actor=admin, note=session.get_one(Note, population.bad[2]), reason="order"
        )
        posts.delete_post(session, actor=editor, post=session.get_one(Post, population.posts[1]))
    code, out = cli("notes", "run", "--now", str(SHOWN_AT + MINUTE_MS))
    assert code == 0, out
    assert out.startswith("run 3: ")


@pytest.mark.parametrize("public", [False, True])
def test_export_then_score_gives_the_statuses_the_service_shows(
    database: Database, population: Population, tmp_path: Path, public: bool
) -> None:
    _shown_after_a_suspension_and_a_removal(database, population)
    out = tmp_path / "export"
    code, said = cli("notes", "export", "--out", str(out), *(["--public"] if public else []))
    assert code == 0, said
    now = SHOWN_AT + MINUTE_MS
    assert said.endswith(f"as of --now {now}\n")  # the last run's time
    for name, columns in COLUMNS.items():
        header = (out / f"{name}.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split("\t") == list(columns), name
    code, said = cli(
        "notes", "score",
        "--notes", str(out / "notes.tsv"),
        "--ratings", str(out / "ratings.tsv"),
        "--status", str(out / "noteStatusHistory.tsv"),
        "--enrollment", str(out / "userEnrollment.tsv"),
        "--out", str(tmp_path / "scored"),
        "--now", str(now),
    )  # fmt: skip
    assert code == 0, said
    scored = {
        int(row["noteId"]): row["finalRatingStatus"]
        for row in table(tmp_path / "scored" / "scored_notes.tsv")
    }
    shown = stored_statuses(database)
    assert scored == {note_id: shown[note_id] for note_id in scored}
    under_deleted = {n for n in population.writers if _post_of(database, n) == population.posts[1]}
    assert set(scored) == set(population.writers) - under_deleted - {population.bad[2]}
    assert list(scored.values()).count(notes.HELPFUL) == 2


def test_the_public_files_hold_only_what_the_public_may_see(
    database: Database, population: Population, tmp_path: Path
) -> None:
    _shown_after_a_suspension_and_a_removal(database, population)
    with database.transaction() as session:
        aliases = set(session.scalars(select(User.username)).all())
        writer = session.get_one(User, population.writers[population.one_sided[1]])
        users.set_active(
            session,
            actor=Actor.of(session.get_one(User, population.admin)),
            user=writer,
            active=False,
        )
    code, said = cli("notes", "export", "--out", str(tmp_path / "all"))
    assert code == 0, said
    code, said = cli("notes", "export", "--out", str(tmp_path / "public"), "--public")
    assert code == 0, said
    public = {name: table(tmp_path / "public" / f"{name}.tsv") for name in COLUMNS}
    note_ids = {int(row["noteId"]) for row in public["notes"]}
    gone = {population.bad[2], population.one_sided[1]}
    gone |= {n for n in population.writers if _post_of(database, n) == population.posts[1]}
    assert note_ids.isdisjoint(gone)
    assert {int(row["noteId"]) for row in public["noteStatusHistory"]} == note_ids
    assert {int(row["noteId"]) for row in public["ratings"]} <= note_ids
    everything = {value for rows in public.values() for row in rows for value in row.values()}
    assert everything.isdisjoint(aliases)
    assert all(row["summary"] for row in public["notes"])  # no erased (removed) note
    participants = {row["participantId"] for row in public["userEnrollment"]}
    assert participants == {row["raterParticipantId"] for row in public["ratings"]} | {
        row["noteAuthorParticipantId"] for row in public["notes"]
    }
    # The operator's export also has the history of the notes that left.
    history = {int(row["noteId"]) for row in table(tmp_path / "all" / "noteStatusHistory.tsv")}
    assert history > {int(row["noteId"]) for row in public["noteStatusHistory"]}


def _post_of(database: Database, note_id: int) -> int:
    with database.transaction(write=False) as session:
        return session.get_one(Note, note_id).post_id


def test_the_daily_download_is_written_once_a_day_and_served(
    database: Database, population: Population, tmp_path: Path
) -> None:
    settings = settings_for(database, notes_open_data_dir=str(tmp_path / "open"))
    day = BASE + timedelta(days=2)
    # Nothing was scored yet: nothing to publish.
    assert notes_runner.publish_open_data(database, settings=settings, now=day) is None
    notes_runner.run_once(database, settings=settings, now_millis=FIRST_RUN)
    written = notes_runner.publish_open_data(database, settings=settings, now=day)
    assert written == tmp_path / "open" / "notes-2026-03-04.zip"
    assert notes_runner.publish_open_data(database, settings=settings, now=day) is None
    with zipfile.ZipFile(written) as archive:
        assert sorted(archive.namelist()) == sorted(f"{name}.tsv" for name in COLUMNS)
        first_line = archive.read("ratings.tsv").decode().split("\n", 1)[0]
        assert first_line.split("\t") == list(RATINGS_COLUMNS)
        rows = list(csv.DictReader(io.StringIO(archive.read("notes.tsv").decode()), delimiter="\t"))
        assert len(rows) == 19
    for days in range(1, 9):  # a week of files is kept
        notes_runner.publish_open_data(database, settings=settings, now=day + timedelta(days=days))
    kept = [found for found, _ in notes_runner.archives(tmp_path / "open")]
    assert len(kept) == notes_runner.KEEP_ARCHIVES
    assert kept[0] == "2026-03-12"

    with TestClient(create_app(settings, database=database)) as client:
        listing = client.get("/open-data/notes/")
        assert listing.status_code == 200
        assert listing.json()["latest"] == "/open-data/notes/latest.zip"
        assert [f["date"] for f in listing.json()["files"]] == kept
        latest = client.get("/open-data/notes/latest.zip")
        assert latest.status_code == 200
        assert latest.headers["content-type"] == "application/zip"
        assert 'filename="notes-2026-03-12.zip"' in latest.headers["content-disposition"]
        assert latest.content == (tmp_path / "open" / "notes-2026-03-12.zip").read_bytes()
        assert client.get("/open-data/notes/2026-03-08.zip").status_code == 200
        for missing in ("2026-03-04", "2026-13-99", "..%2F..%2Fetc", "latest2"):
            assert client.get(f"/open-data/notes/{missing}.zip").status_code == 404, missing


def test_the_server_scores_on_its_own(
    database: Database, population: Population, tmp_path: Path
) -> None:
    """The lifespan starts the loop: a round within two seconds of interval 1."""
    settings = settings_for(
        database, notes_interval_seconds=1, notes_open_data_dir=str(tmp_path / "open")
    )
    import time

    with TestClient(create_app(settings, database=database)):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with database.transaction(write=False) as session:
                if session.scalar(select(NotesRun.id)) is not None:
                    break
            time.sleep(0.2)
    with database.transaction(write=False) as session:
        assert session.scalar(select(NotesRun.id)) is not None
    assert notes_runner.archives(tmp_path / "open")  # and today's download
