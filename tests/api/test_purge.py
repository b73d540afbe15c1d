"""Legal takedown: who may purge, what it erases, what it keeps, and 410 Gone after it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.storage.database import Database
from liveticker.storage.models import AuditEntry, Event, Post, Revision
from tests.conftest import Account


def _secret_post(client: TestClient, make_post: Any, editor: Account) -> dict[str, Any]:
    post = make_post(body="SECRET-B names the victim", headline="SECRET-H")
    client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"body": "SECRET-EDITED still names them", "images": [{"url": "/x.jpg", "alt": "a"}]},
        headers=editor.headers,
    )
    return post


def _purge(client: TestClient, post_id: int, account: Account | None, **body: Any) -> Any:
    headers = account.headers if account else {}
    return client.post(
        f"/api/v1/blogs/storm/posts/{post_id}/purge",
        json=body or {"reason": "Court order 17/2026"},
        headers=headers,
    )


def test_only_admins_purge(
    client: TestClient,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_blog("storm")
    post = _secret_post(client, make_post, accounts_by_role["editor"])
    assert _purge(client, post["id"], None).status_code == 401
    for role in ("contributor", "editor"):
        refused = _purge(client, post["id"], accounts_by_role[role])
        assert refused.status_code == 403, role
        assert refused.json()["error"]["message"] == "only admins may do this"
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}").status_code == 200
    assert _purge(client, post["id"], accounts_by_role["admin"]).status_code == 200


def test_purge_erases_content_and_history_keeps_who_when_why(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_blog("storm")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    post = _secret_post(client, make_post, editor)
    response = _purge(client, post["id"], admin)
    assert response.status_code == 200, response.text
    purged = response.json()
    assert purged["status"] == "purged"
    assert (purged["headline"], purged["body"], purged["body_html"]) == (None, "", "")
    assert purged["images"] == []
    assert purged["social"] is None
    assert purged["deleted_at"] is not None
    with database.transaction(write=False) as session:
        row = session.get(Post, post["id"])
        assert row is not None
        revisions = list(
            session.scalars(
                select(Revision).where(Revision.post_id == row.id).order_by(Revision.id)
            )
        )
        events = list(session.scalars(select(Event)))
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "post.purge")))
        stored = repr([(r.action, r.user_id, r.created_at, r.changes) for r in revisions])
        stored += repr([(e.kind, e.data) for e in events]) + repr(vars(row))
    assert "SECRET" not in stored
    assert [r.action for r in revisions] == ["created", "edited", "purged"]
    assert all(r.user_id is not None and r.created_at is not None for r in revisions)
    assert revisions[-1].changes == {"reason": "Court order 17/2026"}
    assert [(e.action, e.target, e.reason) for e in entries] == [
        ("post.purge", f"post:{post['id']}", "Court order 17/2026")
    ]
    history = client.get(
        f"/api/v1/blogs/storm/posts/{post['id']}/revisions", headers=editor.headers
    ).json()
    assert [(h["action"], h["user"]) for h in history] == [
        ("created", "editor"),
        ("edited", "editor"),
        ("purged", "admin"),
    ]


def test_a_purged_post_is_gone(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    post = _secret_post(client, make_post, editor)
    _purge(client, post["id"], admin)
    page = client.get(f"/blogs/storm/posts/{post['id']}")
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>This page was removed</h1>" in page.text
    assert "This post has been removed." in page.text
    short = client.get(f"/p/{post['short_code']}", follow_redirects=False)
    assert short.status_code == 410
    api = client.get(f"/api/v1/blogs/storm/posts/{post['id']}")
    assert api.status_code == 410
    assert api.json()["error"]["code"] == "gone"
    # Staff still find the empty record (its history and who purged it).
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers).json()[
        "status"
    ] == ("purged")
    for method, body in (("PATCH", {"body": "back"}), ("DELETE", None)):
        again = client.request(
            method, f"/api/v1/blogs/storm/posts/{post['id']}", json=body, headers=admin.headers
        )
        assert again.status_code == 409, method
    assert _purge(client, post["id"], admin).status_code == 409
    assert "SECRET" not in client.get("/blogs/storm").text


def test_purge_needs_a_reason(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    admin = accounts_by_role["admin"]
    post = make_post(body="text")
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 5}):
        response = client.post(
            f"/api/v1/blogs/storm/posts/{post['id']}/purge", json=body, headers=admin.headers
        )
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == "reason", body
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}").json()["body"] == "text"


def test_purging_a_draft_or_deleted_post_adds_nothing_to_the_log(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    blog = make_blog("storm")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    draft = make_post(body="SECRET draft", status="draft")
    deleted = make_post(body="SECRET deleted")
    client.delete(f"/api/v1/blogs/storm/posts/{deleted['id']}", headers=editor.headers)
    version = client.get("/api/v1/blogs/storm").json()["version"]
    for post in (draft, deleted):
        assert _purge(client, post["id"], admin).status_code == 200
    changes = client.get(f"/api/v1/blogs/storm/changes?after={blog['version']}").json()
    assert changes["head"] == version  # no reader saw either: nothing new to tell them
    assert [e["event"] for e in changes["events"]] == ["remove"]
    assert "SECRET" not in repr(changes)


def test_audit_log_is_for_admins(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    post = make_post(body="text")
    _purge(client, post["id"], accounts_by_role["admin"])
    assert client.get("/api/v1/audit").status_code == 401
    assert (
        client.get("/api/v1/audit", headers=accounts_by_role["editor"].headers).status_code == 403
    )
    entries = client.get("/api/v1/audit", headers=accounts_by_role["admin"].headers).json()
    newest = entries[0]
    assert (newest["action"], newest["user"], newest["reason"]) == (
        "post.purge",
        "admin",
        "Court order 17/2026",
    )
    assert {e["action"] for e in entries} == {
        "post.purge",
        "team.add",
        "blog.create",
        "blog.publish",
    }
    too_many = client.get("/api/v1/audit?limit=501", headers=accounts_by_role["admin"].headers)
    assert too_many.status_code == 422
