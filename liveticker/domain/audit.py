"""The audit log: who did what as staff, readable by admins and kept a configurable time.

Domain functions record their entry in the action's own transaction, so a refused action
leaves none; the one entry that outlives its failure is a failed sign-in's
(`sessions.check_sign_in`). Entries name what they acted on as text (`user:alice`,
`blog:storm`, `post:42`) and never hold a password, a token or other secret.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from liveticker.domain import permissions
from liveticker.domain.accounts import STAFF_ROLES, USERNAME_PATTERN, Actor
from liveticker.domain.constants import MAX_AUDIT_RETENTION_DAYS as MAX_RETENTION_DAYS
from liveticker.domain.inputs import MAX_AUDIT_ENTRIES, SLUG_PATTERN
from liveticker.domain.times import as_utc
from liveticker.exceptions import ValidationFailed
from liveticker.storage.models import AuditEntry, Blog, User, utcnow

_ACTION_PREFIX = re.compile(r"^[a-z_.]{1,40}$")
_SLUG = re.compile(SLUG_PATTERN)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target: str,
    reason: str,
    blog: Blog | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Add an entry to the audit log, in the caller's transaction."""
    entry = AuditEntry(
        user_id=actor.user_id,
        action=action,
        target=target,
        blog_id=blog.id if blog is not None else None,
        reason=reason,
        created_at=now or utcnow(),
    )
    session.add(entry)
    return entry


def is_staff(user: User) -> bool:
    """Staff actions are audited; a reader's account is the public's, and what the public
    does (signing in to rate notes) is not the newsroom's record to keep."""
    return user.role in STAFF_ROLES


def signed_in(session: Session, *, user: User, how: str) -> None:
    """A staff member signed in (`how`: on the desk, or for an API token)."""
    if is_staff(user):
        record(
            session,
            actor=Actor.of(user),
            action="session.sign_in",
            target=f"user:{user.username}",
            reason=how,
        )


def sign_in_failed(session: Session, *, username: str, how: str) -> bool:
    """Record a refused sign-in to an existing staff account; False (nothing recorded) for
    unknown names and readers' accounts. The entry names the account that was tried: who
    tried is not known."""
    name = username.strip().lower()
    user = session.scalar(select(User).where(User.username == name))
    if user is None or not is_staff(user):
        return False
    why = "the account is disabled" if not user.is_active else "wrong password"
    record(
        session,
        actor=Actor.of(user),
        action="session.sign_in_failed",
        target=f"user:{user.username}",
        reason=f"{how}: {why}",
    )
    return True


def entries(
    session: Session,
    *,
    actor: Actor | None,
    limit: int = 100,
    user: str | None = None,
    action: str | None = None,
    blog: str | None = None,
    since: str | datetime | None = None,
) -> list[AuditEntry]:
    """The newest entries first (admins only), narrowed by any of: the account that acted
    (`user`; for a failed sign-in the account that was tried), the start of the action's
    name (`action`, so `blog.` gives every blog action), the blog (`blog`, its slug) and
    the earliest time (`since`, an ISO 8601 date or time, UTC unless it says otherwise).

    A filter that cannot match anything (a malformed value, an unknown user or blog) is
    ValidationFailed naming it, rather than an empty answer that looks like a clean record.
    """
    permissions.require_admin(actor)
    limit = max(1, min(limit, MAX_AUDIT_ENTRIES))
    conditions: list[ColumnElement[bool]] = []
    if user is not None:
        conditions.append(AuditEntry.user_id == _user_id(session, user))
    if action is not None:
        if not _ACTION_PREFIX.match(action):
            raise ValidationFailed(
                "action must be the start of an action's name, such as 'blog.' or "
                "'session.sign_in_failed' (lowercase letters, '.' and '_')",
                field="action",
            )
        conditions.append(AuditEntry.action.startswith(action, autoescape=True))
    if blog is not None:
        conditions.append(AuditEntry.blog_id == _blog_id(session, blog))
    if since is not None:
        conditions.append(AuditEntry.created_at >= parse_since(since))
    query = select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))


def parse_since(since: str | datetime) -> datetime:
    """An ISO 8601 date (`2026-05-01`, midnight UTC) or time (`2026-05-01T09:30:00Z`,
    `…+02:00`); a time without an offset is UTC."""
    if isinstance(since, datetime):
        return as_utc(since)
    try:
        if len(since) > 40:
            raise ValueError(since)
        return as_utc(since.strip())
    except (ValueError, OverflowError):  # overflow: year 1 or 9999 moved to UTC
        raise ValidationFailed(
            f"since must be an ISO 8601 date or time, such as 2026-05-01 or "
            f"2026-05-01T09:30:00Z, not {since[:40]!r}",
            field="since",
        ) from None


def _user_id(session: Session, username: str) -> int:
    name = username.strip().lower()
    found = (
        session.scalar(select(User.id).where(User.username == name))
        if USERNAME_PATTERN.match(name)
        else None
    )
    if found is None:
        raise ValidationFailed(f"no user named {username[:40]!r}", field="user")
    return found


def _blog_id(session: Session, slug: str) -> int:
    slug = slug.strip()
    found = (
        session.scalar(select(Blog.id).where(Blog.slug == slug))
        if len(slug) <= 80 and _SLUG.match(slug)
        else None
    )
    if found is None:
        raise ValidationFailed(f"no blog {slug[:80]!r}", field="blog")
    return found


def prune(session: Session, *, older_than_days: int, now: datetime) -> int:
    """Delete the entries older than `older_than_days` days; 0 keeps them all. Returns
    how many went. One DELETE with a WHERE: two processes pruning at once delete each
    entry once between them, and a second run deletes nothing more."""
    if not 0 <= older_than_days <= MAX_RETENTION_DAYS:
        raise ValidationFailed(
            f"the audit log's retention must be 0 (forever) to {MAX_RETENTION_DAYS} days, "
            f"not {older_than_days}",
            field="older_than_days",
        )
    if older_than_days == 0:
        return 0
    cutoff = as_utc(now) - timedelta(days=older_than_days)
    result = session.execute(
        delete(AuditEntry)
        .where(AuditEntry.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
