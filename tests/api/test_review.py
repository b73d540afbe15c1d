"""The review queue: contributors submit drafts, editors publish them or return them with a
comment, and readers never see a post that waits for review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts
from liveticker.storage.database import Database
from tests.conftest import Account

POSTS = "/api/v1/blogs/storm/posts"
QUEUE = "/api/v1/blogs/storm/review-queue"
ROLES = ["anonymous", "contributor", "other", "editor", "outsider", "admin"]


@pytest.fixture
def outsider(database: Database) -> Account:
    """An editor on no team."""
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="outsider", password="correct horse battery", role="editor"
        )
        return Account("outsider", "editor", accounts.create_token(session, user=user))


def write(client: TestClient, account: Account, body: str, **fields: Any) -> dict[str, Any]:
    response = client.post(POSTS, json={"body": body, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(client: TestClient, account: Account, post_id: int, action: str, **body: Any) -> Any:
    return client.post(f"{POSTS}/{post_id}/{action}", json=body or None, headers=account.headers)


def listed(client: TestClient, account: Account, status: str, **query: Any) -> dict[str, Any]:
    response = client.get(POSTS, params={"status": status, **query}, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def head(client: TestClient) -> int:
    return int(client.get("/api/v1/blogs/storm").json()["version"])


def actions(client: TestClient, account: Account, post_id: int) -> list[str]:
    response = client.get(f"{POSTS}/{post_id}/revisions", headers=account.headers)
    assert response.status_code == 200, response.text
    return [revision["action"] for revision in response.json()]


# -- who may do what ---------------------------------------------------------------------


@dataclass
class World:
    client: TestClient
    accounts: dict[str, Account]
    draft_id: int  # the contributor's draft
    submitted_id: int  # the contributor's post, waiting for review

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else self.accounts[role].headers


Action = Callable[[World, dict[str, str]], Any]


def _on(which: str, method: str, suffix: str = "", json: Any = None) -> Action:
    def call(w: World, h: dict[str, str]) -> Any:
        post_id = w.draft_id if which == "draft" else w.submitted_id
        return w.client.request(method, f"{POSTS}/{post_id}{suffix}", json=json, headers=h)

    return call


ACTIONS: dict[str, tuple[Action, dict[str, int]]] = {
    "submit the draft": (
        _on("draft", "POST", "/submit"),
        {"anonymous": 404, "contributor": 200, "other": 404, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
    "submit on creation": (
        lambda w, h: w.client.post(POSTS, json={"body": "x", "status": "submitted"}, headers=h),
        {"anonymous": 401, "contributor": 201, "other": 201, "editor": 201}
        | {"outsider": 403, "admin": 201},
    ),
    "withdraw the submitted post": (
        _on("submitted", "POST", "/withdraw"),
        {"anonymous": 404, "contributor": 200, "other": 404, "editor": 403}
        | {"outsider": 403, "admin": 403},
    ),
    "return the submitted post": (
        _on("submitted", "POST", "/return", {"comment": "Source?"}),
        {"anonymous": 404, "contributor": 403, "other": 404, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
    "edit the submitted post": (
        _on("submitted", "PATCH", json={"body": "tightened"}),
        {"anonymous": 404, "contributor": 403, "other": 404, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
    "publish the submitted post": (
        _on("submitted", "PATCH", json={"status": "published"}),
        {"anonymous": 404, "contributor": 403, "other": 404, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
    "read the submitted post": (
        _on("submitted", "GET"),
        {"anonymous": 404, "contributor": 200, "other": 404, "editor": 200}
        | {"outsider": 200, "admin": 200},
    ),
    "list the queue": (
        lambda w, h: w.client.get(f"{POSTS}?status=submitted", headers=h),
        {"anonymous": 401, "contributor": 200, "other": 200, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
    "count the queue": (
        lambda w, h: w.client.get(QUEUE, headers=h),
        {"anonymous": 401, "contributor": 403, "other": 403, "editor": 200}
        | {"outsider": 403, "admin": 200},
    ),
}


@pytest.fixture
def world(
    client: TestClient,
    accounts_by_role: dict[str, Account],
    outsider: Account,
    make_blog: Any,
) -> World:
    make_blog("storm")
    contributor = accounts_by_role["contributor"]
    draft = write(client, contributor, "a draft")
    submitted = write(client, contributor, "for review", status="submitted")
    assert submitted["status"] == "submitted"
    return World(client, {**accounts_by_role, "outsider": outsider}, draft["id"], submitted["id"])


CASES = [(action, role) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_role_may_or_may_not(world: World, action: str, role: str) -> None:
    call, expected = ACTIONS[action]
    before = world.client.get(
        f"{POSTS}/{world.submitted_id}", headers=world.headers("editor")
    ).json()
    response = call(world, world.headers(role))
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"]
        after = world.client.get(
            f"{POSTS}/{world.submitted_id}", headers=world.headers("editor")
        ).json()
        assert after == before  # a refused request changes nothing


# -- the queue -----------------------------------------------------------------------------


def test_queue_lists_longest_waiting_first_with_a_count(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor = accounts_by_role["editor"]
    contributor, other = accounts_by_role["contributor"], accounts_by_role["other"]
    assert client.get(QUEUE, headers=editor.headers).json() == {
        "count": 0,
        "oldest_submitted_at": None,
    }
    written_first = write(client, contributor, "written first, submitted last")
    second = write(client, other, "submitted first", status="submitted")
    third = write(client, contributor, "submitted second")
    assert act(client, contributor, third["id"], "submit").status_code == 200
    assert act(client, contributor, written_first["id"], "submit").status_code == 200
    write(client, contributor, "still a draft")

    queue = listed(client, editor, "submitted")
    order = [second["id"], third["id"], written_first["id"]]
    assert [p["id"] for p in queue["posts"]] == order
    assert all(p["status"] == "submitted" and p["submitted_at"] for p in queue["posts"])
    count = client.get(QUEUE, headers=editor.headers).json()
    assert count["count"] == 3
    assert count["oldest_submitted_at"] == queue["posts"][0]["submitted_at"]
    # Paged like the other listings, with the cursor handed back as `before`.
    first = listed(client, editor, "submitted", limit=2)
    assert [p["id"] for p in first["posts"]] == order[:2]
    rest = listed(client, editor, "submitted", limit=2, before=first["next_cursor"])
    assert [p["id"] for p in rest["posts"]] == order[2:]
    assert rest["next_cursor"] is None
    # Contributors see their own posts waiting, and their status; nobody else's.
    own = listed(client, contributor, "submitted")["posts"]
    assert [p["id"] for p in own] == [third["id"], written_first["id"]]
    assert [p["id"] for p in listed(client, other, "submitted")["posts"]] == [second["id"]]
    drafts = listed(client, contributor, "draft")["posts"]
    assert [(p["body"], p["status"]) for p in drafts] == [("still a draft", "draft")]
    # Publishing and returning take posts out of the queue.
    publish = client.patch(
        f"{POSTS}/{second['id']}", json={"status": "published"}, headers=editor.headers
    )
    assert publish.status_code == 200
    assert publish.json()["submitted_at"] is None
    assert act(client, editor, third["id"], "return", comment="Needs a source").status_code == 200
    assert [p["id"] for p in listed(client, editor, "submitted")["posts"]] == [written_first["id"]]
    assert client.get(QUEUE, headers=editor.headers).json()["count"] == 1


def test_the_queue_is_per_blog(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    make_blog("flood")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    write(client, contributor, "for the storm", status="submitted")
    response = client.get("/api/v1/blogs/flood/review-queue", headers=editor.headers)
    assert response.json()["count"] == 0
    flood = client.get("/api/v1/blogs/flood/posts?status=submitted", headers=editor.headers)
    assert flood.json()["posts"] == []


# -- return with a comment, withdraw, resubmit, publish -------------------------------------


def test_return_with_a_comment_the_contributor_sees(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    post = write(client, contributor, "Police say three people were hurt.")
    assert post["review_comment"] == ""
    submitted = act(client, contributor, post["id"], "submit").json()
    assert submitted["status"] == "submitted"

    returned = act(client, editor, post["id"], "return", comment="Which police force?")
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "draft"
    assert returned.json()["submitted_at"] is None
    # The contributor sees the comment on the post, among their drafts and in its history.
    seen = client.get(f"{POSTS}/{post['id']}", headers=contributor.headers).json()
    assert (seen["status"], seen["review_comment"]) == ("draft", "Which police force?")
    drafts = listed(client, contributor, "draft")["posts"]
    assert [(p["id"], p["review_comment"]) for p in drafts] == [(post["id"], "Which police force?")]
    history = client.get(f"{POSTS}/{post['id']}/revisions", headers=contributor.headers).json()
    assert history[-1]["action"] == "returned"
    assert history[-1]["user"] == "editor"
    assert history[-1]["changes"] == {
        "status": ["submitted", "draft"],
        "review_comment": ["", "Which police force?"],
    }

    # They fix the draft (the comment stays while they work) and submit it again.
    edited = client.patch(
        f"{POSTS}/{post['id']}",
        json={"body": "Thames Valley Police say three people were hurt."},
        headers=contributor.headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["review_comment"] == "Which police force?"
    again = act(client, contributor, post["id"], "submit").json()
    assert (again["status"], again["review_comment"]) == ("submitted", "")

    published = client.patch(
        f"{POSTS}/{post['id']}", json={"status": "published"}, headers=editor.headers
    )
    assert published.status_code == 200, published.text
    assert published.json()["published_at"]
    reader = client.get(f"{POSTS}/{post['id']}")
    assert reader.status_code == 200
    assert reader.json()["body"] == "Thames Valley Police say three people were hurt."
    assert reader.json()["review_comment"] == ""
    assert actions(client, editor, post["id"]) == [
        "created",
        "submitted",
        "returned",
        "edited",
        "submitted",
        "published",
    ]


@pytest.mark.parametrize("next_step", ["publish", "schedule"])
def test_the_comment_goes_when_an_editor_takes_the_returned_draft_out(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account], next_step: str
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    post = write(client, contributor, "Draft.", status="submitted")
    act(client, editor, post["id"], "return", comment="INTERNAL: check the spelling")
    change = {"status": "published"} if next_step == "publish" else {"publish_at": in_an_hour()}
    taken = client.patch(f"{POSTS}/{post['id']}", json=change, headers=editor.headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["review_comment"] == ""
    history = client.get(f"{POSTS}/{post['id']}/revisions", headers=editor.headers).json()
    assert history[-1]["changes"]["review_comment"] == ["INTERNAL: check the spelling", ""]
    if next_step == "publish":
        assert "INTERNAL" not in client.get(f"{POSTS}/{post['id']}").text


def test_a_return_needs_a_comment(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    post = write(client, contributor, "for review", status="submitted")
    for body in ({}, {"comment": ""}, {"comment": "   "}, {"comment": "x" * 2001}, {"c": "x"}):
        refused = client.post(f"{POSTS}/{post['id']}/return", json=body, headers=editor.headers)
        assert refused.status_code == 422, (body, refused.text)
    assert client.get(f"{POSTS}/{post['id']}", headers=editor.headers).json()["status"] == (
        "submitted"
    )


def test_a_submitted_post_is_the_editors_until_withdrawn(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    post = write(client, contributor, "first take", status="submitted")
    assert post["submitted_at"] is not None
    refused = client.patch(
        f"{POSTS}/{post['id']}", json={"body": "second take"}, headers=contributor.headers
    )
    assert refused.status_code == 403
    assert "withdraw" in refused.json()["error"]["message"]
    # Back to a draft only by withdraw or return, so the history says which.
    as_draft = client.patch(
        f"{POSTS}/{post['id']}", json={"status": "draft"}, headers=editor.headers
    )
    assert as_draft.status_code == 409, as_draft.text

    withdrawn = act(client, contributor, post["id"], "withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["submitted_at"]) == ("draft", None)
    edited = client.patch(
        f"{POSTS}/{post['id']}", json={"body": "second take"}, headers=contributor.headers
    )
    assert edited.status_code == 200
    assert actions(client, contributor, post["id"]) == ["created", "withdrawn", "edited"]


@pytest.mark.parametrize(
    ("start", "action", "role"),
    [
        ("submitted", "submit", "contributor"),
        ("draft", "withdraw", "contributor"),
        ("draft", "return", "editor"),
        ("published", "submit", "editor"),
        ("published", "return", "editor"),
        ("scheduled", "submit", "editor"),
    ],
)
def test_steps_out_of_order_are_conflicts(
    client: TestClient,
    make_blog: Any,
    accounts_by_role: dict[str, Account],
    start: str,
    action: str,
    role: str,
) -> None:
    make_blog("storm")
    editor = accounts_by_role["editor"]
    if start == "published":
        post = write(client, editor, "out already")
    elif start == "scheduled":
        post = write(client, editor, "later", publish_at=in_an_hour())
    else:
        post = write(client, accounts_by_role["contributor"], "mine", status=start)
    assert post["status"] == start
    body = {"comment": "why"} if action == "return" else {}
    response = act(client, accounts_by_role[role], post["id"], action, **body)
    assert response.status_code == 409, response.text
    after = client.get(f"{POSTS}/{post['id']}", headers=editor.headers)
    assert after.json()["status"] == start


def test_an_editor_schedules_a_submitted_post(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    post = write(client, contributor, "for tonight", status="submitted")
    scheduled = client.patch(
        f"{POSTS}/{post['id']}", json={"publish_at": in_an_hour()}, headers=editor.headers
    )
    assert scheduled.status_code == 200, scheduled.text
    assert (scheduled.json()["status"], scheduled.json()["submitted_at"]) == ("scheduled", None)
    assert client.get(QUEUE, headers=editor.headers).json()["count"] == 0
    assert [p["id"] for p in listed(client, editor, "scheduled")["posts"]] == [post["id"]]


def test_a_contributor_may_submit_into_a_closed_blog(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    """Waiting for review is not publishing: an editor decides after reopening."""
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    assert client.post("/api/v1/blogs/storm/close", headers=editor.headers).status_code == 200
    post = write(client, contributor, "a late addition", status="submitted")
    publish = client.patch(
        f"{POSTS}/{post['id']}", json={"status": "published"}, headers=editor.headers
    )
    assert publish.status_code == 409


# -- readers never see it -----------------------------------------------------------------


def test_submitted_posts_are_invisible_to_readers(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    version = head(client)
    post = write(client, contributor, "UNSEEN-1 waits for review", status="submitted")
    other = write(client, contributor, "UNSEEN-2 a draft")
    act(client, contributor, other["id"], "submit")
    act(client, editor, other["id"], "return", comment="UNSEEN-3 not yet")
    act(client, contributor, other["id"], "submit")
    client.patch(f"{POSTS}/{post['id']}", json={"body": "UNSEEN-4 edited"}, headers=editor.headers)

    # Nothing reached the log: no version moved, no event to poll for.
    assert head(client) == version
    changes = client.get(f"/api/v1/blogs/storm/changes?after={version - 1}").json()
    assert all(
        event["data"].get("id") not in (post["id"], other["id"]) for event in changes["events"]
    )
    assert changes["head"] == version
    for post_id in (post["id"], other["id"]):
        assert client.get(f"{POSTS}/{post_id}").status_code == 404
        assert client.get(f"/blogs/storm/posts/{post_id}").status_code == 404
        code = client.get(f"{POSTS}/{post_id}", headers=editor.headers).json()["short_code"]
        assert client.get(f"/p/{code}", follow_redirects=True).status_code == 404
    assert client.get(POSTS).json()["posts"] == []
    assert client.get(f"{POSTS}?status=submitted").status_code == 401
    page = client.get("/blogs/storm").text
    assert "UNSEEN" not in page

    # Published, it reaches readers like any post: one event, on the page.
    client.patch(f"{POSTS}/{post['id']}", json={"status": "published"}, headers=editor.headers)
    events = client.get(f"/api/v1/blogs/storm/changes?after={version}").json()["events"]
    assert [(e["event"], e["data"]["id"]) for e in events] == [("post", post["id"])]
    assert "UNSEEN-4 edited" in client.get("/blogs/storm").text
    assert "UNSEEN-2" not in client.get("/blogs/storm").text


def test_purge_takes_the_review_comment_along(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    contributor = accounts_by_role["contributor"]
    post = write(client, contributor, "names someone", status="submitted")
    act(client, editor, post["id"], "return", comment="You named the victim")
    purged = act(client, admin, post["id"], "purge", reason="Court order")
    assert purged.status_code == 200, purged.text
    assert purged.json()["review_comment"] == ""
    history = client.get(f"{POSTS}/{post['id']}/revisions", headers=admin.headers).json()
    assert "You named the victim" not in str(history)
