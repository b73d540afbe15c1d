"""Scheduled posts: the server publishes each one at its time, exactly once.

Every process on every host runs the same periodic check (`live.scheduler`), and the
database decides who publishes: the due posts are claimed in a write transaction under
their blog's lock (the lock every writer of the blog takes first, so the order is the
same everywhere and nothing deadlocks), the due rows themselves with FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite's write transactions are exclusive from their start (BEGIN
IMMEDIATE). Whether a post is due is read again under the lock, so a cancel, a new time
or an editor's "publish now" that committed first wins, and a second claimant finds
nothing left to do. Nothing lives in a process's memory: a post that fell due while no
server ran is published by the first check after the start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from liveticker.domain import events, posts
from liveticker.domain.accounts import Actor
from liveticker.storage.models import Blog, Post, Revision, utcnow

BATCH = 100  # posts published by one check at most; the rest go at the next one
# What the revision of a scheduled post that could not be published says, and why.
CLOSED_REASON = "the blog was closed at the scheduled time; the post is a draft again"


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Post.status == posts.SCHEDULED, Post.publish_at <= now)


def any_due(session: Session, *, now: datetime | None = None) -> bool:
    """Is a scheduled post due? The cheap question every process asks on every check."""
    moment = now or utcnow()
    return session.scalar(select(Post.id).where(_due(moment)).limit(1)) is not None


def publish_due(session: Session, *, now: datetime | None = None, limit: int = BATCH) -> list[Post]:
    """Publish the scheduled posts whose time has come, in this write transaction.

    Each goes through the editors' own path (`posts.change_post`): the pin rule, a
    "published" revision in the name of the editor who scheduled it, the event readers
    get live; `published_at` is the moment it went out. A post whose blog is closed at
    its time becomes a draft again (revision "unscheduled", with the reason): it never
    appears in a closed blog, nor later by surprise when the blog is reopened, and the
    desk finds it among the drafts. Returns the posts it changed.
    """
    moment = now or utcnow()
    due = session.execute(
        select(Post.id, Post.blog_id)
        .where(_due(moment))
        .order_by(Post.publish_at, Post.id)
        .limit(limit)
    ).all()
    changed: list[Post] = []
    for blog_id in sorted({row.blog_id for row in due}):
        blog = session.get_one(Blog, blog_id)
        events.lock_blog(session, blog)
        claimed = session.scalars(
            select(Post)
            .where(Post.id.in_([row.id for row in due if row.blog_id == blog_id]), _due(moment))
            .order_by(Post.publish_at, Post.id)
            .with_for_update(skip_locked=True, of=Post)
            .execution_options(populate_existing=True)
        ).all()
        at = now or utcnow()  # when it goes out: after the lock, not before it
        changed.extend(_publish(session, post=post, blog=blog, now=at) for post in claimed)
    return changed


def _publish(session: Session, *, post: Post, blog: Blog, now: datetime) -> Post:
    actor = _scheduled_by(session, post)
    if blog.status == "closed":
        values: dict[str, Any] = {"status": "draft", "publish_at": None}
        return posts.change_post(
            session, actor=actor, post=post, values=values, now=now, reason=CLOSED_REASON
        )
    values = {"status": "published", "publish_at": None}
    if post.published_at is None:  # a re-published post keeps its place, as in the desk
        values["published_at"] = now
    return posts.change_post(session, actor=actor, post=post, values=values, now=now)


def _scheduled_by(session: Session, post: Post) -> Actor | None:
    """The editor who set the post's time (the newest revision that did); None if that
    account is gone."""
    revision = session.scalar(
        select(Revision)
        .where(
            Revision.post_id == post.id,
            Revision.action.in_(("created", "scheduled", "rescheduled")),
        )
        .order_by(Revision.id.desc())
        .limit(1)
    )
    if revision is None or revision.user is None:
        return None
    return Actor.of(revision.user)
