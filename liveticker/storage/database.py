"""The engine, sessions and schema upgrades.

SQLite runs in WAL mode with foreign keys on and synchronous=FULL (in WAL mode NORMAL
can lose the last commits on power loss, and a newsroom's posts must survive that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import alembic.util
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from liveticker.exceptions import DatabaseUnavailable, Misconfigured, SignInRefused
from liveticker.storage.models import Blog, Event, Post

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_OPTION = "liveticker_write"
PENDING_EVENTS = "liveticker.events"  # session.info key, filled by domain.events.record
# session.info key: the same pending events by entity, so that recording one finds what it
# supersedes without a pass over all of them (a scoring run records thousands).
PENDING_BY_ENTITY = "liveticker.events.by_entity"
_SAVEPOINTS = "liveticker.savepoints"  # session.info key: pending events at each savepoint
_CHANGED_BLOGS = "liveticker.changed_blogs"  # session.info key: blogs whose desk changed


def _forget_events(session: Session) -> None:
    session.info.pop(PENDING_EVENTS, None)
    session.info.pop(PENDING_BY_ENTITY, None)
    session.info.pop(_SAVEPOINTS, None)
    session.info.pop(_CHANGED_BLOGS, None)


def _note_changed_blogs(session: Session, _context: Any) -> None:
    """Which blogs a flush touched, drafts and the review queue included: their desks
    redraw after the commit. (A savepoint rolled back later may leave a blog here; that
    costs one needless redraw, never a missed one.)"""
    changed: set[int] = session.info.setdefault(_CHANGED_BLOGS, set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, Blog):
            changed.add(item.id)
        elif isinstance(item, Post | Event):
            changed.add(item.blog_id)


def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINTS, {})
        marks[id(transaction)] = len(session.info.get(PENDING_EVENTS, []))


def _drop_rolled_back_events(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rollback takes the events it undid along: a savepoint's since it began, the whole
    transaction's all of them. (Not `after_rollback`: that fires for savepoints too.)"""
    if not previous_transaction.nested:
        if previous_transaction.parent is None:
            _forget_events(session)
        return
    mark = session.info.get(_SAVEPOINTS, {}).get(id(previous_transaction))
    if mark is not None:
        del session.info.get(PENDING_EVENTS, [])[mark:]


def normalize_url(url: str) -> str:
    """Accept the usual `postgresql://` and `postgres://` and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (below) instead of pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock up front: a deferred one that read first
    # would fail with SQLITE_BUSY when another writer committed in between, instead of
    # waiting its turn (busy_timeout only covers the wait for the lock).
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def check_url(url: str) -> str:
    """The URL, normalized, if Liveticker can use it; Misconfigured saying why otherwise.

    Checked before anything connects, so that a typo is reported as one, not as a driver's
    traceback (a MySQL URL would otherwise fail on a missing module)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    example = "sqlite:///path/to/liveticker.db or postgresql://user@host:5432/database"
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise Misconfigured(
            f"LIVETICKER_DATABASE_URL is not a database URL: {url[:80]!r}; use {example}"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise Misconfigured(
            f"only sqlite:// and postgresql:// databases are supported, not {backend}://; "
            f"use {example}"
        )
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not parsed.database.startswith("file:") and not folder.is_dir():
            raise Misconfigured(
                f"the folder of the SQLite database does not exist: {folder}; "
                "create it or point LIVETICKER_DATABASE_URL elsewhere"
            )
    return normalize_url(url)


def safe_url(url: str) -> str:
    """The URL as an operator may see it in a message or a log: no password."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(url: str, exc: Exception) -> DatabaseUnavailable:
    """What an operator needs to read when the database does not answer."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    if parsed.get_backend_name() == "sqlite":
        return DatabaseUnavailable(f"cannot open the SQLite database {parsed.database}: {detail}")
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return DatabaseUnavailable(
        f"PostgreSQL at {where} (database {parsed.database}) did not answer: {detail}; "
        "is it running, and is LIVETICKER_DATABASE_URL right?"
    )


def make_engine(url: str) -> Engine:
    url = check_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


CommitListener = Callable[[list[Event]], None]
ChangeListener = Callable[[set[int]], None]


class Database:
    """An engine plus its session factories; one per app (tests make one per database).

    After every commit, the events the transaction appended go to the commit listeners
    (live delivery to readers), and the ids of the blogs it changed in any way to the
    change listeners (live refresh of staff desks), whichever way the change came: API,
    desk, CLI or demo.
    """

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self.commit_listeners: list[CommitListener] = []
        self.change_listeners: list[ChangeListener] = []
        for factory in (self.sessions, self.write_sessions):
            event.listen(factory, "after_commit", self._after_commit)
            event.listen(factory, "after_transaction_create", _mark_savepoint)
            event.listen(factory, "after_soft_rollback", _drop_rolled_back_events)
            event.listen(factory, "after_flush", _note_changed_blogs)

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            # SQLAlchemy calls this for a savepoint's release too: nothing is committed yet,
            # and the transaction may still fail. Only the outermost commit counts.
            return
        committed: list[Event] = session.info.pop(PENDING_EVENTS, [])
        session.info.pop(PENDING_BY_ENTITY, None)
        if committed:
            for listener in self.commit_listeners:
                listener(committed)
        changed: set[int] = session.info.pop(_CHANGED_BLOGS, set())
        if changed:
            for change_listener in self.change_listeners:
                change_listener(changed)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commit if the block ends normally, roll back on any error
        except SignInRefused, whose transaction holds the audit entry of the attempt."""
        factory = self.write_sessions if write else self.sessions
        with factory() as session, session.begin():
            try:
                yield session
            except SignInRefused:
                session.commit()
                raise

    def upgrade(self) -> None:
        try:
            upgrade_schema(self.url, engine=self.engine)
        except OperationalError as exc:
            raise unavailable(self.url, exc) from None
        except alembic.util.CommandError as exc:
            # A revision this code does not know: a newer Liveticker wrote this database.
            raise Misconfigured(
                f"the database at {safe_url(self.url)} "
                "has a schema this version of "
                f"Liveticker does not know ({exc}); run the newer version that upgraded it, "
                "or point LIVETICKER_DATABASE_URL at another database"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade_schema(url: str, *, engine: Engine | None = None) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    config = alembic_config(url)
    if engine is None:
        command.upgrade(config, "head")
        return
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """SQLite alters a table by copying it and dropping the original; with foreign keys
    on, the drop would run every ON DELETE CASCADE that points at it (a post's revisions,
    a user's sessions). The pragma is ignored inside a transaction, so it goes straight to
    the driver's connection, which is outside one here."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection: Connection) -> None:
    """With the checks off during the migration, check once at its end (and roll it back
    rather than commit a dangling reference)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the schema upgrade left broken references: {broken[:5]}")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
