"""Live reader counts across server processes and hosts, for the desk.

Each process knows only its own readers (its hub's streams); it reports them per blog at
every heartbeat, replacing its previous report. A count is the sum of the reports younger
than `max_age` (a few heartbeats), so a process that died without withdrawing stops
counting on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from liveticker.storage.models import Blog, LivePresence

FORGET_AFTER = timedelta(hours=1)  # reports this old are deleted, whoever left them


def report(session: Session, *, process: str, counts: dict[int, int], now: datetime) -> None:
    """Replace this process's report with `counts` (blog id → live readers)."""
    session.execute(delete(LivePresence).where(LivePresence.process == process))
    session.execute(delete(LivePresence).where(LivePresence.reported_at < now - FORGET_AFTER))
    wanted = {blog_id: readers for blog_id, readers in counts.items() if readers > 0}
    if not wanted:
        return
    # A blog deleted since its readers connected is not reported (its row would dangle).
    present = session.scalars(select(Blog.id).where(Blog.id.in_(wanted))).all()
    session.add_all(
        LivePresence(process=process, blog_id=blog_id, readers=wanted[blog_id], reported_at=now)
        for blog_id in present
    )


def withdraw(session: Session, *, process: str) -> None:
    """This process stops serving: its readers have gone (to another process, if any)."""
    session.execute(delete(LivePresence).where(LivePresence.process == process))


def live_readers(
    session: Session, *, blog_ids: list[int], now: datetime, max_age: timedelta
) -> dict[int, int]:
    """Live readers per blog now, over every process; blogs without any are left out."""
    if not blog_ids:
        return {}
    rows = session.execute(
        select(LivePresence.blog_id, func.sum(LivePresence.readers))
        .where(LivePresence.blog_id.in_(blog_ids), LivePresence.reported_at >= now - max_age)
        .group_by(LivePresence.blog_id)
    ).all()
    return {blog_id: int(total) for blog_id, total in rows}
