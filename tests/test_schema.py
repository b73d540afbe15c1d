"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from liveticker.storage.database import Database, current_revision
from liveticker.storage.models import Base


def test_migrations_match_models(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(database: Database) -> None:
    database.upgrade()
    database.upgrade()
    assert current_revision(database.engine) is not None
    tables = set(inspect(database.engine).get_table_names())
    assert {"users", "api_tokens", "blogs", "posts", "revisions"} <= tables


def test_sqlite_is_durable_and_checks_foreign_keys(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/p.db")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # 2 = FULL: in WAL mode anything less may lose the last commits on power loss.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    database.dispose()
