"""The per-blog event log: every change a reader can see, appended in the change's transaction.

Live delivery sends these events and replays them after a reconnect; the polling fallback
serves them too. Drafts never produce events, so nothing unpublished can leak through them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from liveticker.domain.markdown import render_markdown
from liveticker.storage.database import PENDING_EVENTS
from liveticker.storage.models import Blog, Event, Post, utcnow

POST = "post"  # a post to show or to replace in place (new, edited, pinned, unpinned)
REMOVE = "remove"  # a post that must disappear (deleted or unpublished)
KEY_POINTS = "key-points"
BLOG = "blog"  # the blog's own fields: title, standfirst, status, closing message


def lock_blog(session: Session, blog: Blog) -> None:
    """Serialize writers of one blog (PostgreSQL row lock; SQLite writes are serialized)."""
    session.execute(select(Blog.id).where(Blog.id == blog.id).with_for_update())


def record(
    session: Session, blog: Blog, kind: str, data: dict[str, Any], *, now: datetime | None = None
) -> Event:
    """Append an event: bump the blog's version atomically and log the change under it."""
    now = now or utcnow()
    seq = session.execute(
        update(Blog)
        .where(Blog.id == blog.id)
        .values(version=Blog.version + 1, updated_at=now)
        .returning(Blog.version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(blog, "version", seq)
    set_committed_value(blog, "updated_at", now)
    event = Event(blog_id=blog.id, seq=seq, kind=kind, data=data, created_at=now)
    session.add(event)
    session.info.setdefault(PENDING_EVENTS, []).append(event)
    return event


def post_snapshot(post: Post) -> dict[str, Any]:
    """Everything the reader page needs to render the post, as of this change."""
    return {
        "id": post.id,
        "short_code": post.short_code,
        "headline": post.headline,
        "body_html": post.body_html,
        "images": list(post.images),
        "social": post.social,
        "pinned": post.pinned,
        "key_event": post.key_event,
        "author": {"display_name": post.author.display_name} if post.author else None,
        "blog": {"slug": post.blog.slug},
        "published_at": _iso(post.published_at),
        "updated_at": _iso(post.updated_at),
    }


def blog_snapshot(blog: Blog) -> dict[str, Any]:
    return {
        "title": blog.title,
        "standfirst": blog.standfirst,
        "labels": list(blog.labels),
        "lead_image": blog.lead_image,
        "status": blog.status,
        "closing_message": blog.closing_message,
        "coverage_end": _iso(blog.coverage_end),
    }


def key_points_snapshot(blog: Blog) -> dict[str, Any]:
    return {"items": [render_markdown(item) for item in blog.key_points]}


def post_changed(session: Session, post: Post, *, was_visible: bool, now: datetime) -> None:
    """Log what readers must see of a change to this post, if anything."""
    if post.status == "published":
        record(session, post.blog, POST, post_snapshot(post), now=now)
    elif was_visible:
        record(session, post.blog, REMOVE, {"id": post.id}, now=now)


def after(session: Session, blog_id: int, seq: int, *, limit: int) -> list[Event]:
    """The blog's events after `seq`, oldest first, at most `limit`."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.blog_id == blog_id, Event.seq > seq)
            .order_by(Event.seq)
            .limit(limit)
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
