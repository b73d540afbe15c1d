"""Community notes in the browser's pages, in process: readers' sign-up and sign-in, the box
under posts (page and live fragment), a note's page and its rating form, a post's notes and
the note form, "Needs your help", the admins' plot; who sees what, forms without JavaScript,
escaping, private caching, and the blog page's weight."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from liveticker.domain import accounts, notes
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Note, NoteParticipant, NoteRating, NoteStatusChange, User
from liveticker.web.desk import safe_next
from liveticker.web.notes_explain import explain
from tests.conftest import Account
from tests.web.htmltree import parse
from tests.web.test_pages import (
    REALISTIC_BODY,
    assert_accessible_structure,
    feed_articles,
    get_page,
)

PASSWORD = "correct horse battery"
MISLEADING = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
XSS = '"><script>alert(1)</script>'
GOOD_NOTE = {
    "classification": MISLEADING,
    "reasons": ["misleadingOutdatedInformation"],
    "text": "The dam figure is from 2019; see https://example.org/dam for this year's.",
    "sources": ["https://example.org/dam"],
}
# The blog page of test_page_weight_with_twenty_posts (tests/web/test_pages.py) before
# notes, measured at commit 4a102d3: html 40,203 + css 5,198 + js 14,073 bytes.
WEIGHT_BEFORE_NOTES = 59_474


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, write_rate_per_minute=10_000, signup_rate_per_hour=3)


@pytest.fixture
def post(make_blog: Any, make_post: Any) -> dict[str, Any]:
    make_blog("storm")
    return dict(make_post(body="The dam holds 40 million cubic metres.", headline="The dam"))


@pytest.fixture
def make_reader(database: Database) -> Callable[..., str]:
    """A reader's account (as a sign-up makes it), optionally allowed to write."""

    def make(alias: str, *, writes: bool = False, factor: float | None = None) -> str:
        with database.transaction() as session:
            user = accounts.create_user(session, username=alias, password=PASSWORD, role="reader")
            user.participant_id = f"P{alias}"
            user.writing_granted = writes
            if factor is not None:
                session.add(NoteParticipant(user_id=user.id, factor=factor))
        return alias

    return make


def sign_in(client: TestClient, username: str, next: str = "/desk") -> str:
    """Sign in (as the only session of this client) and return the session's CSRF token."""
    client.cookies.clear()
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": next},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk/account").text)
    assert match is not None
    return match.group(1)


def write_note(database: Database, post: dict[str, Any], author: str, **fields: Any) -> int:
    """A note as notes.write_note makes it (the author is let write)."""
    from liveticker.domain.inputs import NoteCreate
    from liveticker.storage.models import Post

    with database.transaction() as session:
        user = session.scalar(select(User).where(User.username == author))
        assert user is not None
        user.writing_granted = True
        note = notes.write_note(
            session,
            actor=accounts.Actor.of(user),
            post=session.get(Post, post["id"]),  # type: ignore[arg-type]
            data=NoteCreate.model_validate({**GOOD_NOTE, **fields}),
            threshold=5,
            per_day=10,
        )
        session.flush()
        return note.id


def score(database: Database, note_id: int, status: str = notes.HELPFUL, **fields: Any) -> None:
    """What a scoring run records (domain.notes_run is being built): the note's numbers and
    status, its history, and the "notes" event when what the post shows changes."""
    values = {
        "intercept": 0.47,
        "factor": 0.12,
        "decided_by": "GeneralCRH",
        "rules": ["InitialNMR", "GeneralCRH"],
        **fields,
    }
    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        shown = notes.HELPFUL in (note.status, status)
        note.status = status
        for name, value in values.items():
            setattr(note, name, value)
        session.add(NoteStatusChange(note_id=note_id, status=status))
        session.flush()
        if shown:
            notes.notes_changed(session, post=note.post)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert match is not None, f"no error for {field_id}"
    return match.group(1)


# -- accounts ---------------------------------------------------------------------------------


def test_sign_up_signs_the_reader_in_and_is_limited_per_address(
    client: TestClient, post: dict[str, Any]
) -> None:
    back = f"/blogs/storm/posts/{post['id']}/notes"
    form = client.get(f"/signup?next={back}")
    assert form.status_code == 200
    assert form.headers["cache-control"] == "no-store"
    assert "never shown next to a note" in form.text
    assert f'name="next" value="{back}"' in form.text

    differ = client.post(
        "/signup", data={"alias": XSS, "password": PASSWORD, "again": "other", "next": back}
    )
    assert differ.status_code == 422
    assert field_error(differ.text, "f-again") == "The two passwords differ"
    assert f'value="{escape(XSS)}"' in differ.text  # kept, and escaped
    assert "<script>alert(1)" not in differ.text
    bad = client.post("/signup", data={"alias": XSS, "password": PASSWORD, "again": PASSWORD})
    assert bad.status_code == 422
    assert field_error(bad.text, "f-alias")
    assert "<script>alert(1)" not in bad.text

    made = client.post(
        "/signup",
        data={"alias": "river-watcher", "password": PASSWORD, "again": PASSWORD, "next": back},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == back
    assert made.headers["set-cookie"].startswith("lt_session=")
    assert "Signed in as <strong><bdi>river-watcher</bdi></strong>" in client.get(back).text
    taken = client.post(
        "/signup", data={"alias": "river-watcher", "password": PASSWORD, "again": PASSWORD}
    )
    assert taken.status_code == 409
    assert "is taken" in field_error(taken.text, "f-alias")

    client.cookies.clear()
    for alias in ("second", "third"):
        assert (
            client.post(
                "/signup",
                data={"alias": alias, "password": PASSWORD, "again": PASSWORD},
                follow_redirects=False,
            ).headers["location"]
            == "/notes/needs-help"
        )
        client.cookies.clear()
    refused = client.post(
        "/signup", data={"alias": "fourth", "password": PASSWORD, "again": PASSWORD}
    )
    assert refused.status_code == 429
    assert "Too many accounts were made from this address" in refused.text
    assert 'value="fourth"' in refused.text
    elsewhere = client.post(
        "/signup",
        data={"alias": "fifth", "password": PASSWORD, "again": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/desk/blogs/storm", "/desk/blogs/storm"),
        ("/blogs/storm/posts/3/notes", "/blogs/storm/posts/3/notes"),
        ("/notes/12#rate", "/notes/12#rate"),
        ("/notes/needs-help", "/notes/needs-help"),
        ("/account", "/account"),
        ("https://evil.example/notes", "/desk"),
        ("//evil.example/blogs/x", "/desk"),
        ("/blogs//evil.example", "/desk"),
        ("/\\evil.example", "/desk"),
        ("/notes/1\r\nSet-Cookie: x=1", "/desk"),
        ("/blogs", "/desk"),
        ("/api/v1/notes/1", "/desk"),
        ("", "/desk"),
    ],
)
def test_safe_next_keeps_this_sites_desk_and_reader_pages(asked: str, kept: str) -> None:
    assert safe_next(asked) == kept


def test_a_reader_signs_in_to_a_reader_page_never_to_the_desk(
    client: TestClient, post: dict[str, Any], make_reader: Any, editor: Account
) -> None:
    make_reader("river")
    back = f"/blogs/storm/posts/{post['id']}/notes"
    reader_login = client.get(f"/login?next={back}")
    assert "Sign in</h1>" in reader_login.text
    assert f'href="/signup?next={back}"' in reader_login.text
    assert "Sign in to the desk" in client.get("/login").text
    for asked, landed in [
        ("/desk", "/notes/needs-help"),
        ("/desk/blogs/storm", "/notes/needs-help"),
        ("/desk/account", "/desk/account"),
        (back, back),
        ("https://evil.example/", "/notes/needs-help"),
    ]:
        client.cookies.clear()
        response = client.post(
            "/login",
            data={"username": "river", "password": PASSWORD, "next": asked},
            follow_redirects=False,
        )
        assert response.headers["location"] == landed, asked
    # Signed in already: /login sends a reader on, not to the desk.
    assert client.get("/login", follow_redirects=False).headers["location"] == "/notes/needs-help"
    wrong = client.post("/login", data={"username": "river", "password": "nope", "next": back})
    assert wrong.status_code == 401
    assert "Create a reader's account" in wrong.text  # the reader's sign-in again
    client.cookies.clear()
    staff = client.post(
        "/login",
        data={"username": "editor", "password": PASSWORD, "next": back},
        follow_redirects=False,
    )
    assert staff.headers["location"] == back


def test_readers_are_kept_out_of_the_desk_and_see_no_desk_navigation(
    client: TestClient, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("river")
    csrf = sign_in(client, "river")
    for path in ("/desk", "/desk/users", "/desk/blogs/storm"):
        assert client.get(path).status_code == 403, path
    refused = client.post("/desk/blogs", data={"csrf": csrf, "title": "Mine", "slug": "mine"})
    assert refused.status_code == 403
    account = client.get("/desk/account")
    assert account.status_code == 200
    assert account.headers["cache-control"] == "no-store"
    assert 'href="/desk"' not in account.text
    assert 'href="/desk/users"' not in account.text
    assert 'href="/notes/needs-help"' in account.text
    # The account page's forms are a reader's too.
    token = client.post("/desk/account/tokens", data={"csrf": csrf, "label": "my script"})
    assert token.status_code == 200
    assert 'id="new-token"' in token.text
    changed = client.post(
        "/desk/account/password",
        data={"csrf": csrf, "current": PASSWORD, "new": "a new long password", "again": "x"},
    )
    assert changed.status_code == 422
    out = client.post(
        "/desk/account/sign-out-everywhere", data={"csrf": csrf}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/desk/account", follow_redirects=False).status_code == 303


# -- the box under posts ---------------------------------------------------------------------


def _box(html: str) -> str:
    match = re.search(r'<aside class="notes".*?</aside>', html, re.S)
    assert match is not None
    return match.group(0)


def test_the_blog_page_shows_helpful_notes_under_their_post_and_stays_public(
    client: TestClient, database: Database, post: dict[str, Any], make_post: Any, make_reader: Any
) -> None:
    other = make_post(body="Roads are closed.")
    make_reader("author")
    shown = write_note(
        database,
        post,
        "author",
        text=f"Old figure {XSS} https://example.org/a?b=1&c=2",
        sources=["https://example.org/dam", "http://example.com/x?y=<z>"],
    )
    before = client.get("/blogs/storm")
    assert '<aside class="notes"' not in before.text  # waiting for ratings: not shown
    score(database, shown)

    response, tree = get_page(client, "/blogs/storm")
    assert_accessible_structure(tree)
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["etag"] != before.headers["etag"]
    articles = {a.get("data-post-id"): a for a in feed_articles(tree)}
    box = articles[str(post["id"])].find("aside")
    assert box is not None
    assert box.text.startswith("Readers added context")
    assert articles[str(other["id"])].find("aside") is None
    html = _box(response.text)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('rel="nofollow ugc noopener noreferrer"') == 3  # two sources, one in text
    assert 'href="http://example.com/x?y=&lt;z&gt;"' in html
    assert f'href="/notes/{shown}#rate">Rate it</a>' in html
    assert f'href="/notes/{shown}#why">Why is this shown?</a>' in html
    # Each post links to its notes page, whatever it shows.
    for post_id in (post["id"], other["id"]):
        assert f'href="/blogs/storm/posts/{post_id}/notes">Notes</a>' in response.text
    # Public and the same for everyone: a signed-in reader gets the very same page.
    sign_in(client, "author")
    again = client.get("/blogs/storm")
    assert again.content == response.content
    # Not gzipped for an account (web/compression.py): the same page, without the suffix.
    assert again.headers["etag"] == response.headers["etag"].replace('-gzip"', '"')
    assert (
        client.get("/blogs/storm", headers={"if-none-match": response.headers["etag"]}).status_code
        == 304
    )
    single = client.get(f"/blogs/storm/posts/{post['id']}")
    assert _box(single.text) == html


def test_the_notes_event_carries_the_pages_box_and_an_empty_one_when_it_goes(
    client: TestClient,
    database: Database,
    post: dict[str, Any],
    make_reader: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_reader("author")
    note_id = write_note(database, post, "author")
    start = client.get("/api/v1/blogs/storm/changes?after=0").json()["head"]
    score(database, note_id)
    changes = client.get(f"/api/v1/blogs/storm/changes?after={start}").json()["events"]
    assert [event["event"] for event in changes] == ["notes"]
    data = changes[0]["data"]
    assert data["post_id"] == post["id"]
    assert data["html"] == _box(client.get("/blogs/storm").text)

    admin = accounts_by_role["admin"]
    removed = client.post(
        f"/api/v1/notes/{note_id}/removal", json={"reason": "A court order"}, headers=admin.headers
    )
    assert removed.status_code == 200, removed.text
    after = client.get(f"/api/v1/blogs/storm/changes?after={start}").json()["events"]
    assert [event["event"] for event in after] == ["notes"]  # the first one superseded
    assert after[0]["data"]["notes"] == []
    assert after[0]["data"]["html"] == ""
    assert '<aside class="notes"' not in client.get("/blogs/storm").text


# -- a note's page ---------------------------------------------------------------------------


def test_a_notes_page_shows_how_it_was_decided_to_everyone_who_may_see_it(
    client: TestClient,
    database: Database,
    post: dict[str, Any],
    make_reader: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_reader("author")
    make_reader("river", factor=-0.4)
    make_reader("hill", factor=0.3)
    waiting = write_note(database, post, "author")
    assert client.get(f"/notes/{waiting}").status_code == 404  # the public: Helpful only
    assert client.get("/notes/999999").status_code == 404

    sign_in(client, "river")
    page = client.get(f"/notes/{waiting}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Needs more ratings" in page.text
    assert f'action="/notes/{waiting}/rating"' in page.text
    assert "How its status was decided" in page.text

    sign_in(client, "author")
    own = client.get(f"/notes/{waiting}")
    assert "This is your note" in own.text
    assert f'action="/notes/{waiting}/rating"' not in own.text
    assert "Delete your note" in own.text

    with database.transaction() as session:
        for rater, level in (("river", "HELPFUL"), ("hill", "SOMEWHAT_HELPFUL")):
            user = session.scalar(select(User).where(User.username == rater))
            assert user is not None
            session.add(NoteRating(note_id=waiting, rater_id=user.id, helpfulness=level, tags=[]))
    score(database, waiting)
    assert "Delete your note" not in client.get(f"/notes/{waiting}").text

    client.cookies.clear()
    page = client.get(f"/notes/{waiting}")
    assert page.status_code == 200
    assert_accessible_structure(parse(page.text))
    assert "Why is this shown?" in page.text
    assert "Rated helpful by people who usually disagree: intercept 0.47 ≥ 0.40" in page.text
    assert "viewpoint factor 0.12" in page.text
    sides = re.search(r'<table class="sides".*?</table>', page.text, re.S)
    assert sides is not None
    cells = re.findall(r"<td>(\d+)</td>", sides.group(0))
    assert cells == ["1", "0", "1", "0", "0", "0"]  # helpful: one per side
    assert "Helpful</li>" in page.text  # the history
    assert f'href="/login?next=/notes/{waiting}"' in page.text
    assert "The notes plot of this blog" not in page.text

    sign_in(client, "editor")
    assert "not by the newsroom's staff" in client.get(f"/notes/{waiting}").text
    sign_in(client, "admin")
    assert 'href="/blogs/storm/notes/plot"' in client.get(f"/notes/{waiting}").text

    admin = accounts_by_role["admin"]
    client.post(
        f"/api/v1/notes/{waiting}/removal",
        json={"reason": f"Court order {XSS}"},
        headers=admin.headers,
    )
    client.cookies.clear()
    removed = client.get(f"/notes/{waiting}")
    assert removed.status_code == 200
    assert f"Removed by the site for legal reasons: <bdi>Court order {escape(XSS)}</bdi>" in (
        removed.text
    )
    assert "dam figure" not in removed.text
    assert "A removed note can no longer be rated" in removed.text


def test_rating_on_a_notes_page_posts_and_redirects_keeping_what_was_chosen(
    client: TestClient, database: Database, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("author")
    make_reader("river")
    note_id = write_note(database, post, "author")
    csrf = sign_in(client, "river")
    url = f"/notes/{note_id}/rating"

    nothing = client.post(url, data={"csrf": csrf, "tags": ["helpfulClear"]})
    assert nothing.status_code == 422
    assert "Choose Helpful" in field_error(nothing.text, "helpfulness")
    assert re.search(r'value="helpfulClear" id="tags-helpful-helpfulClear" checked', nothing.text)

    mixed = client.post(
        url, data={"csrf": csrf, "helpfulness": "HELPFUL", "tags": ["notHelpfulIncorrect"]}
    )
    assert mixed.status_code == 422
    assert "what made it helpful for Helpful" in field_error(mixed.text, "tags-helpful")
    assert re.search(r'value="HELPFUL" id="helpfulness-HELPFUL" checked', mixed.text)
    assert re.search(r'value="notHelpfulIncorrect" [^>]*checked', mixed.text)

    for field, value in (("helpfulness", XSS), ("tags", XSS)):
        data = {"csrf": csrf, "helpfulness": "HELPFUL", field: value}
        evil = client.post(url, data=data)
        assert evil.status_code == 422
        assert "<script>alert(1)" not in evil.text

    assert client.post(url, data={"helpfulness": "HELPFUL"}).status_code == 403  # no token
    assert (
        client.post(
            url,
            data={"csrf": csrf, "helpfulness": "HELPFUL"},
            headers={"origin": "https://evil.example"},
        ).status_code
        == 403
    )

    done = client.post(
        url,
        data={
            "csrf": csrf,
            "helpfulness": "SOMEWHAT_HELPFUL",
            "tags": ["helpfulClear", "notHelpfulOutdated"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/notes/{note_id}?done=rated#rate"
    page = client.get(done.headers["location"])
    assert "your rating is saved" in page.text
    assert re.search(
        r'value="SOMEWHAT_HELPFUL" id="helpfulness-SOMEWHAT_HELPFUL" checked', page.text
    )
    assert re.search(r'value="helpfulClear" id="tags-helpful-helpfulClear" checked', page.text)
    assert "Change your rating" in page.text
    again = client.post(
        url, data={"csrf": csrf, "helpfulness": "NOT_HELPFUL"}, follow_redirects=False
    )
    assert again.status_code == 303
    with database.transaction() as session:
        ratings = session.scalars(select(NoteRating)).all()
        assert [(r.helpfulness, r.tags) for r in ratings] == [("NOT_HELPFUL", [])]

    author_csrf = sign_in(client, "author")
    own = client.post(url, data={"csrf": author_csrf, "helpfulness": "HELPFUL"})
    assert own.status_code == 403
    assert "You cannot rate your own note" in own.text


# -- a post's notes and the note form ----------------------------------------------------------


def test_a_posts_notes_page_offers_each_asker_what_they_may_do(
    client: TestClient,
    database: Database,
    post: dict[str, Any],
    make_reader: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    make_reader("author")
    make_reader("river")
    url = f"/blogs/storm/posts/{post['id']}/notes"
    note_id = write_note(database, post, "author")

    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert anonymous.headers["cache-control"] == "no-store"
    assert "No notes yet" in anonymous.text  # waiting for ratings: readers' only
    assert f'href="/login?next={url}"' in anonymous.text
    assert f'href="/signup?next={url}"' in anonymous.text
    assert client.get("/blogs/storm/posts/999/notes").status_code == 404
    assert client.get("/blogs/nowhere/posts/1/notes").status_code == 404

    sign_in(client, "river")
    reader = client.get(url)
    assert_accessible_structure(parse(reader.text))
    assert f'href="/notes/{note_id}#rate">Rate it</a>' in reader.text
    assert "Rating impact 0 of 5" in reader.text
    assert "rate notes to earn writing" in reader.text
    assert 'href="/notes/needs-help"' in reader.text
    assert 'class="note-form"' not in reader.text

    sign_in(client, "author")
    assert f'href="/notes/{note_id}">see your note</a>' in client.get(url).text
    sign_in(client, "editor")
    assert "not by the newsroom's staff" in client.get(url).text


def test_the_note_form_validates_on_the_server_and_keeps_what_was_typed(
    client: TestClient, database: Database, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("river")
    url = f"/blogs/storm/posts/{post['id']}/notes"
    csrf = sign_in(client, "river")
    refused = client.post(url, data={"csrf": csrf, **GOOD_NOTE})
    assert refused.status_code == 403  # writing is earned
    assert "Writing notes is earned by rating" in refused.text

    with database.transaction() as session:
        user = session.scalar(select(User).where(User.username == "river"))
        assert user is not None
        user.writing_granted = True
    page = client.get(url)
    assert_accessible_structure(parse(page.text))
    assert 'class="note-form"' in page.text
    for reason in ("misleadingFactualError", "notMisleadingPersonalOpinion"):
        assert f'value="{reason}"' in page.text  # both sets, labelled
    assert 'id="f-text-count"' in page.text

    typed = {
        "csrf": csrf,
        "reasons": ["misleadingFactualError"],
        "text": f"Typed {XSS}",
        "sources": f"https://example.org/{XSS}",
    }
    unchosen = client.post(url, data=typed)
    assert unchosen.status_code == 422
    assert "Choose whether the post is misleading" in field_error(unchosen.text, "classification")
    assert f"Typed {escape(XSS)}</textarea>" in unchosen.text
    assert "<script>alert(1)" not in unchosen.text
    assert re.search(r'value="misleadingFactualError" [^>]*checked', unchosen.text)

    wrong_reasons = client.post(
        url, data={**typed, "classification": "NOT_MISLEADING", "sources": ""}
    )
    assert wrong_reasons.status_code == 422
    assert "under the answer you chose" in field_error(wrong_reasons.text, "reasons")
    no_source = client.post(url, data={**typed, "classification": MISLEADING, "sources": ""})
    assert "at least one source link" in field_error(no_source.text, "f-sources")
    bad_source = client.post(
        url,
        data={
            **typed,
            "classification": MISLEADING,
            "sources": "https://ok.example\njavascript:alert(1)",
        },
    )
    assert bad_source.status_code == 422
    assert field_error(bad_source.text, "f-sources").startswith("Link 2:")
    too_long = client.post(
        url,
        data={
            **typed,
            "classification": MISLEADING,
            "text": "x" * 281,
            "sources": "https://a.example",
        },
    )
    assert "280" in field_error(too_long.text, "f-text")
    assert "x" * 281 in too_long.text
    for field in ("classification", "reasons"):
        evil = client.post(url, data={**typed, "classification": MISLEADING, field: XSS})
        assert evil.status_code == 422
        assert "<script>alert(1)" not in evil.text

    made = client.post(
        url,
        data={
            "csrf": csrf,
            "classification": MISLEADING,
            "reasons": ["misleadingOutdatedInformation", "misleadingFactualError"],
            "text": "The figure is from 2019.",
            "sources": "https://example.org/a\n\nhttps://example.org/b  ",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    note_id = int(made.headers["location"].split("/")[2].split("?")[0])
    assert made.headers["location"] == f"/notes/{note_id}?done=written"
    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        assert note.sources == ["https://example.org/a", "https://example.org/b"]
        assert note.reasons == ["misleadingOutdatedInformation", "misleadingFactualError"]
    assert "Your note is saved" in client.get(made.headers["location"]).text
    twice = client.post(
        url, data={**typed, "classification": MISLEADING, "sources": "https://a.example"}
    )
    assert twice.status_code == 409


def test_an_author_deletes_a_note_only_while_it_never_had_a_status(
    client: TestClient, database: Database, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("author")
    make_reader("river")
    first = write_note(database, post, "author")
    csrf = sign_in(client, "river")
    assert client.post(f"/notes/{first}/delete", data={"csrf": csrf}).status_code == 403
    csrf = sign_in(client, "author")
    gone = client.post(f"/notes/{first}/delete", data={"csrf": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == f"/blogs/storm/posts/{post['id']}/notes?done=deleted"
    assert "Your note is deleted" in client.get(gone.headers["location"]).text
    assert client.get(f"/notes/{first}").status_code == 404

    second = write_note(database, post, "author")
    score(database, second)
    score(database, second, notes.NEEDS_MORE_RATINGS, decided_by="FilterLargeFactor")
    assert "Delete your note" not in client.get(f"/notes/{second}").text
    kept = client.post(f"/notes/{second}/delete", data={"csrf": csrf})
    assert kept.status_code == 409


# -- needs your help, the plot -----------------------------------------------------------------


def test_needs_your_help_lists_notes_to_rate_for_signed_in_readers(
    client: TestClient, database: Database, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("author")
    make_reader("river")
    note_id = write_note(database, post, "author", text=f"Context {XSS}")
    anonymous = client.get("/notes/needs-help", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fnotes%2Fneeds-help"
    sign_in(client, "river")
    page = client.get("/notes/needs-help")
    assert page.status_code == 200
    assert_accessible_structure(parse(page.text))
    assert page.headers["cache-control"] == "no-store"
    link = f'<a href="/blogs/storm#post-{post["id"]}"><bdi>The dam</bdi></a>'
    assert f"On “{link}” in <bdi>" in page.text  # titles isolated in the sentence
    assert f'href="/notes/{note_id}#rate">Rate it' in page.text
    assert f"Context {escape(XSS)}" in page.text
    assert "Rating impact 0 of 5" in page.text
    sign_in(client, "author")
    assert f"/notes/{note_id}#rate" not in client.get("/notes/needs-help").text  # not their own
    sign_in(client, "editor")
    assert client.get("/notes/needs-help").status_code == 403


def test_the_notes_plot_is_for_admins_only(
    client: TestClient, database: Database, post: dict[str, Any], make_reader: Any
) -> None:
    make_reader("author")
    note_id = write_note(database, post, "author")
    score(
        database, note_id, notes.NOT_HELPFUL, intercept=-0.3, factor=-0.9, decided_by="GeneralCRNH"
    )
    url = "/blogs/storm/notes/plot"
    assert client.get(url, follow_redirects=False).status_code == 303  # sign in first
    for who in ("author", "editor"):
        sign_in(client, who)
        assert client.get(url).status_code == 403, who
    sign_in(client, "admin")
    page = client.get(url)
    assert page.status_code == 200
    assert_accessible_structure(parse(page.text))
    assert page.headers["cache-control"] == "no-store"
    assert '<svg viewBox="0 0 640 440"' in page.text
    assert f'<a href="/notes/{note_id}"><title>Note {note_id}: Not helpful' in page.text
    assert 'class="dot-not-helpful"' in page.text
    assert 'class="limit-helpful"' in page.text
    assert 'class="limit-not-helpful"' in page.text
    assert "intercept at least 0.40, factor between −0.50 and 0.50" in page.text
    assert client.get("/blogs/nowhere/notes/plot").status_code == 404


# -- how a note was decided, in words ----------------------------------------------------------


def _scored(status: str, decided_by: str, rules: list[str], **numbers: Any) -> Note:
    return Note(status=status, decided_by=decided_by, rules=rules, **numbers)


def test_explain_turns_the_recorded_rules_into_sentences() -> None:
    helpful = _scored(
        notes.HELPFUL, "GeneralCRH", ["InitialNMR", "GeneralCRH"], intercept=0.47, factor=0.12
    )
    assert explain(helpful) == [
        "Rated helpful by people who usually disagree: intercept 0.47 ≥ 0.40, viewpoint "
        "factor 0.12."
    ]
    waiting = _scored(
        notes.NEEDS_MORE_RATINGS,
        "NmrDueToMinStableCrhTime",
        ["InitialNMR,GeneralCRH", "NmrDueToMinStableCrhTime"],
        intercept=0.4004,
        factor=-0.3,
    )
    assert explain(waiting) == [
        "Rated helpful by people who usually disagree: intercept 0.4004 ≥ 0.4000, viewpoint "
        "factor −0.30.",
        "Waiting: a newly helpful note is shown once it has stayed helpful for 30 minutes.",
    ]
    one_sided = _scored(
        notes.NEEDS_MORE_RATINGS,
        "FilterLargeFactor",
        ["InitialNMR", "GeneralCRH", "FilterLargeFactor"],
        intercept=0.52,
        factor=0.61,
    )
    assert explain(one_sided)[-1] == (
        "Not shown: its support comes mostly from one side (viewpoint factor 0.61, beyond ±0.50)."
    )
    not_helpful = _scored(
        notes.NOT_HELPFUL, "GeneralCRNH", ["InitialNMR", "GeneralCRNH"], intercept=-0.2, factor=0.1
    )
    assert explain(not_helpful) == [
        "Rated not helpful: intercept −0.20 ≤ −0.13, the limit for its viewpoint factor 0.10 "
        "(−0.05 − 0.8 × 0.10)."
    ]
    new = _scored(notes.NEEDS_MORE_RATINGS, "InitialNMR", ["InitialNMR"])
    assert explain(new) == [
        "Needs more ratings: the site places a note once at least 5 readers have rated it."
    ]
    held = _scored(notes.NEEDS_MORE_RATINGS, "InsufficientExplanation", ["InsufficientExplanation"])
    assert "2 tags, each chosen by at least 2 raters" in explain(held)[0]
    assert explain(_scored(notes.NEEDS_MORE_RATINGS, "", [])) == [
        "Not scored yet: the site scores notes every few minutes, once readers rate them."
    ]
    assert explain(_scored(notes.NEEDS_MORE_RATINGS, "SomeNewRule", [])) == [
        "Decided by the scoring rule SomeNewRule."
    ]


# -- the blog page's weight ---------------------------------------------------------------------


def test_notes_add_no_more_than_their_links_to_a_page_without_notes(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    """The page of test_page_weight_with_twenty_posts, whose posts have no notes: all that
    notes add to it is one small link per post (and the script that applies "notes" events,
    paid for by trimming the posts' markup), within the 60 KB budget."""
    make_blog(
        "budget",
        title="Budget night: live",
        standfirst="The finance minister presents the budget for next year.",
        labels=["Politics", "Economy"],
        lead_image={
            "url": "/static/demo/harbour-morning.svg",
            "alt": "The parliament",
            "credit": "Agency",
        },
    )
    for n in range(20):
        make_post("budget", REALISTIC_BODY, headline=f"The minister speaks, part {n}")
    response, tree = get_page(client, "/blogs/budget")
    assert len(feed_articles(tree)) == 20
    assert '<aside class="notes"' not in response.text
    links = re.findall(r' · <a href="/blogs/budget/posts/\d+/notes">Notes</a>', response.text)
    assert len(links) == 20
    link_bytes = sum(len(link.encode()) for link in links)
    assert max(len(link.encode()) for link in links) <= 52
    sizes = {
        "html": len(response.content),
        "css": len(client.get("/static/liveticker.css").content),
        "js": len(client.get("/static/liveticker.js").content),
    }
    total = sum(sizes.values())
    print("page weight without notes (bytes):", sizes, "total", total, "links", link_bytes)
    assert total <= WEIGHT_BEFORE_NOTES + link_bytes, (total, WEIGHT_BEFORE_NOTES, link_bytes)
    assert total < 60_000
