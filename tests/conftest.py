"""Shared fixtures: every database-backed test runs on SQLite and, when available, PostgreSQL.

PostgreSQL comes from LIVETICKER_TEST_POSTGRES_URL, else from the server at its default
address (127.0.0.1:5432, database `test`) when one answers there; `off` turns it off. Each
test session creates its own throw-away database there, so parallel runs never see each
other's rows. With LIVETICKER_TEST_NO_SKIPS set (`.ci/run` sets it), a skipped test fails
the run: a skip there means a service or the browser is missing, not a choice.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database, normalize_url
from liveticker.storage.models import Base
from liveticker.web.app import create_app

POSTGRES_ENV = "LIVETICKER_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
NO_SKIPS_ENV = "LIVETICKER_TEST_NO_SKIPS"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under LIVETICKER_TEST_NO_SKIPS, any skip fails the run (the reasons are listed by -ra)."""
    if not os.environ.get(NO_SKIPS_ENV):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped:
        if reporter is not None:
            reporter.write_line(
                f"\n{skipped} tests skipped while {NO_SKIPS_ENV} is set: failing the run",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2's production cost (~50 ms a hash) would dominate the suite's run time."""
    original = accounts.password_hasher
    accounts.password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts.password_hasher = original


@functools.cache
def _postgres_admin_url() -> str | None:
    """The server to make test databases on: the variable's, else the default address if
    a server answers there (asked once per run, for at most a second)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url.lower() == "off":
        return None
    if url:
        return normalize_url(url)
    engine = create_engine(normalize_url(DEFAULT_POSTGRES), connect_args={"connect_timeout": 1})
    try:
        with engine.connect():
            return normalize_url(DEFAULT_POSTGRES)
    except Exception:
        return None
    finally:
        engine.dispose()


@contextmanager
def throwaway_postgres(prefix: str = "liveticker_test") -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        if os.environ.get(POSTGRES_ENV, "").strip().lower() == "off":
            pytest.skip(f"PostgreSQL tests are off ({POSTGRES_ENV}=off)")
        pytest.skip(
            f"PostgreSQL tests need a server: none answered at {DEFAULT_POSTGRES} "
            f"and {POSTGRES_ENV} is not set"
        )
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise  # in CI the server must be there: a skip would hide a broken set-up
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is not reachable: {exc}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def _sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("db") / "liveticker.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def _postgresql_database(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    database.upgrade()
    yield database
    database.dispose()


def empty_tables(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database of each kind; emptied again after the test."""
    db: Database = request.getfixturevalue(f"_{request.param}_database")
    empty_tables(db)
    yield db
    empty_tables(db)


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, write_rate_per_minute=10_000)


@pytest.fixture
def app(settings: Settings, database: Database) -> Any:
    return create_app(settings, database=database)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def accounts_by_role(database: Database) -> dict[str, Account]:
    """admin, editor, contributor and a second contributor ("other"), each with a token."""
    made: dict[str, Account] = {}
    with database.transaction() as session:
        for name, role in [
            ("admin", "admin"),
            ("editor", "editor"),
            ("contributor", "contributor"),
            ("other", "contributor"),
        ]:
            user = accounts.create_user(
                session, username=name, password="correct horse battery", role=role
            )
            made[name] = Account(name, role, accounts.create_token(session, user=user))
    return made


@pytest.fixture
def editor(accounts_by_role: dict[str, Account]) -> Account:
    return accounts_by_role["editor"]


@pytest.fixture
def make_blog(
    client: TestClient, editor: Account, accounts_by_role: dict[str, Account]
) -> Callable[..., dict[str, Any]]:
    """Create (and by default publish) a blog through the API, with the contributors on
    its team (the editor who creates it joins it by creating it)."""
    team = [a.username for a in accounts_by_role.values() if a.role == "contributor"]

    def make(slug: str = "storm", *, live: bool = True, **fields: Any) -> dict[str, Any]:
        body = {"slug": slug, "title": fields.pop("title", f"Live: {slug}"), **fields}
        response = client.post("/api/v1/blogs", json=body, headers=editor.headers)
        assert response.status_code == 201, response.text
        for member in team:  # the test's contributors work on every blog it makes
            added = client.post(
                f"/api/v1/blogs/{slug}/members", json={"username": member}, headers=editor.headers
            )
            assert added.status_code == 201, added.text
        if live:
            response = client.post(f"/api/v1/blogs/{slug}/publish", headers=editor.headers)
            assert response.status_code == 200, response.text
        return dict(response.json())

    return make


@pytest.fixture
def make_post(client: TestClient, editor: Account) -> Callable[..., dict[str, Any]]:
    def make(slug: str = "storm", body: str = "Water is rising.", **fields: Any) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/blogs/{slug}/posts", json={"body": body, **fields}, headers=editor.headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make
