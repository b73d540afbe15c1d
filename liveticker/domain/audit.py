"""The audit log: admin actions taken for legal or safety reasons, and who took them.

A purge erases a post's content and the content of its revisions; what it leaves is an
entry here (who, when, what, why), readable by admins only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain import permissions
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import MAX_AUDIT_ENTRIES
from liveticker.storage.models import AuditEntry, Blog, utcnow


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


def entries(session: Session, *, actor: Actor | None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries first; admins only."""
    permissions.require_admin(actor)
    limit = max(1, min(limit, MAX_AUDIT_ENTRIES))
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
