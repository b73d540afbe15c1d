"""Named leases in the database, so that one process on one host at a time runs a job.

A lease is a row: who holds it and until when. A claim is one UPDATE that succeeds only
while the lease has expired or is the claimant's own, so the database, not a process's
memory, decides; the first claim of a name INSERTs the row in a savepoint, and of two
first claims at once the second loses on the primary key. That holds on SQLite (writes
are serialized) and on PostgreSQL (a waiting UPDATE re-checks its condition on the row the
other's commit left). Each call belongs in its own short transaction, committed at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liveticker.storage.models import Lease, utcnow


def claim(
    session: Session, *, name: str, holder: str, seconds: float, now: datetime | None = None
) -> bool:
    """Take the lease for `seconds` if it is free or ours already; False if another holds it."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == holder))
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if _rows(taken) == 1:
        return True
    if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
        return False  # held by another, and not expired
    try:
        with session.begin_nested():
            session.execute(insert(Lease).values(name=name, holder=holder, expires_at=expires))
    except IntegrityError:  # another claimant's first claim, a moment earlier
        return False
    return True


def renew(
    session: Session, *, name: str, holder: str, seconds: float, now: datetime | None = None
) -> bool:
    """Extend our lease; False when it is not ours any more (it expired and was taken)."""
    now = now or utcnow()
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return _rows(renewed) == 1


def release(session: Session, *, name: str, holder: str) -> None:
    """Give the lease up at once (if it is still ours), so the next claimant need not wait."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def current(session: Session, *, name: str, now: datetime | None = None) -> Lease | None:
    """The lease as held now, or None when nobody holds it."""
    lease = session.get(Lease, name, populate_existing=True)
    if lease is None or lease.expires_at <= (now or utcnow()):
        return None
    return lease


def _rows(result: Result[tuple[()]]) -> int:
    """Rows an UPDATE matched (a CursorResult's rowcount, which Result does not declare)."""
    return int(getattr(result, "rowcount", 0) or 0)
