"""The server's periodic check for scheduled posts that are due, in every process.

Each check asks a cheap read-only question first and opens a write transaction only when
a post is due; the rule, and the claim that makes each post go out exactly once however
many processes ask, is `domain.schedule`. The database work runs on a thread, so the
event loop that serves the live streams never waits for it. What the check publishes
reaches readers like any post: its commit hands the events to the hub and the Redis bus.
Once a day the same loop also deletes audit entries past their retention.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from liveticker.domain import audit, leases, schedule
from liveticker.live.presence import process_name
from liveticker.storage.database import Database
from liveticker.storage.models import utcnow

log = logging.getLogger("liveticker.scheduler")
AUDIT_PRUNE_LEASE = "audit-prune"
DAY_SECONDS = 86_400


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


def prune_audit(
    database: Database, *, retention_days: int, holder: str, now: datetime | None = None
) -> int | None:
    """Delete the audit entries past their retention, unless another process did today:
    the lease is taken for a day and never given back, so the first process to ask each
    day prunes and the others find it held. Returns how many went, or None when skipped.
    (The DELETE is idempotent anyway; the lease only spares the others a pointless one.)"""
    now = now or utcnow()
    with database.transaction() as session:
        if not leases.claim(
            session, name=AUDIT_PRUNE_LEASE, holder=holder, seconds=DAY_SECONDS, now=now
        ):
            return None
        return audit.prune(session, older_than_days=retention_days, now=now)


def _round(database: Database, *, prune_days: int, holder: str) -> None:
    """One round: the check for due posts, then, when its day has come, the audit prune
    (which a failed check does not put off for a day)."""
    try:
        check(database)
    finally:
        if prune_days > 0:
            _prune(database, days=prune_days, holder=holder)


def _prune(database: Database, *, days: int, holder: str) -> None:
    try:
        pruned = prune_audit(database, retention_days=days, holder=holder)
    except Exception:  # tried again the next day; the loop must go on meanwhile
        log.exception("pruning the audit log failed")
        return
    if pruned:
        log.info("audit log: deleted %d entries older than %d days", pruned, days)


async def run(database: Database, *, seconds: float, audit_retention_days: int = 0) -> None:
    """Check every `seconds` until cancelled; a failed check is logged and retried. Every
    day from the first round on, the round also prunes the audit log to
    `audit_retention_days` (0: never).

    Cancelled during a check, it lets the check finish first: the thread cannot be
    stopped, and its commit should reach the hub before the hub and the database close.
    """
    holder = process_name()
    prune_at = time.monotonic()  # at the first round: servers restarted daily prune too
    while True:
        await asyncio.sleep(seconds)
        prune_days = 0
        if audit_retention_days > 0 and time.monotonic() >= prune_at:
            prune_days, prune_at = audit_retention_days, time.monotonic() + DAY_SECONDS
        job = asyncio.ensure_future(
            asyncio.to_thread(_round, database, prune_days=prune_days, holder=holder)
        )
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            await asyncio.wait([job])
            if job.exception() is not None:
                log.error("scheduled posts check failed: %s", job.exception())
            raise
        except Exception:  # a failed round (the database away a moment) must not end the loop
            log.exception("scheduled posts check failed")
