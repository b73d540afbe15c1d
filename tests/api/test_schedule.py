"""Scheduled posts: what the API accepts, what readers (do not) see, and the due check.

The due check (`domain.schedule.publish_due`) is called here with an explicit time, so
nothing waits for a clock; tests/live/test_schedule.py runs it for real in servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts, blogs, events, posts, schedule
from liveticker.domain.inputs import PostUpdate
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Post
from liveticker.web.app import create_app
from tests.conftest import Account, empty_tables

POSTS = "/api/v1/blogs/storm/posts"


@pytest.fixture
def settings(database: Database) -> Settings:
    # No background checks in these tests: they call the due check with a time of their own.
    return Settings(database_url=database.url, write_rate_per_minute=10_000, scheduler_seconds=0)


def ahead(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def schedule_post(
    client: TestClient, account: Account, at: datetime, body: str = "Later.", **fields: Any
) -> dict[str, Any]:
    response = client.post(
        POSTS, json={"body": body, "publish_at": iso(at), **fields}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def run_due_check(database: Database, at: datetime) -> list[int]:
    with database.transaction() as session:
        return [post.id for post in schedule.publish_due(session, now=at)]


def history(
    client: TestClient, editor: Account, post_id: int, slug: str = "storm"
) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/blogs/{slug}/posts/{post_id}/revisions", headers=editor.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def changes(client: TestClient, after: int) -> list[tuple[str, dict[str, Any]]]:
    body = client.get(f"/api/v1/blogs/storm/changes?after={after}").json()
    return [(event["event"], event["data"]) for event in body["events"]]


# -- what the API accepts --------------------------------------------------------------


def test_editor_schedules_a_post(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    at = ahead(60)
    post = schedule_post(client, editor, at, headline="Tonight")
    assert post["status"] == "scheduled"
    assert when(post["publish_at"]) == at
    assert post["published_at"] is None
    created = history(client, editor, post["id"])
    assert [(r["action"], r["changes"]["status"]) for r in created] == [("created", "scheduled")]
    # Any offset is accepted, and the time comes back in UTC.
    target = ahead(120).replace(microsecond=0)
    local = target.astimezone(timezone(timedelta(hours=2)))
    made = schedule_post(client, editor, local)
    assert made["publish_at"].endswith("Z")
    assert when(made["publish_at"]) == target


@pytest.mark.parametrize(
    ("publish_at", "extra"),
    [
        ("past", {}),
        ("naive", {}),
        ("too far", {}),
        ("not a time", {}),
        ("future", {"status": "draft"}),
        ("future", {"status": "published"}),
    ],
)
def test_publish_at_must_be_a_future_time_with_a_zone(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account, publish_at: str, extra: Any
) -> None:
    make_blog("storm")
    value = {
        "past": iso(ahead(-1)),
        "naive": ahead(60).replace(tzinfo=None).isoformat(),
        "too far": iso(ahead(60 * 24 * 400)),
        "not a time": "tomorrow at six",
        "future": iso(ahead(60)),
    }[publish_at]
    created = client.post(
        POSTS, json={"body": "x", "publish_at": value, **extra}, headers=editor.headers
    )
    assert created.status_code == 422, created.text
    assert created.json()["error"]["field"] == "publish_at"
    draft = make_post(body="a draft", status="draft")
    patched = client.patch(
        f"{POSTS}/{draft['id']}", json={"publish_at": value, **extra}, headers=editor.headers
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["error"]["field"] == "publish_at"
    listed = client.get(f"{POSTS}?status=scheduled", headers=editor.headers).json()["posts"]
    assert listed == []


def test_only_editors_schedule(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    contributor = accounts_by_role["contributor"]
    refused = client.post(
        POSTS, json={"body": "x", "publish_at": iso(ahead(60))}, headers=contributor.headers
    )
    assert refused.status_code == 403
    draft = client.post(POSTS, json={"body": "mine"}, headers=contributor.headers).json()
    assert draft["status"] == "draft"
    patched = client.patch(
        f"{POSTS}/{draft['id']}", json={"publish_at": iso(ahead(60))}, headers=contributor.headers
    )
    assert patched.status_code == 403
    assert client.get(f"{POSTS}/{draft['id']}", headers=contributor.headers).json()["status"] == (
        "draft"
    )
    # Null on a draft schedules nothing: there is nothing to refuse.
    same = client.patch(
        f"{POSTS}/{draft['id']}", json={"publish_at": None}, headers=contributor.headers
    )
    assert same.status_code == 200
    assert same.json()["status"] == "draft"


def test_a_published_post_or_a_closed_blog_cannot_be_scheduled(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    published = make_post(body="out already")
    refused = client.patch(
        f"{POSTS}/{published['id']}", json={"publish_at": iso(ahead(60))}, headers=editor.headers
    )
    assert refused.status_code == 409
    scheduled = schedule_post(client, editor, ahead(60))
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    closed = client.post(
        POSTS, json={"body": "x", "publish_at": iso(ahead(60))}, headers=editor.headers
    )
    assert closed.status_code == 409
    moved = client.patch(
        f"{POSTS}/{scheduled['id']}", json={"publish_at": iso(ahead(90))}, headers=editor.headers
    )
    assert moved.status_code == 409
    # Editing its text, or cancelling it, is still fine.
    edited = client.patch(
        f"{POSTS}/{scheduled['id']}", json={"body": "Later, reworded."}, headers=editor.headers
    )
    assert edited.status_code == 200
    assert edited.json()["status"] == "scheduled"
    cancelled = client.patch(
        f"{POSTS}/{scheduled['id']}", json={"publish_at": None}, headers=editor.headers
    )
    assert cancelled.json()["status"] == "draft"


# -- listing and visibility ------------------------------------------------------------


def test_staff_list_scheduled_posts_next_due_first(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor = accounts_by_role["editor"]
    contributor = accounts_by_role["contributor"]
    late = schedule_post(client, editor, ahead(90), body="late")
    soon = schedule_post(client, editor, ahead(30), body="soon")
    middle = schedule_post(client, editor, ahead(60), body="middle")
    make_post(body="published")
    make_post(body="a draft", status="draft")
    # An editor schedules a contributor's draft: it stays the contributor's post.
    theirs = client.post(POSTS, json={"body": "field report"}, headers=contributor.headers).json()
    client.patch(
        f"{POSTS}/{theirs['id']}", json={"publish_at": iso(ahead(120))}, headers=editor.headers
    )

    listed = client.get(f"{POSTS}?status=scheduled", headers=editor.headers).json()
    assert [p["id"] for p in listed["posts"]] == [
        soon["id"],
        middle["id"],
        late["id"],
        theirs["id"],
    ]
    assert listed["next_cursor"] is None
    first = client.get(f"{POSTS}?status=scheduled&limit=2", headers=editor.headers).json()
    assert [p["id"] for p in first["posts"]] == [soon["id"], middle["id"]]
    rest = client.get(
        f"{POSTS}?status=scheduled&limit=2&before={first['next_cursor']}", headers=editor.headers
    ).json()
    assert [p["id"] for p in rest["posts"]] == [late["id"], theirs["id"]]

    own = client.get(f"{POSTS}?status=scheduled", headers=contributor.headers).json()["posts"]
    assert [p["id"] for p in own] == [theirs["id"]]
    other = accounts_by_role["other"]
    assert client.get(f"{POSTS}?status=scheduled", headers=other.headers).json()["posts"] == []
    assert client.get(f"{POSTS}/{theirs['id']}", headers=contributor.headers).status_code == 200
    # Like drafts: a contributor sees their own scheduled posts, not the others'.
    assert client.get(f"{POSTS}/{soon['id']}", headers=contributor.headers).status_code == 404
    assert client.get(f"{POSTS}/{theirs['id']}", headers=other.headers).status_code == 404
    # Scheduled is neither published nor a draft, and a contributor cannot edit it any more.
    assert client.get(f"{POSTS}?status=scheduled").status_code == 401
    drafts = client.get(f"{POSTS}?status=draft", headers=editor.headers).json()["posts"]
    assert [p["body"] for p in drafts] == ["a draft"]
    assert [p["body"] for p in client.get(POSTS).json()["posts"]] == ["published"]
    edit = client.patch(f"{POSTS}/{theirs['id']}", json={"body": "x"}, headers=contributor.headers)
    assert edit.status_code == 403


def test_readers_cannot_see_a_scheduled_post(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    blog = make_blog("storm")
    post = schedule_post(client, editor, ahead(60), body="Embargoed until tonight.")
    assert client.get(f"{POSTS}/{post['id']}").status_code == 404
    assert client.get(f"/blogs/storm/posts/{post['id']}").status_code == 404
    page = client.get("/blogs/storm")
    assert page.status_code == 200
    assert "Embargoed" not in page.text
    assert client.get(f"/p/{post['short_code']}", follow_redirects=False).status_code == 404
    # Nothing in the log, and the blog's version (the page's ETag) did not move.
    assert client.get("/api/v1/blogs/storm").json()["version"] == blog["version"]
    assert changes(client, blog["version"]) == []


# -- cancel, reschedule, publish now -----------------------------------------------------


def test_cancel_makes_it_a_draft_that_is_never_published(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    at = ahead(10)
    post = schedule_post(client, editor, at)
    cancelled = client.patch(
        f"{POSTS}/{post['id']}", json={"publish_at": None}, headers=editor.headers
    ).json()
    assert cancelled["status"] == "draft"
    assert cancelled["publish_at"] is None
    assert run_due_check(database, at + timedelta(minutes=1)) == []
    assert client.get(f"{POSTS}/{post['id']}", headers=editor.headers).json()["status"] == "draft"
    assert [r["action"] for r in history(client, editor, post["id"])] == [
        "created",
        "unscheduled",
    ]
    # "status": "draft" cancels as well.
    again = schedule_post(client, editor, at)
    as_draft = client.patch(
        f"{POSTS}/{again['id']}", json={"status": "draft"}, headers=editor.headers
    ).json()
    assert (as_draft["status"], as_draft["publish_at"]) == ("draft", None)


def test_reschedule_moves_the_time(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    first, later = ahead(10), ahead(30)
    post = schedule_post(client, editor, first)
    moved = client.patch(
        f"{POSTS}/{post['id']}", json={"publish_at": iso(later)}, headers=editor.headers
    ).json()
    assert (moved["status"], when(moved["publish_at"])) == ("scheduled", later)
    assert run_due_check(database, first + timedelta(minutes=1)) == []
    assert run_due_check(database, later) == [post["id"]]
    actions = [r["action"] for r in history(client, editor, post["id"])]
    assert actions == ["created", "rescheduled", "published"]
    # A draft gets a time the same way.
    draft = client.post(POSTS, json={"body": "x", "status": "draft"}, headers=editor.headers)
    scheduled = client.patch(
        f"{POSTS}/{draft.json()['id']}", json={"publish_at": iso(later)}, headers=editor.headers
    ).json()
    assert scheduled["status"] == "scheduled"
    assert history(client, editor, scheduled["id"])[-1]["action"] == "scheduled"


def test_publish_now(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    blog = make_blog("storm")
    at = ahead(60)
    post = schedule_post(client, editor, at, body="Now rather than later.")
    now = client.patch(
        f"{POSTS}/{post['id']}", json={"status": "published"}, headers=editor.headers
    ).json()
    assert now["status"] == "published"
    assert now["publish_at"] is None
    published_at = when(now["published_at"])
    assert published_at is not None
    assert published_at < at
    assert [kind for kind, _ in changes(client, blog["version"])] == ["post"]
    assert client.get(f"{POSTS}/{post['id']}").status_code == 200
    assert run_due_check(database, at + timedelta(minutes=1)) == []
    assert [r["action"] for r in history(client, editor, post["id"])] == ["created", "published"]


# -- the due check ---------------------------------------------------------------------


def test_due_check_publishes_exactly_the_due_ones(
    client: TestClient, database: Database, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    pinned_before = make_post(body="pinned until the first scheduled post", pinned=True)
    start = client.get("/api/v1/blogs/storm").json()["version"]
    first = schedule_post(client, editor, ahead(10), body="First scheduled.", pinned=True)
    second = schedule_post(client, editor, ahead(20), body="Second scheduled.")
    third = schedule_post(client, editor, ahead(30), body="Third scheduled.")
    assert "First scheduled." not in client.get("/blogs/storm").text
    assert client.get("/api/v1/blogs/storm").json()["version"] == start

    at = ahead(25)
    assert run_due_check(database, at) == [first["id"], second["id"]]
    assert run_due_check(database, at) == []  # once, however often the check runs

    shown = changes(client, start)
    # The pin moves (the old pinned post is replaced in place), then the two posts in order.
    assert [(kind, data["id"]) for kind, data in shown] == [
        ("post", pinned_before["id"]),
        ("post", first["id"]),
        ("post", second["id"]),
    ]
    assert f'id="post-{first["id"]}"' in shown[1][1]["html"]
    for post in (first, second):
        got = client.get(f"{POSTS}/{post['id']}").json()
        assert got["status"] == "published"
        assert got["publish_at"] is None
        assert when(got["published_at"]) == at
        revisions = history(client, editor, post["id"])
        assert [(r["action"], r["user"]) for r in revisions] == [
            ("created", "editor"),
            ("published", "editor"),
        ]
        assert revisions[-1]["changes"]["status"] == ["scheduled", "published"]
    assert client.get(f"{POSTS}/{first['id']}").json()["pinned"] is True
    assert client.get(f"{POSTS}/{pinned_before['id']}").json()["pinned"] is False
    assert client.get(f"{POSTS}/{third['id']}", headers=editor.headers).json()["status"] == (
        "scheduled"
    )
    page = client.get("/blogs/storm").text
    assert "First scheduled." in page
    assert "Second scheduled." in page
    assert "Third scheduled." not in page
    assert run_due_check(database, ahead(31)) == [third["id"]]


def test_published_in_the_name_of_who_scheduled_it(
    client: TestClient, database: Database, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, contributor = accounts_by_role["editor"], accounts_by_role["contributor"]
    draft = client.post(POSTS, json={"body": "from the field"}, headers=contributor.headers).json()
    at = ahead(10)
    client.patch(f"{POSTS}/{draft['id']}", json={"publish_at": iso(at)}, headers=editor.headers)
    assert run_due_check(database, at) == [draft["id"]]
    published = client.get(f"{POSTS}/{draft['id']}").json()
    assert published["author"]["username"] == "contributor"
    assert [(r["action"], r["user"]) for r in history(client, editor, draft["id"])] == [
        ("created", "contributor"),
        ("scheduled", "editor"),
        ("published", "editor"),
    ]


def test_a_post_cancelled_just_before_its_time_is_not_published(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    blog = make_blog("storm")
    at = ahead(0.05)  # three seconds from now
    post = schedule_post(client, editor, at)
    client.patch(f"{POSTS}/{post['id']}", json={"publish_at": None}, headers=editor.headers)
    assert run_due_check(database, at + timedelta(seconds=1)) == []
    assert client.get(f"{POSTS}/{post['id']}").status_code == 404
    assert changes(client, blog["version"]) == []


def test_closed_blog_at_the_time_turns_the_post_into_a_draft(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    at = ahead(10)
    post = schedule_post(client, editor, at)
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    closed_at = client.get("/api/v1/blogs/storm").json()["version"]
    assert run_due_check(database, at) == [post["id"]]
    got = client.get(f"{POSTS}/{post['id']}", headers=editor.headers).json()
    assert (got["status"], got["publish_at"], got["published_at"]) == ("draft", None, None)
    last = history(client, editor, post["id"])[-1]
    assert last["action"] == "unscheduled"
    assert last["changes"]["status"] == ["scheduled", "draft"]
    assert "closed" in last["changes"]["reason"]
    assert changes(client, closed_at) == []
    # Reopening does not bring it out by surprise; the desk finds it among the drafts.
    client.post("/api/v1/blogs/storm/reopen", headers=editor.headers)
    assert run_due_check(database, ahead(60)) == []
    drafts = client.get(f"{POSTS}?status=draft", headers=editor.headers).json()["posts"]
    assert [p["id"] for p in drafts] == [post["id"]]


def test_a_draft_blog_takes_its_scheduled_posts_like_its_other_posts(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    make_blog("storm", live=False)
    at = ahead(10)
    post = schedule_post(client, editor, at)
    assert run_due_check(database, at) == [post["id"]]
    assert client.get(f"{POSTS}/{post['id']}", headers=editor.headers).json()["status"] == (
        "published"
    )
    published = client.post("/api/v1/blogs/storm/publish", headers=editor.headers).json()
    assert published["status"] == "live"
    assert client.get(f"{POSTS}/{post['id']}").status_code == 200


def test_concurrent_checks_publish_each_post_once(
    client: TestClient, database: Database, make_blog: Any, editor: Account
) -> None:
    make_blog("storm")
    make_blog("rain")
    ids = {
        schedule_post(client, editor, ahead(10), body=f"storm {n}")["id"]: "storm" for n in range(4)
    }
    for n in range(3):
        response = client.post(
            "/api/v1/blogs/rain/posts",
            json={"body": f"rain {n}", "publish_at": iso(ahead(10))},
            headers=editor.headers,
        )
        ids[response.json()["id"]] = "rain"
    at = ahead(11)
    barrier = threading.Barrier(6)
    results: list[list[int]] = []
    failures: list[BaseException] = []

    def check() -> None:
        try:
            barrier.wait(5)
            results.append(run_due_check(database, at))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=check) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    published = [post_id for result in results for post_id in result]
    assert sorted(published) == sorted(ids)
    for post_id, slug in ids.items():
        actions = [r["action"] for r in history(client, editor, post_id, slug)]
        assert actions.count("published") == 1
    for slug, count in (("storm", 4), ("rain", 3)):
        version = client.get(f"/api/v1/blogs/{slug}").json()["version"]
        events_ = client.get(f"/api/v1/blogs/{slug}/changes?after={version - count}").json()
        assert [e["event"] for e in events_["events"]] == ["post"] * count


# -- races with a cancel, on PostgreSQL (SQLite's writers never overlap) ------------------


@pytest.fixture
def postgres_only(request: pytest.FixtureRequest) -> Iterator[Database]:
    """PostgreSQL alone: only there do two write transactions overlap (SQLite serializes
    them), so these races exist only there."""
    database: Database = request.getfixturevalue("_postgresql_database")
    empty_tables(database)
    yield database
    empty_tables(database)


def _scheduled_post(database: Database, at: datetime) -> tuple[int, accounts.Actor]:
    from liveticker.domain.inputs import BlogCreate, PostCreate

    with database.transaction() as session:
        user = accounts.create_user(
            session, username="desk", password="correct horse battery", role="editor"
        )
        actor = accounts.Actor.of(user)
        blog = blogs.create_blog(
            session, actor=actor, data=BlogCreate(slug="storm", title="S"), default_language="en"
        )
        blogs.publish_blog(session, actor=actor, blog=blog)
        post = posts.create_post(
            session,
            actor=actor,
            blog=blog,
            data=PostCreate.model_validate({"body": "x", "publish_at": at}),
        )
        return post.id, actor


@pytest.mark.postgres
def test_cancel_that_commits_first_wins(postgres_only: Database) -> None:
    database = postgres_only
    at = ahead(10)
    post_id, actor = _scheduled_post(database, at)
    checked: list[list[int]] = []
    with database.transaction() as session:
        post = session.get_one(Post, post_id)
        posts.update_post(session, actor=actor, post=post, data=PostUpdate(publish_at=None))
        # The check starts while the cancel holds the blog: it waits, then finds nothing.
        thread = threading.Thread(target=lambda: checked.append(run_due_check(database, at)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()
    thread.join(10)
    assert checked == [[]]
    with database.transaction(write=False) as session:
        assert session.get_one(Post, post_id).status == "draft"


@pytest.mark.postgres
def test_cancel_that_comes_too_late_changes_nothing(postgres_only: Database) -> None:
    database = postgres_only
    at = ahead(10)
    post_id, actor = _scheduled_post(database, at)
    with database.transaction() as session:
        stale = session.get_one(Post, post_id)  # read before the check publishes it
        assert stale.status == "scheduled"
        assert run_due_check(database, at) == [post_id]
        kept = posts.update_post(session, actor=actor, post=stale, data=PostUpdate(publish_at=None))
        assert kept.status == "published"  # not turned back into a draft from a stale copy
    with database.transaction(write=False) as session:
        post = session.get_one(Post, post_id)
        assert post.status == "published"
        assert post.publish_at is None
        head = session.get_one(type(post.blog), post.blog_id).version
        assert events.after(session, blog_id=post.blog_id, seq=head - 1, limit=5)[0].kind == "post"


# -- the server runs the check by itself --------------------------------------------------


@pytest.fixture
def checking_client(database: Database) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database.url, write_rate_per_minute=10_000, scheduler_seconds=0.1
    )
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


def test_the_app_publishes_at_the_time(checking_client: TestClient, editor: Account) -> None:
    client = checking_client
    client.post("/api/v1/blogs", json={"slug": "storm", "title": "Storm"}, headers=editor.headers)
    client.post("/api/v1/blogs/storm/publish", headers=editor.headers)
    at = datetime.now(UTC) + timedelta(seconds=1)
    post = schedule_post(client, editor, at)
    deadline = time.monotonic() + 10
    while client.get(f"{POSTS}/{post['id']}").status_code != 200:
        assert time.monotonic() < deadline, "not published within 10 s"
        time.sleep(0.05)
    published = when(client.get(f"{POSTS}/{post['id']}").json()["published_at"])
    assert published is not None
    assert at <= published < at + timedelta(seconds=3)
