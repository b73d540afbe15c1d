"""Posts: writing, editing, publishing, scheduling, pinning, deleting, purging, and the stream.

Submitting for review, withdrawing and returning are in `domain.review`; the history's
diffs and restoring an earlier revision in `domain.history`. Both change posts through
`change_post` here, the one tail of every change.

The stream is ordered newest first by (published_at, id) and paged with an opaque cursor
naming the last post seen, so new posts arriving at the top never shift later pages.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from liveticker.domain import audit, events, permissions, revisions, teams
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import (
    MAX_CURSOR,
    MAX_PAGE,
    MAX_ROW_ID,
    MAX_SCHEDULE_AHEAD,
    DeleteInput,
    PostCreate,
    PostUpdate,
    PurgeInput,
)
from liveticker.domain.markdown import SUMMARY_LIMIT, plain_text, render_markdown
from liveticker.domain.shortcodes import is_wellformed, unused_code
from liveticker.exceptions import (
    Conflict,
    Forbidden,
    Gone,
    InvalidCursor,
    NotFound,
    ValidationFailed,
)
from liveticker.storage.models import Blog, Post, utcnow

PURGED = "purged"
SCHEDULED = "scheduled"
SUBMITTED = "submitted"  # waiting in the blog's review queue (domain.review)
GONE_MESSAGE = "this post has been removed"


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    next_cursor: str | None


@dataclass(frozen=True)
class StreamPage:
    """One page of the reader stream, with what the feed pattern needs for positions."""

    pinned: Post | None
    posts: list[Post]
    next_cursor: str | None
    first_position: int  # aria-posinset of posts[0]
    total: int  # aria-setsize: every published post, the pinned one included


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _cursor(when: datetime, post_id: int) -> str:
    # Integer microseconds: a float timestamp can be off by one and skip or repeat a post.
    raw = f"{(when - _EPOCH) // _MICROSECOND}:{post_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_cursor(post: Post) -> str:
    """The opaque paging cursor that continues after this post."""
    assert post.published_at is not None
    return _cursor(post.published_at, post.id)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """A cursor's (published time, post id); InvalidCursor for anything we did not issue."""
    if not cursor or len(cursor) > MAX_CURSOR:
        raise InvalidCursor("the cursor is not one this server gave out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros_text, id_text = raw.split(":")
        micros, post_id = int(micros_text), int(id_text)
        when = _EPOCH + micros * _MICROSECOND
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError, OSError):
        raise InvalidCursor("the cursor is not one this server gave out") from None
    if post_id <= 0 or post_id > MAX_ROW_ID:
        raise InvalidCursor("the cursor is not one this server gave out")
    return when, post_id


def _older_than(cursor: str | None) -> ColumnElement[bool] | None:
    if cursor is None:
        return None
    when, post_id = decode_cursor(cursor)
    return or_(Post.published_at < when, and_(Post.published_at == when, Post.id < post_id))


def _published(blog: Blog) -> ColumnElement[bool]:
    return and_(Post.blog_id == blog.id, Post.status == "published")


def get_post(session: Session, *, blog: Blog, post_id: int, actor: Actor | None) -> Post:
    """The post, if it is in this blog and the actor may see it; Gone once purged."""
    post = session.get(Post, post_id) if 0 < post_id < MAX_ROW_ID else None
    if post is None or post.blog_id != blog.id:
        raise NotFound(f"no post {post_id} in blog {blog.slug!r}")
    if post.status == PURGED and not (actor is not None and actor.is_editor):
        raise Gone(GONE_MESSAGE)
    if not permissions.can_see_post(actor, post):
        raise NotFound(f"no post {post_id} in blog {blog.slug!r}")
    return post


def find_post_by_code(session: Session, code: str) -> Post | None:
    """The post behind a short link; Gone for a purged one, whose link must say so."""
    if not is_wellformed(code):
        return None
    post = session.scalar(select(Post).where(Post.short_code == code))
    if post is not None and post.status == PURGED:
        raise Gone(GONE_MESSAGE)
    return post


def list_posts(
    session: Session,
    *,
    blog: Blog,
    actor: Actor | None,
    before: str | None = None,
    limit: int = 20,
    status: str = "published",
) -> Page:
    """Posts newest first; scheduled ones next due first, submitted ones (the review
    queue) longest waiting first. Staff may list drafts, submitted and scheduled posts
    (contributors: their own)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if status not in ("published", *permissions.UNPUBLISHED_STATUSES):
        raise ValidationFailed(
            "status must be published, draft, submitted or scheduled", field="status"
        )
    query = select(Post).where(Post.blog_id == blog.id, Post.status == status)
    if status in permissions.UNPUBLISHED_STATUSES:
        actor = permissions.require_staff(actor)
        teams.require_member(session, actor=actor, blog=blog)
        if not actor.is_editor:
            query = query.where(Post.author_id == actor.user_id)
    if status == SCHEDULED:
        # The desk's question is what goes out next: soonest first.
        order: tuple[ColumnElement[Any], ...] = (Post.publish_at.asc(), Post.id.asc())
        if before is not None:
            when, post_id = decode_cursor(before)
            query = query.where(
                or_(Post.publish_at > when, and_(Post.publish_at == when, Post.id > post_id))
            )
    elif status == SUBMITTED:
        # A queue: whoever has waited longest comes first.
        order = (Post.submitted_at.asc(), Post.id.asc())
        if before is not None:
            when, post_id = decode_cursor(before)
            query = query.where(
                or_(Post.submitted_at > when, and_(Post.submitted_at == when, Post.id > post_id))
            )
    elif status == "draft":
        # Drafts have no published time yet; page them by creation instead.
        order = (Post.created_at.desc(), Post.id.desc())
        if before is not None:
            when, post_id = decode_cursor(before)
            query = query.where(
                or_(Post.created_at < when, and_(Post.created_at == when, Post.id < post_id))
            )
    else:
        order = (Post.published_at.desc(), Post.id.desc())
        condition = _older_than(before)
        if condition is not None:
            query = query.where(condition)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    posts = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = posts[-1]
        if status == SCHEDULED:
            assert last.publish_at is not None
            next_cursor = _cursor(last.publish_at, last.id)
        elif status == SUBMITTED:
            assert last.submitted_at is not None
            next_cursor = _cursor(last.submitted_at, last.id)
        elif status == "draft":
            next_cursor = _cursor(last.created_at, last.id)
        else:
            next_cursor = encode_cursor(last)
    return Page(posts=posts, next_cursor=next_cursor)


def stream_page(
    session: Session, *, blog: Blog, before: str | None = None, limit: int = 20
) -> StreamPage:
    """The reader's view: the pinned post on the first page, then the others newest first."""
    pinned = session.scalar(select(Post).where(_published(blog), Post.pinned.is_(True)))
    query = select(Post).where(_published(blog), Post.pinned.is_(False))
    condition = _older_than(before)
    newer_count = 0
    if condition is not None:
        query = query.where(condition)
        newer_count = (
            session.scalar(
                select(func.count())
                .select_from(Post)
                .where(_published(blog), Post.pinned.is_(False), ~condition)
            )
            or 0
        )
    rows = list(
        session.scalars(query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit + 1))
    )
    posts = rows[:limit]
    total = session.scalar(select(func.count()).select_from(Post).where(_published(blog))) or 0
    shown_pinned = pinned if before is None else None
    first = newer_count + 1 + (1 if pinned is not None else 0)
    return StreamPage(
        pinned=shown_pinned,
        posts=posts,
        next_cursor=encode_cursor(posts[-1]) if len(rows) > limit else None,
        first_position=first,
        total=total,
    )


def feed_posts(session: Session, *, blog: Blog, limit: int) -> list[Post]:
    """The newest published posts, pinned or not, newest first: what a feed reader gets."""
    query = select(Post).where(_published(blog))
    return list(
        session.scalars(query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit))
    )


def _unpin_others(
    session: Session, blog: Blog, keep: Post | None, actor: Actor | None, now: datetime
) -> None:
    """Take the pin from the blog's published pinned post, so `keep` can hold it."""
    others = session.scalars(
        select(Post).where(
            Post.blog_id == blog.id, Post.pinned.is_(True), Post.status == "published"
        )
    ).all()
    for other in others:
        if keep is not None and other.id == keep.id:
            continue
        other.pinned = False
        other.updated_at = now
        revisions.record(
            session,
            blog=blog,
            post=other,
            actor=actor,
            action="unpinned",
            changes={"pinned": [True, False]},
            now=now,
        )
        events.post_changed(session, post=other, was_visible=True, now=now)
    # The one-pinned-post index is checked per statement: the unpin must reach the
    # database before the new pin does.
    session.flush()


def _rich_values(data: PostCreate | PostUpdate, fields: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "images" in fields:
        values["images"] = [image.model_dump() for image in data.images or []]
    if "social" in fields:
        values["social"] = data.social.normalized() if data.social else None
    if "body" in fields and data.body is not None:
        values["body"] = data.body
        values["body_html"] = render_markdown(data.body)
        values["summary"] = plain_text(data.body, limit=SUMMARY_LIMIT)
    return values


def lock_post(session: Session, post: Post) -> None:
    """Lock the post's blog for this transaction's writes and re-read the post (see `_lock`)."""
    _lock(session, post.blog, post)


def _lock(session: Session, blog: Blog, post: Post | None = None) -> None:
    """Lock the blog for this transaction's writes, then re-read the post too.

    On PostgreSQL a row read before the lock may have changed since (another editor, the
    scheduler publishing a post): decisions must be taken on the current row, or a cancel
    that lost the race would turn a published post back into a draft unseen by readers.
    On SQLite the write transaction held the lock from its start; the re-read costs little.
    """
    events.lock_blog(session, blog)
    if post is not None:
        session.scalars(
            select(Post).where(Post.id == post.id).execution_options(populate_existing=True)
        ).one()


def _check_publish_at(when: datetime, now: datetime) -> None:
    if when <= now:
        raise ValidationFailed("publish_at must be in the future", field="publish_at")
    if when > now + MAX_SCHEDULE_AHEAD:
        raise ValidationFailed(
            f"publish_at may be at most {MAX_SCHEDULE_AHEAD.days} days ahead", field="publish_at"
        )


def _refuse_if_closed(blog: Blog) -> None:
    if blog.status == "closed":
        raise Conflict("this blog is closed; reopen it before publishing or scheduling")


def create_post(session: Session, *, actor: Actor | None, blog: Blog, data: PostCreate) -> Post:
    """Write a post: editors publish at once unless they ask for a draft or give a future
    `publish_at` (scheduled); contributors draft, or submit it for review at once."""
    actor = permissions.require_staff(actor)
    teams.require_member(session, actor=actor, blog=blog)
    if data.publish_at is not None:
        status = SCHEDULED
    else:
        status = data.status or ("published" if actor.is_editor else "draft")
    if not actor.is_editor:
        if status not in ("draft", SUBMITTED):
            raise Forbidden("contributors write drafts; an editor publishes or schedules them")
        if data.pinned:
            raise Forbidden("only editors may pin posts")
    _lock(session, blog)
    if status not in ("draft", SUBMITTED):  # a post waiting for review is not out yet
        _refuse_if_closed(blog)
    now = utcnow()
    if data.publish_at is not None:
        _check_publish_at(data.publish_at, now)
    if data.pinned and status == "published":
        _unpin_others(session, blog, None, actor, now)
    post = Post(
        blog_id=blog.id,
        short_code=unused_code(session),
        headline=data.headline or None,
        author_id=actor.user_id,
        status=status,
        pinned=data.pinned,
        key_event=data.key_event,
        created_at=now,
        updated_at=now,
        published_at=now if status == "published" else None,
        publish_at=data.publish_at,
        submitted_at=now if status == SUBMITTED else None,
        **_rich_values(data, {"images", "social", "body"}),
    )
    post.blog = blog
    session.add(post)
    session.flush()
    revisions.record(
        session,
        blog=blog,
        post=post,
        actor=actor,
        action="created",
        changes=data.model_dump(mode="json", exclude_none=True) | {"status": status},
        now=now,
    )
    events.post_changed(session, post=post, was_visible=False, now=now)
    return post


def update_post(
    session: Session,
    *,
    actor: Actor | None,
    post: Post,
    data: PostUpdate,
    action: str | None = None,
    reason: str = "",
) -> Post:
    """Edit, publish, schedule, unpublish, pin or unpin a post; readers get the change live.

    A future `publish_at` schedules a draft or reschedules a scheduled post; null cancels
    the schedule (back to a draft); a status of "published" or "draft" ends it too. A
    submitted post is published or scheduled by an editor, never made a draft here: it goes
    back through `review.return_post` (with a comment) or `review.withdraw_post`.
    `action` and `reason` name the revision when the caller knows better (a restore).
    """
    actor = permissions.require_staff(actor)
    blog = post.blog
    teams.require_member(session, actor=actor, blog=blog)
    _lock(session, blog, post)
    actor = permissions.require_post_editable(actor, post)
    if post.status in ("deleted", PURGED):
        raise Conflict(f"a {post.status} post cannot be edited")
    if data.based_on is not None and data.based_on != post.updated_at:
        raise Conflict(
            "someone else saved this post after you opened it; compare and save again",
            field="based_on",
        )
    scheduling = data.publish_at is not None
    if not actor.is_editor and (data.status == "published" or data.pinned or scheduling):
        raise Forbidden("only editors may publish, schedule or pin posts")
    fields = set(data.model_fields_set)
    values: dict[str, Any] = {
        name: getattr(data, name) for name in fields & {"headline", "pinned", "key_event"}
    }
    if "headline" in values:
        values["headline"] = values["headline"] or None
    values |= _rich_values(data, fields)
    now = utcnow()
    status = post.status
    if data.status is not None:
        status = data.status
    elif scheduling:
        status = SCHEDULED
    elif "publish_at" in fields and post.status == SCHEDULED:
        status = "draft"  # "publish_at": null cancels the schedule
    if post.status == SUBMITTED and status == "draft":
        raise Conflict(
            "this post is waiting for review: an editor returns it with a comment, "
            "or its author withdraws it"
        )
    if scheduling:
        assert data.publish_at is not None
        if post.status == "published":
            raise Conflict("this post is published already; unpublish it to schedule it")
        _check_publish_at(data.publish_at, now)
        values["publish_at"] = data.publish_at
    if status != SCHEDULED:
        values["publish_at"] = None
    if status != SUBMITTED:
        values["submitted_at"] = None
    if status != "draft":
        values["review_comment"] = ""  # the comment was for the draft; it is done with
    if status != post.status:
        values["status"] = status
        if status == "published" and post.published_at is None:
            # Server-set on first publication; a re-published post keeps its place.
            values["published_at"] = now
    if status != "draft" and (status != post.status or scheduling):
        _refuse_if_closed(blog)
    return change_post(
        session, actor=actor, post=post, values=values, now=now, action=action, reason=reason
    )


def change_post(
    session: Session,
    *,
    actor: Actor | None,
    post: Post,
    values: dict[str, Any],
    now: datetime,
    action: str | None = None,
    reason: str = "",
) -> Post:
    """Apply checked values to a post: the pin rule, a revision, and what readers see.

    The one tail of every change of a post's fields and status: an editor's, a
    contributor's, a review's, a restore's or the scheduler's. Callers have checked the
    permission and locked the blog (`events.lock_blog`). `action` names the revision
    (derived from the change when None); `reason`, if given, is kept in it (why the
    server changed the post, which revision a restore brought back).
    """
    blog = post.blog
    was_status = post.status
    was_visible = was_status == "published"
    takes_pin = values.get("status", post.status) == "published" and values.get(
        "pinned", post.pinned
    )
    if takes_pin and not (was_visible and post.pinned):
        _unpin_others(session, blog, post, actor, now)
    changed = revisions.apply_changes(post, values)
    if not changed:
        return post
    post.updated_at = now
    revisions.record(
        session,
        blog=blog,
        post=post,
        actor=actor,
        action=action or _action(was_status, post.status, changed),
        changes=changed | ({"reason": reason} if reason else {}),
        now=now,
    )
    events.post_changed(session, post=post, was_visible=was_visible, now=now)
    return post


def _action(was: str, now_is: str, changed: dict[str, Any]) -> str:
    """The revision's name for a change from status `was` to `now_is`."""
    if was == now_is:
        return "rescheduled" if "publish_at" in changed else "edited"
    if now_is in ("published", SCHEDULED, SUBMITTED):
        return now_is
    return "unscheduled" if was == SCHEDULED else "unpublished"


def delete_post(
    session: Session, *, actor: Actor | None, post: Post, data: DeleteInput | None = None
) -> Post:
    """Soft delete: the post leaves every public view but stays in the history."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=post.blog)
    _lock(session, post.blog, post)
    if post.status in ("deleted", PURGED):
        raise Conflict(f"this post is already {post.status}")
    now = utcnow()
    was_visible = post.status == "published"
    changed = revisions.apply_changes(
        post,
        {
            "status": "deleted",
            "pinned": False,
            "publish_at": None,
            "submitted_at": None,
            "deleted_at": now,
            "delete_reason": data.reason if data else "",
        },
    )
    post.updated_at = now
    revisions.record(
        session, blog=post.blog, post=post, actor=actor, action="deleted", changes=changed, now=now
    )
    # Not the deletion's reason, which may quote the post: a purge erases it, and could not
    # reach a copy here.
    audit.record(
        session,
        actor=actor,
        action="post.delete",
        target=events.post_entity(post.id),
        reason=f"was {changed['status'][0]}",
        blog=post.blog,
        now=now,
    )
    events.post_changed(session, post=post, was_visible=was_visible, now=now)
    return post


def purge_post(session: Session, *, actor: Actor | None, post: Post, data: PurgeInput) -> Post:
    """Legal takedown: erase the post's content and its history's, for good.

    What remains: the post's id and short code (which now answer 410 Gone), who did each
    thing and when, and an audit entry with the purge's reason. Readers following the
    blog get the post's removal at once; the log keeps only its tombstone.
    """
    actor = permissions.require_admin(actor)
    _lock(session, post.blog, post)
    if post.status == PURGED:
        raise Conflict("this post is already purged")
    now = utcnow()
    was_visible = post.status == "published"
    post.headline = None
    post.body = ""
    post.body_html = ""
    post.summary = ""
    post.images = []
    post.social = None
    post.pinned = False
    post.key_event = False
    post.status = PURGED
    post.publish_at = None
    post.submitted_at = None
    post.review_comment = ""  # an editor's comment quotes the post as often as not
    post.deleted_at = post.deleted_at or now
    post.delete_reason = ""  # a reason often quotes what was wrong: it goes too
    post.updated_at = now
    revisions.erase_post_history(session, post)
    revisions.record(
        session,
        blog=post.blog,
        post=post,
        actor=actor,
        action="purged",
        changes={"reason": data.reason},
        now=now,
    )
    audit.record(
        session,
        actor=actor,
        action="post.purge",
        target=events.post_entity(post.id),
        reason=data.reason,
        blog=post.blog,
        now=now,
    )
    events.post_changed(session, post=post, was_visible=was_visible, now=now)
    return post


def post_revisions(session: Session, *, actor: Actor | None, post: Post) -> list[Any]:
    """The post's history, for the blog's editors and the contributor who wrote it."""
    actor = permissions.require_staff(actor)
    teams.require_member(session, actor=actor, blog=post.blog)
    if not actor.is_editor and post.author_id != actor.user_id:
        raise Forbidden("contributors may only read the history of their own posts")
    return revisions.post_history(session, post)


def published_count(session: Session, blog: Blog) -> int:
    """How many of the blog's posts readers can see."""
    return session.scalar(select(func.count()).select_from(Post).where(_published(blog))) or 0


__all__ = [
    "Page",
    "StreamPage",
    "change_post",
    "create_post",
    "decode_cursor",
    "delete_post",
    "encode_cursor",
    "find_post_by_code",
    "get_post",
    "list_posts",
    "lock_post",
    "post_revisions",
    "published_count",
    "purge_post",
    "stream_page",
    "update_post",
]
