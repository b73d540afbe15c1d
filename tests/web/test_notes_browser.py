"""Community notes in Debian's Chromium against a real server: a reader signs up, writes a
note on a post, another rates it, the box appears live on a page opened beforehand, and
rating works with JavaScript off (post and redirect); the note form's count in an Arabic
blog's plural forms."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain import accounts, notes
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, Note, NoteRating, NoteStatusChange, Post
from tests.web.conftest import PASSWORD, Site
from tests.web.test_browser import CHROMIUM
from tests.web.test_desk_browser import _shot
from tests.web.test_notes_languages import forget_catalogues, use_catalogue

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARABIC_CATEGORIES = ("zero", "one", "two", "few", "many", "other")  # gettext's order for ar
NOTE_TEXT = "The 40 million figure is from 2019; the operator now says 52 million."


def _sign_up(page: Any, url: str, alias: str, next_path: str) -> None:
    page.goto(f"{url}/signup?next={next_path}")
    page.get_by_label("Alias").fill(alias)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url(f"{url}{next_path}")


def _record_helpful(database: Database, note_id: int) -> None:
    """What a scoring run records when a note turns Helpful (domain.notes_run does it for
    real; its end-to-end browser test comes with it)."""
    with database.transaction() as session:
        note = session.get(Note, note_id)
        assert note is not None
        note.status = notes.HELPFUL
        note.intercept, note.factor = 0.47, 0.12
        note.decided_by, note.rules = "GeneralCRH", ["InitialNMR", "GeneralCRH"]
        session.add(NoteStatusChange(note_id=note_id, status=notes.HELPFUL))
        session.flush()
        notes.notes_changed(session, post=note.post)


def test_a_note_from_sign_up_to_the_live_box(chromium: Any, site: Site) -> None:
    url = site.url
    api = httpx.Client(base_url=url, headers=site.editor, timeout=10)
    assert api.post("/api/v1/blogs", json={"slug": "dam", "title": "The dam: live"}).is_success
    assert api.post("/api/v1/blogs/dam/publish").is_success
    post = api.post(
        "/api/v1/blogs/dam/posts",
        json={"headline": "The dam holds", "body": "The dam holds 40 million cubic metres."},
    ).json()
    notes_path = f"/blogs/dam/posts/{post['id']}/notes"
    contexts = []

    def context(**options: Any) -> Any:
        made = chromium.new_context(**options)
        contexts.append(made)
        return made

    try:
        # A reader's page, open before anything happens; it must never reload.
        watcher = context(viewport=DESKTOP).new_page()
        errors: list[str] = []
        watcher.on("pageerror", lambda error: errors.append(str(error)))
        watcher.goto(f"{url}/blogs/dam")
        watcher.evaluate("window.openedBefore = true")
        for _ in range(100):  # until its stream is open
            if api.get("/api/v1/status").json()["live_readers"] >= 1:
                break
            watcher.wait_for_timeout(50)
        assert watcher.locator(f"#post-{post['id']} aside.notes").count() == 0

        # A reader signs up from the post's notes page, and may not write yet.
        writer = context(viewport=PHONE).new_page()
        writer.goto(f"{url}/blogs/dam")
        writer.locator(f"#post-{post['id']}").get_by_role("link", name="Notes").click()
        writer.wait_for_url(f"{url}{notes_path}")
        writer.locator("#write").get_by_role("link", name="create a reader's account").click()
        writer.get_by_label("Alias").fill("river-watcher")
        writer.get_by_label("Password", exact=True).fill(PASSWORD)
        writer.get_by_label("Password again").fill(PASSWORD)
        _shot(writer, "notes-signup-phone")
        writer.get_by_role("button", name="Create the account").click()
        writer.wait_for_url(f"{url}{notes_path}")
        assert "Rating impact 0 of 5" in writer.locator("#write").inner_text()
        _shot(writer, "notes-post-cannot-write-phone")

        # An admin lets them write (the API's grant); they write through the form.
        granted = httpx.put(
            f"{url}/api/v1/readers/river-watcher/writing",
            json={"granted": True},
            headers=site.admin,
        )
        assert granted.status_code == 200, granted.text
        writer.reload()
        writer.get_by_label("The post is misinformed or potentially misleading").check()
        writer.get_by_label("It contains outdated information that may be misleading").check()
        writer.get_by_label("Your note").fill(NOTE_TEXT)
        assert (
            writer.locator("#f-text-count").inner_text()
            == f"{280 - len(NOTE_TEXT)} characters left."
        )
        writer.get_by_label("Source links").fill("https://example.org/dam-2026")
        _shot(writer, "notes-write-phone")
        writer.get_by_role("button", name="Send your note").click()
        writer.wait_for_url(re.compile(r".*/notes/\d+\?done=written$"))
        note_id = int(writer.url.split("/notes/")[1].split("?")[0])
        assert "Your note is saved" in writer.locator("[role=status]").inner_text()
        assert "This is your note" in writer.locator("#rate").inner_text()

        # Another reader rates it on the note's page.
        rater = context(viewport=DESKTOP).new_page()
        _sign_up(rater, url, "hill-walker", f"/notes/{note_id}")
        rater.get_by_label("Helpful", exact=True).check()
        rater.get_by_label("Cites high-quality sources").check()
        _shot(rater, "notes-rate-desktop")
        rater.get_by_role("button", name="Send your rating").click()
        rater.wait_for_url(f"{url}/notes/{note_id}?done=rated#rate")
        assert "your rating is saved" in rater.locator("[role=status]").inner_text()
        assert rater.get_by_label("Helpful", exact=True).is_checked()
        assert rater.get_by_label("Cites high-quality sources").is_checked()

        # The scoring run finds it helpful: the open page shows the box, without a reload.
        _record_helpful(site.database, note_id)
        box = watcher.locator(f"#post-{post['id']} aside.notes")
        box.wait_for(timeout=5000)
        assert NOTE_TEXT in box.inner_text()
        assert (
            box.get_by_role("link", name="Rate it").get_attribute("href")
            == f"/notes/{note_id}#rate"
        )
        assert watcher.evaluate("window.openedBefore") is True
        watcher.wait_for_function(
            "() => document.getElementById('live-announcer').textContent"
            " === 'Readers added context to a post'"
        )
        # An edit of the post replaces its article and keeps the box.
        api.patch(
            f"/api/v1/blogs/dam/posts/{post['id']}",
            json={"body": "The dam holds 40 million cubic metres, the mayor said."},
        )
        watcher.wait_for_function(
            f"() => document.querySelector('#post-{post['id']} .post-body')"
            ".textContent.includes('mayor')"
        )
        assert watcher.locator(f"#post-{post['id']} aside.notes").count() == 1
        _shot(watcher, "notes-box-live-desktop")

        phone = context(viewport=PHONE).new_page()
        phone.goto(f"{url}/blogs/dam")
        assert phone.locator(f"#post-{post['id']} aside.notes").is_visible()
        _shot(phone, "notes-box-phone")
        phone.goto(f"{url}/notes/{note_id}")
        assert "intercept 0.47 ≥ 0.40" in phone.locator("#why").inner_text()
        _shot(phone, "notes-note-phone")

        # Removed for legal reasons: the box goes from the open page, still without a reload.
        removed = httpx.post(
            f"{url}/api/v1/notes/{note_id}/removal",
            json={"reason": "A court order"},
            headers=site.admin,
        )
        assert removed.status_code == 200, removed.text
        watcher.locator(f"#post-{post['id']} aside.notes").wait_for(state="detached", timeout=5000)
        assert watcher.evaluate("window.openedBefore") is True
        assert errors == []
    finally:
        for made in contexts:
            made.close()
        api.close()


def post_blog(session: Session, post_id: int) -> int:
    post = session.get(Post, post_id)
    assert post is not None
    return post.blog_id


def test_rating_without_javascript_posts_and_redirects(chromium: Any, site: Site) -> None:
    api = httpx.Client(base_url=site.url, headers=site.editor, timeout=10)
    assert api.post("/api/v1/blogs", json={"slug": "quiet", "title": "Quiet"}).is_success
    assert api.post("/api/v1/blogs/quiet/publish").is_success
    post = api.post("/api/v1/blogs/quiet/posts", json={"body": "Roads are closed."}).json()
    api.close()
    with site.database.transaction() as session:
        author = accounts.create_user(session, username="author", password=PASSWORD, role="reader")
        author.participant_id = "Pauthor"
        session.flush()
        note = Note(
            post_id=post["id"],
            blog_id=post_blog(session, post["id"]),
            author_id=author.id,
            classification="NOT_MISLEADING",
            reasons=["notMisleadingFactuallyCorrect"],
            text="Correct: the police confirm the closures.",
            sources=[],
        )
        session.add(note)
        session.flush()
        note_id = note.id
    context = chromium.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        _sign_up(page, site.url, "no-script", f"/notes/{note_id}")
        # Nothing chosen: the server says so next to the field, and keeps the ticked tag.
        page.get_by_label("Sources not included or unreliable").check()
        page.get_by_role("button", name="Send your rating").click()
        page.wait_for_load_state()
        assert (
            "Choose Helpful, Somewhat helpful or Not helpful"
            in page.locator("#helpfulness-error").inner_text()
        )
        assert page.get_by_label("Sources not included or unreliable").is_checked()
        _shot(page, "notes-rate-error-nojs-desktop")
        page.get_by_label("Not helpful", exact=True).check()
        page.get_by_role("button", name="Send your rating").click()
        page.wait_for_url(f"{site.url}/notes/{note_id}?done=rated#rate")
        assert page.get_by_label("Not helpful", exact=True).is_checked()
        assert "Change your rating" in page.locator("#rate").inner_text()
    finally:
        context.close()
    with site.database.transaction() as session:
        rating = session.scalars(select(NoteRating).where(NoteRating.note_id == note_id)).one()
        assert (rating.helpfulness, rating.tags) == (
            "NOT_HELPFUL",
            ["notHelpfulSourcesMissingOrUnreliable"],
        )


def test_the_note_forms_count_picks_the_pages_plural_forms(
    chromium: Any, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an Arabic blog (a test-only catalogue with all six plural forms) the count says
    the form Intl.PluralRules picks for each number, as the server wrote it out."""
    forms = tuple(f"{category}:%(n)s" for category in ARABIC_CATEGORIES)
    plural = ("%(n)s character left.", "%(n)s characters left.")
    use_catalogue(monkeypatch, tmp_path, "ar", {}, {plural: forms})
    with httpx.Client(base_url=site.url, headers=site.editor, timeout=10) as api:
        assert api.post("/api/v1/blogs", json={"slug": "sadd", "title": "السد"}).is_success
        assert api.post("/api/v1/blogs/sadd/publish").is_success
        post = api.post("/api/v1/blogs/sadd/posts", json={"body": "السد صامد."}).json()
    with site.database.transaction() as session:
        blog = session.scalar(select(Blog).where(Blog.slug == "sadd"))
        assert blog is not None
        blog.language = "ar"
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        path = f"/blogs/sadd/posts/{post['id']}/notes"
        _sign_up(page, site.url, "qari", path)
        granted = httpx.put(
            f"{site.url}/api/v1/readers/qari/writing", json={"granted": True}, headers=site.admin
        )
        assert granted.status_code == 200, granted.text
        page.reload()
        count = page.locator("#f-text-count")
        assert count.inner_text() == "many:280"  # 280 % 100 is 80: "many" in Arabic
        for length, shown in ((278, "two:2"), (279, "one:1"), (275, "few:5"), (280, "zero:0")):
            page.get_by_label("Your note").fill("س" * length)
            assert count.inner_text() == shown
        _shot(page, "notes-write-arabic-phone")
    finally:
        context.close()
        forget_catalogues()
