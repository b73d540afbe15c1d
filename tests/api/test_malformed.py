"""No request, however malformed, gets a 5xx: each gets a JSON error with a 4xx instead."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account

HOSTILE_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**63,
    1e308,
    True,
    "",
    " ",
    "x" * 60_000,
    "\x00",
    "a\x00b",
    "\u202e\u200b",
    "😀" * 50,
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    [],
    [None],
    {},
    {"nested": {"deep": [1, 2, 3]}},
]

VALID_BODIES: dict[str, dict[str, Any]] = {
    "blog": {
        "slug": "fresh",
        "title": "T",
        "standfirst": "S",
        "labels": ["L"],
        "lead_image": {"url": "https://example.org/a.jpg", "alt": "A"},
    },
    "post": {
        "headline": "H",
        "body": "B",
        "images": [{"url": "https://example.org/a.jpg", "alt": "A"}],
        "social": {
            "url": "https://example.org/s/1",
            "author_name": "N",
            "handle": "h",
            "text": "T",
            "posted_at": "2026-11-27T06:00:00Z",
        },
        "pinned": False,
        "key_event": False,
        "status": "published",
    },
}


def _mutations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field replaced by each hostile value, plus nested fields and unknown ones."""
    out: list[dict[str, Any]] = []
    for key, value in itertools.product(body, HOSTILE_VALUES):
        out.append({**body, key: value})
    for key in body:
        nested = body[key]
        if isinstance(nested, list) and nested and isinstance(nested[0], dict):
            for inner, value in itertools.product(nested[0], HOSTILE_VALUES[:12]):
                out.append({**body, key: [{**nested[0], inner: value}]})
        if isinstance(nested, dict):
            for inner, value in itertools.product(nested, HOSTILE_VALUES[:12]):
                out.append({**body, key: {**nested, inner: value}})
    out.append({**body, "unknown_field": 1})
    return out


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"]
        assert error["message"]
        assert "Traceback" not in response.text


def test_hostile_blog_bodies(client: TestClient, editor: Account, make_blog: Any) -> None:
    make_blog("storm")
    for body in _mutations(VALID_BODIES["blog"]):
        _check(client.post("/api/v1/blogs", json=body, headers=editor.headers))
        patch = {k: v for k, v in body.items() if k != "slug"}
        _check(client.patch("/api/v1/blogs/storm", json=patch, headers=editor.headers))


def test_hostile_post_bodies(client: TestClient, editor: Account, make_blog: Any) -> None:
    make_blog("storm")
    post = client.post(
        "/api/v1/blogs/storm/posts", json={"body": "x"}, headers=editor.headers
    ).json()
    for body in _mutations(VALID_BODIES["post"]):
        _check(client.post("/api/v1/blogs/storm/posts", json=body, headers=editor.headers))
        _check(
            client.patch(
                f"/api/v1/blogs/storm/posts/{post['id']}", json=body, headers=editor.headers
            )
        )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'"text"',
        b"\xff\xfe\xfd",
        b'{"body": "\xc3\x28"}',
        b"[" * 100_000,
        b'{"body": "x"' + b', "a": 1' * 10_000 + b"}",
        json.dumps({"body": "x" * 900_000}).encode(),
        b'{"body": "\\ud800"}',
        b'{"body": NaN}',
    ],
    ids=lambda raw: repr(raw[:16]),
)
def test_malformed_raw_bodies(
    client: TestClient, editor: Account, make_blog: Any, raw: bytes
) -> None:
    make_blog("storm")
    headers = {**editor.headers, "Content-Type": "application/json"}
    for path, method in [
        ("/api/v1/blogs/storm/posts", "POST"),
        ("/api/v1/blogs", "POST"),
        ("/api/v1/blogs/storm", "PATCH"),
        ("/api/v1/blogs/storm/key-points", "PUT"),
        ("/api/v1/blogs/storm/close", "POST"),
        ("/api/v1/tokens", "POST"),
    ]:
        _check(client.request(method, path, content=raw, headers=headers))


def test_oversized_body_is_413(client: TestClient, editor: Account, make_blog: Any) -> None:
    make_blog("storm")
    big = json.dumps({"body": "x" * 1_100_000}).encode()
    response = client.post(
        "/api/v1/blogs/storm/posts",
        content=big,
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 50_000

    streamed = client.post(
        "/api/v1/blogs/storm/posts",
        content=chunks(),
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/blogs/%00",
        "/api/v1/blogs/" + "a" * 5000,
        "/api/v1/blogs/..%2F..%2Fetc",
        "/api/v1/blogs/storm/posts/abc",
        "/api/v1/blogs/storm/posts/-1",
        "/api/v1/blogs/storm/posts/0",
        "/api/v1/blogs/storm/posts/99999999999999999999999999",
        "/api/v1/blogs/storm/posts/1.5",
        "/api/v1/blogs/storm/posts?before=%00",
        "/api/v1/blogs/storm/posts?before=" + "A" * 10_000,
        "/api/v1/blogs/storm/posts?limit=%00",
        "/api/v1/blogs/storm/posts?status=deleted",
        "/api/v1/blogs/storm/posts/1/revisions",
        "/api/v1/blogs/%F0%9F%98%80",
        "/api/v1/blogs/storm%00",
        "/p/%00",
        "/p/" + "z" * 300,
        "/blogs/%00",
        "/blogs/storm?before=%00",
        "/blogs/storm/posts/99999999999999999999999",
    ],
)
def test_hostile_urls(client: TestClient, make_blog: Any, editor: Account, path: str) -> None:
    make_blog("storm")
    for headers in ({}, editor.headers):
        response = client.get(path, headers=headers)
        assert response.status_code < 500, (path, response.text[:200])
        assert response.status_code >= 400, path


@pytest.mark.parametrize(
    "header",
    [
        "Bearer \x00",
        "Bearer lt_" + "\u00e9" * 30,
        "Bearer lt_" + "a" * 5000,
        "bearer",
        "Bearer lt_%00",
    ],
)
def test_hostile_authorization_headers(client: TestClient, make_blog: Any, header: str) -> None:
    make_blog("storm")
    # Raw bytes: a client may send any octets, not only ASCII.
    response = client.get("/api/v1/blogs/storm", headers={"Authorization": header.encode("utf-8")})
    assert response.status_code == 401


def test_wrong_methods_and_content_types(
    client: TestClient, editor: Account, make_blog: Any
) -> None:
    make_blog("storm")
    _check(client.put("/api/v1/blogs/storm", json={}, headers=editor.headers))
    _check(
        client.post(
            "/api/v1/blogs/storm/posts",
            content=b"body=x",
            headers={**editor.headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    _check(
        client.post(
            "/api/v1/blogs/storm/posts",
            content=b"<xml/>",
            headers={**editor.headers, "Content-Type": "text/xml"},
        )
    )


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"body": 5}, "body", "string"),
        ({"body": ""}, "body", "empty"),
        ({"headline": "h" * 300, "body": "x"}, "headline", "300"),
        ({"body": "x", "images": {"url": "/a"}}, "images", "list"),
    ],
)
def test_validation_messages_name_the_field_and_the_problem(
    client: TestClient, editor: Account, make_blog: Any, body: Any, field: str, words: str
) -> None:
    make_blog()
    response = client.post("/api/v1/blogs/storm/posts", json=body, headers=editor.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    assert error["message"].startswith(f"{field}: "), error
    assert words in error["message"], error
    assert "JSON object" not in error["message"]


@pytest.mark.parametrize("reason", ["\x0b", "\x00", "a\x1fb"])
def test_delete_reason_with_control_characters_is_422_and_keeps_the_post(
    client: TestClient, editor: Account, make_blog: Any, make_post: Any, reason: str
) -> None:
    make_blog()
    post = make_post()
    response = client.delete(
        f"/api/v1/blogs/storm/posts/{post['id']}",
        params={"reason": reason},
        headers=editor.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "reason"
    kept = client.get(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    assert kept.status_code == 200, kept.text
    assert kept.json()["deleted_at"] is None
