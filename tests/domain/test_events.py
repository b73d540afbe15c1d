"""The event log: one event per reader-visible change, in order, never for drafts."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.domain import accounts, blogs, events, posts
from liveticker.domain.inputs import PostCreate
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, Event
from tests.conftest import Account


def _log(database: Database, slug: str) -> list[tuple[int, str, dict[str, Any]]]:
    with database.transaction(write=False) as session:
        blog = session.scalar(select(Blog).where(Blog.slug == slug))
        assert blog is not None
        rows = session.scalars(select(Event).where(Event.blog_id == blog.id).order_by(Event.seq))
        return [(e.seq, e.kind, e.data) for e in rows]


def test_each_visible_change_appends_one_event(
    client: TestClient, database: Database, make_blog: Any, make_post: Any, editor: Account
) -> None:
    blog = make_blog("storm")
    start = blog["version"]
    appended: list[tuple[int, str, dict[str, Any]]] = []

    def newest() -> None:
        log = _log(database, "storm")
        appended.append(log[-1])
        assert log[-1][0] == start + len(appended)  # exactly one event per change

    post = make_post(body="first", headline="One")
    newest()
    client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"body": "first, corrected"},
        headers=editor.headers,
    )
    newest()
    client.put("/api/v1/blogs/storm/key-points", json={"items": ["*a*"]}, headers=editor.headers)
    newest()
    client.patch("/api/v1/blogs/storm", json={"title": "Storm, day 2"}, headers=editor.headers)
    newest()
    client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    newest()
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    newest()
    assert [kind for _, kind, _ in appended] == [
        "post",
        "post",
        "key-points",
        "blog",
        "remove",
        "blog",
    ]
    assert appended[1][2]["body_html"].startswith("<p>first, corrected")
    assert appended[2][2]["items"] == ["<p><em>a</em></p>\n"]
    assert appended[3][2]["title"] == "Storm, day 2"
    assert appended[4][2] == {"id": post["id"]}
    assert appended[5][2]["status"] == "closed"
    final = client.get("/api/v1/blogs/storm").json()
    log = _log(database, "storm")
    assert final["version"] == log[-1][0]
    assert [seq for seq, _, _ in log] == list(range(log[0][0], log[0][0] + len(log)))
    # What stays in the log is the present: each entity's newest event; the rest is emptied.
    new = [(kind, data) for seq, kind, data in log if seq > start]
    assert new == [
        ("superseded", {}),
        ("superseded", {}),
        ("key-points", appended[2][2]),
        ("superseded", {}),
        ("remove", {"id": post["id"]}),
        ("blog", appended[5][2]),
    ]


def test_drafts_never_reach_the_log(
    client: TestClient, database: Database, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    before = _log(database, "storm")
    contributor = accounts_by_role["contributor"]
    draft = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "SECRET draft text", "status": "draft"},
        headers=contributor.headers,
    ).json()
    client.patch(
        f"/api/v1/blogs/storm/posts/{draft['id']}",
        json={"body": "SECRET still a draft"},
        headers=contributor.headers,
    )
    after = _log(database, "storm")
    assert after == before
    assert "SECRET" not in repr(after)


def test_unpublishing_removes_and_pin_switch_updates_both(
    client: TestClient, database: Database, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    first = make_post(body="a", pinned=True)
    second = make_post(body="b")
    mark = _log(database, "storm")[-1][0]
    client.patch(
        f"/api/v1/blogs/storm/posts/{second['id']}", json={"pinned": True}, headers=editor.headers
    )
    pinned_log = [(kind, data) for seq, kind, data in _log(database, "storm") if seq > mark]
    assert pinned_log[0][0] == "post"
    assert pinned_log[0][1]["id"] == first["id"]
    assert not pinned_log[0][1]["pinned"]
    client.patch(
        f"/api/v1/blogs/storm/posts/{first['id']}", json={"status": "draft"}, headers=editor.headers
    )
    new = [(kind, data) for seq, kind, data in _log(database, "storm") if seq > mark]
    assert new[0] == ("superseded", {})  # the unpinned snapshot of a post that is gone now
    assert new[1][0] == "post"
    assert new[1][1]["id"] == second["id"]
    assert new[1][1]["pinned"]
    assert new[2] == ("remove", {"id": first["id"]})


def test_pinned_draft_does_not_take_the_pin_until_published(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    public = make_post(body="public pin", pinned=True)
    draft = make_post(body="draft pin", pinned=True, status="draft")
    assert client.get(f"/api/v1/blogs/storm/posts/{public['id']}").json()["pinned"] is True
    client.patch(
        f"/api/v1/blogs/storm/posts/{draft['id']}",
        json={"status": "published"},
        headers=editor.headers,
    )
    assert client.get(f"/api/v1/blogs/storm/posts/{public['id']}").json()["pinned"] is False
    assert client.get(f"/api/v1/blogs/storm/posts/{draft['id']}").json()["pinned"] is True


def test_concurrent_writers_all_succeed_in_order(
    app: Any, database: Database, make_blog: Any, editor: Account
) -> None:
    """Eight editors posting at once: no 5xx, no lost version, a gapless log."""
    make_blog("storm")
    statuses: list[int] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        own_client = TestClient(app)  # no lifespan: the app's hub serves one loop only
        for k in range(3):
            response = own_client.post(
                "/api/v1/blogs/storm/posts",
                json={"body": f"writer {n} post {k}", "pinned": k == 2},
                headers=editor.headers,
            )
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [201] * 24
    log = _log(database, "storm")
    seqs = [seq for seq, _, _ in log]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    pinned = [data["id"] for _, kind, data in log if kind == "post" and data["pinned"]]
    assert pinned  # the pin moved around, and the index kept it to one post at a time


def test_a_removal_empties_what_was_shown_inside_the_removed_thing(
    database: Database, make_blog: Any, make_post: Any
) -> None:
    """Notes will live inside posts ("post:12/note:3"): removing the post takes them along."""
    make_blog("storm")
    post, other = make_post(body="a"), make_post(body="b")
    inside, beside = f"post:{post['id']}/note:1", f"post:{other['id']}/note:2"
    with database.transaction() as session:
        blog = session.scalar(select(Blog).where(Blog.slug == "storm"))
        assert blog is not None
        events.record(session, blog=blog, kind="note", data={"text": "SECRET note"}, entity=inside)
        events.record(session, blog=blog, kind="note", data={"text": "kept note"}, entity=beside)
        # An edit of the post itself leaves what is inside it alone...
        events.record(
            session,
            blog=blog,
            kind=events.POST,
            data={"id": post["id"]},
            entity=f"post:{post['id']}",
        )
    assert "SECRET note" in repr(_log(database, "storm"))
    with database.transaction() as session:
        blog = session.scalar(select(Blog).where(Blog.slug == "storm"))
        assert blog is not None
        # ...its removal does not; and "post:1" is not a prefix of "post:12".
        events.record(
            session,
            blog=blog,
            kind=events.REMOVE,
            data={"id": post["id"]},
            entity=f"post:{post['id']}",
        )
    log = _log(database, "storm")
    assert "SECRET note" not in repr(log)
    assert "kept note" in repr(log)
    assert events.supersedes(events.REMOVE, "post:1", "post:1/note:3")
    assert not events.supersedes(events.POST, "post:1", "post:1/note:3")
    assert not events.supersedes(events.REMOVE, "post:1", "post:12")
    assert not events.supersedes(events.REMOVE, "post:1", "")


def test_a_draft_blog_logs_nothing_but_its_version_moves(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    blog = make_blog("storm", live=False)
    post = client.post(
        "/api/v1/blogs/storm/posts", json={"body": "SECRET early"}, headers=editor.headers
    ).json()
    client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    client.patch("/api/v1/blogs/storm", json={"title": "SECRET title"}, headers=editor.headers)
    drafted = client.get("/api/v1/blogs/storm", headers=editor.headers).json()
    assert drafted["version"] == blog["version"] + 3
    assert _log(database, "storm") == []
    client.patch("/api/v1/blogs/storm", json={"title": "Storm"}, headers=editor.headers)
    live = client.post("/api/v1/blogs/storm/publish", headers=editor.headers).json()
    log = _log(database, "storm")
    assert [(seq, kind) for seq, kind, _ in log] == [(live["version"], "blog")]
    assert "SECRET" not in repr(log)
    for after in (0, 1, live["version"] - 1):
        answer = client.get(f"/api/v1/blogs/storm/changes?after={after}").json()
        assert answer["reload"] is True, after
        assert answer["events"] == []
    assert client.get(f"/api/v1/blogs/storm/changes?after={live['version']}").json() == {
        "head": live["version"],
        "reload": False,
        "events": [],
    }


def test_one_transaction_that_writes_and_deletes_hands_the_hub_only_the_present(
    database: Database, make_blog: Any
) -> None:
    """The demo and the CLI may post and delete in one transaction: the committed events
    that live delivery receives must match the log, not the moment in between."""
    make_blog("storm")
    received: list[list[Event]] = []
    database.commit_listeners.append(received.append)
    try:
        with database.transaction() as session:
            blog = blogs.get_blog(session, slug="storm", actor=None)
            actor = accounts.Actor.of(accounts.get_user(session, "editor"))
            post = posts.create_post(
                session, actor=actor, blog=blog, data=PostCreate(body="SECRET at once")
            )
            posts.delete_post(session, actor=actor, post=post)
    finally:
        database.commit_listeners.remove(received.append)
    [committed] = received
    assert [(e.kind, e.data) for e in committed] == [
        ("superseded", {}),
        ("remove", {"id": post.id}),
    ]
    assert "SECRET" not in repr(_log(database, "storm"))


def test_a_savepoint_rolled_back_takes_its_events_along(database: Database, make_blog: Any) -> None:
    """The desk retries a refused form inside a savepoint: what it logged must not reach
    live readers when the savepoint is rolled back and the request commits."""
    make_blog("storm")
    received: list[list[Any]] = []
    database.commit_listeners.append(received.append)
    try:
        with database.transaction() as session:
            blog = blogs.get_blog(session, slug="storm", actor=None)
            actor = accounts.Actor.of(accounts.get_user(session, "editor"))
            kept = posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body="kept"))
            try:
                with session.begin_nested():
                    posts.create_post(
                        session, actor=actor, blog=blog, data=PostCreate(body="SECRET refused")
                    )
                    raise RuntimeError("refused")
            except RuntimeError:
                pass
    finally:
        database.commit_listeners.remove(received.append)
    [committed] = received
    assert [(e.kind, e.data["id"]) for e in committed] == [("post", kept.id)]
    assert "SECRET" not in repr(_log(database, "storm"))


def test_a_savepoint_released_hands_the_hub_nothing_until_the_commit(
    database: Database, make_blog: Any
) -> None:
    """The desk runs each action in a savepoint; releasing it commits nothing yet, so
    what it logged waits for the outer commit, and goes nowhere if that fails."""
    make_blog("storm")
    received: list[list[Any]] = []
    changed: list[set[int]] = []
    database.commit_listeners.append(received.append)
    database.change_listeners.append(changed.append)

    def post_in_a_savepoint(body: str, *, then_fail: bool) -> None:
        with database.transaction() as session:
            blog = blogs.get_blog(session, slug="storm", actor=None)
            actor = accounts.Actor.of(accounts.get_user(session, "editor"))
            with session.begin_nested():
                posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body=body))
            assert received == []  # released, not committed
            assert changed == []
            if then_fail:
                raise RuntimeError("the request failed after the action")

    try:
        with contextlib.suppress(RuntimeError):
            post_in_a_savepoint("SECRET never committed", then_fail=True)
        assert received == []
        assert changed == []
        post_in_a_savepoint("kept", then_fail=False)
    finally:
        database.commit_listeners.remove(received.append)
        database.change_listeners.remove(changed.append)
    assert [[e.data["body_html"] for e in batch] for batch in received] == [["<p>kept</p>\n"]]
    assert len(changed) == 1
    assert "SECRET" not in repr(_log(database, "storm"))


def test_a_transaction_rolled_back_hands_the_hub_nothing(
    database: Database, make_blog: Any
) -> None:
    make_blog("storm")
    received: list[list[Any]] = []
    database.commit_listeners.append(received.append)
    try:
        with database.transaction() as session:
            blog = blogs.get_blog(session, slug="storm", actor=None)
            actor = accounts.Actor.of(accounts.get_user(session, "editor"))
            posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body="SECRET"))
            session.rollback()
        with database.transaction() as session:  # the next transaction starts clean
            blog = blogs.get_blog(session, slug="storm", actor=None)
            posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body="kept"))
    finally:
        database.commit_listeners.remove(received.append)
    assert [[e.data["body_html"] for e in batch] for batch in received] == [["<p>kept</p>\n"]]


def test_one_transaction_changing_two_blogs_keeps_both_blogs_events(
    database: Database, make_blog: Any
) -> None:
    """Each blog's own fields are the entity "blog" in its own log: one blog's change must
    not empty the other's, even when one transaction makes both."""
    make_blog("storm")
    make_blog("flood")
    received: list[list[Any]] = []
    database.commit_listeners.append(received.append)
    try:
        with database.transaction() as session:
            for slug in ("storm", "flood"):
                blog = blogs.get_blog(session, slug=slug, actor=None)
                blog.title = f"New title of {slug}"
                events.blog_changed(session, blog=blog)
    finally:
        database.commit_listeners.remove(received.append)
    [committed] = received
    assert [(e.kind, e.data["title"]) for e in committed] == [
        ("blog", "New title of storm"),
        ("blog", "New title of flood"),
    ]
    for slug in ("storm", "flood"):
        assert _log(database, slug)[-1][1] == "blog"
