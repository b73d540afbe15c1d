"""Backups while the server runs: SQLite's online backup API, PostgreSQL's own pg_dump.

Every backup and export goes to a new file through `new_file`: it is written beside its
place under a temporary name and moved there once complete, so a failed or interrupted
run never leaves half a file that looks like a backup.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from liveticker.exceptions import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    Misconfigured,
    NotFound,
)
from liveticker.storage.database import check_url, safe_url


@contextmanager
def new_file(path: Path, *, force: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write; moved to `path` when the block ends
    normally, removed otherwise. An existing `path` is refused unless `force`; a place
    that cannot be written is refused before any work starts."""
    if path.exists() and not force:
        raise Conflict(f"{path} exists already; pass --force to replace it")
    if path.is_dir():
        raise Conflict(f"{path} is a folder; give the name of a file to write")
    partial = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
    try:
        partial.touch(exist_ok=False)
    except OSError as exc:
        raise Forbidden(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@dataclass(frozen=True)
class Backup:
    path: Path
    source: str  # the database, without its password
    how: str  # "SQLite's backup API" / "pg_dump --format=custom"

    def __str__(self) -> str:
        size = self.path.stat().st_size
        return f"backed up {self.source} to {self.path} ({size:,} bytes, {self.how})"


def backup(url: str, *, target: Path, force: bool = False) -> Backup:
    """Copy the database at `url` to the file `target`, consistent, while others write."""
    shown = safe_url(url)
    url = check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with new_file(target, force=force) as partial:
            _sqlite_backup(_sqlite_file(parsed.database), partial)
        return Backup(target, shown, "SQLite's backup API")
    command = pg_dump_command(url, target=target)
    executable = shutil.which("pg_dump")
    if executable is None:
        raise NotFound(
            f"pg_dump is not on PATH; install PostgreSQL's client tools, or run this where "
            f"they are: {shlex.join(command)} (password from PGPASSWORD or ~/.pgpass)"
        )
    with new_file(target, force=force) as partial:
        _pg_dump([executable, *pg_dump_command(url, target=partial)[1:]], parsed.password)
    return Backup(target, shown, "pg_dump --format=custom; restore with pg_restore")


def pg_dump_command(url: str, *, target: Path) -> list[str]:
    """The pg_dump call for the database at `url`: libpq's own URL, without the password
    (pg_dump reads it from PGPASSWORD or ~/.pgpass, never from a visible command line)."""
    libpq = make_url(url).set(drivername="postgresql", password=None)
    return [
        "pg_dump",
        "--format=custom",
        "--file",
        str(target),
        "--dbname",
        libpq.render_as_string(hide_password=False),
    ]


def _sqlite_file(database: str | None) -> str:
    if not database or database == ":memory:":
        raise Misconfigured("an in-memory SQLite database has nothing to back up")
    if not database.startswith("file:") and not Path(database).is_file():
        raise NotFound(f"no SQLite database at {database}")
    return database


def _sqlite_backup(source: str, target: Path) -> None:
    """One step of the backup API: the whole database as of one read transaction, which
    in WAL mode never blocks the server's writers. The copy is one self-contained file."""
    try:
        with (
            closing(sqlite3.connect(source, timeout=30, uri=source.startswith("file:"))) as src,
            closing(sqlite3.connect(target)) as copy,
        ):
            src.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file needed beside it
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"cannot back up the SQLite database {source}: {exc}") from None
    if check != "ok":
        raise DatabaseUnavailable(f"the backup of {source} does not check out: {check}")


def _pg_dump(command: list[str], password: str | None) -> None:
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    result = subprocess.run(  # noqa: S603 - our own argument list, no shell
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[0]
        raise DatabaseUnavailable(f"pg_dump failed: {detail}")
