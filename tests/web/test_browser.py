"""The reader page in Debian's Chromium against a real server: with JavaScript off and on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

POSTS = 45


@pytest.fixture(scope="module")
def blog(live_server: LiveServer) -> dict[str, Any]:
    """A live blog with 45 posts (three pages of 20) and a quoted social post."""
    with httpx.Client(base_url=live_server.url, headers=live_server.headers) as api:
        created = api.post(
            "/api/v1/blogs",
            json={"slug": "valley", "title": "Floods in the valley", "labels": ["Weather"]},
        )
        assert created.status_code == 201, created.text
        assert api.post("/api/v1/blogs/valley/publish").status_code == 200
        ids = []
        for n in range(POSTS):
            body: dict[str, Any] = {"body": f"Update {n}: the river is at {300 + n} cm."}
            if n == POSTS - 1:
                body["social"] = {
                    "url": "https://x.com/cityhall/status/1",
                    "author_name": "City Hall",
                    "handle": "cityhall",
                    "text": "Stay away from the river banks.",
                }
            response = api.post("/api/v1/blogs/valley/posts", json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return {"url": f"{live_server.url}/blogs/valley", "ids": ids}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_without_javascript_show_more_reaches_the_oldest_post(
    browser: Any, blog: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(blog["url"])
    assert page.locator("[role=feed] > article").count() == 20
    assert "UTC" in page.locator("[role=feed] > article time").first.inner_text()
    for _ in range(2):
        page.get_by_role("link", name="Show more posts").click()
        page.wait_for_load_state()
    assert "before=" in page.url
    oldest = page.locator(f"#post-{blog['ids'][0]}")
    assert oldest.is_visible()
    assert oldest.get_attribute("aria-posinset") == str(POSTS)
    assert page.get_by_role("link", name="Show more posts").count() == 0
    context.close()


def test_with_javascript_show_more_appends_in_place(
    browser: Any, blog: dict[str, Any], live_server: LiveServer
) -> None:
    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(blog["url"])
    articles = page.locator("[role=feed] > article")
    assert articles.count() == 20

    # Times are rewritten to the reader's zone; the UTC text stays in the title.
    first_time = articles.first.locator("time").first
    assert "UTC" not in first_time.inner_text()
    assert "UTC" in (first_time.get_attribute("title") or "")

    more = page.get_by_role("link", name="Show more posts")
    more.click()
    page.wait_for_function("document.querySelectorAll('[role=feed] > article').length === 40")
    assert page.url == blog["url"]
    feed = page.locator("[role=feed]")
    assert feed.get_attribute("aria-busy") == "false"
    positions = articles.evaluate_all("els => els.map(e => e.getAttribute('aria-posinset'))")
    assert positions == [str(n) for n in range(1, 41)]
    sizes = set(articles.evaluate_all("els => els.map(e => e.getAttribute('aria-setsize'))"))
    assert sizes == {str(POSTS)}
    # Focus moves to the first post that was added; its skip link chain is intact.
    assert page.evaluate("document.activeElement.getAttribute('aria-posinset')") == "21"
    skip = articles.nth(19).locator(".skip-post")
    assert skip.get_attribute("href") == f"#{articles.nth(20).get_attribute('id')}"
    assert "UTC" not in articles.nth(25).locator("time").first.inner_text()

    # Page Down / Page Up move between posts (the feed pattern).
    page.keyboard.press("PageDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-posinset')") == "22"
    page.keyboard.press("PageUp")
    page.keyboard.press("PageUp")
    assert page.evaluate("document.activeElement.getAttribute('aria-posinset')") == "20"

    more.click()
    page.wait_for_function("document.querySelectorAll('[role=feed] > article').length === 45")
    assert page.get_by_role("link", name="Show more posts").count() == 0
    assert page.locator(f"#post-{blog['ids'][0]}").is_visible()
    assert page.url == blog["url"]
    assert errors == []
    assert hosts == {"127.0.0.1"}, hosts
    context.close()
