"""Blog teams: which staff may work on a blog.

Editors and contributors act only on the blogs whose team they are on; admins act on
every blog. The creator of a blog joins its team; an admin or the creator adds and
removes members. Readers are not concerned: public blogs stay public to everyone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain import accounts, audit, permissions
from liveticker.domain.accounts import Actor
from liveticker.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from liveticker.storage.models import Blog, BlogMember, User, utcnow


def is_member(session: Session, *, actor: Actor, blog: Blog) -> bool:
    """May this staff member work on the blog? (Admins may work on every blog.)"""
    if actor.is_admin:
        return True
    found = session.scalar(
        select(BlogMember.user_id).where(
            BlogMember.blog_id == blog.id, BlogMember.user_id == actor.user_id
        )
    )
    return found is not None


def require_member(session: Session, *, actor: Actor, blog: Blog) -> Actor:
    """The actor, if on the blog's team; Forbidden otherwise."""
    if not is_member(session, actor=actor, blog=blog):
        raise Forbidden(f"you are not on the team of blog {blog.slug!r}; ask an admin")
    return actor


def blog_ids_of(session: Session, *, actor: Actor) -> set[int] | None:
    """The ids of the blogs the actor works on; None for admins (every blog)."""
    if actor.is_admin:
        return None
    return set(
        session.scalars(select(BlogMember.blog_id).where(BlogMember.user_id == actor.user_id))
    )


def join(session: Session, *, blog: Blog, user_id: int, added_by: int | None) -> None:
    """Put a user on the blog's team (no check: for the blog's creator and the demo)."""
    session.add(BlogMember(blog_id=blog.id, user_id=user_id, added_by=added_by, added_at=utcnow()))


def members(session: Session, *, actor: Actor | None, blog: Blog) -> list[User]:
    """The team, by username (staff on the team, and admins)."""
    staff = permissions.require_staff(actor)
    require_member(session, actor=staff, blog=blog)
    return list(
        session.scalars(
            select(User)
            .join(BlogMember, BlogMember.user_id == User.id)
            .where(BlogMember.blog_id == blog.id)
            .order_by(User.username)
        )
    )


def _require_team_manager(actor: Actor | None, blog: Blog) -> Actor:
    staff = permissions.require_staff(actor)
    if not (staff.is_admin or blog.created_by == staff.user_id):
        raise Forbidden("only an admin or the blog's creator changes its team")
    return staff


def add_member(session: Session, *, actor: Actor | None, blog: Blog, username: str) -> User:
    """Add an editor or contributor to the blog's team (an admin or the blog's creator)."""
    manager = _require_team_manager(actor, blog)
    user = accounts.get_user(session, username)
    if user.role == accounts.Role.ADMIN.value:
        raise ValidationFailed("admins work on every blog already", field="username")
    if user.role == accounts.Role.READER.value:
        raise ValidationFailed("a reader's account cannot join a blog's team", field="username")
    if is_member(session, actor=Actor.of(user), blog=blog):
        raise Conflict(f"{user.username} is on the team already", field="username")
    join(session, blog=blog, user_id=user.id, added_by=manager.user_id)
    audit.record(
        session,
        actor=manager,
        action="team.add",
        target=f"blog:{blog.slug}",
        reason=user.username,
        blog=blog,
    )
    return user


def remove_member(session: Session, *, actor: Actor | None, blog: Blog, username: str) -> None:
    """Take someone off the blog's team (an admin or the blog's creator)."""
    manager = _require_team_manager(actor, blog)
    user = accounts.get_user(session, username)
    row = session.get(BlogMember, (blog.id, user.id))
    if row is None:
        raise NotFound(f"{user.username} is not on the team of blog {blog.slug!r}")
    session.delete(row)
    audit.record(
        session,
        actor=manager,
        action="team.remove",
        target=f"blog:{blog.slug}",
        reason=user.username,
        blog=blog,
    )
