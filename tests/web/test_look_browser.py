"""The reader page's look in Debian's Chromium: relative times that stay current (the exact
time for screen readers and on hover), and a themed page under the Content-Security-Policy."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

from liveticker.storage.models import Blog
from tests.web.conftest import Site
from tests.web.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

WAIT = 15_000


def _blog(site: Site, slug: str) -> datetime:
    """A live blog with one post; the post's publication time."""
    with httpx.Client(base_url=site.url, headers=site.editor, timeout=10) as api:
        assert api.post("/api/v1/blogs", json={"slug": slug, "title": "Clocks"}).status_code == 201
        assert api.post(f"/api/v1/blogs/{slug}/publish").status_code == 200
        made = api.post(f"/api/v1/blogs/{slug}/posts", json={"body": "The tide turns."})
        assert made.status_code == 201, made.text
        return datetime.fromisoformat(made.json()["published_at"].replace("Z", "+00:00"))


def _hide(page: Any, hidden: bool) -> None:
    page.evaluate(
        """(hidden) => {
            Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_relative_times_show_and_keep_current(chromium: Any, site: Site) -> None:
    published = _blog(site, "clocks")
    context = chromium.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    page.clock.install(time=published + timedelta(seconds=20))
    page.goto(f"{site.url}/blogs/clocks")
    time = page.locator("[role=feed] > article .post-meta time")
    seen = time.locator("span[aria-hidden=true]")
    heard = time.locator("span.visually-hidden")
    assert seen.inner_text() == "now"

    # The exact time, in the reader's zone, is the title and what a screen reader reads:
    # the link to the post is named by it alone, not by the words that change.
    local = published.astimezone(ZoneInfo("Asia/Kolkata"))
    exact = heard.inner_text()
    assert f"{local.hour % 12 or 12}:{local.minute:02d}" in exact
    assert "UTC" not in exact
    assert time.get_attribute("title") == exact
    assert page.get_by_role("link", name=exact, exact=True).count() == 1

    # One timer keeps them current, every 30 seconds.
    page.clock.run_for(5 * 60_000)
    assert re.fullmatch(r"5 min\.? ago", seen.inner_text())
    page.clock.run_for(2 * 3_600_000)
    assert re.fullmatch(r"2 hr\.? ago", seen.inner_text())
    assert heard.inner_text() == exact

    # Paused while the tab is hidden; brought up to date the moment it shows again.
    _hide(page, True)
    page.clock.run_for(60 * 60_000)
    assert re.fullmatch(r"2 hr\.? ago", seen.inner_text())
    _hide(page, False)
    assert re.fullmatch(r"3 hr\.? ago", seen.inner_text())

    # After 12 hours: the local date and time, as written, and nothing hidden.
    page.clock.run_for(10 * 3_600_000)
    assert seen.count() == 0
    assert time.inner_text() == exact
    context.close()


def test_a_themed_page_under_the_policy(chromium: Any, site: Site) -> None:
    _blog(site, "night")
    with site.database.transaction() as session:
        session.execute(update(Blog).where(Blog.slug == "night").values(theme="night-desk"))
    context = chromium.new_context(color_scheme="dark")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security" in message.text else None
        ),
    )
    responses: list[int] = []
    page.on(
        "response",
        lambda response: responses.append(response.status) if "/themes/" in response.url else None,
    )
    page.goto(f"{site.url}/blogs/night")
    page.wait_for_load_state("load")
    assert responses == [200]
    masthead = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert masthead == "rgb(5, 10, 18)"  # night-desk's dark masthead
    heading = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert heading.startswith("Georgia")
    assert violations == []
    context.close()


def test_the_share_menu_opens_and_closes(chromium: Any, site: Site) -> None:
    _blog(site, "sharing")
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/blogs/sharing")
    share = page.locator("[role=feed] > article footer button.share")
    share.click()
    menu = page.locator("#share-menu")
    assert menu.is_visible()
    assert share.get_attribute("aria-expanded") == "true"
    assert menu.locator("button").first.inner_text() == "Copy link"
    assert page.evaluate("document.activeElement.textContent") == "Copy link"
    page.keyboard.press("Escape")
    assert menu.is_hidden()
    assert share.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "share"
    share.click()
    page.locator("h1").click()  # a click elsewhere closes it
    assert menu.is_hidden()
    assert errors == []
    context.close()
