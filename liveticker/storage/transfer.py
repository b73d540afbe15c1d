"""The whole database as JSON lines, out and in: how a newsroom moves between databases
(`liveticker export`, then `liveticker import` on the new one).

A header line, then one line per row, parents before children, each media row followed
by its image files (base64). The columns come from the models, so a column a migration
adds travels without a change here; an export from before a migration that only added
columns is read with their defaults (ADDED_COLUMNS). Export reads one snapshot in
batches; import fills an empty database in one transaction, so a bad line leaves nothing
behind. Sessions, live reader counts and leases belong to running processes, not to the
newsroom: they stay behind.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import IO, Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Column, Table, func, insert, select, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

from liveticker import __version__
from liveticker.exceptions import (
    Conflict,
    LivetickerError,
    Misconfigured,
    NotFound,
    ValidationFailed,
)
from liveticker.storage.database import (
    WRITE_OPTION,
    Database,
    alembic_config,
    current_revision,
    safe_url,
    unavailable,
)
from liveticker.storage.models import Base, utcnow

FORMAT = "liveticker-export"
VERSION = 1
# State of running processes, not content: signed-in browsers, live reader counts, job leases.
EPHEMERAL = frozenset({"sessions", "live_presence", "leases"})
MEDIA = "media"
BATCH = 500
# The longest line read: a media file (at most LIVETICKER_MEDIA_MAX_BYTES re-encoded, in
# base64) fits many times; a file that is not an export does not fill the memory.
MAX_LINE = 64 * 1024 * 1024
# Columns a migration added with a default, by revision. An export of the schema before
# it is read as `liveticker db upgrade` would have upgraded its database: its rows get
# these values. Exports from before a revision not listed here (one that changed data)
# are refused with the advice to upgrade the old database and export again.
ADDED_COLUMNS: dict[str, dict[str, dict[str, Any]]] = {
    "0012": {"blogs": {"language": "en", "translations": [], "theme": ""}},
}

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Summary:
    """What an export wrote or an import loaded."""

    schema: str
    rows: dict[str, int]
    files: int

    def __str__(self) -> str:
        tables = sum(1 for count in self.rows.values() if count)
        return (
            f"{sum(self.rows.values())} rows in {tables} tables and {self.files} media files "
            f"(schema {self.schema})"
        )


def tables() -> list[Table]:
    """The tables an export holds, each after the tables it refers to."""
    return [table for table in Base.metadata.sorted_tables if table.name not in EPHEMERAL]


# -- values -----------------------------------------------------------------------------

_KINDS: tuple[tuple[type[Any], str], ...] = (
    (sqltypes.JSON, "json"),
    (sqltypes.DateTime, "datetime"),
    (sqltypes.Date, "date"),
    (sqltypes.LargeBinary, "bytes"),
    (sqltypes.Boolean, "bool"),
    (sqltypes.Integer, "int"),
    (sqltypes.Float, "float"),
    (sqltypes.Numeric, "decimal"),
    (sqltypes.String, "str"),
)


def _kind(column: Column[Any]) -> str:
    """How a column's values are written in JSON: by the type the database stores."""
    kind = column.type
    if isinstance(kind, sqltypes.TypeDecorator):
        kind = kind.impl_instance
    return next((name for cls, name in _KINDS if isinstance(kind, cls)), "any")


def _columns(table: Table) -> list[tuple[str, Column[Any], str]]:
    return [(column.name, column, _kind(column)) for column in table.columns]


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("datetime", "date"):
        return value.isoformat()  # UTCDateTime hands out aware UTC times: the zone travels
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "decimal":
        return str(value)
    return value


def _decode(column: Column[Any], kind: str, value: Any) -> Any:
    """The value to insert, or ValueError saying what is wrong with it."""
    if value is None:
        if column.nullable:
            return None
        raise ValueError("is null, and may not be")
    if kind == "json":
        return value
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"should be a whole number, not {_short(value)}")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"should be a number, not {_short(value)}")
        return float(value)
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"should be true or false, not {_short(value)}")
    if kind in ("str", "datetime", "date", "bytes", "decimal") and not isinstance(value, str):
        raise ValueError(f"should be a string, not {_short(value)}")
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"is not an ISO 8601 time: {_short(value)}") from None
        if moment.tzinfo is None:
            raise ValueError(f"is a time without its zone: {_short(value)}")
        return moment.astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "decimal":
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"is not a decimal number: {_short(value)}") from None
    return value


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _line(item: dict[str, Any]) -> bytes:
    return (json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _media_names(renditions: Any) -> list[str]:
    """The files of a media row (relative to the media folder)."""
    if not isinstance(renditions, list):
        return []
    return [
        item["file"]
        for item in renditions
        if isinstance(item, dict) and isinstance(item.get("file"), str)
    ]


def _safe_name(name: str) -> bool:
    """A path inside the media folder: relative, no `..`, nothing a file could escape by."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and "\\" not in name
        and "\0" not in name
        and not path.is_absolute()
        and all(part not in ("", ".", "..") for part in name.split("/"))
    )


@contextmanager
def _database_errors(database: Database) -> Iterator[None]:
    """A database that stops answering is one clear line, like everywhere in the CLI."""
    try:
        yield
    except OperationalError as exc:
        raise unavailable(database.url, exc) from None
    except CommandError as exc:  # from the schema upgrade: a revision this code lacks
        raise LivetickerError(
            f"cannot bring the schema up to date: {exc} (made by a newer Liveticker?)"
        ) from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise LivetickerError(f"database error: {detail}") from None


# -- export -----------------------------------------------------------------------------


def export_database(
    database: Database,
    *,
    out: IO[bytes],
    media_dir: Path,
    allow_missing_media: bool = False,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> Summary:
    """Write the whole database, and its media files, to `out` as JSON lines.

    The schema is brought up to date first (as every command does), so the export's
    columns are the models' columns. Rows are read from one snapshot, BATCH at a time.
    """
    with _database_errors(database):
        database.upgrade()
        schema = current_revision(database.engine) or ""
        with _snapshot(database) as connection:
            counts = {
                table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
                for table in tables()
            }
            present, missing = _check_media(connection, media_dir)
            skip = set(missing)
            if missing:
                where = f"{len(missing)} media files are missing from {media_dir.absolute()}"
                if not allow_missing_media:
                    raise NotFound(
                        f"{where} (first: {missing[0]}); is LIVETICKER_MEDIA_DIR right? "
                        "--allow-missing-media exports without them"
                    )
                if warn:
                    warn(f"warning: {where}; exported without them (first: {missing[0]})")
            header = {
                "format": FORMAT,
                "version": VERSION,
                "schema": schema,
                "exported_at": utcnow().isoformat(),
                "liveticker": __version__,
                "source": connection.dialect.name,
                "tables": counts,
                "files": present,
            }
            out.write(_line(header))
            files = 0
            for table in tables():
                written = 0
                columns = _columns(table)
                statement = (
                    select(table)
                    .order_by(*table.primary_key.columns)
                    .execution_options(yield_per=BATCH)
                )
                for found in connection.execute(statement):
                    values = found._mapping
                    row = {name: _encode(kind, values[name]) for name, _, kind in columns}
                    out.write(_line({"table": table.name, "row": row}))
                    written += 1
                    if table.name == MEDIA:
                        files += _write_media_files(out, values["renditions"], media_dir, skip)
                if progress:
                    progress(table.name, written)
    return Summary(schema=schema, rows=counts, files=files)


@contextmanager
def _snapshot(database: Database) -> Iterator[Connection]:
    """One state of the database throughout (PostgreSQL's default would let each query
    see later commits; SQLite's reads in one transaction are one snapshot)."""
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _check_media(connection: Connection, media_dir: Path) -> tuple[int, list[str]]:
    """How many media files are there to export, and which are missing."""
    present = 0
    missing: list[str] = []
    statement = select(Base.metadata.tables[MEDIA].c.renditions).execution_options(yield_per=BATCH)
    for (renditions,) in connection.execute(statement):
        for name in _media_names(renditions):
            if _safe_name(name) and (media_dir / name).is_file():
                present += 1
            else:
                missing.append(name)
    return present, missing


def _write_media_files(out: IO[bytes], renditions: Any, media_dir: Path, skip: set[str]) -> int:
    written = 0
    for name in _media_names(renditions):
        if name in skip:
            continue
        try:
            data = (media_dir / name).read_bytes()
        except OSError as exc:
            raise NotFound(f"cannot read media file {media_dir / name}: {exc.strerror}") from None
        out.write(_line({"file": name, "data": base64.b64encode(data).decode("ascii")}))
        written += 1
    return written


# -- import -----------------------------------------------------------------------------


def import_database(
    database: Database,
    *,
    source: IO[bytes],
    name: str,
    media_dir: Path,
    progress: Progress | None = None,
) -> Summary:
    """Load an export into an empty database (the schema made first) in one transaction,
    with the same primary keys, and its media files into `media_dir`.

    `name` is the file's name in messages (`name:line: what is wrong`). Anything wrong
    rolls the database back and removes the files written so far.
    """
    lines = _Lines(source, name)
    header, added = _read_header(lines, database.url)
    files = _MediaFiles(media_dir)
    with _database_errors(database):
        database.upgrade()
        try:
            writer = database.engine.execution_options(**{WRITE_OPTION: True})
            with writer.begin() as connection:
                _refuse_unless_empty(connection, database.url)
                loaded = _Loader(connection, lines, files, progress, added).load()
                _check_counts(lines, header, loaded)
                _reset_sequences(connection)
        except BaseException:
            files.undo()
            raise
    return Summary(schema=header["schema"], rows=loaded.rows, files=loaded.files)


class _Lines:
    """The file's lines as JSON values, numbered from 1 for messages."""

    def __init__(self, source: IO[bytes], name: str) -> None:
        self.source = source
        self.name = name
        self.number = 0

    def error(self, message: str, number: int | None = None) -> ValidationFailed:
        return ValidationFailed(f"{self.name}:{number or self.number}: {message}")

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        while True:
            raw = self.source.readline(MAX_LINE + 1)
            if not raw:
                return
            self.number += 1
            if len(raw) > MAX_LINE:
                raise self.error(f"the line is longer than {MAX_LINE // 1_048_576} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.error(f"not UTF-8 text (byte {exc.start + 1} of the line)") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                ends = "" if raw.endswith(b"\n") else "; the file ends inside it: truncated?"
                raise self.error(f"not JSON ({exc.msg}, column {exc.colno}){ends}") from None
            yield self.number, value


def _read_header(lines: _Lines, url: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The header, and the values of the columns added since the export's schema."""
    first = next(iter(lines), None)
    if first is None:
        raise ValidationFailed(f"{lines.name} is empty: not a Liveticker export")
    _, header = first
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise lines.error(f'not a Liveticker export (its first line has no "format": "{FORMAT}")')
    version = header.get("version")
    if version != VERSION or isinstance(version, bool):
        raise lines.error(
            f"export format version {_short(version)}: this Liveticker reads version {VERSION}; "
            "import it with the Liveticker that exported it, or a newer one"
        )
    counts = header.get("tables")
    names = [table.name for table in tables()]
    if (
        not isinstance(counts, dict)
        or sorted(counts) != sorted(names)
        or not all(isinstance(count, int) and count >= 0 for count in counts.values())
        or not isinstance(header.get("files"), int)
    ):
        raise lines.error(
            f'the header\'s "tables" should count the rows of {", ".join(names)}, '
            'and its "files" the media files'
        )
    return header, _check_schema(lines, header.get("schema"), url)


def _check_schema(lines: _Lines, schema: Any, url: str) -> dict[str, dict[str, Any]]:
    """The values of the columns added since the export's schema revision (none for this
    Liveticker's own); an export from before a change of data is refused."""
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    if schema == head:
        return {}
    try:
        known = isinstance(schema, str) and script.get_revision(schema) is not None
    except CommandError:
        known = False
    if known:
        later = [revision.revision for revision in script.iterate_revisions(head, schema)]
        if all(revision in ADDED_COLUMNS for revision in later):
            added: dict[str, dict[str, Any]] = {}
            for revision in later:
                for table, values in ADDED_COLUMNS[revision].items():
                    added.setdefault(table, {}).update(values)
            return added
        raise lines.error(
            f"the export is of schema revision {schema}, older than this Liveticker's {head}: "
            "run `liveticker db upgrade` on the old database with this version, then export "
            "again"
        )
    raise lines.error(
        f"the export is of schema revision {_short(schema)}, which this Liveticker does not "
        f"know (its newest is {head}): import it with the version that exported it, or newer"
    )


def _refuse_unless_empty(connection: Connection, url: str) -> None:
    counts = {
        table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
        for table in tables()
    }
    found = [f"{count} {name}" for name, count in counts.items() if count]
    if found:
        where = safe_url(url)
        more = ", …" if len(found) > 3 else ""
        raise Conflict(
            f"the database {where} is not empty ({', '.join(found[:3])}{more}); import only "
            "into a new, empty database"
        )


@dataclass
class _Loaded:
    rows: dict[str, int]
    files: int


class _Loader:
    """Reads the lines after the header and inserts their rows, BATCH at a time."""

    def __init__(
        self,
        connection: Connection,
        lines: _Lines,
        files: _MediaFiles,
        progress: Progress | None,
        added: dict[str, dict[str, Any]],
    ) -> None:
        self.connection = connection
        self.lines = lines
        self.files = files
        self.progress = progress
        self.added = added
        self.tables = {table.name: table for table in tables()}
        self.order = list(self.tables)
        self.columns = {table.name: _columns(table) for table in tables()}
        self.loaded = _Loaded(rows=dict.fromkeys(self.order, 0), files=0)
        self.table: Table | None = None
        self.batch: list[dict[str, Any]] = []
        self.batch_lines: list[int] = []
        # The files the last media row names (with their sizes), until its file lines come.
        self.expected_files: dict[str, int | None] = {}

    def load(self) -> _Loaded:
        for number, item in self.lines:
            if isinstance(item, dict) and set(item) == {"table", "row"}:
                self._row(number, item["table"], item["row"])
            elif isinstance(item, dict) and set(item) == {"file", "data"}:
                self._file(number, item["file"], item["data"])
            else:
                raise self.lines.error(
                    'expected a row {"table": …, "row": {…}} or a media file {"file": …, "data": …}'
                )
        self._finish_table()
        return self.loaded

    def _row(self, number: int, name: Any, row: Any) -> None:
        if name not in self.tables:
            raise self.lines.error(f"no table {_short(name)} in this Liveticker's exports")
        if self.table is None or self.table.name != name:
            previous = self.table.name if self.table is not None else None
            if previous is not None and self.order.index(name) <= self.order.index(previous):
                raise self.lines.error(
                    f"rows of table {name} after rows of {previous}: an export holds each "
                    "table's rows together, parents first"
                )
            self._finish_table()
            self.table = self.tables[name]
        if not isinstance(row, dict):
            raise self.lines.error(f"the {name} row should be a JSON object")
        columns = self.columns[name]
        unknown = sorted(set(row) - {column for column, _, _ in columns})
        if unknown:
            raise self.lines.error(f"{name} has no column {unknown[0]}")
        values = {}
        added = self.added.get(name, {})
        for column_name, column, kind in columns:
            if column_name not in row and column_name in added:
                values[column_name] = copy.deepcopy(added[column_name])
                continue
            if column_name not in row:
                raise self.lines.error(f"the {name} row lacks column {column_name}")
            try:
                values[column_name] = _decode(column, kind, row[column_name])
            except (ValueError, binascii.Error) as exc:
                raise self.lines.error(f"{name}.{column_name} {exc}") from None
        if name == MEDIA:
            self.expected_files = self._media_files(values["renditions"])
        self.batch.append(values)
        self.batch_lines.append(number)
        self.loaded.rows[name] += 1
        if len(self.batch) >= BATCH:
            self._insert()

    def _media_files(self, renditions: Any) -> dict[str, int | None]:
        expected: dict[str, int | None] = {}
        for item in renditions if isinstance(renditions, list) else []:
            name = item.get("file") if isinstance(item, dict) else None
            if isinstance(name, str):
                if not _safe_name(name):
                    raise self.lines.error(f"media file name {_short(name)} leaves the folder")
                size = item.get("bytes")
                expected[name] = size if isinstance(size, int) else None
        return expected

    def _file(self, number: int, name: Any, data: Any) -> None:
        if self.table is None or self.table.name != MEDIA:
            raise self.lines.error("a media file outside the media rows")
        if not isinstance(name, str) or name not in self.expected_files:
            raise self.lines.error(f"media file {_short(name)} is not one of its media row's")
        size = self.expected_files.pop(name)
        try:
            content = base64.b64decode(data if isinstance(data, str) else "?", validate=True)
        except binascii.Error:
            raise self.lines.error(f"media file {name}: its data is not base64") from None
        if size is not None and len(content) != size:
            raise self.lines.error(
                f"media file {name} has {len(content)} bytes; its media row says {size}"
            )
        self.files.write(name, content)
        self.loaded.files += 1

    def _finish_table(self) -> None:
        if self.table is None:
            return
        self._insert()
        if self.progress:
            self.progress(self.table.name, self.loaded.rows[self.table.name])

    def _insert(self) -> None:
        """Insert the batch; if the database refuses it, find the row it refuses, for its
        line number (a savepoint keeps PostgreSQL's transaction usable for the search)."""
        if not self.batch or self.table is None:
            return
        statement = insert(self.table)
        try:
            with self.connection.begin_nested():
                self.connection.execute(statement, self.batch)
        except (IntegrityError, DataError):
            for values, number in zip(self.batch, self.batch_lines, strict=True):
                try:
                    with self.connection.begin_nested():
                        self.connection.execute(statement, [values])
                except (IntegrityError, DataError) as exc:
                    detail = str(exc.orig).strip().splitlines()[0][:200]
                    raise self.lines.error(
                        f"the database refuses this {self.table.name} row: {detail}", number
                    ) from None
            raise
        self.batch = []
        self.batch_lines = []


def _check_counts(lines: _Lines, header: dict[str, Any], loaded: _Loaded) -> None:
    """An export cut short at a line's end is still JSON: the header's counts tell."""
    for table, expected in header["tables"].items():
        if loaded.rows[table] != expected:
            raise lines.error(
                f"the file holds {loaded.rows[table]} {table} rows where its header counts "
                f"{expected}: truncated or edited?"
            )
    if loaded.files != header["files"]:
        raise lines.error(
            f"the file holds {loaded.files} media files where its header counts "
            f"{header['files']}: truncated or edited?"
        )


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL's id sequences start after the imported ids, so new rows do not collide.
    (SQLite gives a new row the largest id + 1 by itself.)"""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        # The names are the models' own, quoted: nothing from the file reaches this SQL.
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                f"COALESCE(MAX({quote(column.name)}), 0) + 1, false) FROM {quote(table.name)}"
            ),
            {"table": table.name, "column": column.name},
        )


class _MediaFiles:
    """Writes imported media files, each whole or not at all; `undo` removes them again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.created: list[Path] = []

    def write(self, name: str, data: bytes) -> None:
        path = self.directory / name
        try:
            if path.exists():
                if path.is_file() and path.read_bytes() == data:
                    return  # the same image, in a folder the old and new database share
                raise Conflict(
                    f"{path} exists with other content; import into an empty media folder"
                )
            made = [folder for folder in reversed(path.parents) if not folder.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.created.extend(made)
            partial = path.with_name(path.name + ".part")
            try:
                with partial.open("wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(partial, path)
            finally:
                partial.unlink(missing_ok=True)
            self.created.append(path)
        except OSError as exc:
            raise Misconfigured(
                f"cannot write the media folder {self.directory}: {exc.strerror or exc}; "
                "check LIVETICKER_MEDIA_DIR"
            ) from None

    def undo(self) -> None:
        for path in reversed(self.created):
            try:
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                pass  # a folder someone else wrote into meanwhile stays
