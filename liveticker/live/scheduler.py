"""The server's periodic check for scheduled posts that are due, in every process.

Each check asks a cheap read-only question first and opens a write transaction only when
a post is due; the rule, and the claim that makes each post go out exactly once however
many processes ask, is `domain.schedule`. The database work runs on a thread, so the
event loop that serves the live streams never waits for it. What the check publishes
reaches readers like any post: its commit hands the events to the hub and the Redis bus.
"""

from __future__ import annotations

import asyncio
import logging

from liveticker.domain import schedule
from liveticker.storage.database import Database

log = logging.getLogger("liveticker.scheduler")


def check(database: Database) -> int:
    """Publish what is due now; returns how many posts it changed."""
    with database.transaction(write=False) as session:
        if not schedule.any_due(session):
            return 0
    with database.transaction() as session:
        changed = schedule.publish_due(session)
    for post in changed:  # committed
        log.info("scheduled post %d of blog %d is now %s", post.id, post.blog_id, post.status)
    return len(changed)


async def run(database: Database, *, seconds: float) -> None:
    """Check every `seconds` until cancelled; a failed check is logged and retried.

    Cancelled during a check, it lets the check finish first: the thread cannot be
    stopped, and its commit should reach the hub before the hub and the database close.
    """
    while True:
        await asyncio.sleep(seconds)
        job = asyncio.ensure_future(asyncio.to_thread(check, database))
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            await asyncio.wait([job])
            if job.exception() is not None:
                log.error("scheduled posts check failed: %s", job.exception())
            raise
        except Exception:  # a failed round (the database away a moment) must not end the loop
            log.exception("scheduled posts check failed")
