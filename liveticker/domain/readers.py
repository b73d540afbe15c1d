"""Reader accounts for community notes: sign-up, and who may write notes.

A reader signs up with an alias and a password; the alias is theirs to sign in with and
is never shown next to a note. Notes and ratings travel under a random participant id
(the scorer's and the public data's), so nothing links them to the alias outside the
database. A new reader rates at once; writing is earned by rating impact (X's rule),
lost again when too many of the reader's recent notes end Not Helpful, and can be
granted by an admin.

Sign-ups are limited per address: the address is kept only as a digest, and only for a
day, which is all the limit needs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from liveticker.domain import accounts, audit, permissions
from liveticker.domain.accounts import Actor, Role
from liveticker.domain.inputs import ReaderSignUp
from liveticker.domain.ratelimit import limit_rows
from liveticker.exceptions import Conflict, Forbidden, Unauthorized, ValidationFailed
from liveticker.storage.models import NoteParticipant, User, utcnow

SIGNUP_WINDOW = timedelta(hours=1)
KEEP_SIGNUP_KEY = timedelta(days=1)
# X's enrollment states in which a reader has lost writing and must earn it back.
EARNED_OUT = ("earnedOutNoAcknowledge", "earnedOutAcknowledged")


def signup_key(address: str) -> str:
    """The digest a sign-up's address is limited by (the address itself is not stored)."""
    return hashlib.sha256(f"liveticker-signup:{address}".encode()).hexdigest()


def sign_up(
    session: Session,
    *,
    data: ReaderSignUp,
    address: str,
    per_hour: int,
    now: datetime | None = None,
) -> User:
    """A new reader's account, unless this address made `per_hour` of them in the last hour."""
    now = now or utcnow()
    key = signup_key(address)
    session.execute(  # what the limit no longer needs is forgotten
        update(User)
        .where(User.signup_key.is_not(None), User.created_at < now - KEEP_SIGNUP_KEY)
        .values(signup_key=None)
        .execution_options(synchronize_session=False)
    )
    limit_rows(
        session,
        when=User.created_at,
        where=User.signup_key == key,
        limit=per_hour,
        window=SIGNUP_WINDOW,
        now=now,
        message="too many accounts were made from this address; try again later",
    )
    alias = data.alias.strip()
    if alias.lower() != alias:
        raise ValidationFailed(
            "alias must be lowercase: letters, digits, '.', '_' or '-'", field="alias"
        )
    try:
        user = accounts.create_user(
            session, username=alias, password=data.password, role=Role.READER
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message.replace("username", "alias"),
            field="alias" if exc.field == "username" else exc.field,
        ) from None
    except Conflict:
        raise Conflict(f"the alias {alias!r} is taken", field="alias") from None
    user.participant_id = secrets.token_hex(32).upper()
    user.signup_key = key
    user.created_at = now
    return user


@dataclass(frozen=True)
class WritingStatus:
    """May this reader write notes, and how far they are from it."""

    can_write: bool
    rating_impact: int
    needed: int  # the impact that unlocks writing for them
    earned_out: bool  # lost writing: their recent notes kept ending Not Helpful
    granted: bool  # an admin let them write


def writing_status(session: Session, *, user: User, threshold: int) -> WritingStatus:
    """X's rule: writing unlocks at `threshold` rating impact (the scoring run keeps the
    impact and the enrollment state); once earned out, at the higher target it set."""
    row = session.get(NoteParticipant, user.id)
    impact = row.rating_impact if row is not None else 0
    earned_out = row is not None and row.enrollment_state in EARNED_OUT
    needed = row.needed_to_earn_in if row is not None and earned_out else threshold
    can_write = user.writing_granted or impact >= needed
    return WritingStatus(
        can_write=can_write,
        rating_impact=impact,
        needed=needed,
        earned_out=earned_out,
        granted=user.writing_granted,
    )


def require_reader(actor: Actor | None) -> Actor:
    """Notes are written and rated by readers' accounts, not by the newsroom's staff, who
    must never be able to steer a note's status."""
    if actor is None:
        raise Unauthorized(
            "sign in with a reader's account (POST /api/v1/readers, then /api/v1/tokens)"
        )
    if not actor.is_reader:
        raise Forbidden("notes are written and rated by readers' accounts, not by staff")
    return actor


def grant_writing(session: Session, *, actor: Actor | None, user: User, granted: bool) -> User:
    """An admin lets a reader write notes before they earn it (or takes that back)."""
    admin = permissions.require_admin(actor)
    if user.role != Role.READER.value:
        raise ValidationFailed("only readers' accounts write notes", field="alias")
    user.writing_granted = granted
    audit.record(
        session,
        actor=admin,
        action="notes.writing.grant" if granted else "notes.writing.revoke",
        target=f"user:{user.username}",
        reason="",
    )
    return user
