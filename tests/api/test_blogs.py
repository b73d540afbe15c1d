"""Blogs through the JSON API: lifecycle, key points, visibility, history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_create_returns_draft_with_short_code(client: TestClient, editor: Account) -> None:
    response = client.post(
        "/api/v1/blogs",
        json={
            "slug": "summit",
            "title": "Summit in Varna",
            "standfirst": "Leaders meet.",
            "labels": ["World", "Europe"],
            "lead_image": {
                "url": "/static/demo/x.svg",
                "alt": "Flags",
                "caption": "The hall",
                "credit": "Agency/Someone",
            },
        },
        headers=editor.headers,
    )
    assert response.status_code == 201
    blog = response.json()
    assert blog["status"] == "draft"
    assert 5 <= len(blog["short_code"]) <= 8
    assert blog["short_url"] == f"/p/{blog['short_code']}"
    assert blog["labels"] == ["World", "Europe"]
    assert blog["lead_image"]["credit"] == "Agency/Someone"
    assert blog["published_at"] is None


def test_duplicate_slug_is_409(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    response = client.post(
        "/api/v1/blogs", json={"slug": "storm", "title": "Again"}, headers=editor.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_lifecycle_publish_close_reopen(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    make_blog("storm", live=False)
    live = client.post("/api/v1/blogs/storm/publish", headers=editor.headers).json()
    assert live["status"] == "live"
    assert live["published_at"]
    assert live["coverage_start"]
    assert client.post("/api/v1/blogs/storm/publish", headers=editor.headers).status_code == 409
    closed = client.post(
        "/api/v1/blogs/storm/close", json={"message": "Coverage has ended."}, headers=editor.headers
    ).json()
    assert closed["status"] == "closed"
    assert closed["closing_message"] == "Coverage has ended."
    assert closed["coverage_end"] is not None
    assert client.post("/api/v1/blogs/storm/close", headers=editor.headers).status_code == 409
    reopened = client.post("/api/v1/blogs/storm/reopen", headers=editor.headers).json()
    assert reopened["status"] == "live"
    assert reopened["coverage_end"] is None
    assert reopened["version"] > live["version"]


def test_close_without_body_uses_default_message(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    closed = client.post("/api/v1/blogs/storm/close", headers=editor.headers).json()
    assert "closed" in closed["closing_message"]


def test_retitle_moves_last_updated_and_version(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    before = make_blog("storm")
    after = client.patch(
        "/api/v1/blogs/storm", json={"title": "Storm: day two"}, headers=editor.headers
    ).json()
    assert after["title"] == "Storm: day two"
    assert after["version"] == before["version"] + 1
    assert after["updated_at"] >= before["updated_at"]
    unchanged = client.patch(
        "/api/v1/blogs/storm", json={"title": "Storm: day two"}, headers=editor.headers
    ).json()
    assert unchanged["version"] == after["version"]


def test_patch_can_clear_lead_image_but_not_title(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    make_blog("storm", lead_image={"url": "https://example.org/a.jpg", "alt": "A river"})
    cleared = client.patch("/api/v1/blogs/storm", json={"lead_image": None}, headers=editor.headers)
    assert cleared.status_code == 200
    assert cleared.json()["lead_image"] is None
    bad = client.patch("/api/v1/blogs/storm", json={"title": None}, headers=editor.headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/blogs/storm").json()["title"] == "Live: storm"


def test_key_points_replace_as_a_whole_and_render(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    response = client.put(
        "/api/v1/blogs/storm/key-points",
        json={"items": ["Water *rising*", "[Shelters](https://example.org/s) open"]},
        headers=editor.headers,
    )
    assert response.status_code == 200
    blog = response.json()
    assert blog["key_points"] == ["Water *rising*", "[Shelters](https://example.org/s) open"]
    assert "<em>rising</em>" in blog["key_points_html"][0]
    assert 'href="https://example.org/s"' in blog["key_points_html"][1]
    blog = client.put(
        "/api/v1/blogs/storm/key-points", json={"items": ["Only one"]}, headers=editor.headers
    ).json()
    assert blog["key_points"] == ["Only one"]


def test_key_points_limits(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    too_many = client.put(
        "/api/v1/blogs/storm/key-points", json={"items": ["x"] * 13}, headers=editor.headers
    )
    assert too_many.status_code == 422
    empty_item = client.put(
        "/api/v1/blogs/storm/key-points", json={"items": ["  "]}, headers=editor.headers
    )
    assert empty_item.status_code == 422


def test_draft_blog_is_invisible_to_the_public(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("secret", live=False)
    assert client.get("/api/v1/blogs/secret").status_code == 404
    assert client.get("/api/v1/blogs/secret/posts").status_code == 404
    contributor = accounts_by_role["contributor"]
    assert client.get("/api/v1/blogs/secret", headers=contributor.headers).status_code == 200


def test_invalid_lead_image_urls_are_rejected(client: TestClient, editor: Account) -> None:
    for url in [
        "javascript:alert(1)",
        "//evil.example/x.png",
        "data:image/png;base64,AAAA",
        "ftp://x/y",
    ]:
        response = client.post(
            "/api/v1/blogs",
            json={"slug": "x", "title": "X", "lead_image": {"url": url, "alt": "x"}},
            headers=editor.headers,
        )
        assert response.status_code == 422, url
        assert response.json()["error"]["field"] == "lead_image.url"
    assert client.get("/api/v1/blogs/x", headers=editor.headers).status_code == 404
