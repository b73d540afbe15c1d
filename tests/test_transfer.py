"""Moving a newsroom between databases, and backing one up, through the real command line.

`liveticker export` on one database and `liveticker import` on a new one, SQLite to
PostgreSQL and back, with content made through the API and the domain: the same rows,
the same files, people sign in with their old passwords and tokens, readers see the same
page and replay, and new rows get new ids. A refused or malformed import writes nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from liveticker.cli import main
from liveticker.domain import accounts, demo
from liveticker.live import notes_runner
from liveticker.settings import Settings
from liveticker.storage import transfer
from liveticker.storage.database import Database
from liveticker.storage.models import LivePresence
from liveticker.web.app import create_app
from tests.conftest import throwaway_postgres
from tests.images import camera_jpeg

PASSWORD = "correct horse battery"
HELPFUL = {"helpfulness": "HELPFUL", "tags": ["helpfulClear"]}
NOT_HELPFUL = {"helpfulness": "NOT_HELPFUL", "tags": ["notHelpfulOpinionSpeculationOrBias"]}
NOTE = {
    "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
    "reasons": ["misleadingMissingImportantContext"],
    "text": "The gauge figure is from 2019; see https://example.org/gauge.",
    "sources": ["https://example.org/gauge"],
}


@dataclass(frozen=True)
class Place:
    """A database and its media folder: what the environment of a command points at."""

    url: str
    media: Path

    @property
    def env(self) -> dict[str, str]:
        return {"LIVETICKER_DATABASE_URL": self.url, "LIVETICKER_MEDIA_DIR": str(self.media)}

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=self.url,
            media_dir=str(self.media),
            write_rate_per_minute=10_000,
            notes_writing_impact=0,
            notes_min_account_age_seconds=0,
            notes_interval_seconds=0,  # the tests run the scorer themselves
            scheduler_seconds=0,
        )

    @contextmanager
    def client(self) -> Iterator[TestClient]:
        database = Database(self.url)
        try:
            with TestClient(create_app(self.settings, database=database)) as client:
                yield client
        finally:
            database.dispose()


@contextmanager
def new_place(kind: str, folder: Path) -> Iterator[Place]:
    folder.mkdir()
    if kind == "sqlite":
        yield Place(f"sqlite:///{folder}/liveticker.db", folder / "media")
        return
    with throwaway_postgres("liveticker_transfer") as url:
        yield Place(url, folder / "media")


def cli(place: Place, *args: str, input: bytes | str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=input, env=place.env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def one_error_line(result: Result) -> str:
    assert result.exit_code != 0, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    return errors[0]


# -- content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    editor_token: str
    posts: list[int]


def populate(place: Place) -> Content:
    """A newsroom's content, made as the newsroom makes it: the demo's blogs and scored
    notes (the domain), and a blog of our own through the API, by staff and readers."""
    database = Database(place.url)
    database.upgrade()
    with database.transaction() as session:
        demo.create_demo(session)
    with database.transaction() as session:
        tokens = {}
        for name, role in (("chief", "admin"), ("ed", "editor"), ("rep", "contributor")):
            user = accounts.create_user(session, username=name, password=PASSWORD, role=role)
            tokens[name] = accounts.create_token(session, user=user, label=f"{name}'s script")
        for name in ("writer", *(f"rater{i}" for i in range(6))):
            accounts.create_user(session, username=name, password=PASSWORD, role="reader")
    database.dispose()
    staff = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    with place.client() as client:

        def call(method: str, url: str, who: dict[str, str], **body: Any) -> Any:
            response = client.request(method, url, headers=who, **body)
            assert response.status_code in (200, 201, 204), response.text
            return response.json() if response.content else None

        call("POST", "/api/v1/blogs", staff["ed"], json={"slug": "storm", "title": "Storm"})
        call("POST", "/api/v1/blogs/storm/members", staff["ed"], json={"username": "rep"})
        call("POST", "/api/v1/blogs/storm/publish", staff["ed"])
        image = call(
            "POST",
            "/api/v1/media",
            staff["ed"],
            files={"file": ("river.jpg", camera_jpeg((1200, 600)), "image/jpeg")},
        )
        picture = {"alt": "The river at the old bridge", "caption": "Käthe's photo", **image}
        posts = "/api/v1/blogs/storm/posts"
        first = call(
            "POST", posts, staff["ed"], json={"body": "Water is rising.", "images": [picture]}
        )
        edited = call("POST", posts, staff["ed"], json={"headline": "Levels", "body": "4 m"})
        for body in ("4.2 m at noon", "4.4 m at one — *rising*"):
            call("PATCH", f"{posts}/{edited['id']}", staff["ed"], json={"body": body})
        deleted = call("POST", posts, staff["ed"], json={"body": "A wrong report."})
        call("DELETE", f"{posts}/{deleted['id']}", staff["ed"], json={"reason": "wrong"})
        purged = call("POST", posts, staff["ed"], json={"body": "A name that must go."})
        call("POST", f"{posts}/{purged['id']}/purge", staff["chief"], json={"reason": "court"})
        call("POST", posts, staff["ed"], json={"body": "Read this first.", "pinned": True})
        call("POST", posts, staff["rep"], json={"body": "From the field, for review."})
        call("PUT", "/api/v1/blogs/storm/key-points", staff["ed"], json={"items": ["Rising"]})

        readers = {}
        for name in ("writer", *(f"rater{i}" for i in range(6))):
            signed_in = call(
                "POST", "/api/v1/tokens", {}, json={"username": name, "password": PASSWORD}
            )
            readers[name] = {"Authorization": f"Bearer {signed_in['token']}"}
        note = call("POST", f"{posts}/{first['id']}/notes", readers["writer"], json=NOTE)
        for i in range(6):
            rating = HELPFUL if i % 2 else NOT_HELPFUL
            call("PUT", f"/api/v1/notes/{note['id']}/rating", readers[f"rater{i}"], json=rating)
    database = Database(place.url)
    try:
        assert notes_runner.run_once(database, settings=place.settings, force=True).ran
        with database.transaction() as session:  # a running process's state, left behind
            session.add(LivePresence(process="host-1", blog_id=1, readers=12))
    finally:
        database.dispose()
    return Content(tokens["ed"], [first["id"], edited["id"], deleted["id"], purged["id"]])


def rows(place: Place) -> dict[str, list[dict[str, Any]]]:
    database = Database(place.url)
    try:
        with database.engine.connect() as connection:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in transfer.tables()
            }
    finally:
        database.dispose()


def files(media: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(media)): path.read_bytes()
        for path in sorted(media.rglob("*"))
        if path.is_file()
    }


def count_all(place: Place) -> int:
    return sum(len(table) for table in rows(place).values())


# -- moving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [
        pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
        pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres),
    ],
)
def test_a_newsroom_moves_with_one_command_pair(
    tmp_path: Path, source_kind: str, target_kind: str
) -> None:
    with (
        new_place(source_kind, tmp_path / "old") as source,
        new_place(target_kind, tmp_path / "new") as target,
    ):
        content = populate(source)
        export = tmp_path / "newsroom.jsonl"
        exported = cli(source, "export", "--out", str(export))
        assert exported.exit_code == 0, exported.output
        assert "and 3 media files" in exported.output

        imported = cli(target, "import", str(export))
        assert imported.exit_code == 0, imported.output
        assert imported.output.startswith("imported ")

        before, after = rows(source), rows(target)
        for table in transfer.tables():
            assert after[table.name] == before[table.name], table.name
        for table in transfer.tables():  # every table had rows to move
            assert before[table.name], table.name
        assert files(target.media) == files(source.media)
        assert len(files(target.media)) == 3
        with Database(target.url).engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM live_presence")) == 0

        # Exported again from the new database: the same lines, but for when and whence.
        again = tmp_path / "again.jsonl"
        assert cli(target, "export", "--out", str(again)).exit_code == 0
        old_lines = export.read_bytes().splitlines()
        new_lines = again.read_bytes().splitlines()
        assert new_lines[1:] == old_lines[1:]
        ignore = {"exported_at", "source"}
        old_header, new_header = json.loads(old_lines[0]), json.loads(new_lines[0])
        assert {k: v for k, v in new_header.items() if k not in ignore} == {
            k: v for k, v in old_header.items() if k not in ignore
        }

        _the_move_changes_nothing_readers_and_staff_see(source, target, content)


def _the_move_changes_nothing_readers_and_staff_see(
    source: Place, target: Place, content: Content
) -> None:
    first_event = min(event["seq"] for event in rows(source)["events"])
    replay = f"/api/v1/blogs/storm/changes?after={first_event}"
    with source.client() as old, target.client() as new:
        live = demo.LIVE_BLOG.blog.slug  # the demo's blog, with notes readers rated helpful
        for url in (
            "/blogs/storm",
            f"/blogs/storm/posts/{content.posts[0]}",
            "/api/v1/blogs/storm/posts",
            replay,
            f"/blogs/{live}",
            f"/api/v1/blogs/{live}/changes?after=1",
        ):
            was, now = old.get(url), new.get(url)
            assert (now.status_code, now.text) == (was.status_code, was.text), url
        assert len(new.get(replay).json()["events"]) > 3
        assert "Readers added context" in new.get(f"/blogs/{live}").text
        listed = old.get("/api/v1/blogs/storm/posts").json()["posts"]
        image = next(post for post in listed if post["images"])["images"][0]["url"]
        assert new.get(image).content == old.get(image).content

        # People sign in with their old passwords; their scripts' tokens still work.
        signed_in = new.post("/api/v1/tokens", json={"username": "ed", "password": PASSWORD})
        assert signed_in.status_code == 201, signed_in.text
        editor = {"Authorization": f"Bearer {content.editor_token}"}
        drafts = new.get("/api/v1/blogs/storm/posts?status=draft", headers=editor)
        assert drafts.status_code == 200
        assert len(drafts.json()["posts"]) == 1

        # New rows get ids after the imported ones (PostgreSQL's sequences were moved on).
        made = new.post(
            "/api/v1/blogs/storm/posts", json={"body": "After the move."}, headers=editor
        )
        assert made.status_code == 201, made.text
        assert made.json()["id"] == max(post["id"] for post in rows(source)["posts"]) + 1
        edit = new.patch(
            f"/api/v1/blogs/storm/posts/{content.posts[1]}", json={"body": "5 m"}, headers=editor
        )
        assert edit.status_code == 200, edit.text
        reader = new.post("/api/v1/readers", json={"alias": "newcomer", "password": PASSWORD})
        assert reader.status_code == 201, reader.text


def test_export_to_standard_output_and_import_from_standard_input(tmp_path: Path) -> None:
    with (
        new_place("sqlite", tmp_path / "old") as source,
        new_place("sqlite", tmp_path / "new") as target,
    ):
        populate(source)
        exported = CliRunner().invoke(main, ["export", "--out", "-"], env=source.env)
        assert exported.exit_code == 0, exported.output
        assert exported.stdout_bytes.startswith(b'{"format":"liveticker-export"')
        assert "exported" in exported.stderr
        imported = cli(target, "import", "-", input=exported.stdout_bytes)
        assert imported.exit_code == 0, imported.output
        assert rows(target) == rows(source)
        assert files(target.media) == files(source.media)


# -- refusals -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export of `populate`'s content, made once for the tests that break it."""
    folder = tmp_path_factory.mktemp("export")
    with new_place("sqlite", folder / "source") as source:
        populate(source)
        path = folder / "export.jsonl"
        assert cli(source, "export", "--out", str(path)).exit_code == 0
    return path


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_import_into_a_database_with_content_is_refused_and_writes_nothing(
    tmp_path: Path, export_file: Path, kind: str
) -> None:
    with new_place(kind, tmp_path / "busy") as target:
        assert cli(target, "db", "upgrade").exit_code == 0
        with Database(target.url).transaction() as session:
            accounts.create_user(session, username="someone", password=PASSWORD, role="editor")
        before = rows(target)
        line = one_error_line(cli(target, "import", str(export_file)))
        assert "is not empty (1 users)" in line
        assert "import only into a new, empty database" in line
        assert rows(target) == before
        assert not target.media.exists()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _first(lines: list[bytes], table: str) -> int:
    return next(
        i for i, line in enumerate(lines) if line.startswith(b'{"table":"%s"' % table.encode())
    )


def _corrupt_row(lines: list[bytes], table: str, **changes: Any) -> int:
    index = _first(lines, table)
    item = json.loads(lines[index])
    item["row"].update(changes)
    lines[index] = (json.dumps(item) + "\n").encode()
    return index + 1


def _break(kind: str, lines: list[bytes]) -> tuple[list[bytes], str]:
    """The file with one thing wrong in the middle, and the error line's expected text."""
    if kind == "not JSON":
        number = _first(lines, "posts") + 2
        lines[number - 1] = b'{"table": "posts", "row": {"id": 3,\n'
        return lines, f":{number}: not JSON (Expecting property name enclosed in double quotes"
    if kind == "not UTF-8":
        number = _first(lines, "posts") + 1
        lines[number - 1] = lines[number - 1].replace(b'"body":"', b'"body":"\xe4', 1)
        return lines, f":{number}: not UTF-8 text"
    if kind == "wrong type":
        number = _corrupt_row(lines, "revisions", created_at="yesterday")
        return lines, f':{number}: revisions.created_at is not an ISO 8601 time: "yesterday"'
    if kind == "dangling reference":
        number = _corrupt_row(lines, "revisions", post_id=999)
        return lines, f":{number}: the database refuses this revisions row"
    if kind == "duplicate id":
        index = _first(lines, "posts")
        lines.insert(index + 1, lines[index])
        return lines, f":{index + 2}: the database refuses this posts row"
    if kind == "unknown column":
        number = _corrupt_row(lines, "blogs", colour="red")
        return lines, f":{number}: blogs has no column colour"
    if kind == "media file not of its row":
        index = next(i for i, line in enumerate(lines) if line.startswith(b'{"file"'))
        item = json.loads(lines[index])
        item["file"] = "../../outside.jpg"
        lines[index] = (json.dumps(item) + "\n").encode()
        return lines, f':{index + 1}: media file "../../outside.jpg" is not one of its media row\'s'
    if kind == "truncated at a line's end":
        notes = json.loads(lines[0])["tables"]["notes"]
        cut = _first(lines, "notes")
        return lines[:cut], f"0 notes rows where its header counts {notes}: truncated or edited?"
    if kind == "truncated inside a line":
        last = lines[-1]
        return [*lines[:-1], last[: len(last) // 2]], "the file ends inside it: truncated?"
    raise AssertionError(kind)


BREAKS = [
    "not JSON",
    "not UTF-8",
    "wrong type",
    "dangling reference",
    "duplicate id",
    "unknown column",
    "media file not of its row",
    "truncated at a line's end",
    "truncated inside a line",
]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("damage", BREAKS)
def test_a_malformed_file_leaves_the_new_database_empty(
    tmp_path: Path, export_file: Path, kind: str, damage: str
) -> None:
    lines, expected = _break(damage, _lines(export_file))
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join(lines))
    with new_place(kind, tmp_path / "new") as target:
        line = one_error_line(cli(target, "import", str(broken)))
        assert line.startswith(f"Error: {broken}:"), line
        assert expected in line, line
        assert count_all(target) == 0
        assert not target.media.exists()  # the files written before the bad line, removed


def _header_with(path: Path, **changes: Any) -> bytes:
    lines = _lines(path)
    header = json.loads(lines[0])
    header.update(changes)
    return b"".join([(json.dumps(header) + "\n").encode(), *lines[1:]])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty: not a Liveticker export"),
        (b"id,title\n1,Storm\n", ":1: not JSON"),
        (
            b'{"format": "something-else"}\n',
            ':1: not a Liveticker export (its first line has no "format"',
        ),
        ("version", ":1: export format version 2: this Liveticker reads version 1"),
        (
            "schema",
            ':1: the export is of schema revision "9999", which this Liveticker does not know',
        ),
        ("old schema", ":1: the export is of schema revision 0009, older than this Liveticker's"),
    ],
)
def test_a_file_that_is_not_this_versions_export_is_refused_at_its_first_line(
    tmp_path: Path, export_file: Path, content: bytes | str, expected: str
) -> None:
    if content == "version":
        content = _header_with(export_file, version=2)
    elif content == "schema":
        content = _header_with(export_file, schema="9999")
    elif content == "old schema":
        content = _header_with(export_file, schema="0009")
    assert isinstance(content, bytes)
    path = tmp_path / "other.jsonl"
    path.write_bytes(content)
    with new_place("sqlite", tmp_path / "new") as target:
        line = one_error_line(cli(target, "import", str(path)))
        assert expected in line, line
        assert not Path(target.url.removeprefix("sqlite:///")).exists()  # not even a schema


def test_file_arguments_are_checked_with_one_clear_line(tmp_path: Path) -> None:
    with new_place("sqlite", tmp_path / "db") as place:
        backup = tmp_path / "backup.db"
        line = one_error_line(cli(place, "db", "backup", str(backup)))
        assert line == f"Error: no SQLite database at {tmp_path}/db/liveticker.db"
        assert cli(place, "db", "upgrade").exit_code == 0
        existing = tmp_path / "existing.jsonl"
        existing.write_text("keep me")
        for args, expected in [
            (["export", "--out", str(existing)], f"{existing} exists already; pass --force"),
            (["db", "backup", str(existing)], f"{existing} exists already; pass --force"),
            (["export", "--out", str(tmp_path / "nowhere" / "x.jsonl")], "does not exist"),
            (["db", "backup", str(tmp_path / "nowhere" / "x.db")], "does not exist"),
            (["export", "--out", str(tmp_path)], "is a folder"),
            (["export", "--out", "/sys/liveticker.jsonl"], "cannot write"),
            (["import", str(tmp_path / "missing.jsonl")], "missing.jsonl"),
            (["import", str(tmp_path)], "is a directory"),
        ]:
            line = one_error_line(cli(place, *args))
            assert expected in line, (args, line)
        assert existing.read_text() == "keep me"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["db", "existing.jsonl"]
        replaced = cli(place, "export", "--out", str(existing), "--force")
        assert replaced.exit_code == 0, replaced.output
        assert existing.read_bytes().startswith(b'{"format":"liveticker-export"')


def test_missing_media_files_stop_the_export_unless_allowed(tmp_path: Path) -> None:
    with (
        new_place("sqlite", tmp_path / "old") as source,
        new_place("sqlite", tmp_path / "new") as target,
    ):
        populate(source)
        lost = sorted(path for path in source.media.rglob("*") if path.is_file())[0]
        lost.unlink()
        out = tmp_path / "export.jsonl"
        line = one_error_line(cli(source, "export", "--out", str(out)))
        assert f"1 media files are missing from {source.media}" in line
        assert "is LIVETICKER_MEDIA_DIR right?" in line
        assert not out.exists()
        allowed = cli(source, "export", "--out", str(out), "--allow-missing-media")
        assert allowed.exit_code == 0, allowed.output
        assert "warning: 1 media files are missing" in allowed.output
        assert cli(target, "import", str(out)).exit_code == 0
        assert files(target.media) == files(source.media)


# -- backups ------------------------------------------------------------------------------


def test_a_sqlite_backup_is_a_consistent_copy_taken_while_others_write(tmp_path: Path) -> None:
    with new_place("sqlite", tmp_path / "live") as place:
        populate(place)
        database_file = place.url.removeprefix("sqlite:///")
        # A writer in the middle of a transaction: the backup neither waits for it nor
        # copies what it has not committed.
        writer = sqlite3.connect(database_file, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE blogs SET title = 'uncommitted'")
        try:
            copy = tmp_path / "backup.db"
            made = cli(place, "db", "backup", str(copy))
            assert made.exit_code == 0, made.output
            assert "SQLite's backup API" in made.output
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert not Path(f"{copy}-wal").exists()
        backed_up = Place(f"sqlite:///{copy}", place.media)
        assert rows(backed_up) == rows(place)
        assert "uncommitted" not in {blog["title"] for blog in rows(backed_up)["blogs"]}
        assert one_error_line(cli(place, "db", "backup", str(copy))).endswith(
            "exists already; pass --force to replace it"
        )
        assert cli(place, "db", "backup", str(copy), "--force").exit_code == 0


@pytest.mark.postgres
def test_a_postgresql_backup_runs_pg_dump_or_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with new_place("postgresql", tmp_path / "pg") as place:
        populate(place)
        password_free = place.url.replace("postgresql+psycopg://", "postgresql://")
        dump = tmp_path / "newsroom.dump"
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
        line = one_error_line(cli(place, "db", "backup", str(dump)))
        assert f"pg_dump --format=custom --file {dump} --dbname {password_free}" in line, line
        assert not dump.exists()
        monkeypatch.undo()
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("PostgreSQL's client tools (pg_dump, pg_restore) are not installed")
        made = cli(place, "db", "backup", str(dump))
        assert made.exit_code == 0, made.output
        assert dump.read_bytes().startswith(b"PGDMP")
        with throwaway_postgres("liveticker_restore") as restored_url:
            restored = Place(restored_url, place.media)
            libpq = restored_url.replace("postgresql+psycopg://", "postgresql://")
            subprocess.run(
                ["pg_restore", "--no-owner", "--dbname", libpq, str(dump)],
                check=True,
                capture_output=True,
                timeout=60,
            )
            assert rows(restored) == rows(place)


# -- exports of an older schema -----------------------------------------------------------

ADDED_IN_0012 = ("language", "translations", "theme")


def _blog_fields(place: Place) -> dict[str, tuple[str, list[str], str]]:
    return {
        row["slug"]: (row["language"], row["translations"], row["theme"])
        for row in rows(place)["blogs"]
    }


def _as_of_0011(path: Path, *, drop: tuple[str, ...] = ADDED_IN_0012) -> bytes:
    """The export as Liveticker wrote it before migration 0012: its blogs lack the columns."""
    lines = _header_with(path, schema="0011").splitlines(keepends=True)
    older = [lines[0]]
    for line in lines[1:]:
        item = json.loads(line)
        if item.get("table") == "blogs":
            for column in drop:
                del item["row"][column]
        older.append((json.dumps(item, ensure_ascii=False) + "\n").encode())
    return b"".join(older)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_blogs_language_travels_and_an_export_from_before_it_gets_the_defaults(
    tmp_path: Path, kind: str
) -> None:
    with (
        new_place("sqlite", tmp_path / "old") as source,
        new_place(kind, tmp_path / "new") as target,
        new_place(kind, tmp_path / "older") as older,
        new_place(kind, tmp_path / "broken") as broken,
    ):
        cli(source, "user", "create", "ed", "--role", "editor", "--password-stdin", input=PASSWORD)
        made = cli(
            source, "blog", "create", "sturm", "--title", "Sturm", "--language", "de-at",
            "--translation", "storm", "--theme", "night", "--publish", "--as", "ed",
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        made = cli(
            source, "blog", "create", "storm", "--title", "Storm", "--translation", "sturm",
            "--as", "ed",
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        export = tmp_path / "newsroom.jsonl"
        assert cli(source, "export", "--out", str(export)).exit_code == 0
        assert cli(target, "import", str(export)).exit_code == 0
        expected = {"sturm": ("de-AT", ["storm"], "night"), "storm": ("en", ["sturm"], "")}
        assert _blog_fields(source) == _blog_fields(target) == expected

        old_export = tmp_path / "before-0012.jsonl"
        old_export.write_bytes(_as_of_0011(export))
        imported = cli(older, "import", str(old_export))
        assert imported.exit_code == 0, imported.output
        # As `liveticker db upgrade` leaves the blogs of a database from before languages.
        assert _blog_fields(older) == {"sturm": ("en", [], ""), "storm": ("en", [], "")}
        moved, kept = rows(source), rows(older)
        for table in transfer.tables():
            strip = ADDED_IN_0012 if table.name == "blogs" else ()
            assert [
                {k: v for k, v in row.items() if k not in strip} for row in kept[table.name]
            ] == [{k: v for k, v in row.items() if k not in strip} for row in moved[table.name]], (
                table.name
            )

        # Only the columns 0012 added may be missing from a 0011 export.
        short = tmp_path / "short.jsonl"
        short.write_bytes(_as_of_0011(export, drop=(*ADDED_IN_0012, "title")))
        line = one_error_line(cli(broken, "import", str(short)))
        assert "the blogs row lacks column title" in line, line
        assert count_all(broken) == 0


def test_added_columns_name_columns_of_the_models() -> None:
    by_name = {table.name: table for table in transfer.tables()}
    for revision, added in transfer.ADDED_COLUMNS.items():
        for table, columns in added.items():
            for column in columns:
                assert column in by_name[table].columns, (revision, table, column)
