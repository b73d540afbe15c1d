"""Blog teams: staff act only on the blogs whose team they are on; admins on every blog."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts
from liveticker.storage.database import Database
from tests.conftest import Account


@pytest.fixture
def outsider(database: Database) -> Account:
    """An editor on no team."""
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="outsider", password="correct horse battery", role="editor"
        )
        return Account("outsider", "editor", accounts.create_token(session, user=user))


def test_staff_act_only_on_their_blogs(
    client: TestClient,
    make_blog: Any,
    make_post: Any,
    outsider: Account,
    accounts_by_role: dict[str, Account],
) -> None:
    make_blog("storm")
    post = make_post(body="on the team's blog")
    headers = outsider.headers
    refused = [
        ("PATCH", "/api/v1/blogs/storm", {"title": "Mine now"}),
        ("PUT", "/api/v1/blogs/storm/key-points", {"items": ["x"]}),
        ("POST", "/api/v1/blogs/storm/close", None),
        ("POST", "/api/v1/blogs/storm/posts", {"body": "x"}),
        ("PATCH", f"/api/v1/blogs/storm/posts/{post['id']}", {"body": "x"}),
        ("DELETE", f"/api/v1/blogs/storm/posts/{post['id']}", None),
        ("GET", f"/api/v1/blogs/storm/posts/{post['id']}/revisions", None),
        ("GET", "/api/v1/blogs/storm/posts?status=draft", None),
        ("GET", "/api/v1/blogs/storm/members", None),
    ]
    for method, path, body in refused:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert "not on the team of blog 'storm'" in response.json()["error"]["message"]
    # Nothing the outsider tried changed anything; as a reader they still see the blog.
    seen = client.get("/api/v1/blogs/storm", headers=headers)
    assert seen.status_code == 200
    assert seen.json()["title"] == "Live: storm"
    assert seen.json()["status"] == "live"
    # The admin works on every blog without being on its team.
    admin = accounts_by_role["admin"].headers
    for method, path, body in refused[:2]:
        assert client.request(method, path, json=body, headers=admin).status_code == 200


def test_a_draft_blog_is_hidden_from_other_teams(
    client: TestClient, make_blog: Any, outsider: Account, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("plans", live=False)
    assert client.get("/api/v1/blogs/plans", headers=outsider.headers).status_code == 404
    admin = accounts_by_role["admin"].headers
    assert client.get("/api/v1/blogs/plans", headers=admin).status_code == 200


def test_creator_and_admins_manage_the_team(
    client: TestClient, make_blog: Any, outsider: Account, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor = accounts_by_role["editor"].headers
    contributor = accounts_by_role["contributor"].headers
    admin = accounts_by_role["admin"].headers
    members = client.get("/api/v1/blogs/storm/members", headers=contributor).json()
    assert [m["username"] for m in members] == ["contributor", "editor", "other"]
    # A member who did not create the blog cannot change its team.
    refused = client.post(
        "/api/v1/blogs/storm/members", json={"username": "outsider"}, headers=contributor
    )
    assert refused.status_code == 403
    added = client.post(
        "/api/v1/blogs/storm/members", json={"username": "outsider"}, headers=editor
    )
    assert added.status_code == 201
    assert added.json() == {"username": "outsider", "display_name": "outsider", "role": "editor"}
    patched = client.patch(
        "/api/v1/blogs/storm", json={"title": "Now on it"}, headers=outsider.headers
    )
    assert patched.status_code == 200
    again = client.post("/api/v1/blogs/storm/members", json={"username": "outsider"}, headers=admin)
    assert again.status_code == 409
    for username, status in (("admin", 422), ("nobody", 404), ("", 422)):
        response = client.post(
            "/api/v1/blogs/storm/members", json={"username": username}, headers=admin
        )
        assert response.status_code == status, username
    removed = client.delete("/api/v1/blogs/storm/members/outsider", headers=admin)
    assert removed.status_code == 204
    assert client.delete("/api/v1/blogs/storm/members/outsider", headers=admin).status_code == 404
    patched = client.patch("/api/v1/blogs/storm", json={"title": "x"}, headers=outsider.headers)
    assert patched.status_code == 403
    audit = client.get("/api/v1/audit?action=team.", headers=admin).json()
    assert [(e["action"], e["reason"]) for e in audit][:2] == [
        ("team.remove", "outsider"),
        ("team.add", "outsider"),
    ]


def test_the_creator_joins_the_team(
    client: TestClient, outsider: Account, accounts_by_role: dict[str, Account]
) -> None:
    made = client.post(
        "/api/v1/blogs", json={"slug": "own", "title": "Own"}, headers=outsider.headers
    )
    assert made.status_code == 201
    members = client.get("/api/v1/blogs/own/members", headers=outsider.headers).json()
    assert [m["username"] for m in members] == ["outsider"]
    assert client.post("/api/v1/blogs/own/publish", headers=outsider.headers).status_code == 200
    editor = accounts_by_role["editor"].headers
    assert client.post("/api/v1/blogs/own/close", headers=editor).status_code == 403
