"""Signed-in browsers: sign in, the session behind a cookie, CSRF tokens, signing out;
and the other way of signing in, a password exchanged for an API token.

One implementation for the desk and, later, readers' accounts. The cookie holds a random
256-bit id; only its SHA-256 is stored, so a leaked table signs nobody in. A session
expires after `hours` without use and, whatever the use, after `MAX_AGE`; disabling an
account ends its sessions at once (and `resolve` checks the account on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from liveticker.domain import audit
from liveticker.domain.accounts import Actor, check_password, create_token
from liveticker.exceptions import SignInRefused, Unauthorized
from liveticker.storage.models import LoginSession, User, utcnow

MAX_AGE = timedelta(days=7)
# Extending the expiry on every request would turn reads into writes; this is enough.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """A session as a request sees it: who, and the CSRF token its forms must carry."""

    actor: Actor
    display_name: str
    csrf_token: str
    session_id: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, *, username: str, password: str, hours: int) -> tuple[str, User]:
    """Check the password and open a session; returns the cookie's value and the user.

    Unauthorized, with the same message, for an unknown user, a wrong password or a
    disabled account (accounts.check_password).
    """
    user = check_sign_in(session, username=username, password=password, how="desk")
    forget_expired(session)  # housekeeping, on the rare write that signs someone in
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_digest(token),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token, user


def sign_in_for_token(
    session: Session, *, username: str, password: str, label: str
) -> tuple[str, User]:
    """Check the password and make an API token (POST /api/v1/tokens); returns the token,
    shown once, and the user. Audited as a sign-in: it is one, by another door."""
    user = check_sign_in(
        session, username=username, password=password, how=f"API token {label[:80]!r}"
    )
    return create_token(session, user=user, label=label), user


def check_sign_in(session: Session, *, username: str, password: str, how: str) -> User:
    """accounts.check_password for a sign-in, with its audit entry when the account is
    staff's: `session.sign_in`, or `session.sign_in_failed` raised as SignInRefused, whose
    transaction commits, so that the record of the attempt outlasts its refusal."""
    try:
        user = check_password(session, username=username, password=password)
    except Unauthorized as refused:
        if audit.sign_in_failed(session, username=username, how=how):
            raise SignInRefused(refused.message) from None
        raise
    audit.signed_in(session, user=user, how=how)
    return user


def resolve(session: Session, *, token: str, hours: int) -> SignedIn | None:
    """The signed-in user behind a cookie value, or None (unknown, expired, disabled)."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    now = utcnow()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = min(now + timedelta(hours=hours), row.created_at + MAX_AGE)
    return SignedIn(
        actor=Actor.of(row.user),
        display_name=row.user.display_name,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )


def csrf_matches(signed_in: SignedIn, sent: str | None) -> bool:
    """Does the token a form or fetch sent belong to this session? (Constant time.)"""
    return sent is not None and hmac.compare_digest(sent.encode(), signed_in.csrf_token.encode())


def sign_out(session: Session, *, token: str) -> None:
    """End the session behind this cookie value (nothing happens for an unknown one)."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))


def sign_out_everywhere(session: Session, *, user_id: int) -> int:
    """End every session of the user; returns how many there were."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_expired(session: Session) -> None:
    """Delete sessions past their expiry (they no longer sign anyone in anyway)."""
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
