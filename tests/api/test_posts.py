"""Posts through the JSON API: writing, editing, pinning, deleting, paging, history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_publish_post_with_everything(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    response = client.post(
        "/api/v1/blogs/storm/posts",
        json={
            "headline": "Bridge closed",
            "body": "The **old bridge** is closed.\n\n> Stay away, said the mayor.",
            "images": [
                {
                    "url": "https://example.org/bridge.jpg",
                    "alt": "A closed bridge",
                    "caption": "FILE: 12 March 2024 — the bridge",
                    "credit": "Image: Agency/Photographer",
                }
            ],
            "social": {
                "url": "https://x.com/cityhall/status/1",
                "author_name": "City Hall",
                "handle": "@cityhall",
                "text": "The bridge is closed until further notice.",
                "posted_at": "2026-11-27T06:00:00Z",
            },
            "key_event": True,
        },
        headers=editor.headers,
    )
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["status"] == "published"
    assert post["published_at"] is not None
    assert "<strong>old bridge</strong>" in post["body_html"]
    assert "<blockquote>" in post["body_html"]
    assert post["social"]["handle"] == "cityhall"
    assert post["images"][0]["alt"] == "A closed bridge"
    assert post["key_event"] is True
    assert post["author"]["username"] == "editor"
    fetched = client.get(f"/api/v1/blogs/storm/posts/{post['id']}").json()
    assert fetched["headline"] == "Bridge closed"


def test_published_time_is_server_set(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    response = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "x", "published_at": "2001-01-01T00:00:00Z"},
        headers=editor.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "published_at"


def test_headline_limit(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    response = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "x", "headline": "h" * 201},
        headers=editor.headers,
    )
    assert response.status_code == 422
    ok = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "x", "headline": "h" * 200},
        headers=editor.headers,
    )
    assert ok.status_code == 201


def test_image_alt_text_is_required(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    for image in [
        {"url": "https://example.org/a.jpg"},
        {"url": "https://example.org/a.jpg", "alt": " "},
    ]:
        response = client.post(
            "/api/v1/blogs/storm/posts",
            json={"body": "x", "images": [image]},
            headers=editor.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "images.0.alt"


def test_at_most_one_pinned_post(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    first = make_post(body="first", pinned=True)
    second = make_post(body="second", pinned=True)
    assert client.get(f"/api/v1/blogs/storm/posts/{first['id']}").json()["pinned"] is False
    assert client.get(f"/api/v1/blogs/storm/posts/{second['id']}").json()["pinned"] is True
    client.patch(
        f"/api/v1/blogs/storm/posts/{first['id']}", json={"pinned": True}, headers=editor.headers
    )
    listed = client.get("/api/v1/blogs/storm/posts").json()["posts"]
    assert [p["id"] for p in listed if p["pinned"]] == [first["id"]]
    history = client.get(
        f"/api/v1/blogs/storm/posts/{second['id']}/revisions", headers=editor.headers
    ).json()
    assert history[-1]["action"] == "unpinned"


def test_edit_keeps_a_revision_with_old_and_new(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="Water at 4 m", headline="Levels")
    response = client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"body": "Water at 4.5 m", "headline": None},
        headers=editor.headers,
    )
    assert response.status_code == 200
    edited = response.json()
    assert edited["headline"] is None
    assert "4.5 m" in edited["body_html"]
    assert edited["published_at"] == post["published_at"]
    history = client.get(
        f"/api/v1/blogs/storm/posts/{post['id']}/revisions", headers=editor.headers
    ).json()
    assert [r["action"] for r in history] == ["created", "edited"]
    assert history[1]["user"] == "editor"
    assert history[1]["changes"]["body"] == ["Water at 4 m", "Water at 4.5 m"]
    assert history[1]["changes"]["headline"] == ["Levels", None]


def test_soft_delete_hides_post_and_keeps_reason(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="Wrong figure", pinned=True)
    response = client.request(
        "DELETE",
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"reason": "figure was wrong"},
        headers=editor.headers,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "deleted"
    assert response.json()["delete_reason"] == "figure was wrong"
    assert response.json()["pinned"] is False
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}").status_code == 404
    assert client.get("/api/v1/blogs/storm/posts").json()["posts"] == []
    again = client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    assert again.status_code == 409
    edit = client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}", json={"body": "x"}, headers=editor.headers
    )
    assert edit.status_code == 409


def test_delete_reason_by_query(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post()
    response = client.delete(
        f"/api/v1/blogs/storm/posts/{post['id']}?reason=duplicate", headers=editor.headers
    )
    assert response.json()["delete_reason"] == "duplicate"


def test_paging_newest_first_with_cursor(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm")
    ids = [make_post(body=f"post {n}")["id"] for n in range(7)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["before"] = cursor
        page = client.get("/api/v1/blogs/storm/posts", params=params).json()
        seen += [p["id"] for p in page["posts"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
        # A post arriving mid-way must not shift the pages after it.
        if pages == 1:
            make_post(body="late arrival")
    assert seen == list(reversed(ids))
    assert pages == 3


def test_limit_bounds(client: TestClient, make_blog: Any) -> None:
    make_blog("storm")
    for limit in ["0", "101", "-5", "abc", "1e3", "99999999999999999999999"]:
        response = client.get(f"/api/v1/blogs/storm/posts?limit={limit}")
        assert response.status_code == 422, limit
    assert client.get("/api/v1/blogs/storm/posts?limit=100").status_code == 200


def test_bad_cursors_are_400(client: TestClient, make_blog: Any) -> None:
    make_blog("storm")
    for cursor in ["x", "!!!", "MTow", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ", "LTE6LTE", "a" * 65]:
        response = client.get("/api/v1/blogs/storm/posts", params={"before": cursor})
        assert response.status_code in (400, 422), cursor
        assert "error" in response.json()


def test_closed_blog_refuses_new_published_posts_but_allows_corrections(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="Final tally: 12")
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    refused = client.post("/api/v1/blogs/storm/posts", json={"body": "x"}, headers=editor.headers)
    assert refused.status_code == 409
    corrected = client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        json={"body": "Final tally: 13"},
        headers=editor.headers,
    )
    assert corrected.status_code == 200


def test_draft_then_publish_sets_published_time(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    draft = make_post(body="embargoed", status="draft")
    assert draft["published_at"] is None
    assert client.get(f"/api/v1/blogs/storm/posts/{draft['id']}").status_code == 404
    published = client.patch(
        f"/api/v1/blogs/storm/posts/{draft['id']}",
        json={"status": "published"},
        headers=editor.headers,
    ).json()
    assert published["published_at"] is not None
    assert client.get(f"/api/v1/blogs/storm/posts/{draft['id']}").status_code == 200
    drafts = client.get("/api/v1/blogs/storm/posts?status=draft", headers=editor.headers).json()
    assert drafts["posts"] == []


def test_rejected_request_leaves_nothing_half_written(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    """A pin that fails validation must not have unpinned the current pinned post."""
    make_blog("storm")
    pinned = make_post(body="pinned", pinned=True)
    response = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "x", "pinned": True, "images": [{"url": "javascript:x", "alt": "x"}]},
        headers=editor.headers,
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/blogs/storm/posts/{pinned['id']}").json()["pinned"] is True
    assert len(client.get("/api/v1/blogs/storm/posts").json()["posts"]) == 1


def test_login_returns_a_working_token(client: TestClient, editor: Account) -> None:
    response = client.post(
        "/api/v1/tokens", json={"username": "editor", "password": "correct horse battery"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    me = client.post(
        "/api/v1/blogs",
        json={"slug": "via-login", "title": "T"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.status_code == 201
    wrong = client.post("/api/v1/tokens", json={"username": "editor", "password": "nope"})
    assert wrong.status_code == 401
    unknown = client.post("/api/v1/tokens", json={"username": "ghost", "password": "nope"})
    assert unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_invalid_token_is_401_even_on_reads(client: TestClient, make_blog: Any) -> None:
    make_blog("storm")
    for header in ["Bearer lt_" + "x" * 43, "Bearer nonsense", "Basic abc", "Bearer "]:
        response = client.get("/api/v1/blogs/storm", headers={"Authorization": header})
        assert response.status_code == 401, header
