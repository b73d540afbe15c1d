"""Community notes through the API: readers' accounts, writing earned or granted, notes
and ratings with their rules, what the public sees, legal removal, "Needs your help"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Event, Note, NoteParticipant, NoteStatusChange, User
from tests.conftest import Account

PASSWORD = "correct horse battery"
MISLEADING = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
GOOD_NOTE = {
    "classification": MISLEADING,
    "reasons": ["misleadingMissingImportantContext"],
    "text": "The dam figure is from 2019; see https://example.org/dam for this year's.",
    "sources": ["https://example.org/dam"],
}


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, write_rate_per_minute=10_000, signup_rate_per_hour=3)


@pytest.fixture
def make_reader(client: TestClient, database: Database) -> Callable[..., Account]:
    """A reader's account made as a reader makes it (sign-up, then a token), optionally
    allowed to write."""

    def make(alias: str, *, writes: bool = False, factor: float | None = None) -> Account:
        with database.transaction() as session:
            user = accounts.create_user(session, username=alias, password=PASSWORD, role="reader")
            user.participant_id = f"P{alias}"
            user.writing_granted = writes
            if factor is not None:
                session.add(NoteParticipant(user_id=user.id, factor=factor))
        token = client.post("/api/v1/tokens", json={"username": alias, "password": PASSWORD})
        assert token.status_code == 201, token.text
        return Account(alias, "reader", token.json()["token"])

    return make


@pytest.fixture
def post(make_blog: Any, make_post: Any) -> dict[str, Any]:
    make_blog("storm")
    return dict(make_post(body="The dam holds 40 million cubic metres."))


def _notes_url(post: dict[str, Any]) -> str:
    return f"/api/v1/blogs/storm/posts/{post['id']}/notes"


def _write(client: TestClient, post: dict[str, Any], who: Account, **fields: Any) -> Any:
    return client.post(_notes_url(post), json={**GOOD_NOTE, **fields}, headers=who.headers)


def test_a_reader_signs_up_gets_a_token_and_is_limited_per_address(client: TestClient) -> None:
    made = client.post("/api/v1/readers", json={"alias": "river-watcher", "password": PASSWORD})
    assert made.status_code == 201, made.text
    assert made.json() == {
        "alias": "river-watcher",
        "can_write": False,
        "rating_impact": 0,
        "writing_needs": 5,
        "earned_out": False,
    }
    token = client.post("/api/v1/tokens", json={"username": "river-watcher", "password": PASSWORD})
    assert token.status_code == 201
    assert token.json()["role"] == "reader"
    me = client.get(
        "/api/v1/readers/me", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    assert me.json()["alias"] == "river-watcher"

    taken = client.post("/api/v1/readers", json={"alias": "river-watcher", "password": PASSWORD})
    assert taken.status_code == 409
    assert taken.json()["error"]["field"] == "alias"
    shouting = client.post("/api/v1/readers", json={"alias": "Shouty", "password": PASSWORD})
    assert shouting.status_code == 422
    assert shouting.json()["error"]["field"] == "alias"
    short = client.post("/api/v1/readers", json={"alias": "shorty", "password": "short"})
    assert short.status_code == 422

    for n in range(2):  # the limit is 3 an hour from one address; one is made already
        assert (
            client.post(
                "/api/v1/readers", json={"alias": f"reader-{n}", "password": PASSWORD}
            ).status_code
            == 201
        )
    refused = client.post("/api/v1/readers", json={"alias": "one-more", "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 3000


def test_a_readers_account_sees_what_the_public_sees_and_changes_nothing(
    client: TestClient, make_blog: Any, make_post: Any, make_reader: Any, editor: Account
) -> None:
    make_blog("draft-blog", live=False)
    make_blog("storm")
    draft = make_post(body="Not out yet.", status="draft")
    reader = make_reader("nosy")
    assert client.get("/api/v1/blogs/draft-blog", headers=reader.headers).status_code == 404
    listed = client.get("/api/v1/blogs/storm/posts?status=draft", headers=reader.headers)
    assert listed.status_code == 403
    assert (
        client.get(f"/api/v1/blogs/storm/posts/{draft['id']}", headers=reader.headers).status_code
        == 404
    )
    wrote = client.post("/api/v1/blogs/storm/posts", json={"body": "x"}, headers=reader.headers)
    assert wrote.status_code == 403
    assert (
        client.post(
            "/api/v1/blogs", json={"slug": "mine", "title": "t"}, headers=reader.headers
        ).status_code
        == 403
    )
    joined = client.post(
        "/api/v1/blogs/storm/members", json={"username": "nosy"}, headers=editor.headers
    )
    assert joined.status_code == 422


def test_writing_is_earned_or_granted_and_staff_never_write(
    client: TestClient, post: dict[str, Any], make_reader: Any, accounts_by_role: dict[str, Account]
) -> None:
    newcomer = make_reader("newcomer")
    refused = _write(client, post, newcomer)
    assert refused.status_code == 403
    assert "rating impact is 0, writing needs 5" in refused.json()["error"]["message"]

    admin = accounts_by_role["admin"]
    granted = client.put(
        "/api/v1/readers/newcomer/writing", json={"granted": True}, headers=admin.headers
    )
    assert granted.status_code == 200
    assert granted.json()["can_write"] is True
    editor = accounts_by_role["editor"]
    assert (
        client.put(
            "/api/v1/readers/newcomer/writing", json={"granted": True}, headers=editor.headers
        ).status_code
        == 403
    )
    assert _write(client, post, newcomer).status_code == 201

    for role in ("admin", "editor", "contributor"):
        assert _write(client, post, accounts_by_role[role]).status_code == 403


def test_a_note_follows_xs_form_and_one_per_reader_and_post(
    client: TestClient, post: dict[str, Any], make_reader: Any, make_post: Any
) -> None:
    writer = make_reader("writer", writes=True)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"sources": []}, "needs at least one source"),
        ({"reasons": ["notMisleadingFactuallyCorrect"]}, "reasons for"),
        ({"reasons": []}, ""),
        ({"text": "x" * 281}, ""),
        ({"text": "   "}, "must not be empty"),
        ({"sources": ["javascript:alert(1)"]}, ""),
        ({"sources": ["/relative"]}, "full address"),
        ({"classification": "TRUE"}, ""),
    ]
    for fields, message in cases:
        answer = _write(client, post, writer, **fields)
        assert answer.status_code == 422, (fields, answer.text)
        assert message in answer.json()["error"]["message"], (fields, answer.text)

    not_misleading = _write(
        client,
        post,
        writer,
        classification="NOT_MISLEADING",
        reasons=["notMisleadingFactuallyCorrect"],
        sources=[],
        text="Accurate: the <b>utility</b> confirms it.",
    )
    assert not_misleading.status_code == 201, not_misleading.text
    note = not_misleading.json()
    assert note["status"] == "NEEDS_MORE_RATINGS"
    assert note["text_html"] == "<p>Accurate: the &lt;b&gt;utility&lt;/b&gt; confirms it.</p>"
    assert note["mine"] is True
    assert note["scoring"]["core_status"] == ""  # not scored yet
    assert _write(client, post, writer).status_code == 409

    draft = make_post(body="Not out.", status="draft")
    assert _write(client, draft, writer).status_code == 404


def test_the_public_sees_only_helpful_notes_readers_see_all_to_rate(
    client: TestClient, post: dict[str, Any], make_reader: Any, database: Database
) -> None:
    writer = make_reader("writer", writes=True)
    rater = make_reader("rater")
    note_id = _write(client, post, writer).json()["id"]

    assert client.get(_notes_url(post)).json() == []
    assert client.get(f"/api/v1/notes/{note_id}").status_code == 404
    seen = client.get(_notes_url(post), headers=rater.headers).json()
    assert [n["id"] for n in seen] == [note_id]
    assert seen[0]["scoring"] is None  # not theirs
    assert seen[0]["mine"] is False

    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        note.status = "CURRENTLY_RATED_HELPFUL"
        session.add(NoteStatusChange(note_id=note_id, status="CURRENTLY_RATED_HELPFUL"))
    public = client.get(_notes_url(post)).json()
    assert [n["id"] for n in public] == [note_id]
    detail = client.get(f"/api/v1/notes/{note_id}").json()
    assert [change["status"] for change in detail["history"]] == ["CURRENTLY_RATED_HELPFUL"]
    assert "writer" not in str(detail)  # the alias is never shown with a note
    assert detail["url"] == f"/notes/{note_id}"


def test_ratings_replace_each_other_and_follow_the_rules(
    client: TestClient,
    post: dict[str, Any],
    make_reader: Any,
    accounts_by_role: dict[str, Account],
) -> None:
    writer = make_reader("writer", writes=True)
    rater = make_reader("rater", factor=-0.5)
    note_id = _write(client, post, writer).json()["id"]
    url = f"/api/v1/notes/{note_id}/rating"

    first = client.put(
        url, json={"helpfulness": "HELPFUL", "tags": ["helpfulGoodSources"]}, headers=rater.headers
    )
    assert first.status_code == 200, first.text
    second = client.put(
        url,
        json={"helpfulness": "NOT_HELPFUL", "tags": ["notHelpfulIncorrect"]},
        headers=rater.headers,
    )
    assert second.json()["helpfulness"] == "NOT_HELPFUL"
    detail = client.get(f"/api/v1/notes/{note_id}", headers=rater.headers).json()
    assert detail["my_rating"]["tags"] == ["notHelpfulIncorrect"]
    assert detail["helpful_by_side"] == {"negative": 0, "positive": 0, "unknown": 0}
    assert detail["not_helpful_by_side"] == {"negative": 1, "positive": 0, "unknown": 0}

    wrong_tag = client.put(
        url, json={"helpfulness": "HELPFUL", "tags": ["notHelpfulIncorrect"]}, headers=rater.headers
    )
    assert wrong_tag.status_code == 422
    unknown = client.put(url, json={"helpfulness": "MEH"}, headers=rater.headers)
    assert unknown.status_code == 422
    assert (
        client.put(url, json={"helpfulness": "HELPFUL"}, headers=writer.headers).status_code == 403
    )
    for role in ("admin", "editor"):
        staff = accounts_by_role[role]
        assert (
            client.put(url, json={"helpfulness": "HELPFUL"}, headers=staff.headers).status_code
            == 403
        )
    assert client.put(url, json={"helpfulness": "HELPFUL"}).status_code == 401


def test_the_author_deletes_a_note_only_while_it_never_had_a_status(
    client: TestClient, post: dict[str, Any], make_reader: Any, database: Database
) -> None:
    writer = make_reader("writer", writes=True)
    other = make_reader("stranger")
    note_id = _write(client, post, writer).json()["id"]
    assert client.delete(f"/api/v1/notes/{note_id}", headers=other.headers).status_code == 403
    assert client.delete(f"/api/v1/notes/{note_id}", headers=writer.headers).status_code == 204
    assert client.get(f"/api/v1/notes/{note_id}", headers=writer.headers).status_code == 404

    kept = _write(client, post, writer).json()["id"]
    with database.transaction() as session:
        session.add(NoteStatusChange(note_id=kept, status="CURRENTLY_RATED_HELPFUL"))
        session.add(NoteStatusChange(note_id=kept, status="NEEDS_MORE_RATINGS"))
    refused = client.delete(f"/api/v1/notes/{kept}", headers=writer.headers)
    assert refused.status_code == 409


def test_a_legal_removal_erases_the_text_says_why_and_leaves_the_page_live(
    client: TestClient,
    post: dict[str, Any],
    make_reader: Any,
    database: Database,
    accounts_by_role: dict[str, Account],
) -> None:
    writer = make_reader("writer", writes=True)
    note_id = _write(client, post, writer, text="SECRET defamatory claim").json()["id"]
    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        note.status = "CURRENTLY_RATED_HELPFUL"
    url = f"/api/v1/notes/{note_id}/removal"
    assert (
        client.post(
            url, json={"reason": "Court order"}, headers=accounts_by_role["editor"].headers
        ).status_code
        == 403
    )
    assert (
        client.post(url, json={"reason": ""}, headers=accounts_by_role["admin"].headers).status_code
        == 422
    )
    removed = client.post(
        url, json={"reason": "Court order 12/2026"}, headers=accounts_by_role["admin"].headers
    )
    assert removed.status_code == 200, removed.text
    public = client.get(f"/api/v1/notes/{note_id}").json()
    assert public["removed"] is True
    assert public["removed_reason"] == "Court order 12/2026"
    assert public["text"] == ""
    assert client.get(_notes_url(post)).json() == []
    with database.transaction(write=False) as session:
        log = session.scalars(select(Event).order_by(Event.seq)).all()
        assert log[-1].kind == "notes"
        assert log[-1].data == {"post_id": post["id"], "language": "en", "notes": []}
        assert "SECRET" not in repr([event.data for event in log])
        assert session.scalar(select(Note.text).where(Note.id == note_id)) == ""
    audit = client.get("/api/v1/audit", headers=accounts_by_role["admin"].headers).json()
    assert audit[0]["action"] == "notes.remove"


def test_needs_your_help_puts_first_the_notes_the_other_side_rated(
    client: TestClient, make_blog: Any, make_post: Any, make_reader: Any
) -> None:
    make_blog("storm")
    posts = [make_post(body=f"Post {n}.") for n in range(3)]
    writer = make_reader("writer", writes=True)
    left = make_reader("left", factor=-0.8)
    right = make_reader("right", factor=0.9)
    me = make_reader("me", factor=0.7)
    ids = [_write(client, p, writer).json()["id"] for p in posts]
    helpful = {"helpfulness": "HELPFUL"}
    client.put(f"/api/v1/notes/{ids[0]}/rating", json=helpful, headers=right.headers)
    client.put(f"/api/v1/notes/{ids[1]}/rating", json=helpful, headers=left.headers)
    client.put(f"/api/v1/notes/{ids[2]}/rating", json=helpful, headers=me.headers)  # rated

    order = [n["id"] for n in client.get("/api/v1/notes/needs-help", headers=me.headers).json()]
    assert order == [ids[1], ids[0]]  # the left-leaning raters' note first; not my own rated one
    mirror = [n["id"] for n in client.get("/api/v1/notes/needs-help", headers=left.headers).json()]
    assert mirror[0] == ids[0]
    assert ids[1] not in mirror
    assert client.get("/api/v1/notes/needs-help").status_code == 401
    assert client.get("/api/v1/notes/needs-help", headers=writer.headers).json() == []


def test_a_note_of_a_deleted_post_is_gone(
    client: TestClient, post: dict[str, Any], make_reader: Any, editor: Account, database: Database
) -> None:
    writer = make_reader("writer", writes=True)
    reader = make_reader("reader")
    note_id = _write(client, post, writer).json()["id"]
    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        note.status = "CURRENTLY_RATED_HELPFUL"
        assert session.scalar(select(User.role).where(User.username == "writer")) == "reader"
    deleted = client.delete(f"/api/v1/blogs/storm/posts/{post['id']}", headers=editor.headers)
    assert deleted.status_code == 200
    for headers in ({}, reader.headers, writer.headers):
        assert client.get(f"/api/v1/notes/{note_id}", headers=headers).status_code == 404


def test_notes_a_day_and_ratings_an_hour_are_limited_per_reader(
    client: TestClient, make_blog: Any, make_post: Any, make_reader: Any, database: Database
) -> None:
    from datetime import timedelta

    from liveticker.domain import notes as notes_domain
    from liveticker.domain.inputs import NoteCreate, RatingInput
    from liveticker.exceptions import RateLimited
    from liveticker.storage.models import Post, utcnow

    make_blog("storm")
    post_ids = [make_post(body=f"Post {n}.")["id"] for n in range(3)]
    writer = make_reader("writer", writes=True)
    rater = make_reader("rater")
    now = utcnow()
    with database.transaction() as session:
        actor = accounts.Actor.of(accounts.get_user(session, writer.username))
        rater_actor = accounts.Actor.of(accounts.get_user(session, rater.username))
        posts_ = [session.get(Post, post_id) for post_id in post_ids]
        note = NoteCreate(**GOOD_NOTE)
        written = [
            notes_domain.write_note(
                session,
                actor=actor,
                post=p,
                data=note,
                threshold=5,
                per_day=2,
                now=now - timedelta(hours=n),
            )
            for n, p in enumerate(posts_[:2])
            if p is not None
        ]
        with pytest.raises(RateLimited) as too_many:
            notes_domain.write_note(
                session, actor=actor, post=posts_[2], data=note, threshold=5, per_day=2, now=now
            )
        # The older of the two leaves the 24 hours in 23 hours.
        assert 23 * 3600 <= too_many.value.retry_after <= 23 * 3600 + 1
        helpful = RatingInput(helpfulness="HELPFUL")
        notes_domain.rate_note(
            session, actor=rater_actor, note=written[0], data=helpful, per_hour=1, now=now
        )
        with pytest.raises(RateLimited) as rated:
            notes_domain.rate_note(
                session, actor=rater_actor, note=written[1], data=helpful, per_hour=1, now=now
            )
        assert rated.value.retry_after == 3601
