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

    # Times are rewritten to the reader's zone ("now" for these); the exact time in the title.
    first_time = articles.first.locator("time").first
    assert "UTC" not in first_time.inner_text()
    assert first_time.get_attribute("title") in first_time.inner_text()

    more = page.get_by_role("link", name="Show more posts")
    more.click()
    page.wait_for_function("() => document.querySelectorAll('[role=feed] > article').length === 40")
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
    page.wait_for_function("() => document.querySelectorAll('[role=feed] > article').length === 45")
    assert page.get_by_role("link", name="Show more posts").count() == 0
    assert page.locator(f"#post-{blog['ids'][0]}").is_visible()
    assert page.url == blog["url"]
    assert errors == []
    assert hosts == {"127.0.0.1"}, hosts
    context.close()


def test_live_updates_apply_without_reload(
    browser: Any, live_server: LiveServer, blog: dict[str, Any]
) -> None:
    api = httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=10)
    assert api.post("/api/v1/blogs", json={"slug": "river", "title": "River"}).status_code == 201
    api.post("/api/v1/blogs/river/publish")
    for n in range(3):
        api.post("/api/v1/blogs/river/posts", json={"body": f"Earlier update {n}."})
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/blogs/river")
    for _ in range(100):  # until the page's stream is open
        if api.get("/api/v1/status").json()["live_readers"] >= 1:
            break
        page.wait_for_timeout(50)

    # A new post appears in place at the top, and only its count is announced.
    new = api.post(
        "/api/v1/blogs/river/posts", json={"headline": "Bridge reopens", "body": "Traffic flows."}
    ).json()
    page.wait_for_selector(f"#post-{new['id']}", timeout=3000)
    first = page.locator("[role=feed] > article").first
    assert first.get_attribute("id") == f"post-{new['id']}"
    assert first.get_attribute("aria-posinset") == "1"
    assert first.get_attribute("aria-setsize") == "4"
    page.wait_for_function(
        "() => document.getElementById('live-announcer').textContent === '1 new post'"
    )
    assert page.url == f"{live_server.url}/blogs/river"

    # An edit applies in place; a deletion removes the post.
    api.patch(f"/api/v1/blogs/river/posts/{new['id']}", json={"body": "Traffic flows again."})
    page.wait_for_function(
        f"() => document.querySelector('#post-{new['id']} .post-body')"
        ".textContent.includes('again')"
    )
    api.delete(f"/api/v1/blogs/river/posts/{new['id']}")
    page.wait_for_selector(f"#post-{new['id']}", state="detached", timeout=3000)
    assert page.locator("[role=feed] > article").first.get_attribute("aria-setsize") == "3"

    # Scrolled down: the post waits behind a "1 new post" button and the title count.
    page.set_viewport_size({"width": 400, "height": 300})
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    later = api.post("/api/v1/blogs/river/posts", json={"body": "Later news."}).json()
    button = page.get_by_role("button", name="1 new post")
    button.wait_for(timeout=3000)
    assert page.locator(f"#post-{later['id']}").count() == 0
    assert page.title().startswith("(1) ")
    button.click()
    page.wait_for_selector(f"#post-{later['id']}")
    assert not page.title().startswith("(")

    # Pinning an older post moves it to the top; unpinning puts it back in its place.
    oldest = page.locator("[role=feed] > article").last
    oldest_id = oldest.get_attribute("id")
    assert oldest_id is not None
    api.patch(f"/api/v1/blogs/river/posts/{oldest_id.removeprefix('post-')}", json={"pinned": True})
    page.wait_for_function(
        f"() => document.querySelector('[role=feed] > article').id === '{oldest_id}'"
    )
    assert page.locator(f"#{oldest_id} .badge.pinned").count() == 1
    api.patch(
        f"/api/v1/blogs/river/posts/{oldest_id.removeprefix('post-')}", json={"pinned": False}
    )
    page.wait_for_function(
        f"() => document.querySelector('[role=feed] > article:last-child').id === '{oldest_id}'"
    )
    positions = page.locator("[role=feed] > article").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-posinset'))"
    )
    assert positions == [str(n) for n in range(1, len(positions) + 1)]

    # Key points, a new title and the closed notice arrive too.
    api.put("/api/v1/blogs/river/key-points", json={"items": ["Roads *open*"]})
    page.wait_for_selector(".key-points em")
    api.patch("/api/v1/blogs/river", json={"title": "River: the day after"})
    page.wait_for_function(
        "() => document.querySelector('h1').textContent === 'River: the day after'"
    )
    api.post("/api/v1/blogs/river/close", json={"message": "Coverage ended."})
    page.wait_for_selector(".closed-notice")
    assert "Coverage ended." in page.locator(".closed-notice").inner_text()
    assert errors == []
    context.close()
    api.close()
