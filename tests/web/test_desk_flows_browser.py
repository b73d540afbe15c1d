"""The desk's everyday flows in Debian's Chromium against a real server, each checked on an
open reader page (no reload) and on the desk: editing and deleting a post, pinning, key
points, a scheduled post, the review queue, and two editors saving the same post."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import ADMIN_PASSWORD, LiveServer
from tests.web.test_browser import CHROMIUM
from tests.web.test_desk_browser import _new_live_blog, _shot, _sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

EDITOR, EDITOR_PASSWORD = "desk", "correct horse battery"
CONTRIBUTOR, CONTRIBUTOR_PASSWORD = "stringer", "stringer's long password"
SECOND_EDITOR, SECOND_EDITOR_PASSWORD = "nightdesk", "night desk's long password"
WAIT = 15_000  # ms: the longest any single step may take
LIVE = 10_000  # ms: a reader page gets a change pushed at once; this is generous


@pytest.fixture(scope="module")
def staff(chromium: Any, live_server: LiveServer) -> None:
    """A contributor and a second editor, made by the admin on the desk's Users page (the
    shared server does not hand out its database)."""
    context = _context(chromium)
    try:
        page = context.new_page()
        _sign_in(page, live_server.url, "chief", ADMIN_PASSWORD)
        for username, name, role, password in (
            (CONTRIBUTOR, "Sam Stringer", "contributor", CONTRIBUTOR_PASSWORD),
            (SECOND_EDITOR, "Night Desk", "editor", SECOND_EDITOR_PASSWORD),
        ):
            page.goto(f"{live_server.url}/desk/users")
            page.get_by_label("Username", exact=True).fill(username)
            page.get_by_label("Name shown with posts").fill(name)
            page.get_by_label("Role", exact=True).select_option(role)
            page.get_by_label("First password").fill(password)
            page.get_by_role("button", name="Create account").click()
            page.wait_for_url(f"{live_server.url}/desk/users?done=created")
    finally:
        context.close()


def _context(chromium: Any, **options: Any) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(WAIT)
    return context


def _add_member(live_server: LiveServer, slug: str, username: str) -> None:
    """The desk has no team page: the blog's creator adds members through the API."""
    answer = httpx.post(
        f"{live_server.url}/api/v1/blogs/{slug}/members",
        json={"username": username},
        headers=live_server.headers,
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


def _editor_with_blog(chromium: Any, url: str, title: str, slug: str) -> tuple[Any, Any]:
    """A signed-in editor's context and page, on the desk of a new live blog."""
    context = _context(chromium)
    page = context.new_page()
    _sign_in(page, url, EDITOR, EDITOR_PASSWORD)
    page.goto(f"{url}/desk")
    _new_live_blog(page, url, title, slug)
    return context, page


def _publish(page: Any, url: str, slug: str, headline: str, body: str) -> int:
    """Publish from the composer; the desk id of the new post."""
    page.get_by_label("Headline").fill(headline)
    page.get_by_label("Text", exact=True).fill(body)
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(f"{url}/desk/blogs/{slug}?done=published#composer")
    return _desk_post_id(page, headline)


def _desk_post_id(page: Any, headline: str) -> int:
    item = page.locator("li[id^=desk-post-]").filter(has_text=headline)
    expect(item).to_have_count(1)
    return int(str(item.get_attribute("id")).removeprefix("desk-post-"))


def _open_reader(context: Any, url: str, slug: str) -> Any:
    """The blog's reader page, marked so that a reload would show (the mark would go)."""
    page = context.new_page()
    page.goto(f"{url}/blogs/{slug}")
    page.evaluate("window.notReloaded = true")
    return page


def _not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.notReloaded === true"))


def test_a_post_edited_in_place_then_deleted_with_a_reason(
    chromium: Any, live_server: LiveServer
) -> None:
    url, slug = live_server.url, "bridge-edit"
    desk, page = _editor_with_blog(chromium, url, "Bridge works", slug)
    reader = _context(chromium)
    try:
        post_id = _publish(page, url, slug, "Bridge closed", "The old bridge is closed.")
        readers = _open_reader(reader, url, slug)
        article = readers.locator(f"#post-{post_id}")
        expect(article).to_contain_text("The old bridge is closed.")

        page.get_by_role("link", name=f"Edit post {post_id}", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}/posts/{post_id}")
        assert page.get_by_label("Headline").input_value() == "Bridge closed"
        page.get_by_label("Headline").fill("Bridge reopens")
        page.get_by_label("Text", exact=True).fill("The old bridge is **open** again.")
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=saved#desk-post-{post_id}")
        expect(page.locator(f"#desk-post-{post_id}")).to_contain_text("Bridge reopens")

        # The same article, changed where it stands: the edit, never a second copy.
        expect(article.get_by_role("heading", name="Bridge reopens")).to_be_visible(timeout=LIVE)
        expect(article.locator(".post-body strong")).to_have_text("open")
        expect(readers.get_by_text("Bridge closed")).to_have_count(0)
        expect(readers.locator("[role=feed] > article")).to_have_count(1)

        page.get_by_label(f"Why delete post {post_id}", exact=True).fill("Wrong bridge named")
        page.get_by_role("button", name=f"Delete post {post_id}", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=delete#desk-post-{post_id}")
        expect(page.locator(f"#desk-post-{post_id}")).to_have_count(0)
        expect(page.get_by_text("No post is published yet.")).to_be_visible()

        expect(article).to_have_count(0, timeout=LIVE)
        expect(readers.locator("[role=feed] > article")).to_have_count(0)
        # The page opened with the post: its end now says there is none, not "the first".
        expect(readers.get_by_text("No updates yet.")).to_be_visible()
        expect(readers.get_by_text("You have reached the first update.")).to_be_hidden()
        assert _not_reloaded(readers)

        # The reason stays with the post's history on the desk.
        page.goto(f"{url}/desk/blogs/{slug}/posts/{post_id}")
        expect(page.get_by_role("heading", name="Edit post deleted")).to_be_visible()
        deleted = page.locator(".history > li").filter(has_text="deleted by")
        expect(deleted).to_contain_text("Wrong bridge named")
        _shot(page, "desk-flows-deleted-history")
    finally:
        desk.close()
        reader.close()


def test_pin_and_unpin_a_post(chromium: Any, live_server: LiveServer) -> None:
    url, slug = live_server.url, "pin-flow"
    desk, page = _editor_with_blog(chromium, url, "Evacuation", slug)
    reader = _context(chromium)
    try:
        older = _publish(page, url, slug, "Where to go", "Shelters are open at the schools.")
        newer = _publish(page, url, slug, "Trains stopped", "No trains run this evening.")
        readers = _open_reader(reader, url, slug)
        feed = readers.locator("[role=feed] > article")
        expect(feed.first).to_have_id(f"post-{newer}")  # newest first

        page.get_by_role("button", name=f"Pin post {older}", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=pin#desk-post-{older}")
        expect(page.get_by_text("The post is pinned.")).to_be_visible()
        pinned_on_desk = page.locator(f"#desk-post-{older}")
        expect(pinned_on_desk).to_have_class(re.compile(r"\bpinned\b"))
        expect(pinned_on_desk.locator(".post-meta")).to_contain_text("pinned")
        expect(page.get_by_role("button", name=f"Unpin post {older}", exact=True)).to_be_visible()

        # Readers see it above the newer post, with its badge.
        expect(feed.first).to_have_id(f"post-{older}", timeout=LIVE)
        expect(feed.first).to_have_class(re.compile(r"\bpinned\b"))
        expect(feed.first.locator(".badge.pinned")).to_have_text("Pinned")
        expect(readers.locator(f"#post-{newer} .badge.pinned")).to_have_count(0)
        _shot(readers, "desk-flows-pinned-reader")

        page.get_by_role("button", name=f"Unpin post {older}", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=unpin#desk-post-{older}")
        expect(page.get_by_text("The post is no longer pinned.")).to_be_visible()
        expect(page.locator(f"#desk-post-{older}")).not_to_have_class(re.compile(r"\bpinned\b"))
        expect(page.get_by_role("button", name=f"Pin post {older}", exact=True)).to_be_visible()

        expect(feed.first).to_have_id(f"post-{newer}", timeout=LIVE)  # back in time order
        expect(readers.locator(".badge.pinned")).to_have_count(0)
        expect(readers.locator("article.pinned")).to_have_count(0)
        expect(feed).to_have_count(2)
        assert _not_reloaded(readers)
    finally:
        desk.close()
        reader.close()


def test_key_points_edited_on_the_desk_reach_readers(
    chromium: Any, live_server: LiveServer
) -> None:
    url, slug = live_server.url, "key-points-flow"
    desk, page = _editor_with_blog(chromium, url, "Heatwave", slug)
    reader = _context(chromium)
    try:
        readers = _open_reader(reader, url, slug)
        box = readers.get_by_role("region", name="What you need to know")
        expect(box).to_have_count(0)  # no key points yet

        editor = page.get_by_label("One point a line (Markdown)")
        editor.fill("Drink **water** often\n\nSchools close at noon\n")
        page.get_by_role("button", name="Save key points").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-key-points")
        expect(page.get_by_text("The key points are saved.")).to_be_visible()

        expect(box).to_be_visible(timeout=LIVE)
        expect(box.get_by_role("listitem")).to_have_text(
            ["Drink water often", "Schools close at noon"]
        )
        expect(box.locator("li strong")).to_have_text("water")  # Markdown, rendered

        editor.fill("Schools close at 11:00\nPools stay open late")
        page.get_by_role("button", name="Save key points").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-key-points")
        expect(box.get_by_role("listitem")).to_have_text(
            ["Schools close at 11:00", "Pools stay open late"], timeout=LIVE
        )

        editor.fill("")  # no key points: the box goes
        page.get_by_role("button", name="Save key points").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-key-points")
        expect(box).to_have_count(0, timeout=LIVE)
        assert _not_reloaded(readers)
        _shot(readers, "desk-flows-key-points-reader")
    finally:
        desk.close()
        reader.close()


def test_the_key_points_and_settings_editors_open_with_what_is_saved(
    chromium: Any, live_server: LiveServer
) -> None:
    url, slug = live_server.url, "key-points-kept"
    desk, page = _editor_with_blog(chromium, url, "Cold snap", slug)
    try:
        editor = page.get_by_label("One point a line (Markdown)")
        editor.fill("Roads are icy\nBuses run late")
        page.get_by_role("button", name="Save key points").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-key-points")
        # Changing one point must not mean typing all the others again.
        expect(editor).to_have_value("Roads are icy\nBuses run late")
        page.get_by_label("Standfirst").fill("Frost until Friday.")
        page.locator("#f-closing_message").fill("Coverage continues tomorrow.")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-settings")
        # Saving the settings again must not wipe what the boxes failed to show.
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-settings")
        expect(page.get_by_label("Standfirst")).to_have_value("Frost until Friday.")
        expect(page.locator("#f-closing_message")).to_have_value("Coverage continues tomorrow.")
    finally:
        desk.close()


@pytest.mark.slow
def test_a_scheduled_post_reaches_an_open_reader_page_at_its_time(
    chromium: Any, live_server: LiveServer
) -> None:
    url, slug = live_server.url, "scheduled-flow"
    # The field is read as UTC whatever the desk's own time zone is (its label says so).
    desk = _context(chromium, timezone_id="America/New_York")
    reader = _context(chromium)
    try:
        page = desk.new_page()
        _sign_in(page, url, EDITOR, EDITOR_PASSWORD)
        page.goto(f"{url}/desk")
        _new_live_blog(page, url, "Election night", slug)
        readers = _open_reader(reader, url, slug)

        # The field takes whole minutes (a datetime-local's default step), so the post is
        # due at the next full minute that leaves time to fill in and send the form.
        now = datetime.now(UTC)
        due = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if due - now < timedelta(seconds=8):
            due += timedelta(minutes=1)
        page.get_by_label("Headline").fill("First results")
        page.get_by_label("Text", exact=True).fill("The first district has counted.")
        page.get_by_label("Publish at (UTC), to schedule").fill(due.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Schedule", exact=True).click()
        page.wait_for_url(f"{url}/desk/blogs/{slug}?done=scheduled#composer")
        expect(page.get_by_text("The post is scheduled.")).to_be_visible()
        post_id = _desk_post_id(page, "First results")
        queued = page.locator(f"#desk-post-{post_id}")
        expect(queued.locator(".badge")).to_have_text("scheduled")
        expect(queued).to_contain_text(due.strftime("%d %b %Y, %H:%M UTC"))
        expect(page.get_by_text("No post is published yet.")).to_be_visible()

        article = readers.locator(f"#post-{post_id}")
        assert article.count() == 0
        # Not early: still absent just before its time (it would have been pushed).
        readers.wait_for_timeout(max(0.0, (due - datetime.now(UTC)).total_seconds() - 2) * 1000)
        assert datetime.now(UTC) < due
        assert article.count() == 0
        assert readers.get_by_text("No updates yet.").is_visible()

        expect(article).to_be_visible(timeout=20_000)
        assert datetime.now(UTC) >= due
        expect(article.get_by_role("heading", name="First results")).to_be_visible()
        published = datetime.fromisoformat(str(article.locator("time").get_attribute("datetime")))
        assert due <= published < due + timedelta(seconds=15)
        expect(readers.get_by_text("No updates yet.")).to_be_hidden()
        assert _not_reloaded(readers)

        page.goto(f"{url}/desk/blogs/{slug}")
        expect(page.locator(".desk-stream").locator(f"#desk-post-{post_id}")).to_be_visible()
        expect(page.get_by_role("heading", name="Drafts and scheduled posts")).to_have_count(0)
    finally:
        desk.close()
        reader.close()


@pytest.mark.usefixtures("staff")
def test_a_contributors_posts_go_through_the_review_queue(
    chromium: Any, live_server: LiveServer
) -> None:
    url, slug = live_server.url, "review-flow"
    desk, editor = _editor_with_blog(chromium, url, "Flood watch", slug)
    _add_member(live_server, slug, CONTRIBUTOR)
    writer = _context(chromium)
    reader = _context(chromium)
    try:
        mine = writer.new_page()
        _sign_in(mine, url, CONTRIBUTOR, CONTRIBUTOR_PASSWORD)
        mine.goto(f"{url}/desk/blogs/{slug}")
        expect(mine.get_by_role("button", name="Publish now")).to_have_count(0)
        for headline, body in (
            ("Levee holds", "The levee at Eastfield is holding."),
            ("Water at the dam", "Water is going over the top."),
        ):
            mine.get_by_label("Headline").fill(headline)
            mine.get_by_label("Text", exact=True).fill(body)
            mine.get_by_role("button", name="Submit for review").click()
            mine.wait_for_url(f"{url}/desk/blogs/{slug}?done=submitted#composer")
        waiting = mine.get_by_role("heading", name="Waiting for review")
        expect(waiting.locator(".badge")).to_have_text("2")
        levee = _desk_post_id(mine, "Levee holds")
        dam = _desk_post_id(mine, "Water at the dam")

        readers = _open_reader(reader, url, slug)
        expect(readers.get_by_text("No updates yet.")).to_be_visible()
        expect(readers.locator("[role=feed] > article")).to_have_count(0)

        editor.goto(f"{url}/desk/blogs/{slug}")
        queue = editor.get_by_role("heading", name="Review queue")
        expect(queue).to_be_visible()
        expect(queue.locator(".badge")).to_have_text("2")
        for post_id in (levee, dam):
            expect(editor.locator(f".queue #desk-post-{post_id}")).to_contain_text(
                "by Sam Stringer"
            )
        _shot(editor, "desk-flows-review-queue")

        editor.get_by_role("button", name=f"Publish post {levee}", exact=True).click()
        editor.wait_for_url(f"{url}/desk/blogs/{slug}?done=publish#desk-post-{levee}")
        expect(queue.locator(".badge")).to_have_text("1")
        expect(readers.locator(f"#post-{levee}")).to_contain_text("Levee holds", timeout=LIVE)
        expect(readers.locator(f"#post-{levee}")).to_contain_text("By Sam Stringer")

        editor.get_by_label(f"What to change in post {dam}", exact=True).fill("Which dam? Name it.")
        editor.get_by_role("button", name=f"Return post {dam}", exact=True).click()
        editor.wait_for_url(f"{url}/desk/blogs/{slug}?done=return#desk-post-{dam}")
        expect(editor.get_by_role("heading", name="Review queue")).to_have_count(0)

        mine.goto(f"{url}/desk/blogs/{slug}")
        returned = mine.locator(f"#desk-post-{dam}")
        expect(returned.locator(".badge")).to_have_text("draft")
        expect(returned).to_contain_text("Returned by the editor: Which dam? Name it.")
        returned.get_by_role("link", name="Water at the dam").click()
        mine.wait_for_url(f"{url}/desk/blogs/{slug}/posts/{dam}")
        mine.get_by_label("Headline").fill("Water at the Elde dam")
        mine.get_by_role("button", name="Save", exact=True).click()
        mine.wait_for_url(f"{url}/desk/blogs/{slug}?done=saved#desk-post-{dam}")
        mine.get_by_role("button", name=f"Submit for review post {dam}", exact=True).click()
        mine.wait_for_url(f"{url}/desk/blogs/{slug}?done=submit#desk-post-{dam}")
        expect(readers.locator(f"#post-{dam}")).to_have_count(0)

        editor.goto(f"{url}/desk/blogs/{slug}")
        expect(editor.get_by_role("heading", name="Review queue").locator(".badge")).to_have_text(
            "1"
        )
        editor.get_by_role("button", name=f"Publish post {dam}", exact=True).click()
        editor.wait_for_url(f"{url}/desk/blogs/{slug}?done=publish#desk-post-{dam}")
        expect(editor.get_by_role("heading", name="Review queue")).to_have_count(0)
        expect(readers.locator(f"#post-{dam}")).to_contain_text(
            "Water at the Elde dam", timeout=LIVE
        )
        expect(readers.locator("[role=feed] > article")).to_have_count(2)
        assert _not_reloaded(readers)
    finally:
        desk.close()
        writer.close()
        reader.close()


@pytest.mark.usefixtures("staff")
def test_two_editors_save_the_same_post(chromium: Any, live_server: LiveServer) -> None:
    url, slug = live_server.url, "conflict-flow"
    first, mine = _editor_with_blog(chromium, url, "Port strike", slug)
    _add_member(live_server, slug, SECOND_EDITOR)
    second = _context(chromium)
    reader = _context(chromium)
    try:
        post_id = _publish(mine, url, slug, "Talks", "Talks start at nine.")
        edit = f"{url}/desk/blogs/{slug}/posts/{post_id}"
        theirs = second.new_page()
        _sign_in(theirs, url, SECOND_EDITOR, SECOND_EDITOR_PASSWORD)
        theirs.goto(edit)
        mine.goto(edit)
        readers = _open_reader(reader, url, slug)

        mine.get_by_label("Text", exact=True).fill("Talks start at ten, the union says.")
        mine.get_by_role("button", name="Save", exact=True).click()
        mine.wait_for_url(f"{url}/desk/blogs/{slug}?done=saved#desk-post-{post_id}")
        article = readers.locator(f"#post-{post_id}")
        expect(article).to_contain_text("Talks start at ten, the union says.", timeout=LIVE)

        theirs.get_by_label("Headline").fill("Talks delayed")
        theirs.get_by_label("Text", exact=True).fill("Talks start at eleven, the port says.")
        with theirs.expect_response(
            lambda r: r.url == edit and r.request.method == "POST"
        ) as answer:
            theirs.get_by_role("button", name="Save", exact=True).click()
        assert answer.value.status == 409
        conflict = theirs.get_by_role("alert").filter(
            has=theirs.get_by_role("heading", name="Someone else saved this post after you")
        )
        expect(conflict).to_be_visible()
        columns = conflict.locator(".conflict-columns > div")
        saved = columns.filter(has=theirs.get_by_role("heading", name="Theirs (saved)"))
        unsaved = columns.filter(has=theirs.get_by_role("heading", name="Yours (not saved)"))
        expect(saved).to_contain_text("Talks start at ten, the union says.")
        expect(saved).not_to_contain_text("eleven")
        expect(unsaved).to_contain_text("Talks delayed")
        expect(unsaved).to_contain_text("Talks start at eleven, the port says.")
        # Nothing typed is lost: the form still holds the second editor's version.
        expect(theirs.get_by_label("Headline")).to_have_value("Talks delayed")
        expect(theirs.get_by_label("Text", exact=True)).to_have_value(
            "Talks start at eleven, the port says."
        )
        _shot(theirs, "desk-flows-conflict")
        # Readers keep the first editor's saved text meanwhile.
        expect(article).to_contain_text("Talks start at ten, the union says.")

        theirs.get_by_role("button", name="Save mine instead").click()
        theirs.wait_for_url(f"{url}/desk/blogs/{slug}?done=saved#desk-post-{post_id}")
        expect(theirs.locator(f"#desk-post-{post_id}")).to_contain_text("Talks delayed")
        expect(article.get_by_role("heading", name="Talks delayed")).to_be_visible(timeout=LIVE)
        expect(article).to_contain_text("Talks start at eleven, the port says.")
        expect(article).not_to_contain_text("the union says")
        assert _not_reloaded(readers)

        # Both saves are in the history, each under its editor's name.
        mine.goto(edit)
        edits = mine.locator(".history > li").filter(has_text="edited by")
        expect(edits).to_have_count(2)
        expect(edits.first).to_contain_text("edited by Night Desk,")
        expect(edits.last).to_contain_text(f"edited by {EDITOR},")
    finally:
        first.close()
        second.close()
        reader.close()
