"""The desk's sign-in in Debian's Chromium: signing in, a user locked out at once, and a
form posted from another site refused."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ADMIN_PASSWORD, LiveServer
from tests.web.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

SHOTS = (
    Path(os.environ.get("LIVETICKER_SCREENSHOTS", ""))
    if os.environ.get("LIVETICKER_SCREENSHOTS")
    else None
)


def _sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/desk/account")
    assert page.url.startswith(f"{url}/login?next=")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/desk/account")


def _new_live_blog(page: Any, url: str, title: str, slug: str) -> None:
    """From the desk home: create a blog, then publish it, as an editor does."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("Address").fill(slug)
    page.get_by_role("button", name="Create the blog").click()
    page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-created")
    page.get_by_role("button", name="Publish the blog").click()
    page.wait_for_url(f"{url}/desk/blogs/{slug}?done=blog-publish")


def _shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_create_a_user_and_lock_them_out(chromium: Any, live_server: LiveServer) -> None:
    url = live_server.url
    admin = chromium.new_context(viewport={"width": 1280, "height": 900})
    reporter = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = admin.new_page()
        _sign_in(page, url, "chief", ADMIN_PASSWORD)
        page.get_by_role("link", name="Users").click()
        page.get_by_label("Username").fill("reporter")
        page.get_by_label("Name shown with posts").fill("Field Reporter")
        page.get_by_label("First password").fill("reporter's password")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(f"{url}/desk/users?done=created")
        assert page.get_by_role("status").inner_text().startswith("The account has been created")
        _shot(page, "desk-users")

        theirs = reporter.new_page()
        _sign_in(theirs, url, "reporter", "reporter's password")
        assert "Field Reporter" in theirs.inner_text(".desk-who")
        _shot(theirs, "desk-account-phone")

        page.locator("#user-reporter").get_by_role("button", name="Disable").click()
        page.wait_for_url(f"{url}/desk/users?done=disabled")
        theirs.reload()
        assert theirs.url.startswith(f"{url}/login?next=")  # locked out at once
    finally:
        admin.close()
        reporter.close()


def test_a_form_from_another_site_is_refused(chromium: Any, live_server: LiveServer) -> None:
    url = live_server.url
    context = chromium.new_context()
    try:
        page = context.new_page()
        _sign_in(page, url, "chief", ADMIN_PASSWORD)
        # A page of another site that posts to the desk as soon as it opens (answered by
        # the test itself: nothing leaves the machine).
        attack = (
            f'<form id="f" method="post" action="{url}/desk/account/tokens">'
            '<input name="label" value="stolen"></form>'
            '<script>document.getElementById("f").submit()</script>'
        )
        context.route(
            "http://attacker.test/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body=attack),
        )
        with page.expect_response(f"{url}/desk/account/tokens") as answer:
            page.goto("http://attacker.test/prize")
        assert answer.value.status == 403
        page.goto(f"{url}/desk/account")
        assert "stolen" not in page.content()
    finally:
        context.close()


def test_a_post_written_at_the_desk_reaches_an_open_reader_page(
    chromium: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    desk = chromium.new_context(viewport={"width": 1280, "height": 900})
    reader = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = desk.new_page()
        _sign_in(page, url, "desk", "correct horse battery")
        page.get_by_role("link", name="Desk", exact=True).click()
        _new_live_blog(page, url, "Harbour fire", "harbour-fire")

        readers_page = reader.new_page()
        readers_page.goto(f"{url}/blogs/harbour-fire")
        page.keyboard.press("Alt+N")  # the shortcut the composer shows
        assert page.evaluate("document.activeElement.name") == "headline"
        page.keyboard.type("Crews reach the pier")
        page.get_by_label("Text", exact=True).fill("Firefighters are **on the pier** now.")
        page.wait_for_selector(".preview-body strong")  # the live preview, sanitized
        page.keyboard.press("Control+Enter")
        page.wait_for_url(f"{url}/desk/blogs/harbour-fire?done=published#composer")
        readers_page.wait_for_selector("text=Crews reach the pier", timeout=5000)  # no reload
        assert not readers_page.get_by_text("No updates yet.").is_visible()
        _shot(page, "desk-blog")
        _shot(readers_page, "desk-reader-phone")
    finally:
        desk.close()
        reader.close()


def test_an_uploaded_photo_reaches_readers_without_its_gps(
    chromium: Any, live_server: LiveServer
) -> None:
    import io

    import httpx
    from PIL import Image

    from tests.images import camera_jpeg

    url = live_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        _sign_in(page, url, "desk", "correct horse battery")
        page.goto(f"{url}/desk")
        _new_live_blog(page, url, "Dam watch", "dam-watch")
        page.get_by_text("Image", exact=True).click()  # open the image fields
        page.set_input_files(
            "#f-image_file",
            files=[{"name": "dam.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}],
        )
        page.wait_for_selector("text=Now describe it in the alt text")
        assert page.evaluate("document.activeElement.name") == "image_alt"
        page.keyboard.type("Water pouring over the dam wall")
        page.get_by_label("Text", exact=True).fill("The dam is overflowing.")
        page.get_by_role("button", name="Publish now").click()
        page.wait_for_url(f"{url}/desk/blogs/dam-watch?done=published#composer")

        reader = context.new_page()
        reader.goto(f"{url}/blogs/dam-watch")
        image = reader.locator("img[alt='Water pouring over the dam wall']")
        assert image.get_attribute("width") == "1600"
        assert image.get_attribute("height") == "800"
        assert image.get_attribute("srcset")
        served = httpx.get(url + str(image.get_attribute("src")), timeout=10)
        assert served.status_code == 200
        photo = Image.open(io.BytesIO(served.content))
        assert dict(photo.getexif()) == {}
        assert b"GPS" not in served.content
        assert b"PhoneMaker" not in served.content
    finally:
        context.close()


def test_two_desks_see_each_other_and_nothing_typed_is_lost(
    chromium: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    first = chromium.new_context(viewport={"width": 1280, "height": 900})
    second = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        mine = first.new_page()
        _sign_in(mine, url, "desk", "correct horse battery")
        mine.goto(f"{url}/desk")
        _new_live_blog(mine, url, "Two desks", "two-desks")

        theirs = second.new_page()
        _sign_in(theirs, url, "chief", ADMIN_PASSWORD)
        theirs.goto(f"{url}/desk/blogs/two-desks")
        mine.get_by_label("Text", exact=True).fill("Written on the first desk.")
        mine.get_by_role("button", name="Publish now").click()
        mine.wait_for_url(f"{url}/desk/blogs/two-desks?done=published#composer")
        # The other desk shows it without a reload, woken by its staff stream.
        theirs.wait_for_selector("#live-sections >> text=Written on the first desk.", timeout=3000)
        assert theirs.get_by_text("The stream was updated.").count() == 1  # announced

        # Typed, then the session ends (signed out elsewhere), then sent: after signing in
        # again the desk comes back with the text.
        mine.locator("#f-headline").fill("Unsent headline")
        mine.get_by_label("Text", exact=True).fill("Unsent text that must survive.")
        other_tab = first.new_page()
        other_tab.goto(f"{url}/desk/account")
        other_tab.get_by_role("button", name="Sign out everywhere").click()
        other_tab.wait_for_url(f"{url}/login")  # signed out before the first tab sends
        mine.get_by_role("button", name="Publish now").click()
        mine.wait_for_url(f"{url}/login?**")
        assert mine.url == f"{url}/login?next=%2Fdesk%2Fblogs%2Ftwo-desks", mine.url
        mine.get_by_label("Username").fill("desk")
        mine.get_by_label("Password").fill("correct horse battery")
        mine.get_by_role("button", name="Sign in").click()
        mine.wait_for_url(f"{url}/desk/blogs/two-desks")
        assert mine.locator("#f-headline").input_value() == "Unsent headline"
        assert (
            mine.get_by_label("Text", exact=True).input_value() == "Unsent text that must survive."
        )
        assert mine.get_by_text("Your unsent post was restored.").is_visible()
    finally:
        first.close()
        second.close()


def test_the_desk_reads_on_a_tablet(chromium: Any, live_server: LiveServer) -> None:
    """Portrait tablet width: every desk page fits, nothing scrolls sideways."""
    url = live_server.url
    context = chromium.new_context(viewport={"width": 768, "height": 1024})
    try:
        page = context.new_page()
        _sign_in(page, url, "chief", ADMIN_PASSWORD)
        page.goto(f"{url}/desk")
        _new_live_blog(page, url, "Tablet shift", "tablet-shift")
        page.get_by_label("Headline").fill("A long headline that has to wrap on a narrow screen")
        page.get_by_label("Text", exact=True).fill("Checked on a tablet. " * 20)
        page.get_by_role("button", name="Publish now").click()
        page.wait_for_url(f"{url}/desk/blogs/tablet-shift?done=published#composer")
        _shot(page, "desk-tablet")
        edit = page.get_by_role("link", name=re.compile("^Edit")).first.get_attribute("href")
        for path in (
            "/desk",
            "/desk/blogs/tablet-shift",
            str(edit),
            "/desk/account",
            "/desk/users",
        ):
            page.goto(url + path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 768 px"
    finally:
        context.close()
