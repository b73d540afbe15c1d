"""Upgrading a database whose event log predates "the log serves the present" (0003).

Logs written before it hold every past version of every post, and events from blogs'
draft periods; the upgrade must leave only what a reader could see on the page now.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from liveticker.storage.database import Database, alembic_config, current_revision
from tests.conftest import throwaway_postgres

NOW = "2026-11-20 10:00:00.000000"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database at revision 0002, with a log as that version wrote it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        database = Database(url)
        command.upgrade(alembic_config(url), "0002")
        yield database
        database.dispose()
        return
    with throwaway_postgres("liveticker_migrate") as url:
        database = Database(url)
        command.upgrade(alembic_config(url), "0002")
        yield database
        database.dispose()


def _insert_blog(connection: Any, blog_id: int, status: str) -> None:
    connection.execute(
        text(
            "INSERT INTO blogs (id, slug, short_code, title, standfirst, labels, key_points,"
            " status, closing_message, created_at, updated_at, version)"
            " VALUES (:id, :slug, :code, 't', '', '[]', '[]', :status, '', :now, :now, 20)"
        ),
        {
            "id": blog_id,
            "slug": f"blog-{blog_id}",
            "code": f"code{blog_id}",
            "status": status,
            "now": NOW,
        },
    )


def _insert_log(connection: Any, blog_id: int, log: list[tuple[str, dict[str, Any]]]) -> None:
    for seq, (kind, data) in enumerate(log, start=2):
        connection.execute(
            text(
                "INSERT INTO events (blog_id, seq, kind, data, created_at)"
                " VALUES (:blog, :seq, :kind, :data, :now)"
            ),
            {"blog": blog_id, "seq": seq, "kind": kind, "data": json.dumps(data), "now": NOW},
        )


def test_upgrade_empties_the_past_and_the_draft_period(old_database: Database) -> None:
    went_live = [
        ("post", {"id": 1, "body_html": "SECRET draft-period post"}),
        ("blog", {"title": "SECRET draft title", "status": "draft"}),
        ("remove", {"id": 1}),
        ("blog", {"title": "Live title", "status": "live"}),  # seq 5: the blog goes live
        ("post", {"id": 2, "body_html": "SECRET first version"}),
        ("key-points", {"items": ["SECRET point"]}),
        ("post", {"id": 3, "body_html": "SECRET deleted post"}),
        ("post", {"id": 2, "body_html": "current version"}),
        ("remove", {"id": 3}),
        ("key-points", {"items": ["current point"]}),
    ]
    with old_database.engine.begin() as connection:
        _insert_blog(connection, 1, "live")
        _insert_log(connection, 1, went_live)
        _insert_blog(connection, 2, "draft")
        _insert_log(connection, 2, [("post", {"id": 9, "body_html": "SECRET in a draft blog"})])

    old_database.upgrade()

    assert current_revision(old_database.engine) is not None
    with old_database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT blog_id, seq, kind, entity, data FROM events ORDER BY blog_id, seq")
        ).all()
    log = [
        (seq, kind, entity, data if isinstance(data, dict) else json.loads(data))
        for blog_id, seq, kind, entity, data in rows
        if blog_id == 1
    ]
    assert "SECRET" not in repr(rows)
    assert [blog_id for blog_id, *_ in rows] == [1] * 7  # the draft blog keeps no log
    assert log == [
        (5, "blog", "blog", {"title": "Live title", "status": "live"}),
        (6, "superseded", "", {}),
        (7, "superseded", "", {}),
        (8, "superseded", "", {}),
        (9, "post", "post:2", {"id": 2, "body_html": "current version"}),
        (10, "remove", "post:3", {"id": 3}),
        (11, "key-points", "key-points", {"items": ["current point"]}),
    ]


def test_upgrade_puts_every_editor_and_contributor_on_every_blog(
    old_database: Database,
) -> None:
    """0006: teams arrive without changing who may work where."""
    command.upgrade(alembic_config(old_database.url), "0005")
    with old_database.engine.begin() as connection:
        for user_id, role in ((1, "admin"), (2, "editor"), (3, "contributor")):
            connection.execute(
                text(
                    "INSERT INTO users (id, username, display_name, role, password_hash,"
                    " is_active, created_at) VALUES (:id, :name, :name, :role, 'x', :yes, :now)"
                ),
                {"id": user_id, "name": f"user{user_id}", "role": role, "yes": True, "now": NOW},
            )
        _insert_blog(connection, 1, "live")
        _insert_blog(connection, 2, "draft")
    old_database.upgrade()
    with old_database.engine.connect() as connection:
        members = connection.execute(
            text("SELECT blog_id, user_id FROM blog_members ORDER BY blog_id, user_id")
        ).all()
    assert [tuple(row) for row in members] == [(1, 2), (1, 3), (2, 2), (2, 3)]


def test_upgrades_that_copy_tables_keep_every_row_that_points_at_them(
    old_database: Database,
) -> None:
    """SQLite alters a table by copying it; the old copy's drop must not cascade (0005 and
    0008 copy posts): revisions, sessions, tokens and teams stay."""
    command.upgrade(alembic_config(old_database.url), "0004")
    with old_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, password_hash,"
                " is_active, created_at) VALUES (1, 'ed', 'Ed', 'editor', 'x', :yes, :now)"
            ),
            {"yes": True, "now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at)"
                " VALUES (1, 1, :hash, '', :now)"
            ),
            {"hash": "a" * 64, "now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at,"
                " last_seen_at, expires_at) VALUES (1, 1, :hash, 'c', :now, :now, :now)"
            ),
            {"hash": "b" * 64, "now": NOW},
        )
        _insert_blog(connection, 1, "live")
        connection.execute(
            text(
                "INSERT INTO posts (id, blog_id, short_code, body, body_html, images, author_id,"
                " status, pinned, key_event, created_at, published_at, updated_at, delete_reason)"
                " VALUES (1, 1, 'post0001', 'b', '<p>b</p>', '[]', 1, 'published', :no, :no,"
                " :now, :now, :now, '')"
            ),
            {"no": False, "now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO revisions (blog_id, post_id, user_id, action, changes, created_at)"
                " VALUES (1, 1, 1, 'created', '{}', :now)"
            ),
            {"now": NOW},
        )
    old_database.upgrade()
    with old_database.engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("users", "api_tokens", "sessions", "posts", "revisions", "blog_members")
        }
        author = connection.execute(text("SELECT author_id FROM posts")).scalar()
    assert counts == {
        "users": 1,
        "api_tokens": 1,
        "sessions": 1,
        "posts": 1,
        "revisions": 1,
        "blog_members": 1,  # 0006 put the editor on the blog
    }
    assert author == 1
