"""The review queue: contributors submit drafts, editors publish them or send them back.

A submitted post waits in its blog's queue, unseen by readers like a draft (no event, no
page, no API answer), until an editor on the blog's team publishes or schedules it
(`posts.update_post`) or returns it to a draft with a comment for its author, or the author
withdraws it. While it waits only editors change it. Every step is a revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liveticker.domain import permissions, posts, teams
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import ReturnInput
from liveticker.exceptions import Conflict, Forbidden
from liveticker.storage.models import Blog, Post, utcnow

SUBMITTED = posts.SUBMITTED


@dataclass(frozen=True)
class Queue:
    """How many posts wait for review in a blog, and since when the first of them has."""

    count: int
    oldest_submitted_at: datetime | None


def submit_post(session: Session, *, actor: Actor | None, post: Post) -> Post:
    """Put a draft in its blog's review queue: its author does, or an editor on the team."""
    staff = permissions.require_staff(actor)
    teams.require_member(session, actor=staff, blog=post.blog)
    posts.lock_post(session, post)
    if not staff.is_editor and post.author_id != staff.user_id:
        raise Forbidden("contributors submit only their own drafts")
    if post.status != "draft":
        raise Conflict(f"only a draft can be submitted for review; this post is {post.status}")
    now = utcnow()
    values: dict[str, Any] = {"status": SUBMITTED, "submitted_at": now, "review_comment": ""}
    return posts.change_post(
        session, actor=staff, post=post, values=values, now=now, action="submitted"
    )


def withdraw_post(session: Session, *, actor: Actor | None, post: Post) -> Post:
    """Take a post out of the review queue, a draft again to edit: its author only (an
    editor returns it instead, saying why)."""
    staff = permissions.require_staff(actor)
    teams.require_member(session, actor=staff, blog=post.blog)
    posts.lock_post(session, post)
    if post.author_id != staff.user_id:
        raise Forbidden("only its author withdraws a post; an editor returns it with a comment")
    if post.status != SUBMITTED:
        raise Conflict(
            f"only a post waiting for review can be withdrawn; this one is {post.status}"
        )
    now = utcnow()
    values: dict[str, Any] = {"status": "draft", "submitted_at": None}
    return posts.change_post(
        session, actor=staff, post=post, values=values, now=now, action="withdrawn"
    )


def return_post(session: Session, *, actor: Actor | None, post: Post, data: ReturnInput) -> Post:
    """Send a submitted post back to its author as a draft, with a comment (editors on the
    team). The comment stays on the draft, and in its history, until it is submitted again."""
    editor = permissions.require_editor(actor)
    teams.require_member(session, actor=editor, blog=post.blog)
    posts.lock_post(session, post)
    if post.status != SUBMITTED:
        raise Conflict(f"only a post waiting for review can be returned; this one is {post.status}")
    now = utcnow()
    values: dict[str, Any] = {
        "status": "draft",
        "submitted_at": None,
        "review_comment": data.comment,
    }
    return posts.change_post(
        session, actor=editor, post=post, values=values, now=now, action="returned"
    )


def queue(session: Session, *, actor: Actor | None, blog: Blog) -> Queue:
    """The blog's review queue at a glance, for its editors; the posts themselves are
    `posts.list_posts(status="submitted")`, longest waiting first."""
    editor = permissions.require_editor(actor)
    teams.require_member(session, actor=editor, blog=blog)
    count, oldest = session.execute(
        select(func.count(), func.min(Post.submitted_at)).where(
            Post.blog_id == blog.id, Post.status == SUBMITTED
        )
    ).one()
    return Queue(count=count, oldest_submitted_at=oldest)
