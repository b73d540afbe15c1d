"""Accounts, roles, passwords and API tokens.

Passwords are hashed with argon2id. API tokens are 256-bit random strings shown once and
stored as SHA-256 digests, so a leaked database does not leak working tokens.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain.constants import Role as Role  # defined there for the CLI's start
from liveticker.exceptions import Conflict, NotFound, Unauthorized, ValidationFailed
from liveticker.storage.models import ApiToken, User, utcnow

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "lt_"  # noqa: S105 - a public marker that makes leaked tokens findable
_TOKEN_PATTERN = re.compile(r"^lt_[A-Za-z0-9_-]{20,100}$")

# Replaced in the test suite with a cheaper hasher; production keeps argon2's defaults.
password_hasher = PasswordHasher()


@functools.lru_cache(maxsize=1)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when the user does not exist, so that login takes as long
    either way. Made on first need, not at import (0.45 s every command would pay), with
    the hasher in use, so that its cost matches that of real hashes."""
    return hasher.hash("liveticker-timing-equalizer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR})


@dataclass(frozen=True)
class Actor:
    """Who is making a request. `None` in place of an Actor means a public reader."""

    user_id: int
    username: str
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_reader(self) -> bool:
        return self.role == Role.READER

    @property
    def is_editor(self) -> bool:
        return self.role in (Role.ADMIN, Role.EDITOR)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, username=user.username, role=Role(user.role))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str = "",
) -> User:
    """A new account, the password hashed with argon2id.

    Usernames are lowercase. Sign-in ignores case, so an uppercase name is refused here
    rather than quietly changed: the admin learns the name people will see.
    """
    username = username.strip()
    if username != username.lower() and USERNAME_PATTERN.match(username.lower()):
        raise ValidationFailed(
            f"usernames are lowercase: use {username.lower()!r}", field="username"
        )
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed(
            "username must be 2–40 characters: lowercase letters, digits, '.', '_' or '-'",
            field="username",
        )
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(
            f"role must be one of {', '.join(r.value for r in Role)}", field="role"
        ) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already", field="username")
    user = User(
        username=username,
        display_name=(display_name.strip() or username)[:80],
        role=role.value,
        password_hash=password_hasher.hash(password),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    """The account with this username; NotFound if there is none."""
    username = username.strip().lower()
    user = (
        session.scalar(select(User).where(User.username == username))
        if USERNAME_PATTERN.match(username)
        else None
    )
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    """Replace the user's password, after checking its length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    user.password_hash = password_hasher.hash(password)


def check_password(session: Session, *, username: str, password: str) -> User:
    """The active user with this password, or Unauthorized (same message either way)."""
    username = username.strip().lower()
    user = (
        session.scalar(select(User).where(User.username == username))
        if USERNAME_PATTERN.match(username)
        else None
    )
    # Asked for on every call (made once), so even a process's first login takes
    # as long for a missing user as for a real one.
    dummy = _dummy_hash(password_hasher)
    try:
        password_hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise Unauthorized("wrong username or password")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user: User, label: str = "") -> str:
    """Make an API token for the user and return it; only its digest is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label[:80]))
    session.flush()
    return token


def authenticate(session: Session, token: str) -> Actor:
    """The actor a bearer token belongs to, or Unauthorized."""
    if not _TOKEN_PATTERN.match(token):
        raise Unauthorized("invalid API token")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.is_active:
        raise Unauthorized("invalid API token")
    now = utcnow()
    # Writing on every request would turn reads into writes; a minute's precision is enough.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return Actor.of(row.user)
