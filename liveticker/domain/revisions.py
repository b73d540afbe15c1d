"""The edit history: every change to a blog or a post records who, when and what changed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from liveticker.domain.accounts import Actor
from liveticker.storage.models import Blog, Post, Revision, utcnow

# Derived or bookkeeping fields that would only add noise to the history (a revision's
# own time says when a post was submitted).
_NOT_RECORDED = frozenset({"body_html", "summary", "updated_at", "version", "submitted_at"})


def apply_changes(target: Blog | Post, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set each attribute that differs and return {field: [old, new]} for those."""
    changed: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(target, name)
        if old == new:
            continue
        setattr(target, name, new)
        if name not in _NOT_RECORDED:
            changed[name] = [_jsonable(old), _jsonable(new)]
    return changed


def record(
    session: Session,
    *,
    blog: Blog,
    actor: Actor | None,
    action: str,
    changes: Mapping[str, Any] | None = None,
    post: Post | None = None,
    now: datetime | None = None,
) -> Revision:
    """Add a revision (who, when, which action, what changed), in the caller's transaction."""
    revision = Revision(
        blog_id=blog.id,
        post_id=post.id if post is not None else None,
        user_id=actor.user_id if actor is not None else None,
        action=action,
        changes=dict(changes or {}),
        created_at=now or utcnow(),
    )
    session.add(revision)
    return revision


def erase_post_history(session: Session, post: Post) -> None:
    """Empty what each of the post's revisions recorded; who did what, and when, remains."""
    session.execute(
        update(Revision)
        .where(Revision.post_id == post.id)
        .values(changes={})
        .execution_options(synchronize_session=False)
    )


def post_history(session: Session, post: Post) -> list[Revision]:
    """The post's revisions, oldest first."""
    return list(
        session.scalars(select(Revision).where(Revision.post_id == post.id).order_by(Revision.id))
    )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
