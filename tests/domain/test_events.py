"""The event log: one event per reader-visible change, in order, never for drafts."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

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
    post = make_post(body="first", headline="One")
    client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"body": "first, corrected"},
        headers=editor.headers,
    )
    client.put("/api/v1/blogs/storm/key-points", json={"items": ["*a*"]}, headers=editor.headers)
    client.patch("/api/v1/blogs/storm", json={"title": "Storm, day 2"}, headers=editor.headers)
    client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    log = _log(database, "storm")
    new = [entry for entry in log if entry[0] > start]
    assert [kind for _, kind, _ in new] == ["post", "post", "key-points", "blog", "remove", "blog"]
    assert [seq for seq, _, _ in log] == list(range(log[0][0], log[0][0] + len(log)))
    assert new[1][2]["body_html"].startswith("<p>first, corrected")
    assert new[2][2]["items"] == ["<p><em>a</em></p>\n"]
    assert new[3][2]["title"] == "Storm, day 2"
    assert new[4][2] == {"id": post["id"]}
    assert new[5][2]["status"] == "closed"
    final = client.get("/api/v1/blogs/storm").json()
    assert final["version"] == log[-1][0]


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
    client.patch(
        f"/api/v1/blogs/storm/posts/{first['id']}", json={"status": "draft"}, headers=editor.headers
    )
    new = [(kind, data) for seq, kind, data in _log(database, "storm") if seq > mark]
    assert new[0][0] == "post"
    assert new[0][1]["id"] == first["id"]
    assert not new[0][1]["pinned"]
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
