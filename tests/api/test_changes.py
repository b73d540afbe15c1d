"""The polling fallback: events after an id, ETag / 304, shared cache entries, reload."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_changes_after_an_id(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    blog = make_blog("storm")
    start = blog["version"]
    post = make_post(body="first", headline="One")
    make_post(body="second", status="draft")  # never in the log
    client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    response = client.get(f"/api/v1/blogs/storm/changes?after={start}")
    assert response.status_code == 200
    body = response.json()
    assert body["head"] == start + 2
    assert body["reload"] is False
    # The deleted post's own event is gone from the log: only its tombstone remains.
    assert [(e["id"], e["event"], e["data"]) for e in body["events"]] == [
        (start + 2, "remove", {"id": post["id"]}),
    ]
    assert "first" not in response.text
    kept = make_post(body="second, published", headline="Two")
    shown = client.get(f"/api/v1/blogs/storm/changes?after={start + 2}").json()["events"]
    assert [(e["id"], e["event"]) for e in shown] == [(start + 3, "post")]
    assert f'id="post-{kept["id"]}"' in shown[0]["data"]["html"]
    assert response.headers["cache-control"].startswith("public, max-age=2")
    empty = client.get(f"/api/v1/blogs/storm/changes?after={start + 3}").json()
    assert empty["events"] == []


def test_etag_and_304(client: TestClient, make_blog: Any, make_post: Any) -> None:
    blog = make_blog("storm")
    url = f"/api/v1/blogs/storm/changes?after={blog['version']}"
    first = client.get(url)
    etag = first.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    make_post(body="news")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["events"]) == 1


def test_bounded_batches(client: TestClient, make_blog: Any, make_post: Any) -> None:
    blog = make_blog("storm")
    for n in range(5):
        make_post(body=f"post {n}")
    page = client.get(f"/api/v1/blogs/storm/changes?after={blog['version']}&limit=2").json()
    assert [e["id"] for e in page["events"]] == [blog["version"] + 1, blog["version"] + 2]
    assert page["head"] == blog["version"] + 5


def test_reload_when_too_far_behind_or_ahead(client: TestClient, make_blog: Any) -> None:
    blog = make_blog("storm")
    ahead = client.get(f"/api/v1/blogs/storm/changes?after={blog['version'] + 10}").json()
    assert ahead["reload"] is True
    assert ahead["events"] == []


def test_refuses_bad_input_and_hidden_blogs(client: TestClient, make_blog: Any) -> None:
    make_blog("storm")
    make_blog("secret", live=False)
    for query in ["", "?after=-1", "?after=x", "?after=1&limit=0", "?after=1&limit=101"]:
        response = client.get(f"/api/v1/blogs/storm/changes{query}")
        assert response.status_code == 422, query
    assert client.get("/api/v1/blogs/secret/changes?after=0").status_code == 404
    assert client.get("/api/v1/blogs/nope/changes?after=0").status_code == 404


def test_status_counts_readers(client: TestClient) -> None:
    status = client.get("/api/v1/status").json()
    assert status["live_readers"] == 0
    assert status["worker"] > 0
