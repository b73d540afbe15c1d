"""The server's scoring of community notes: one run now and then, on one process at a time.

A run holds the database lease "notes-scorer" from start to end, so however many
workers and hosts serve, one scores and the others skip. It reads in one read
transaction (one snapshot), scores with no transaction open, and writes everything in
one write transaction that first checks the lease is still its own. A run that would
change nothing (`domain.notes_run.due`) is skipped after the cheap check. Once a day the
lease holder also writes the public download of the notes data (X's four TSV files).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from liveticker.domain import leases, notes_run
from liveticker.live.presence import process_name
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import utcnow

log = logging.getLogger("liveticker.notes")

# Longer than any run takes (1M ratings: well under a minute); renewed before the write,
# so a run that outlived it writes nothing. A crashed holder blocks scoring this long.
LEASE_SECONDS = 600.0
ARCHIVE = re.compile(r"^notes-(\d{4}-\d{2}-\d{2})\.zip$")
KEEP_ARCHIVES = 7  # days of the public download kept
FILES = ("notes", "ratings", "noteStatusHistory", "userEnrollment")
UNCHANGED = "nothing changed since the last run"  # the one reason not to run that is fine


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What `run_once` did: scored (`ran`), or why not."""

    ran: bool
    reason: str
    now_millis: int
    run_id: int | None = None
    notes: int = 0
    ratings: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    changes: int = 0
    posts: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the log and the CLI."""
        spent = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in self.timings.items())
        if not self.ran:
            return f"not scored: {self.reason}" + (f" ({spent})" if spent else "")
        statuses = ", ".join(f"{count} {status}" for status, count in self.statuses.items())
        return (
            f"run {self.run_id}: scored {self.notes} notes from {self.ratings} ratings "
            f"({statuses}); {self.changes} status changes, {self.posts} posts updated; {spent}"
        )


def run_once(
    database: Database,
    *,
    settings: Settings,
    now_millis: int | None = None,
    holder: str | None = None,
    force: bool = False,
    seed: int = 0,
    lease_seconds: float = LEASE_SECONDS,
) -> Outcome:
    """Score the notes now (or at `now_millis`), unless another process holds the lease
    or, without `force`, nothing changed that a run would see."""
    holder = holder or process_name()
    now_millis = notes_run.millis(utcnow()) if now_millis is None else now_millis
    with database.transaction() as session:
        claimed = leases.claim(session, name=notes_run.LEASE, holder=holder, seconds=lease_seconds)
        if claimed:
            notes_run.assign_participant_ids(session)
    if not claimed:
        return Outcome(
            ran=False, reason="another process holds the scorer's lease", now_millis=now_millis
        )
    try:
        return _run(
            database,
            settings=settings,
            now_millis=now_millis,
            holder=holder,
            force=force,
            seed=seed,
            lease_seconds=lease_seconds,
        )
    finally:
        with database.transaction() as session:
            leases.release(session, name=notes_run.LEASE, holder=holder)


@contextmanager
def _snapshot(database: Database) -> Iterator[Session]:
    """A read transaction that sees one state of the database throughout (PostgreSQL's
    default would let each query see later commits; SQLite's reads are one snapshot)."""
    with database.transaction(write=False) as session:
        if database.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


def _run(
    database: Database,
    *,
    settings: Settings,
    now_millis: int,
    holder: str,
    force: bool,
    seed: int,
    lease_seconds: float,
) -> Outcome:
    started = utcnow()
    clock = time.perf_counter()
    shape = {
        "min_account_age_seconds": settings.notes_min_account_age_seconds,
        "threshold": settings.notes_writing_impact,
    }
    with _snapshot(database) as session:
        current = notes_run.fingerprint(session, now_millis=now_millis, **shape)
        reason = (
            "forced"
            if force
            else notes_run.due(session, now_millis=now_millis, current=current, **shape)
        )
        if reason is None:
            checked = {"check": time.perf_counter() - clock}
            return Outcome(
                ran=False,
                reason=UNCHANGED,
                now_millis=now_millis,
                timings=checked,
            )
        run_input = notes_run.read_input(
            session, now_millis=now_millis, fingerprint_value=current, **shape
        )
    timings = {"read": time.perf_counter() - clock}
    clock = time.perf_counter()
    result = notes_run.score(run_input, seed=seed)
    timings["score"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with database.transaction() as session:
        if not leases.renew(session, name=notes_run.LEASE, holder=holder, seconds=lease_seconds):
            return Outcome(
                ran=False,
                reason="the lease expired during the run and another process took it",
                now_millis=now_millis,
                timings=timings,
            )
        stored = notes_run.store_results(
            session,
            run_input=run_input,
            result=result,
            started_at=started,
            timings=timings,
            threshold=settings.notes_writing_impact,
        )
    timings["write"] = time.perf_counter() - clock
    return Outcome(
        ran=True,
        reason=reason,
        now_millis=now_millis,
        run_id=stored.run_id,
        notes=len(run_input.notes),
        ratings=len(run_input.ratings),
        statuses=stored.statuses,
        changes=stored.changes,
        posts=stored.posts,
        timings=timings,
    )


# -- the public download -------------------------------------------------------------------


def open_data_folder(settings: Settings) -> Path:
    """LIVETICKER_NOTES_OPEN_DATA_DIR, else `open-data` beside the media folder."""
    if settings.notes_open_data_dir:
        return Path(settings.notes_open_data_dir)
    return settings.media_path.absolute().parent / "open-data"


def archives(folder: Path) -> list[tuple[str, Path]]:
    """The public downloads present, (day, file), newest first."""
    if not folder.is_dir():
        return []
    found = [(m.group(1), path) for path in folder.iterdir() if (m := ARCHIVE.match(path.name))]
    return sorted(found, reverse=True)


def write_tsvs(frames: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """X's four files into `folder`, as `<name>.tsv`."""
    from liveticker.scoring.tsv import write_tsv

    written = []
    for name in FILES:
        path = folder / f"{name}.tsv"
        write_tsv(frames[name], path)
        written.append(path)
    return written


def publish_open_data(
    database: Database,
    *,
    settings: Settings,
    holder: str | None = None,
    now: datetime | None = None,
) -> Path | None:
    """Write today's public download (once a day, by the lease holder); returns its path,
    or None when it exists already, nothing was scored yet or another process holds the
    lease. The data is that of the last run, so it gives the statuses shown."""
    now = now or datetime.now(UTC)
    folder = open_data_folder(settings)
    target = folder / f"notes-{now.date().isoformat()}.zip"
    if target.exists():
        return None
    holder = holder or process_name()
    with database.transaction() as session:
        if not leases.claim(session, name=notes_run.LEASE, holder=holder, seconds=LEASE_SECONDS):
            return None
    try:
        with _snapshot(database) as session:
            last = notes_run.last_run(session)
            if last is None:
                return None
            frames = notes_run.export_frames(
                session,
                now_millis=last.now_millis,
                min_account_age_seconds=settings.notes_min_account_age_seconds,
                threshold=settings.notes_writing_impact,
                public=True,
            )
        folder.mkdir(parents=True, exist_ok=True)
        _write_archive(frames, target)
    finally:
        with database.transaction() as session:
            leases.release(session, name=notes_run.LEASE, holder=holder)
    for _, old in archives(folder)[KEEP_ARCHIVES:]:
        old.unlink(missing_ok=True)
    return target


def _write_archive(frames: dict[str, pd.DataFrame], target: Path) -> None:
    """Zip the four files; the archive appears under its name only when complete."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".notes-") as scratch:
        files = write_tsvs(frames, Path(scratch))
        partial = Path(scratch) / target.name
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, arcname=path.name)
        os.replace(partial, target)


# -- the periodic loop ---------------------------------------------------------------------


def one_round(database: Database, *, settings: Settings, holder: str) -> Outcome:
    """A scoring run if one is due, then today's public download if it is missing."""
    outcome = run_once(database, settings=settings, holder=holder)
    if outcome.ran:
        log.info("notes: %s", outcome.summary())
    published = publish_open_data(database, settings=settings, holder=holder)
    if published is not None:
        log.info("notes: wrote the public download %s", published)
    return outcome


async def run(database: Database, *, settings: Settings) -> None:
    """Score every `notes_interval_seconds` until cancelled; a failed round is logged and
    the next one tried. Each round runs on a thread: the event loop keeps serving.
    Cancelled during a round, it lets the round finish, whose commit then reaches the hub.
    """
    holder = process_name()
    while True:
        await asyncio.sleep(settings.notes_interval_seconds)
        job = asyncio.ensure_future(
            asyncio.to_thread(one_round, database, settings=settings, holder=holder)
        )
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            await asyncio.wait([job])
            if job.exception() is not None:
                log.error("notes scoring failed: %s", job.exception())
            raise
        except Exception:  # the database away a moment must not end the loop
            log.exception("notes scoring failed")
