"""The per-blog event log: every change a reader can see, appended in the change's transaction.

Live delivery sends these events and replays them after a reconnect; the polling fallback
serves them too. The log holds the present, never the past: each event names the entity
it shows, and a later event for the same entity empties the earlier ones (a removal
leaves only its tombstone), while a blog that is not public yet logs nothing at all. So a
replay can only ever hand out what a reader could see on the page now.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from liveticker.domain import times
from liveticker.domain.markdown import render_markdown
from liveticker.domain.permissions import PUBLIC_BLOG_STATUSES
from liveticker.storage.database import PENDING_BY_ENTITY, PENDING_EVENTS
from liveticker.storage.models import Blog, Event, Post, utcnow

POST = "post"  # a post to show or to replace in place (new, edited, pinned, unpinned)
REMOVE = "remove"  # a post that must disappear (deleted or unpublished)
KEY_POINTS = "key-points"
BLOG = "blog"  # the blog's own fields: title, standfirst, status, closing message
# An event that a later one for the same entity replaced: kept (ids stay gapless) but
# emptied, and never sent to a reader.
SUPERSEDED = "superseded"


def post_entity(post_id: int) -> str:
    """The entity name of a post's events (see `supersedes`)."""
    return f"post:{post_id}"


def supersedes(kind: str, entity: str, earlier: str) -> bool:
    """Does a new event (`kind` on `entity`) replace an earlier event on `earlier`?

    The same entity, always; and a removal takes everything under its entity with it
    ("post:12" takes "post:12/note:3"), so nothing shown inside a removed post survives.
    The SQL in `_empty_superseded` is this same rule.
    """
    if not earlier:
        return False
    return earlier == entity or (kind == REMOVE and earlier.startswith(entity + "/"))


def lock_blog(session: Session, blog: Blog) -> None:
    """Serialize writers of one blog (PostgreSQL row lock; SQLite writes are serialized).

    The row is read again under the lock (after this transaction's own changes are
    flushed): on PostgreSQL another writer may have committed since `blog` was loaded, and
    rules such as "no posts into a closed blog" must see the blog as it is now.
    """
    session.scalars(
        select(Blog)
        .where(Blog.id == blog.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record(
    session: Session,
    *,
    blog: Blog,
    kind: str,
    data: dict[str, Any],
    entity: str,
    now: datetime | None = None,
) -> Event | None:
    """Bump the blog's version atomically and, once the blog is public, log the change.

    A draft blog's changes log nothing (no reader can be following it, and what it held
    before going live must never be replayed); its version still moves for the staff.
    """
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
    if blog.status not in PUBLIC_BLOG_STATUSES:
        return None
    _empty_superseded(session, blog.id, kind=kind, entity=entity, before=seq)
    pending: list[Event] = session.info.setdefault(PENDING_EVENTS, [])
    by_entity: dict[tuple[int, str], list[Event]] = session.info.setdefault(PENDING_BY_ENTITY, {})
    # This transaction's own events reach the hub as logged: empty those this one replaces.
    # (One rolled back with a savepoint may still be listed here; emptying it is harmless.)
    keys = [(blog.id, entity)]
    if kind == REMOVE:
        keys += [key for key in by_entity if key[0] == blog.id and supersedes(kind, entity, key[1])]
    for key in keys:
        for earlier in by_entity.pop(key, []):
            earlier.kind, earlier.entity, earlier.data = SUPERSEDED, "", {}
    event = Event(blog_id=blog.id, seq=seq, kind=kind, entity=entity, data=data, created_at=now)
    session.add(event)
    pending.append(event)
    if entity:
        by_entity.setdefault((blog.id, entity), []).append(event)
    return event


def _empty_superseded(
    session: Session, blog_id: int, *, kind: str, entity: str, before: int
) -> None:
    same = Event.entity == entity
    if kind == REMOVE:
        same = or_(same, Event.entity.startswith(entity + "/", autoescape=True))
    session.execute(
        update(Event)
        .where(Event.blog_id == blog_id, same, Event.seq < before)
        .values(kind=SUPERSEDED, entity="", data={})
        .execution_options(synchronize_session=False)
    )


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
        "blog": {"slug": post.blog.slug, "language": post.blog.language},
        "published_at": _precise(post.published_at),
        "updated_at": _precise(post.updated_at),
    }


def blog_snapshot(blog: Blog) -> dict[str, Any]:
    """The blog's own fields as readers see them, as of this change."""
    return {
        "title": blog.title,
        "standfirst": blog.standfirst,
        "labels": list(blog.labels),
        "lead_image": blog.lead_image,
        "status": blog.status,
        "closing_message": blog.closing_message,
        "coverage_end": _precise(blog.coverage_end),
        "language": blog.language,
    }


def key_points_snapshot(blog: Blog) -> dict[str, Any]:
    """The key points as readers see them (rendered HTML), as of this change."""
    return {"items": [_key_point_html(item) for item in blog.key_points]}


@functools.lru_cache(maxsize=4096)
def _key_point_html(text: str) -> str:
    # Every blog page shows the key points: each is rendered once per process, not per
    # view (12 hostile points of 600 characters cost the parser about 0.1 s). Bounded:
    # 4,096 points of at most 600 characters.
    return render_markdown(text)


def post_changed(session: Session, *, post: Post, was_visible: bool, now: datetime) -> None:
    """Log what readers must see of a change to this post, if anything."""
    entity = post_entity(post.id)
    if post.status == "published":
        record(session, blog=post.blog, kind=POST, data=post_snapshot(post), entity=entity, now=now)
    elif was_visible:
        record(session, blog=post.blog, kind=REMOVE, data={"id": post.id}, entity=entity, now=now)


def blog_changed(session: Session, *, blog: Blog, now: datetime | None = None) -> None:
    """Log the blog's own fields (title, standfirst, status…) as readers now see them."""
    record(session, blog=blog, kind=BLOG, data=blog_snapshot(blog), entity=BLOG, now=now)


def key_points_changed(session: Session, *, blog: Blog) -> None:
    """Log the key points as readers now see them."""
    record(session, blog=blog, kind=KEY_POINTS, data=key_points_snapshot(blog), entity=KEY_POINTS)


def must_reload(*, after: int, head: int, replay_limit: int) -> bool:
    """Is a reader at `after` too far behind (or ahead of) `head` to catch up by events?"""
    return after < 0 or after > head or head - after > replay_limit


def replay(
    session: Session, *, blog_id: int, after: int, head: int, limit: int, replay_limit: int
) -> list[Event] | None:
    """What a reader who has applied every event up to `after` needs to reach `head`.

    Oldest first, at most `limit`, superseded events left out (a later event in the same
    answer carries their entity's present state). None means: reload the page, because
    the reader is too far behind, ahead of the log, or claims a position from before the
    blog went public, which no page ever showed.
    """
    if must_reload(after=after, head=head, replay_limit=replay_limit):
        return None
    if after == head:
        return []
    first = session.scalar(select(func.min(Event.seq)).where(Event.blog_id == blog_id))
    if first is None or after < first:
        return None
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.blog_id == blog_id,
                Event.seq > after,
                Event.seq <= head,
                Event.kind != SUPERSEDED,
            )
            .order_by(Event.seq)
            .limit(limit)
        )
    )


def after(session: Session, *, blog_id: int, seq: int, limit: int) -> list[Event]:
    """The blog's events after `seq`, oldest first, at most `limit`, superseded ones too
    (live delivery moves through every id in order)."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.blog_id == blog_id, Event.seq > seq)
            .order_by(Event.seq)
            .limit(limit)
        )
    )


def _precise(value: datetime | None) -> str | None:
    return times.iso(value, precise=True) if value else None
