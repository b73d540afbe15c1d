"""Managing accounts: admins create users, change roles, disable them and reset passwords;
every user changes their own password and keeps their own API tokens.

Disabling an account or resetting its password ends its sessions at once; its API tokens
stop working at once too, because every request checks the account (accounts.authenticate,
sessions.resolve). Each admin action leaves an audit entry.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from liveticker.domain import accounts, audit, permissions, sessions
from liveticker.domain.accounts import Actor, Role
from liveticker.exceptions import Conflict, NotFound, Unauthorized, ValidationFailed
from liveticker.storage.models import ApiToken, LoginSession, User


def list_users(session: Session, *, actor: Actor | None) -> list[User]:
    """Every account, by username (admins only)."""
    permissions.require_admin(actor)
    return list(session.scalars(select(User).order_by(User.username)))


def get(session: Session, *, actor: Actor | None, user_id: int) -> User:
    """An account by id (admins only)."""
    permissions.require_admin(actor)
    user = session.get(User, user_id) if 0 < user_id < 2**62 else None
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def create(
    session: Session,
    *,
    actor: Actor | None,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
) -> User:
    """A new account (admins only)."""
    admin = permissions.require_admin(actor)
    user = accounts.create_user(
        session, username=username, password=password, role=role, display_name=display_name
    )
    _audit(session, admin, "user.create", user, f"created as {user.role}")
    return user


def change_role(session: Session, *, actor: Actor | None, user: User, role: str) -> User:
    """Give the account another role (admins only; not their own, so one admin remains)."""
    admin = permissions.require_admin(actor)
    _not_yourself(admin, user, "change your own role")
    try:
        new = Role(role)
    except ValueError:
        raise ValidationFailed(
            f"role must be one of {', '.join(r.value for r in Role)}", field="role"
        ) from None
    if user.role != new.value:
        _audit(session, admin, "user.role", user, f"{user.role} → {new.value}")
        user.role = new.value
    return user


def set_active(session: Session, *, actor: Actor | None, user: User, active: bool) -> User:
    """Enable or disable the account (admins only); disabling signs it out everywhere."""
    admin = permissions.require_admin(actor)
    _not_yourself(admin, user, "disable your own account")
    if user.is_active != active:
        user.is_active = active
        _audit(session, admin, "user.enable" if active else "user.disable", user, "")
    if not active:
        sessions.sign_out_everywhere(session, user_id=user.id)
    return user


def reset_password(session: Session, *, actor: Actor | None, user: User, password: str) -> User:
    """Set a new password for the account (admins only) and end its sessions."""
    admin = permissions.require_admin(actor)
    accounts.set_password(session, user=user, password=password)
    sessions.sign_out_everywhere(session, user_id=user.id)
    _audit(session, admin, "user.password", user, "password reset")
    return user


def change_own_password(
    session: Session,
    *,
    actor: Actor | None,
    current: str,
    new: str,
    keep_session_id: int | None = None,
) -> None:
    """Change your own password, proving the current one; your other sessions end."""
    me = permissions.require_signed_in(actor)
    try:
        user = accounts.check_password(session, username=me.username, password=current)
    except Unauthorized:
        raise ValidationFailed("the current password is not right", field="current") from None
    accounts.set_password(session, user=user, password=new)
    others = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session_id is not None:
        others = others.where(LoginSession.id != keep_session_id)
    session.execute(others)


def list_tokens(session: Session, *, actor: Actor | None) -> list[ApiToken]:
    """Your own API tokens, newest first (their secrets are never shown again)."""
    me = permissions.require_signed_in(actor)
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == me.user_id).order_by(ApiToken.id.desc())
        )
    )


def create_token(session: Session, *, actor: Actor | None, label: str) -> str:
    """A new API token of your own; returned once."""
    me = permissions.require_signed_in(actor)
    user = session.get(User, me.user_id)
    assert user is not None  # the actor was just resolved from this row
    label = label.strip() or "desk"
    _audit_token(session, me, "token.create", label)
    return accounts.create_token(session, user=user, label=label)


def revoke_token(session: Session, *, actor: Actor | None, token_id: int) -> None:
    """Revoke one of your own API tokens; NotFound for anyone else's."""
    me = permissions.require_signed_in(actor)
    row = session.get(ApiToken, token_id) if 0 < token_id < 2**62 else None
    if row is None or row.user_id != me.user_id:
        raise NotFound(f"no token {token_id} of yours")
    _audit_token(session, me, "token.revoke", row.label)
    session.delete(row)


def _not_yourself(admin: Actor, user: User, what: str) -> None:
    if user.id == admin.user_id:
        raise Conflict(f"you cannot {what}; ask another admin")


def _audit(session: Session, admin: Actor, action: str, user: User, reason: str) -> None:
    audit.record(session, actor=admin, action=action, target=f"user:{user.username}", reason=reason)


def _audit_token(session: Session, me: Actor, action: str, label: str) -> None:
    if me.is_staff:  # readers keep tokens too; what the public does is not audited
        audit.record(
            session,
            actor=me,
            action=action,
            target=f"user:{me.username}",
            reason=f"label {label!r}",
        )
