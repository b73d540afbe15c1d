"""Named leases in the database (domain.leases): one holder at a time, on both databases."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from liveticker.domain import leases
from liveticker.storage.database import Database
from liveticker.storage.models import utcnow

NAME = "job"


def claim(database: Database, holder: str, *, at: datetime | None = None) -> bool:
    with database.transaction() as session:
        return leases.claim(session, name=NAME, holder=holder, seconds=60, now=at)


def holder(database: Database, name: str = NAME, *, at: datetime | None = None) -> str | None:
    with database.transaction(write=False) as session:
        lease = leases.current(session, name=name, now=at)
        return None if lease is None else lease.holder


def test_one_holder_at_a_time_until_release_or_expiry(database: Database) -> None:
    now = utcnow()
    assert claim(database, "a", at=now)
    assert not claim(database, "b", at=now)
    assert claim(database, "a", at=now + timedelta(seconds=30))  # its own: extended
    assert holder(database, at=now) == "a"
    with database.transaction() as session:
        leases.release(session, name=NAME, holder="b")  # not b's to release
    assert not claim(database, "b", at=now + timedelta(seconds=80))  # extended to 90 s
    # Expired: the next claimant takes it, and the old holder can no longer renew it.
    assert claim(database, "b", at=now + timedelta(seconds=91))
    with database.transaction() as session:
        assert not leases.renew(session, name=NAME, holder="a", seconds=60, now=now)
        assert leases.renew(session, name=NAME, holder="b", seconds=60)
        leases.release(session, name=NAME, holder="b")
    assert holder(database) is None
    assert claim(database, "a")


def test_leases_of_other_names_are_independent(database: Database) -> None:
    with database.transaction() as session:
        assert leases.claim(session, name="one", holder="a", seconds=60)
        assert leases.claim(session, name="two", holder="b", seconds=60)
    assert (holder(database, "one"), holder(database, "two")) == ("a", "b")


def test_of_many_claims_at_once_exactly_one_wins(database: Database) -> None:
    for round_ in range(3):
        won = _contend(database, [f"h{round_}-{i}" for i in range(6)])
        assert len(won) == 1, won
        with database.transaction() as session:
            leases.release(session, name=NAME, holder=won[0])
        if round_ == 1:  # the next round contends for an existing, expired row
            with database.transaction() as session:
                leases.claim(session, name=NAME, holder="old", seconds=-1)


def _contend(database: Database, holders: list[str]) -> list[str]:
    """Each holder claims on its own thread, all at once; returns the winners."""
    start = threading.Barrier(len(holders))
    won: list[str] = []

    def contend(name: str) -> None:
        start.wait(10)
        if claim(database, name):
            won.append(name)

    threads = [threading.Thread(target=contend, args=(name,)) for name in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return won
