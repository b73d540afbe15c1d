"""A blog's desk: the forms run a blog end to end, keep what was typed when refused, and
answer every role exactly as the JSON API does (the same domain rules)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts
from liveticker.storage.database import Database
from tests.conftest import Account
from tests.web.htmltree import parse

PASSWORD = "correct horse battery"


def sign_in(client: TestClient, username: str) -> str:
    """Sign in and return the session's CSRF token."""
    client.cookies.clear()
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk/account").text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def outsider(database: Database) -> Account:
    with database.transaction() as session:
        user = accounts.create_user(session, username="outsider", password=PASSWORD, role="editor")
        return Account("outsider", "editor", accounts.create_token(session, user=user))


def test_an_editor_runs_a_blog_from_the_desk(
    client: TestClient, accounts_by_role: dict[str, Account]
) -> None:
    csrf = sign_in(client, "editor")
    made = client.post(
        "/desk/blogs",
        data={"csrf": csrf, "title": "Storm Idris", "slug": "idris"},
        follow_redirects=False,
    )
    assert made.headers["location"] == "/desk/blogs/idris?done=blog-created"
    assert client.get("/blogs/idris").status_code == 404  # a draft until published
    client.post("/desk/blogs/idris/publish", data={"csrf": csrf})
    posted = client.post(
        "/desk/blogs/idris/posts",
        data={
            "csrf": csrf,
            "headline": "Levels",
            "body": "The river is **rising**.",
            "image_url": "/static/demo/flood.svg",
            "image_alt": "A flooded street",
            "key_event": "on",
            "action": "publish",
        },
        follow_redirects=False,
    )
    assert posted.headers["location"] == "/desk/blogs/idris?done=published#composer"
    reader = client.get("/blogs/idris").text
    assert "<strong>rising</strong>" in reader
    assert 'alt="A flooded street"' in reader
    post_id = re.search(r'id="desk-post-(\d+)"', client.get("/desk/blogs/idris").text)
    assert post_id is not None
    pid = post_id.group(1)
    client.post(f"/desk/blogs/idris/posts/{pid}/pin", data={"csrf": csrf})
    api_post = client.get(f"/api/v1/blogs/idris/posts/{pid}").json()
    assert api_post["pinned"] is True
    assert api_post["key_event"] is True
    client.post(
        f"/desk/blogs/idris/posts/{pid}",
        data={"csrf": csrf, "headline": "Levels falling", "body": "Now **falling**."},
    )
    assert "<strong>falling</strong>" in client.get("/blogs/idris").text
    client.post("/desk/blogs/idris/key-points", data={"csrf": csrf, "items": "Roads closed\n\n"})
    client.post(
        "/desk/blogs/idris/settings",
        data={
            "csrf": csrf,
            "title": "Storm Idris, day 2",
            "standfirst": "Floods recede.",
            "labels": "Weather, Elde valley",
        },
    )
    blog = client.get("/api/v1/blogs/idris").json()
    assert blog["key_points"] == ["Roads closed"]
    assert blog["title"] == "Storm Idris, day 2"
    assert blog["labels"] == ["Weather", "Elde valley"]
    client.post(f"/desk/blogs/idris/posts/{pid}/delete", data={"csrf": csrf, "reason": "wrong"})
    assert "falling" not in client.get("/blogs/idris").text
    client.post("/desk/blogs/idris/close", data={"csrf": csrf, "message": "We are done."})
    assert "We are done." in client.get("/blogs/idris").text
    client.post("/desk/blogs/idris/reopen", data={"csrf": csrf})
    assert client.get("/api/v1/blogs/idris").json()["status"] == "live"
    home = client.get("/desk").text
    assert "Storm Idris, day 2" in home


def test_a_refused_post_keeps_what_was_typed(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    csrf = sign_in(client, "editor")
    refused = client.post(
        "/desk/blogs/storm/posts",
        data={
            "csrf": csrf,
            "headline": "Kept headline",
            "body": "Kept <b>body</b>",
            "image_url": "https://example.org/a.jpg",
            "action": "publish",
        },
    )
    assert refused.status_code == 422
    assert 'value="Kept headline"' in refused.text
    assert "Kept &lt;b&gt;body&lt;/b&gt;</textarea>" in refused.text
    assert re.search(r'id="f-image_alt" name="image_alt"[^>]*aria-invalid="true"', refused.text)
    assert client.get("/api/v1/blogs/storm/posts").json()["posts"] == []
    scheduled = client.post(
        "/desk/blogs/storm/posts",
        data={"csrf": csrf, "body": "Later", "publish_at": "yesterday", "action": "schedule"},
    )
    assert scheduled.status_code == 422
    assert "f-publish_at-error" in scheduled.text


def test_contributors_draft_and_editors_publish(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    csrf = sign_in(client, "contributor")
    desk = client.get("/desk/blogs/storm").text
    assert "Publish now" not in desk
    assert "Blog settings" not in desk
    saved = client.post(
        "/desk/blogs/storm/posts",
        data={"csrf": csrf, "body": "From the field", "action": "draft"},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/desk/blogs/storm?done=draft#composer"
    assert client.get("/api/v1/blogs/storm/posts").json()["posts"] == []
    draft = re.search(r'id="desk-post-(\d+)"', client.get("/desk/blogs/storm").text)
    assert draft is not None
    refused = client.post(f"/desk/blogs/storm/posts/{draft.group(1)}/publish", data={"csrf": csrf})
    assert refused.status_code == 403
    csrf = sign_in(client, "editor")
    client.post(f"/desk/blogs/storm/posts/{draft.group(1)}/publish", data={"csrf": csrf})
    assert len(client.get("/api/v1/blogs/storm/posts").json()["posts"]) == 1


def _status(response: Any) -> int:
    """Success as one number, whatever its form (a form's redirect, the API's 200/201/204)."""
    return 200 if response.status_code in (200, 201, 204, 303) else response.status_code


ACTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    # action: (through the API, through the desk); each gets (client, auth, slug, post_id)
    "publish a post": (
        lambda c, a, s, p: c.post(
            f"/api/v1/blogs/{s}/posts", json={"body": "x", "status": "published"}, headers=a
        ),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/posts",
            data={"csrf": a, "body": "x", "action": "publish"},
            follow_redirects=False,
        ),
    ),
    "save a draft": (
        lambda c, a, s, p: c.post(
            f"/api/v1/blogs/{s}/posts", json={"body": "x", "status": "draft"}, headers=a
        ),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/posts",
            data={"csrf": a, "body": "x", "action": "draft"},
            follow_redirects=False,
        ),
    ),
    "pin": (
        lambda c, a, s, p: c.patch(
            f"/api/v1/blogs/{s}/posts/{p}", json={"pinned": True}, headers=a
        ),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/posts/{p}/pin", data={"csrf": a}, follow_redirects=False
        ),
    ),
    "delete": (
        lambda c, a, s, p: c.delete(f"/api/v1/blogs/{s}/posts/{p}", headers=a),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/posts/{p}/delete", data={"csrf": a}, follow_redirects=False
        ),
    ),
    "key points": (
        lambda c, a, s, p: c.put(f"/api/v1/blogs/{s}/key-points", json={"items": ["k"]}, headers=a),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/key-points", data={"csrf": a, "items": "k"}, follow_redirects=False
        ),
    ),
    "retitle": (
        lambda c, a, s, p: c.patch(f"/api/v1/blogs/{s}", json={"title": "T"}, headers=a),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/settings", data={"csrf": a, "title": "T"}, follow_redirects=False
        ),
    ),
    "close": (
        lambda c, a, s, p: c.post(f"/api/v1/blogs/{s}/close", headers=a),
        lambda c, a, s, p: c.post(
            f"/desk/blogs/{s}/close", data={"csrf": a}, follow_redirects=False
        ),
    ),
}


def test_the_desk_and_the_api_answer_every_role_alike(
    client: TestClient,
    make_blog: Any,
    make_post: Any,
    outsider: Account,
    accounts_by_role: dict[str, Account],
) -> None:
    people = {**accounts_by_role, "outsider": outsider}
    answers: dict[tuple[str, str], tuple[int, int]] = {}
    for n, (action, (by_api, by_desk)) in enumerate(ACTIONS.items()):
        for role, account in people.items():
            results = []
            for way in ("api", "desk"):
                slug = f"b{n}-{role}-{way}"
                make_blog(slug)
                post = make_post(slug, body="a post")
                client.cookies.clear()
                if way == "api":
                    response = by_api(client, account.headers, slug, post["id"])
                else:
                    csrf = sign_in(client, account.username)
                    response = by_desk(client, csrf, slug, post["id"])
                results.append(_status(response))
            answers[(action, role)] = (results[0], results[1])
    different = {key: value for key, value in answers.items() if value[0] != value[1]}
    assert different == {}
    # And the matrix is the one the rules say.
    assert answers[("pin", "contributor")] == (403, 403)
    assert answers[("publish a post", "outsider")] == (403, 403)
    assert answers[("close", "editor")] == (200, 200)
    assert answers[("save a draft", "contributor")] == (200, 200)
    assert answers[("key points", "admin")] == (200, 200)


def test_other_teams_blogs_stay_closed(
    client: TestClient, make_blog: Any, outsider: Account
) -> None:
    make_blog("storm")
    make_blog("plans", live=False)
    csrf = sign_in(client, "outsider")
    assert client.get("/desk/blogs/storm").status_code == 403
    assert client.get("/desk/blogs/plans").status_code == 404
    refused = client.post("/desk/blogs/storm/posts", data={"csrf": csrf, "body": "x"})
    assert refused.status_code == 403


def test_review_queue_from_submission_to_publication(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    csrf = sign_in(client, "contributor")
    client.post(
        "/desk/blogs/storm/posts",
        data={
            "csrf": csrf,
            "headline": "From the dam",
            "body": "Water over the top.",
            "action": "submit",
        },
    )
    assert client.get("/api/v1/blogs/storm/posts").json()["posts"] == []  # not yet out
    csrf = sign_in(client, "editor")
    desk = client.get("/desk/blogs/storm").text
    assert 'id="queue-title">Review queue <span class="badge" aria-label="1 post">1<' in desk
    post_id = re.search(r'class="desk-list queue">\s*<li id="desk-post-(\d+)"', desk)
    assert post_id is not None
    pid = post_id.group(1)
    returned = client.post(
        f"/desk/blogs/storm/posts/{pid}/return",
        data={"csrf": csrf, "comment": "Which dam? Name it."},
        follow_redirects=False,
    )
    assert returned.headers["location"].endswith("?done=return#desk-post-" + pid)
    csrf = sign_in(client, "contributor")
    assert "Returned by the editor: Which dam? Name it." in client.get("/desk/blogs/storm").text
    client.post(
        f"/desk/blogs/storm/posts/{pid}",
        data={"csrf": csrf, "headline": "From the Elde dam", "body": "Water over the top."},
    )
    client.post(f"/desk/blogs/storm/posts/{pid}/submit", data={"csrf": csrf})
    csrf = sign_in(client, "editor")
    client.post(f"/desk/blogs/storm/posts/{pid}/publish", data={"csrf": csrf})
    assert "From the Elde dam" in client.get("/blogs/storm").text


def test_history_shows_each_change_and_restores_an_earlier_version(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    csrf = sign_in(client, "editor")
    client.post(
        "/desk/blogs/storm/posts",
        data={"csrf": csrf, "body": "The river is at four metres.", "action": "publish"},
    )
    pid = re.search(r'id="desk-post-(\d+)"', client.get("/desk/blogs/storm").text)
    assert pid is not None
    client.post(
        f"/desk/blogs/storm/posts/{pid.group(1)}",
        data={"csrf": csrf, "body": "The river is at five metres."},
    )
    page = client.get(f"/desk/blogs/storm/posts/{pid.group(1)}").text
    assert "<del>four</del><ins>five</ins>" in page
    first = re.findall(r"/revisions/(\d+)/restore", page)
    assert first  # every revision but the newest offers a restore
    client.post(
        f"/desk/blogs/storm/posts/{pid.group(1)}/revisions/{first[-1]}/restore",
        data={"csrf": csrf},
    )
    assert "four metres" in client.get("/blogs/storm").text
    assert "restored" in client.get(f"/desk/blogs/storm/posts/{pid.group(1)}").text


def test_saving_over_someone_elses_newer_edit_shows_the_conflict(
    client: TestClient, make_blog: Any, make_post: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    post = make_post(body="Original text.")
    csrf = sign_in(client, "editor")
    opened = client.get(f"/desk/blogs/storm/posts/{post['id']}").text
    based_on = re.search(r'name="based_on" value="([^"]+)"', opened)
    assert based_on is not None
    # Meanwhile the admin saves their edit through the API.
    admin = accounts_by_role["admin"].headers
    theirs = client.patch(
        f"/api/v1/blogs/storm/posts/{post['id']}", json={"body": "Their text."}, headers=admin
    )
    assert theirs.status_code == 200
    mine = {"csrf": csrf, "body": "My text.", "based_on": based_on.group(1)}
    refused = client.post(f"/desk/blogs/storm/posts/{post['id']}", data=mine)
    assert refused.status_code == 409
    assert "Someone else saved this post after you opened it" in refused.text
    assert "Their text." in refused.text
    assert "My text.</textarea>" in refused.text  # nothing typed is lost
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}").json()["body"] == "Their text."
    # Saving again from the conflict view is a deliberate choice: it goes through.
    again = re.search(r'name="based_on" value="([^"]+)"', refused.text)
    assert again is not None
    mine["based_on"] = again.group(1)
    client.post(f"/desk/blogs/storm/posts/{post['id']}", data=mine)
    assert client.get(f"/api/v1/blogs/storm/posts/{post['id']}").json()["body"] == "My text."


def test_the_api_refuses_an_edit_over_a_newer_one(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    post = make_post(body="Original text.")
    path = f"/api/v1/blogs/storm/posts/{post['id']}"
    first = client.patch(
        path, json={"body": "First.", "based_on": post["updated_at"]}, headers=editor.headers
    )
    assert first.status_code == 200
    stale = client.patch(
        path, json={"body": "Second.", "based_on": post["updated_at"]}, headers=editor.headers
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["field"] == "based_on"
    fresh = client.patch(
        path,
        json={"body": "Second.", "based_on": first.json()["updated_at"]},
        headers=editor.headers,
    )
    assert fresh.status_code == 200


def test_the_staff_stream_is_for_the_blogs_team_only(
    client: TestClient, make_blog: Callable[..., dict[str, Any]], outsider: Account
) -> None:
    make_blog("storm")
    client.cookies.clear()
    anonymous = client.get("/desk/blogs/storm/live", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fdesk%2Fblogs%2Fstorm%2Flive"
    sign_in(client, "outsider")  # an editor, but not on this blog's team
    refused = client.get("/desk/blogs/storm/live", follow_redirects=False)
    assert refused.status_code == 403
    assert "text/event-stream" not in refused.headers["content-type"]


def test_the_blog_forms_set_language_siblings_and_look(
    client: TestClient, accounts_by_role: dict[str, Account]
) -> None:
    csrf = sign_in(client, "editor")
    editor = accounts_by_role["editor"].headers  # the blog stays a draft
    home = parse(client.get("/desk").text)
    language = home.by_id("f-language")
    assert language is not None
    assert (language.get("value"), language.get("list")) == ("en", "desk-languages")
    offered = home.by_id("desk-languages")
    assert offered is not None
    assert {(o.get("value"), o.get("label")) for o in offered.find_all("option")} >= {
        ("en", "English"),
        ("de", "Deutsch"),
        ("uk", "українська"),
        ("ar", "العربية"),
        ("fa", "فارسی"),
    }

    refused = client.post(
        "/desk/blogs", data={"csrf": csrf, "title": "Idris", "slug": "idris", "language": "xx-!!"}
    )
    assert refused.status_code == 422
    page = parse(refused.text)
    field = page.by_id("f-language")
    assert field is not None
    assert (field.get("value"), field.get("aria-invalid")) == ("xx-!!", "true")
    error = page.by_id("f-language-error")
    assert error is not None
    assert "Must be a language tag" in error.text
    made = client.post(
        "/desk/blogs",
        data={"csrf": csrf, "title": "Буря Ідріс", "slug": "idris", "language": "uk"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert client.get("/api/v1/blogs/idris", headers=editor).json()["language"] == "uk"

    settings = {
        "csrf": csrf,
        "title": "Буря Ідріс",
        "standfirst": "",
        "labels": "",
        "closing_message": "",
        "language": " ar ",
        "translations": "storm-idris, sturm-idris\r\n\r\nburya\n",
        "theme": "desert",
    }
    saved = client.post("/desk/blogs/idris/settings", data=settings, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    blog = client.get("/api/v1/blogs/idris", headers=editor).json()
    assert (blog["language"], blog["translations"], blog["theme"]) == (
        "ar",
        ["storm-idris", "sturm-idris", "burya"],
        "desert",
    )
    desk = parse(client.get("/desk/blogs/idris").text)
    shown = desk.by_id("f-translations")
    assert shown is not None
    assert shown.raw_text == "storm-idris\nsturm-idris\nburya"
    theme = desk.by_id("f-theme")
    assert theme is not None
    assert theme.get("value") == "desert"

    itself = client.post(
        "/desk/blogs/idris/settings", data={**settings, "translations": "burya\nidris"}
    )
    assert itself.status_code == 422
    page = parse(itself.text)
    assert page.by_id("f-translations-error") is not None
    kept = page.by_id("f-translations")
    assert kept is not None
    assert kept.raw_text == "burya\nidris"
    for name, value in (("theme", "Desert Night"), ("language", "klingon")):
        wrong = client.post("/desk/blogs/idris/settings", data={**settings, name: value})
        assert wrong.status_code == 422
        assert parse(wrong.text).by_id(f"f-{name}-error") is not None

    # A form without the new fields (one loaded before they existed) leaves them as they are.
    old_form = {k: v for k, v in settings.items() if k not in ("language", "translations", "theme")}
    client.post("/desk/blogs/idris/settings", data={**old_form, "title": "Ідріс"})
    blog = client.get("/api/v1/blogs/idris", headers=editor).json()
    assert (blog["title"], blog["language"], blog["theme"]) == ("Ідріс", "ar", "desert")
    assert blog["translations"] == ["storm-idris", "sturm-idris", "burya"]
