"""Every role × action: who may do what through the API, checked on the server.

Roles: anonymous, reader (a reader's account, for community notes), contributor (the
draft's author), other (another contributor), editor, admin. Each action runs on fresh
content, so the outcome depends only on the role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts
from liveticker.storage.database import Database
from tests.conftest import Account

ROLES = ["anonymous", "reader", "contributor", "other", "editor", "admin"]


@dataclass
class World:
    client: TestClient
    accounts: dict[str, Account]
    published_id: int
    draft_id: int  # written by "contributor"
    note_id: int  # on the published post, by a reader ("author") who is none of the roles

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else self.accounts[role].headers


Action = Callable[[World, dict[str, str]], Any]


def expect(*codes: int) -> dict[str, int]:
    """The expected status per role, in the order of ROLES."""
    return dict(zip(ROLES, codes, strict=True))


def _post(path: str, json: Any = None) -> Action:
    return lambda w, h: w.client.post(path, json=json, headers=h)


def _post_note_removal() -> Action:
    return lambda w, h: w.client.post(
        f"/api/v1/notes/{w.note_id}/removal", json={"reason": "court order"}, headers=h
    )


ACTIONS: dict[str, tuple[Action, dict[str, int]]] = {
    # action: (call, expected status per role)
    "create blog": (
        _post("/api/v1/blogs", {"slug": "new", "title": "New"}),
        expect(401, 403, 403, 403, 201, 201),
    ),
    "edit blog": (
        lambda w, h: w.client.patch("/api/v1/blogs/live", json={"title": "T2"}, headers=h),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "publish blog": (
        _post("/api/v1/blogs/draft-blog/publish"),
        expect(404, 404, 403, 403, 200, 200),
    ),
    "close blog": (
        _post("/api/v1/blogs/live/close"),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "reopen blog": (
        _post("/api/v1/blogs/closed/reopen"),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "set key points": (
        lambda w, h: w.client.put(
            "/api/v1/blogs/live/key-points", json={"items": ["a"]}, headers=h
        ),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "publish a post": (
        _post("/api/v1/blogs/live/posts", {"body": "x", "status": "published"}),
        expect(401, 403, 403, 403, 201, 201),
    ),
    "write a draft": (
        _post("/api/v1/blogs/live/posts", {"body": "x", "status": "draft"}),
        expect(401, 403, 201, 201, 201, 201),
    ),
    "write a pinned draft": (
        _post("/api/v1/blogs/live/posts", {"body": "x", "status": "draft", "pinned": True}),
        expect(401, 403, 403, 403, 201, 201),
    ),
    "edit the draft": (
        lambda w, h: w.client.patch(
            f"/api/v1/blogs/live/posts/{w.draft_id}", json={"body": "better"}, headers=h
        ),
        expect(404, 404, 200, 404, 200, 200),
    ),
    "publish the draft": (
        lambda w, h: w.client.patch(
            f"/api/v1/blogs/live/posts/{w.draft_id}", json={"status": "published"}, headers=h
        ),
        expect(404, 404, 403, 404, 200, 200),
    ),
    "edit a published post": (
        lambda w, h: w.client.patch(
            f"/api/v1/blogs/live/posts/{w.published_id}", json={"body": "x"}, headers=h
        ),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "pin a published post": (
        lambda w, h: w.client.patch(
            f"/api/v1/blogs/live/posts/{w.published_id}", json={"pinned": True}, headers=h
        ),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "delete a published post": (
        lambda w, h: w.client.delete(f"/api/v1/blogs/live/posts/{w.published_id}", headers=h),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "delete the draft": (
        lambda w, h: w.client.delete(f"/api/v1/blogs/live/posts/{w.draft_id}", headers=h),
        expect(404, 404, 403, 404, 200, 200),
    ),
    "read the draft": (
        lambda w, h: w.client.get(f"/api/v1/blogs/live/posts/{w.draft_id}", headers=h),
        expect(404, 404, 200, 404, 200, 200),
    ),
    "read the published post": (
        lambda w, h: w.client.get(f"/api/v1/blogs/live/posts/{w.published_id}", headers=h),
        expect(200, 200, 200, 200, 200, 200),
    ),
    "read the draft's history": (
        lambda w, h: w.client.get(f"/api/v1/blogs/live/posts/{w.draft_id}/revisions", headers=h),
        expect(404, 404, 200, 404, 200, 200),
    ),
    "read a published post's history": (
        lambda w, h: w.client.get(
            f"/api/v1/blogs/live/posts/{w.published_id}/revisions", headers=h
        ),
        expect(401, 403, 403, 403, 200, 200),
    ),
    "list drafts": (
        lambda w, h: w.client.get("/api/v1/blogs/live/posts?status=draft", headers=h),
        expect(401, 403, 200, 200, 200, 200),
    ),
    "write a note": (
        lambda w, h: w.client.post(
            f"/api/v1/blogs/live/posts/{w.published_id}/notes",
            json={
                "classification": "NOT_MISLEADING",
                "reasons": ["notMisleadingFactuallyCorrect"],
                "text": "Correct, per the utility.",
            },
            headers=h,
        ),
        expect(401, 201, 403, 403, 403, 403),
    ),
    "rate a note": (
        lambda w, h: w.client.put(
            f"/api/v1/notes/{w.note_id}/rating", json={"helpfulness": "HELPFUL"}, headers=h
        ),
        expect(401, 200, 403, 403, 403, 403),
    ),
    "remove a note": (
        _post_note_removal(),
        expect(401, 403, 403, 403, 403, 200),
    ),
    "grant writing": (
        lambda w, h: w.client.put(
            "/api/v1/readers/author/writing", json={"granted": False}, headers=h
        ),
        expect(401, 403, 403, 403, 403, 200),
    ),
    "read a draft blog": (
        lambda w, h: w.client.get("/api/v1/blogs/draft-blog", headers=h),
        expect(404, 404, 200, 200, 200, 200),
    ),
}


@pytest.fixture
def world(
    client: TestClient,
    database: Database,
    accounts_by_role: dict[str, Account],
    make_blog: Any,
    make_post: Any,
) -> World:
    make_blog("live")
    make_blog("draft-blog", live=False)
    make_blog("closed")
    editor = accounts_by_role["editor"]
    client.post("/api/v1/blogs/closed/close", headers=editor.headers)
    published = make_post("live", body="published by the editor")
    draft = client.post(
        "/api/v1/blogs/live/posts",
        json={"body": "a draft", "status": "draft"},
        headers=accounts_by_role["contributor"].headers,
    )
    assert draft.status_code == 201
    readers = {}
    with database.transaction() as session:
        for alias in ("reader", "author"):
            user = accounts.create_user(
                session, username=alias, password="correct horse battery", role="reader"
            )
            user.participant_id = alias.upper()
            user.writing_granted = True
            readers[alias] = Account(alias, "reader", accounts.create_token(session, user=user))
    note = client.post(
        f"/api/v1/blogs/live/posts/{published['id']}/notes",
        json={
            "classification": "NOT_MISLEADING",
            "reasons": ["notMisleadingOther"],
            "text": "Context.",
        },
        headers=readers["author"].headers,
    )
    assert note.status_code == 201, note.text
    everyone = {**accounts_by_role, "reader": readers["reader"]}
    return World(client, everyone, published["id"], draft.json()["id"], note.json()["id"])


CASES = [(action, role) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_role_may_or_may_not(world: World, action: str, role: str) -> None:
    call, expected = ACTIONS[action]
    response = call(world, world.headers(role))
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"]


def test_contributor_lists_only_own_drafts(world: World) -> None:
    own = world.client.get(
        "/api/v1/blogs/live/posts?status=draft", headers=world.headers("contributor")
    ).json()["posts"]
    assert [p["id"] for p in own] == [world.draft_id]
    theirs = world.client.get(
        "/api/v1/blogs/live/posts?status=draft", headers=world.headers("other")
    ).json()["posts"]
    assert theirs == []


def test_refused_write_changes_nothing(world: World) -> None:
    before = world.client.get(f"/api/v1/blogs/live/posts/{world.published_id}").json()
    refused = world.client.patch(
        f"/api/v1/blogs/live/posts/{world.published_id}",
        json={"body": "vandalism"},
        headers=world.headers("other"),
    )
    assert refused.status_code == 403
    after = world.client.get(f"/api/v1/blogs/live/posts/{world.published_id}").json()
    assert after == before
