"""The whole community-notes loop in Debian's Chromium: readers of two opinion camps rate
a note (the last of them in the browser), the server's scoring run decides, and once the
clock is past stabilization the note appears under its post on a page opened before —
without a reload — while a note only one camp likes never does; the note's page says why.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from liveticker.domain import accounts, blogs, notes, posts
from liveticker.domain.inputs import BlogCreate, NoteCreate, PostCreate, RatingInput
from liveticker.live.notes_runner import run_once
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Post, utcnow
from tests.web.conftest import PASSWORD, Site
from tests.web.test_browser import CHROMIUM
from tests.web.test_desk_browser import _shot
from tests.web.test_notes_browser import DESKTOP, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

MISLEADING = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
STABLE = 31 * 60 * 1000  # past the 30 minutes a Helpful note must hold before it shows
TAGS = {
    "HELPFUL": ["helpfulClear", "helpfulGoodSources"],
    "NOT_HELPFUL": ["notHelpfulIncorrect", "notHelpfulSourcesMissingOrUnreliable"],
}
# How each camp rated the notes of the community's past: its own side's, the other side's,
# notes both found helpful, notes both found wrong.
PAST = {"left": ("HELPFUL", "NOT_HELPFUL"), "right": ("NOT_HELPFUL", "HELPFUL")}
PAST |= {"both": ("HELPFUL", "HELPFUL"), "wrong": ("NOT_HELPFUL", "NOT_HELPFUL")}
PAST_KINDS = ["left"] * 4 + ["right"] * 4 + ["both"] * 3 + ["wrong"] * 3


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _note(text: str) -> NoteCreate:
    return NoteCreate(
        classification=MISLEADING,
        reasons=["misleadingMissingImportantContext"],
        text=text,
        sources=["https://example.org/returns"],
    )


def _rating(level: str) -> RatingInput:
    return RatingInput(helpfulness=level, tags=TAGS[level])


@dataclass(frozen=True)
class Story:
    slug: str
    bridging_post: int
    bridging_note: int
    one_sided_post: int
    one_sided_note: int
    last_rater: str  # of the right camp: rates the bridging note in the browser


def _community(database: Database, settings: Settings) -> Story:
    """Two camps of six readers with a day of rating history that the scorer has seen (so
    it knows their viewpoints), then the story's two new notes, rated by all but one."""
    now = utcnow()
    start = now - timedelta(hours=30)
    with database.transaction() as session:
        admin = accounts.Actor.of(accounts.get_user(session, "chief"))
        blog = blogs.create_blog(
            session,
            actor=admin,
            data=BlogCreate(slug="vote-count", title="Vote count"),
            default_language="en",
        )
        blogs.publish_blog(session, actor=admin, blog=blog)

        def reader(alias: str, *, writes: bool = False) -> accounts.Actor:
            user = accounts.create_user(session, username=alias, password=PASSWORD, role="reader")
            user.participant_id = alias.upper()
            user.writing_granted = writes
            user.created_at = start - timedelta(days=5)
            return accounts.Actor.of(user)

        def post(body: str) -> Post:
            return posts.create_post(session, actor=admin, blog=blog, data=PostCreate(body=body))

        camps = [[reader(f"{side}-{n}") for n in range(6)] for side in ("left", "right")]
        past = []
        for n in range(len(PAST_KINDS)):
            author = reader(f"author-{n}", writes=True)
            past.append(
                notes.write_note(
                    session,
                    actor=author,
                    post=post(f"Earlier claim {n}."),
                    data=_note(f"Earlier context {n}."),
                    threshold=5,
                    per_day=10,
                    now=start,
                )
            )
        for c, camp in enumerate(camps):
            for r, rater in enumerate(camp):
                for n, note in enumerate(past):
                    # One rater at a time, hours apart from the others: an ordinary day.
                    moment = start + timedelta(minutes=5 * ((c * 6 + r) * len(past) + n))
                    level = PAST[PAST_KINDS[n]][c]
                    notes.rate_note(
                        session,
                        actor=rater,
                        note=note,
                        data=_rating(level),
                        per_hour=999,
                        now=moment,
                    )
    earlier = _millis(now - timedelta(hours=2))
    run_once(database, settings=settings, now_millis=earlier, force=True)
    run_once(database, settings=settings, now_millis=earlier + STABLE, force=True)

    with database.transaction() as session:
        blog = blogs.get_blog(session, slug="vote-count", actor=None)
        admin = accounts.Actor.of(accounts.get_user(session, "chief"))
        left, right = (
            [accounts.Actor.of(accounts.get_user(session, f"{side}-{n}")) for n in range(6)]
            for side in ("left", "right")
        )
        written = now - timedelta(hours=1)
        bridging_post = posts.create_post(
            session, actor=admin, blog=blog, data=PostCreate(body="Turnout was 48 per cent.")
        )
        one_sided_post = posts.create_post(
            session, actor=admin, blog=blog, data=PostCreate(body="The count was delayed.")
        )
        bridging = notes.write_note(
            session,
            actor=reader("author-bridging", writes=True),
            post=bridging_post,
            data=_note("Postal votes are not in yet; the final turnout will be higher."),
            threshold=5,
            per_day=10,
            now=written,
        )
        one_sided = notes.write_note(
            session,
            actor=reader("author-one-sided", writes=True),
            post=one_sided_post,
            data=_note("The delay was planned to change the result."),
            threshold=5,
            per_day=10,
            now=written,
        )
        for c, camp in enumerate((left, right)):
            for r, rater in enumerate(camp):
                moment = written + timedelta(minutes=3 * (c * 6 + r + 1))
                if not (c == 1 and r == 5):  # the last one rates in the browser
                    notes.rate_note(
                        session,
                        actor=rater,
                        note=bridging,
                        data=_rating("HELPFUL"),
                        per_hour=999,
                        now=moment,
                    )
                level = "HELPFUL" if c == 0 else "NOT_HELPFUL"
                notes.rate_note(
                    session,
                    actor=rater,
                    note=one_sided,
                    data=_rating(level),
                    per_hour=999,
                    now=moment,
                )
        return Story(
            slug="vote-count",
            bridging_post=bridging_post.id,
            bridging_note=bridging.id,
            one_sided_post=one_sided_post.id,
            one_sided_note=one_sided.id,
            last_rater="right-5",
        )


@pytest.fixture(scope="module")
def story(site: Site) -> tuple[Story, Settings]:
    settings = Settings(database_url=site.database.url, notes_min_account_age_seconds=0)
    return _community(site.database, settings), settings


def test_a_note_both_camps_rate_helpful_appears_live_and_a_one_sided_one_never(
    chromium: Any, site: Site, story: tuple[Story, Settings]
) -> None:
    plot, settings = story
    url = site.url
    reader_context = chromium.new_context(viewport=DESKTOP)
    rater_context = chromium.new_context(viewport=DESKTOP)
    phone_context = chromium.new_context(viewport=PHONE)
    try:
        watcher = reader_context.new_page()
        watcher.goto(f"{url}/blogs/{plot.slug}")
        watcher.evaluate("window.notReloaded = true")
        bridging_box = watcher.locator(f"#post-{plot.bridging_post} aside.notes")
        one_sided_box = watcher.locator(f"#post-{plot.one_sided_post} aside.notes")
        assert bridging_box.count() == 0

        # The last rater of the right camp rates the bridging note on its page.
        rater = rater_context.new_page()
        rater.goto(f"{url}/login?next=/notes/{plot.bridging_note}")
        rater.get_by_label("Alias").fill(plot.last_rater)
        rater.get_by_label("Password").fill(PASSWORD)
        rater.get_by_role("button", name="Sign in").click()
        rater.wait_for_url(f"{url}/notes/{plot.bridging_note}")
        rater.get_by_label("Helpful", exact=True).check()
        rater.get_by_label("Cites high-quality sources").check()
        rater.get_by_role("button", name="Send your rating").click()
        rater.wait_for_url(f"{url}/notes/{plot.bridging_note}?done=rated#rate")

        # The run right after the ratings: Helpful, but not shown until it has held.
        now = _millis(utcnow())
        first = run_once(site.database, settings=settings, now_millis=now)
        assert first.ran, first.summary()
        watcher.wait_for_timeout(1000)
        assert bridging_box.count() == 0

        # Half an hour later by the scorer's clock: it shows, live, under its post only.
        later = run_once(site.database, settings=settings, now_millis=now + STABLE)
        assert later.ran, later.summary()
        assert later.posts == 1, later.summary()
        bridging_box.wait_for(timeout=5000)
        assert "Postal votes are not in yet" in bridging_box.inner_text()
        assert one_sided_box.count() == 0
        assert watcher.evaluate("window.notReloaded === true")
        _shot(watcher, "notes-scored-desktop")

        # A reader arriving now sees the same, and the note's page says why.
        phone = phone_context.new_page()
        phone.goto(f"{url}/blogs/{plot.slug}#post-{plot.bridging_post}")
        box = phone.locator(f"#post-{plot.bridging_post} aside.notes")
        assert box.is_visible()
        assert phone.locator(f"#post-{plot.one_sided_post} aside.notes").count() == 0
        box.get_by_role("link", name=re.compile("Why is this shown")).click()
        phone.wait_for_url(re.compile(rf".*/notes/{plot.bridging_note}.*"))
        why = phone.locator("#why").inner_text()
        assert re.search(r"intercept 0\.\d\d ≥ 0\.40", why), why
        assert "people who usually disagree" in why, why
        _shot(phone, "notes-why-phone")
        gone = phone_context.request.get(f"{url}/notes/{plot.one_sided_note}")
        assert gone.status == 404  # the public sees only notes that are shown
    finally:
        reader_context.close()
        rater_context.close()
        phone_context.close()
