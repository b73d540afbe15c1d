"""Security headers on every kind of response: pages, the desk, the API, files, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.test_desk_accounts import sign_in


def csp(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers.get("content-security-policy", "")
    parts = [part.strip().split(" ", 1) for part in policy.split(";") if part.strip()]
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


@pytest.fixture
def blog_with_post(make_blog: Callable[..., Any], make_post: Callable[..., Any]) -> dict[str, Any]:
    make_blog("storm")
    return make_post("storm", body="Water is rising.")


def page_paths(post: dict[str, Any]) -> dict[str, str]:
    return {
        "index": "/",
        "blog": "/blogs/storm",
        "post": f"/blogs/storm/posts/{post['id']}",
        "post notes": f"/blogs/storm/posts/{post['id']}/notes",
        "not found": "/blogs/no-such-blog",
        "sign in": "/login",
        "sign up": "/signup",
        "api docs": "/api/v1/docs",
    }


def test_every_page_has_the_policy_and_no_inline_script(
    client: TestClient, blog_with_post: dict[str, Any]
) -> None:
    for kind, path in page_paths(blog_with_post).items():
        response = client.get(path)
        assert response.status_code in (200, 404), (kind, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), kind
        # One policy: a second header would be enforced as well, and could only narrow it.
        assert len(response.headers.get_list("content-security-policy")) == 1, kind
        policy = csp(response)
        assert policy.get("script-src") == "'self'", (kind, policy)
        assert "unsafe-inline" not in policy["script-src"]
        assert "unsafe-eval" not in str(policy)
        assert policy.get("frame-ancestors") == "'none'", kind
        assert policy.get("object-src") == "'none'"
        assert policy.get("base-uri") == "'none'"
        assert response.headers["x-frame-options"] == "DENY", kind
        assert response.headers["x-content-type-options"] == "nosniff", kind
        # Pages of an account's own (notes, sign-in) tell other sites nothing at all.
        assert response.headers["referrer-policy"] in (
            "strict-origin-when-cross-origin",
            "same-origin",
        ), kind
        assert "strict-transport-security" not in response.headers, kind  # plain http
        # No script without a src but data blocks (JSON-LD, the script's strings), which
        # the policy does not run: any other would be blocked.
        html = response.text
        for start in range(len(html)):
            start = html.find("<script", start)
            if start < 0:
                break
            tag = html[start : html.index(">", start) + 1]
            data = ('type="application/ld+json"', 'type="application/json"')
            assert "src=" in tag or any(block in tag for block in data), (kind, tag)
            start += 1
        assert " onclick=" not in html
        assert " onload=" not in html
        assert "javascript:" not in html


def test_desk_pages_have_the_policy_and_stay_private(
    client: TestClient, accounts_by_role: dict[str, Account], blog_with_post: dict[str, Any]
) -> None:
    assert sign_in(client, "editor").status_code == 303
    for path in ("/desk", "/desk/account", "/desk/blogs/storm"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert csp(response)["script-src"] == "'self'", path
        assert csp(response)["frame-ancestors"] == "'none'", path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "same-origin"  # the desk's own


def test_api_responses_to_credentials_are_never_stored(
    client: TestClient, editor: Account, blog_with_post: dict[str, Any]
) -> None:
    public = client.get("/api/v1/blogs/storm/posts")
    assert public.status_code == 200
    assert "no-store" not in public.headers.get("cache-control", "")  # caches may keep it
    assert public.headers["x-content-type-options"] == "nosniff"
    assert csp(public) == {"default-src": "'none'", "frame-ancestors": "'none'"}
    for method, path in [
        ("GET", "/api/v1/blogs/storm/posts"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/no-such-thing"),
        ("POST", "/api/v1/blogs/storm/posts"),
    ]:
        answer = client.request(method, path, headers=editor.headers, json={"body": "x"})
        assert answer.headers["cache-control"] == "no-store", (method, path, answer.status_code)
    assert sign_in(client, "editor").status_code == 303  # a session cookie is credentials too
    assert client.get("/api/v1/blogs/storm/posts").headers["cache-control"] == "no-store"


def test_files_streams_and_errors_have_headers_too(
    client: TestClient, blog_with_post: dict[str, Any]
) -> None:
    for path in ("/static/liveticker.js", "/favicon.ico", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert csp(response)["frame-ancestors"] == "'none'", path
    missing = client.get("/static/nothing.js")
    assert missing.status_code == 404
    assert missing.headers["x-content-type-options"] == "nosniff"
    with client.stream("GET", "/blogs/storm/events", headers={"Last-Event-ID": "0"}) as stream:
        assert stream.status_code == 200
        assert stream.headers["x-content-type-options"] == "nosniff"
        assert stream.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_hsts_only_over_https(app: Any, blog_with_post: dict[str, Any]) -> None:
    with TestClient(app, base_url="https://live.example.org") as secure:
        for path in ("/", "/blogs/storm", "/api/v1/blogs/storm/posts"):
            response = secure.get(path)
            assert response.status_code == 200, path
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
