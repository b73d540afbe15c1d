"""Live reader counts over processes (domain.presence), and the desks' wake-up calls:
which commits name which blogs (storage.database), and the bus form (live.desk)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from liveticker.domain import accounts, blogs, posts, presence
from liveticker.domain.inputs import BlogCreate, PostCreate
from liveticker.live.desk import DeskSignals
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, LivePresence, utcnow

AGE = timedelta(seconds=30)


def _blogs(database: Database, *slugs: str) -> list[int]:
    with database.transaction() as session:
        user = accounts.create_user(session, username="ed", password="long password!", role="admin")
        actor = accounts.Actor.of(user)
        return [
            blogs.create_blog(
                session, actor=actor, data=BlogCreate(slug=slug, title=slug), default_language="en"
            ).id
            for slug in slugs
        ]


def _counts(database: Database, ids: list[int], *, at: Any = None) -> dict[int, int]:
    with database.transaction(write=False) as session:
        now = at or utcnow()
        return presence.live_readers(session, blog_ids=ids, now=now, max_age=AGE)


def test_reports_of_every_process_add_up_and_replace_each_other(database: Database) -> None:
    storm, flood = _blogs(database, "storm", "flood")
    now = utcnow()
    with database.transaction() as session:
        presence.report(session, process="a", counts={storm: 5, flood: 1}, now=now)
        presence.report(session, process="b", counts={storm: 2, flood: 0}, now=now)
    assert _counts(database, [storm, flood]) == {storm: 7, flood: 1}
    with database.transaction() as session:  # a's next report replaces its last
        presence.report(session, process="a", counts={storm: 1}, now=now)
    assert _counts(database, [storm, flood]) == {storm: 3}
    with database.transaction() as session:
        presence.withdraw(session, process="b")
    assert _counts(database, [storm, flood]) == {storm: 1}
    assert _counts(database, []) == {}


def test_a_silent_process_stops_counting_and_is_forgotten(database: Database) -> None:
    (storm,) = _blogs(database, "storm")
    now = utcnow()
    with database.transaction() as session:
        presence.report(session, process="killed", counts={storm: 9}, now=now - 2 * AGE)
        presence.report(session, process="alive", counts={storm: 4}, now=now)
    assert _counts(database, [storm]) == {storm: 4}
    later = now + presence.FORGET_AFTER + AGE
    with database.transaction() as session:
        presence.report(session, process="alive", counts={storm: 4}, now=later)
        processes = set(session.scalars(select(LivePresence.process)))
    assert processes == {"alive"}


def test_a_deleted_blog_is_left_out_of_a_report(database: Database) -> None:
    storm, gone = _blogs(database, "storm", "gone")
    with database.transaction() as session:
        session.delete(session.get(Blog, gone))
    with database.transaction() as session:
        presence.report(session, process="a", counts={storm: 2, gone: 3}, now=utcnow())
    assert _counts(database, [storm, gone]) == {storm: 2}


def test_commits_name_the_blogs_they_changed_and_rollbacks_nothing(database: Database) -> None:
    storm, flood = _blogs(database, "storm", "flood")
    changed: list[set[int]] = []
    database.change_listeners.append(changed.append)
    try:
        with database.transaction() as session:
            user = accounts.create_user(
                session, username="writer", password="long password!", role="admin"
            )
            blog = session.get(Blog, flood)
            assert blog is not None
            posts.create_post(
                session,
                actor=accounts.Actor.of(user),
                blog=blog,
                data=PostCreate(body="a draft", status="draft"),
            )
        assert changed == [{flood}]  # a draft: no public event, but its desk must redraw

        def fail_after_a_flush() -> None:
            with database.transaction() as session:
                blog = session.get(Blog, storm)
                assert blog is not None
                blog.title = "Never saved"
                session.flush()
                raise RuntimeError("the request failed")

        with pytest.raises(RuntimeError):
            fail_after_a_flush()
        with database.transaction() as session:  # an account alone is no blog's business
            accounts.create_user(
                session, username="other", password="long password!", role="contributor"
            )
        assert changed == [{flood}]
    finally:
        database.change_listeners.remove(changed.append)


def test_desk_signals_wake_watchers_of_the_blog_and_ignore_their_own_echo() -> None:
    async def scenario() -> None:
        here = DeskSignals(origin="here")
        there = DeskSignals(origin="there")
        here.start()
        with here.watch(1) as one, here.watch(2) as two:
            here.receive(there.encode({1, 3}))
            assert one.is_set()
            assert not two.is_set()
            one.clear()
            here.receive(here.encode({1, 2}))  # its own, back from the bus
            here.receive(b"there 1,x")  # malformed
            assert not one.is_set()
            assert not two.is_set()
            here.notify_threadsafe({2})
            await asyncio.sleep(0.01)
            assert two.is_set()
            here.close_all()
            assert here.closing
            assert one.is_set()
        assert here.watchers == {}

    asyncio.run(scenario())
