"""Times as text: ISO 8601 in UTC with a `Z`, the one format of pages, events and feeds."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(when: datetime | str) -> datetime:
    """A stored or snapshotted time as an aware UTC datetime (naive ones are UTC already)."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def iso(when: datetime | str, *, precise: bool = False) -> str:
    """`2026-11-27T09:30:00Z`; `precise` keeps the microseconds (event snapshots order
    posts by them exactly as the database does)."""
    moment = as_utc(when)
    text = moment.isoformat() if precise else moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")
