"""A post's history: readable diffs of each revision, and restoring an earlier one."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.domain import accounts
from liveticker.domain.history import word_diff
from liveticker.storage.database import Database
from liveticker.storage.models import Revision
from tests.conftest import Account

POSTS = "/api/v1/blogs/storm/posts"
IMAGE = {"url": "/flood.jpg", "alt": "The flooded square", "caption": "", "credit": "AP"}
SOCIAL = {
    "url": "https://social.example/@mayor/1",
    "author_name": "The Mayor",
    "handle": "@mayor",
    "text": "Stay home tonight.",
}
SOCIAL_STORED = {**SOCIAL, "handle": "mayor", "posted_at": None}


@pytest.fixture
def outsider(database: Database) -> Account:
    """An editor on no team."""
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="outsider", password="correct horse battery", role="editor"
        )
        return Account("outsider", "editor", accounts.create_token(session, user=user))


def patch(client: TestClient, account: Account, post_id: int, **fields: Any) -> dict[str, Any]:
    response = client.patch(f"{POSTS}/{post_id}", json=fields, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(
    client: TestClient, account: Account, post_id: int, slug: str = "storm"
) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/blogs/{slug}/posts/{post_id}/history", headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def restore(client: TestClient, account: Account | None, post_id: int, revision_id: int) -> Any:
    return client.post(
        f"{POSTS}/{post_id}/revisions/{revision_id}/restore",
        headers=account.headers if account else {},
    )


def spelled(segments: list[list[str]], skip: str) -> str:
    return "".join(text for op, text in segments if op != skip)


def content(post: dict[str, Any]) -> tuple[Any, ...]:
    return post["headline"], post["body"], images(post["images"]), post["social"]


def images(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields this test sends (the API adds a size and a srcset, empty here)."""
    return [{key: image[key] for key in IMAGE} for image in values]


# -- diffs ---------------------------------------------------------------------------------


def test_an_edit_of_a_few_words_reads_word_by_word(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="The river rose two metres overnight in the town centre.")
    patch(
        client,
        editor,
        post["id"],
        body="The river rose three metres overnight near the town centre.",
        headline="River rising",
        pinned=True,
    )
    created, edited = history(client, editor, post["id"])

    assert (created["action"], created["user"], created["note"]) == ("created", "editor", "")
    first = {change["field"]: change for change in created["changes"]}
    assert first["body"]["old"] is None
    assert first["body"]["words"] == [
        ["insert", "The river rose two metres overnight in the town centre."]
    ]
    assert first["status"] == {"field": "status", "old": None, "new": "published", "words": None}
    assert "pinned" not in first  # a first revision leaves out what is empty or off

    assert (edited["action"], edited["user"]) == ("edited", "editor")
    assert edited["created_at"] >= created["created_at"]
    changes = {change["field"]: change for change in edited["changes"]}
    assert set(changes) == {"body", "headline", "pinned"}
    assert changes["body"]["words"] == [
        ["equal", "The river rose "],
        ["delete", "two"],
        ["insert", "three"],
        ["equal", " metres overnight "],
        ["delete", "in"],
        ["insert", "near"],
        ["equal", " the town centre."],
    ]
    assert changes["headline"]["words"] == [["insert", "River rising"]]
    assert changes["headline"]["old"] is None
    assert changes["pinned"] == {"field": "pinned", "old": False, "new": True, "words": None}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("the quick brown fox", "the slow red fox", None),
        (
            "Water is rising.",
            "Water is rising fast.",
            [("equal", "Water is rising"), ("insert", " fast"), ("equal", ".")],
        ),
        ("One.\n\nTwo three four.\n\nFive.", "One.\n\nTwo 3 four.\n\nFive.\n\nSix.", None),
        ("", "new text", [("insert", "new text")]),
        ("old text", "", [("delete", "old text")]),
        ("unchanged", "unchanged", [("equal", "unchanged")]),
        ("Ünïcode — dashes, «quotes»", "Ünïcode – dashes, «quotes»!", None),
    ],
)
def test_word_diff_spells_both_texts(old: str, new: str, expected: Any) -> None:
    segments = word_diff(old, new)
    assert "".join(text for op, text in segments if op != "insert") == old
    assert "".join(text for op, text in segments if op != "delete") == new
    assert all(text for _, text in segments)
    assert all(a[0] != b[0] for a, b in pairwise(segments))
    if expected is not None:
        assert segments == expected
    if old == "the quick brown fox":  # a lone space between changes joins them
        assert segments == [
            ("equal", "the "),
            ("delete", "quick brown"),
            ("insert", "slow red"),
            ("equal", " fox"),
        ]


def test_a_long_body_diffs_quickly() -> None:
    old = " ".join(f"word{i % 700} said the police." for i in range(700))
    new = old.replace("word5 ", "WORD5 ")
    started = time.perf_counter()
    segments = word_diff(old, new)
    assert time.perf_counter() - started < 1
    assert [text for op, text in segments if op == "insert"] == ["WORD5"]


def test_a_purged_posts_history_stays_erased(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    post = make_post(body="SECRET names the victim", headline="SECRET")
    patch(client, editor, post["id"], body="SECRET still names them")
    purged = client.post(
        f"{POSTS}/{post['id']}/purge", json={"reason": "Court order 17/2026"}, headers=admin.headers
    )
    assert purged.status_code == 200
    entries = history(client, admin, post["id"])
    assert [(e["action"], e["changes"]) for e in entries] == [
        ("created", []),
        ("edited", []),
        ("purged", []),
    ]
    assert entries[-1]["note"] == "Court order 17/2026"
    assert "SECRET" not in str(entries)
    assert client.get(f"{POSTS}/{post['id']}/history").status_code == 410


@pytest.mark.parametrize(
    ("role", "on", "expected"),
    [
        ("anonymous", "published", 401),
        ("anonymous", "draft", 404),
        ("contributor", "draft", 200),
        ("contributor", "published", 403),
        ("other", "draft", 404),
        ("editor", "draft", 200),
        ("outsider", "draft", 403),
        ("admin", "published", 200),
    ],
)
def test_who_reads_the_history(
    client: TestClient,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
    outsider: Account,
    role: str,
    on: str,
    expected: int,
) -> None:
    make_blog("storm")
    published = make_post(body="out")
    draft = client.post(
        POSTS, json={"body": "mine"}, headers=accounts_by_role["contributor"].headers
    ).json()
    post_id = published["id"] if on == "published" else draft["id"]
    account = {**accounts_by_role, "outsider": outsider}.get(role)
    headers = account.headers if account else {}
    response = client.get(f"{POSTS}/{post_id}/history", headers=headers)
    assert response.status_code == expected, response.text


# -- restore -------------------------------------------------------------------------------


def test_restore_brings_back_the_content_of_that_revision(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="First version.", headline="One", social=SOCIAL)
    patch(client, editor, post["id"], body="Second version.", headline="Two", images=[IMAGE])
    patch(client, editor, post["id"], body="Third version.", social=None, pinned=True)
    patch(client, editor, post["id"], headline=None, key_event=True)
    created, second, third, fourth = history(client, editor, post["id"])

    restored = restore(client, editor, post["id"], second["id"])
    assert restored.status_code == 200, restored.text
    assert content(restored.json()) == ("Two", "Second version.", [IMAGE], SOCIAL_STORED)
    # Only content comes back: the pin and the key-event flag set later stay.
    assert (restored.json()["pinned"], restored.json()["key_event"]) == (True, True)
    assert restored.json()["body_html"] == "<p>Second version.</p>\n"
    entry = history(client, editor, post["id"])[-1]
    assert (entry["action"], entry["user"]) == ("restored", "editor")
    assert entry["note"] == f"restored revision {second['id']}"
    changes = {change["field"]: change for change in entry["changes"]}
    assert set(changes) == {"headline", "body", "social"}  # the image was there all along
    assert (changes["body"]["old"], changes["body"]["new"]) == ("Third version.", "Second version.")
    assert changes["body"]["words"] == [
        ["delete", "Third"],
        ["insert", "Second"],
        ["equal", " version."],
    ]
    assert (changes["headline"]["old"], changes["headline"]["new"]) == (None, "Two")
    assert (changes["social"]["old"], changes["social"]["new"]) == (None, SOCIAL_STORED)

    # The first revision: its quoted post comes back as stored (the handle without "@").
    first = restore(client, editor, post["id"], created["id"]).json()
    assert content(first) == ("One", "First version.", [], SOCIAL_STORED)
    # Restoring what the post already shows changes nothing and records nothing.
    count = len(history(client, editor, post["id"]))
    again = restore(client, editor, post["id"], created["id"])
    assert again.status_code == 200
    assert len(history(client, editor, post["id"])) == count
    # Later revisions replay on top: the quoted post removed, then the headline.
    assert content(restore(client, editor, post["id"], third["id"]).json()) == (
        "Two",
        "Third version.",
        [IMAGE],
        None,
    )
    assert content(restore(client, editor, post["id"], fourth["id"]).json()) == (
        None,
        "Third version.",
        [IMAGE],
        None,
    )
    # A restore is a revision like any other: it can itself be restored from.
    restored_second = history(client, editor, post["id"])[-4]
    assert restored_second["note"] == f"restored revision {second['id']}"
    back = restore(client, editor, post["id"], restored_second["id"]).json()
    assert content(back) == ("Two", "Second version.", [IMAGE], SOCIAL_STORED)


def test_restoring_a_published_post_reaches_readers_live(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="The bridge is **open**.")
    patch(client, editor, post["id"], body="The bridge is closed.")
    created, _ = history(client, editor, post["id"])
    version = client.get("/api/v1/blogs/storm").json()["version"]

    assert restore(client, editor, post["id"], created["id"]).status_code == 200
    changes = client.get(f"/api/v1/blogs/storm/changes?after={version}").json()
    assert changes["head"] == version + 1
    [event] = changes["events"]
    assert (event["event"], event["data"]["id"]) == ("post", post["id"])
    assert "The bridge is <strong>open</strong>." in event["data"]["body_html"]
    assert client.get(f"{POSTS}/{post['id']}").json()["body"] == "The bridge is **open**."
    assert "The bridge is <strong>open</strong>." in client.get("/blogs/storm").text


def test_restoring_a_draft_tells_readers_nothing(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    contributor = accounts_by_role["contributor"]
    draft = client.post(POSTS, json={"body": "HIDDEN one"}, headers=contributor.headers).json()
    patch(client, contributor, draft["id"], body="HIDDEN two")
    created, _ = history(client, contributor, draft["id"])
    version = client.get("/api/v1/blogs/storm").json()["version"]
    restored = restore(client, contributor, draft["id"], created["id"])
    assert restored.status_code == 200, restored.text
    assert restored.json()["body"] == "HIDDEN one"
    assert client.get("/api/v1/blogs/storm").json()["version"] == version
    assert "HIDDEN" not in client.get("/blogs/storm").text


ROLES = ["anonymous", "contributor", "other", "editor", "outsider", "admin"]
RESTORE_CASES = {
    # (the post, expected status per role)
    "draft": {"anonymous": 404, "contributor": 200, "other": 404}
    | {"editor": 200, "outsider": 403, "admin": 200},
    "submitted": {"anonymous": 404, "contributor": 403, "other": 404}
    | {"editor": 200, "outsider": 403, "admin": 200},
    "published": {"anonymous": 401, "contributor": 403, "other": 403}
    | {"editor": 200, "outsider": 403, "admin": 200},
}


@pytest.mark.parametrize(("on", "role"), [(on, role) for on in RESTORE_CASES for role in ROLES])
def test_who_may_restore(
    client: TestClient,
    make_blog: Any,
    accounts_by_role: dict[str, Account],
    outsider: Account,
    on: str,
    role: str,
) -> None:
    make_blog("storm")
    everyone = {**accounts_by_role, "outsider": outsider}
    author = everyone["editor" if on == "published" else "contributor"]
    post = client.post(POSTS, json={"body": "Before."}, headers=author.headers).json()
    patch(client, author, post["id"], body="After.")
    if on == "submitted":
        assert client.post(f"{POSTS}/{post['id']}/submit", headers=author.headers).is_success
    first = history(client, everyone["editor"], post["id"])[0]
    response = restore(client, everyone.get(role), post["id"], first["id"])
    assert response.status_code == RESTORE_CASES[on][role], response.text
    body = client.get(f"{POSTS}/{post['id']}", headers=everyone["editor"].headers).json()["body"]
    assert body == ("Before." if response.status_code == 200 else "After.")


def test_restore_refuses_other_posts_revisions_and_removed_posts(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_blog("storm")
    make_blog("flood")
    editor, admin = accounts_by_role["editor"], accounts_by_role["admin"]
    post = make_post(body="Mine.")
    patch(client, editor, post["id"], body="Mine, edited.")
    other = make_post(body="Another post.")
    elsewhere = make_post("flood", body="In another blog.")
    mine = history(client, editor, post["id"])[0]["id"]
    for revision_id in (
        history(client, editor, other["id"])[0]["id"],
        history(client, editor, elsewhere["id"], "flood")[0]["id"],
        mine + 10_000,
        0,
        2**63 - 1,
    ):
        response = restore(client, editor, post["id"], revision_id)
        assert response.status_code == 404, (revision_id, response.text)
    # A blog's own revisions (its creation, going live) are no post's.
    with database.transaction() as session:
        blog_revision = session.scalars(
            select(Revision.id).where(Revision.post_id.is_(None)).limit(1)
        ).one()
    assert restore(client, editor, post["id"], blog_revision).status_code == 404
    wrong_blog = client.post(
        f"/api/v1/blogs/flood/posts/{post['id']}/revisions/{mine}/restore", headers=editor.headers
    )
    assert wrong_blog.status_code == 404
    assert client.get(f"{POSTS}/{post['id']}").json()["body"] == "Mine, edited."

    deleted = client.delete(f"{POSTS}/{post['id']}", headers=editor.headers)
    assert deleted.status_code == 200
    assert restore(client, editor, post["id"], mine).status_code == 409
    client.post(f"{POSTS}/{other['id']}/purge", json={"reason": "Order"}, headers=admin.headers)
    other_first = history(client, admin, other["id"])[0]["id"]
    assert restore(client, admin, other["id"], other_first).status_code == 409
    assert restore(client, editor, other["id"], other_first).status_code == 409
    assert client.get(f"{POSTS}/{post['id']}", headers=editor.headers).json()["status"] == (
        "deleted"
    )
