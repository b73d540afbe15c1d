"""Each server process reports its live readers per blog, for the desk's counts.

The report replaces the process's previous one at every heartbeat while it has readers
(once more when the last one leaves), and is withdrawn when the process stops; the rule
that adds the reports up is `domain.presence`. The database work runs on a thread, as
the scheduler's does, so the event loop that serves the streams never waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from liveticker.domain import presence
from liveticker.live.hub import Hub
from liveticker.storage.database import Database
from liveticker.storage.models import utcnow

log = logging.getLogger("liveticker.live")


def process_name() -> str:
    """Unique among the processes of every host, and across restarts of one."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _report(database: Database, process: str, counts: dict[int, int]) -> None:
    with database.transaction() as session:
        presence.report(session, process=process, counts=counts, now=utcnow())


def _withdraw(database: Database, process: str) -> None:
    with database.transaction() as session:
        presence.withdraw(session, process=process)


async def run(database: Database, hub: Hub, *, process: str, seconds: float) -> None:
    """Report every `seconds` until cancelled, then withdraw the report."""
    reported = False
    try:
        while True:
            counts = hub.readers_by_blog()
            if counts or reported:
                try:
                    await asyncio.shield(asyncio.to_thread(_report, database, process, counts))
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database away a moment: the next round reports
                    log.exception("live reader report failed")
                reported = bool(counts)
            await asyncio.sleep(seconds)
    finally:
        if reported:
            try:
                await asyncio.to_thread(_withdraw, database, process)
            except Exception:  # it ages out by itself
                log.warning("could not withdraw the live reader report of %s", process)
