"""Who may see and change what. Every check the server makes lives here.

Public readers see live and closed blogs and their published posts, nothing else; a
reader's account (role "reader", for community notes) sees exactly what they see.
Contributors write and edit their own drafts and submit them for review. Editors and admins
do everything on blogs, and only they publish or schedule posts; a submitted or scheduled
post is hidden from readers like a draft.
"""

from __future__ import annotations

from liveticker.domain.accounts import Actor
from liveticker.exceptions import Forbidden, Unauthorized
from liveticker.storage.models import Blog, Post

PUBLIC_BLOG_STATUSES = ("live", "closed")
# Posts not yet out, which staff list and readers never see: drafts, posts waiting for
# review and scheduled posts.
UNPUBLISHED_STATUSES = ("draft", "submitted", "scheduled")


def require_staff(actor: Actor | None) -> Actor:
    """The actor, if one of the newsroom's staff; Unauthorized for nobody, Forbidden for a
    reader's account."""
    if actor is None:
        raise Unauthorized("this needs an API token: send Authorization: Bearer <token>")
    if not actor.is_staff:
        raise Forbidden("this is for the newsroom's staff; reader accounts write and rate notes")
    return actor


def require_signed_in(actor: Actor | None) -> Actor:
    """The actor, staff or reader, for what everyone does with their own account."""
    if actor is None:
        raise Unauthorized("this needs an API token: send Authorization: Bearer <token>")
    return actor


def staff(actor: Actor | None) -> Actor | None:
    """The actor if staff, else None: what a reader's account may see is what the public
    sees."""
    return actor if actor is not None and actor.is_staff else None


def require_editor(actor: Actor | None) -> Actor:
    """The actor, if an editor or admin; Forbidden otherwise."""
    actor = require_staff(actor)
    if not actor.is_editor:
        raise Forbidden("only editors and admins may do this")
    return actor


def require_admin(actor: Actor | None) -> Actor:
    """The actor, if an admin; Forbidden otherwise."""
    actor = require_staff(actor)
    if not actor.is_admin:
        raise Forbidden("only admins may do this")
    return actor


def can_see_blog(actor: Actor | None, blog: Blog) -> bool:
    """Staff see every blog; readers only live and closed ones."""
    return staff(actor) is not None or blog.status in PUBLIC_BLOG_STATUSES


def can_see_post(actor: Actor | None, post: Post) -> bool:
    """Readers: published posts of public blogs; editors: all; contributors: published
    posts and their own drafts, submitted and scheduled posts."""
    actor = staff(actor)
    if actor is None:
        return post.status == "published" and post.blog.status in PUBLIC_BLOG_STATUSES
    if actor.is_editor:
        return True
    return post.status == "published" or (
        post.status in UNPUBLISHED_STATUSES and post.author_id == actor.user_id
    )


def require_post_editable(actor: Actor | None, post: Post) -> Actor:
    """Editors may edit any post; contributors only their own drafts (a submitted post
    is the editors' until they return it or its author withdraws it)."""
    actor = require_staff(actor)
    if actor.is_editor:
        return actor
    if post.author_id == actor.user_id and post.status == "submitted":
        raise Forbidden("this post is waiting for review: withdraw it to edit it")
    if post.author_id != actor.user_id or post.status != "draft":
        raise Forbidden("contributors may only edit their own drafts")
    return actor
