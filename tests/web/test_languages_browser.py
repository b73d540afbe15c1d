"""An Arabic blog in Chromium: mirrored, its dates and "N new posts" in Arabic; and the
reader's share menu and J/K keys on an English one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from liveticker.web import i18n
from tests.web.conftest import LiveServer
from tests.web.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

ARABIC = "\u0600-\u06ff"


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=10) as client:
        yield client


def _blog(api: httpx.Client, slug: str, posts: int, **fields: Any) -> list[int]:
    created = api.post("/api/v1/blogs", json={"slug": slug, "title": slug, **fields})
    assert created.status_code == 201, created.text
    assert api.post(f"/api/v1/blogs/{slug}/publish").status_code == 200
    ids = []
    for n in range(posts):
        body = {"headline": f"{slug} {n}", "body": f"{n} " + "text " * 40, "key_event": n == 0}
        response = api.post(f"/api/v1/blogs/{slug}/posts", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _wait_for_reader(api: httpx.Client, page: Any) -> None:
    for _ in range(100):
        if api.get("/api/v1/status").json()["live_readers"] >= 1:
            return
        page.wait_for_timeout(50)


def test_arabic_blog_is_mirrored_and_speaks_arabic(
    chromium: Any, live_server: LiveServer, api: httpx.Client
) -> None:
    _blog(api, "idris-ar", 6, language="ar")
    context = chromium.new_context(viewport={"width": 390, "height": 500})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/blogs/idris-ar")
    assert page.evaluate("() => getComputedStyle(document.documentElement).direction") == "rtl"
    # The key event's accent bar is on the right: the start side of a right-to-left line.
    key = page.locator("[role=feed] > article.key-event").first
    widths = key.evaluate(
        "el => [getComputedStyle(el).borderRightWidth, getComputedStyle(el).borderLeftWidth]"
    )
    assert widths[0] == "4px"
    assert widths[1] != "4px"
    box = key.bounding_box()
    title = key.locator("h2").bounding_box()
    assert box is not None
    assert title is not None
    # Right-aligned: the headline hugs the right edge of its post.
    assert (box["x"] + box["width"]) - (title["x"] + title["width"]) < 40
    # Local times are formatted by the script in Arabic.
    page.wait_for_function(
        f"() => /[{ARABIC}]/.test(document.querySelector('[role=feed] time').textContent)"
    )
    # A post that arrives while the reader is further down: the button and the
    # announcement say so in Arabic, with the right plural form.
    _wait_for_reader(api, page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    for n in range(2):
        api.post("/api/v1/blogs/idris-ar/posts", json={"body": f"عاجل {n}"})
    arabic = i18n.language("ar")
    # The count in the browser's digits for Arabic, as the script writes it.
    digits = page.evaluate("() => (2).toLocaleString('ar')")
    two = arabic.ngettext("%(n)s new post", "%(n)s new posts", 2) % {"n": digits}
    assert arabic.ngettext("%(n)s new post", "%(n)s new posts", 2) != "%(n)s new posts"
    button = page.locator("button.new-posts")
    button.wait_for(timeout=5000)
    page.wait_for_function(
        "(text) => document.querySelector('button.new-posts').textContent === text", arg=two
    )
    page.wait_for_function(
        "(text) => document.getElementById('live-announcer').textContent === text", arg=two
    )
    page.screenshot(path="/tmp/liveticker-arabic-phone.png", full_page=False)
    assert errors == []
    context.close()


def test_share_menu_and_keys_between_posts(
    chromium: Any, live_server: LiveServer, api: httpx.Client
) -> None:
    ids = _blog(api, "keys", 4)
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live_server.url}/blogs/keys")
    newest = f"#post-{ids[-1]}"
    share = page.locator(f"{newest} button.share")
    assert share.get_attribute("aria-expanded") == "false"
    share.click()
    assert share.get_attribute("aria-expanded") == "true"
    menu = page.locator("#share-menu")
    labels = menu.locator("button").all_inner_texts()
    assert labels[:3] == ["Copy link", "Copy short link", "Copy embed code"]
    menu.get_by_role("button", name="Copy link").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == (
        f"{live_server.url}/blogs/keys/posts/{ids[-1]}"
    )
    page.wait_for_function(
        "() => document.getElementById('live-announcer').textContent === 'Copied'"
    )
    assert menu.is_hidden()
    share.click()
    menu.get_by_role("button", name="Copy embed code").click()
    snippet = page.evaluate("() => navigator.clipboard.readText()")
    assert f'data-liveticker="{live_server.url}/blogs/keys/posts/{ids[-1]}"' in snippet
    assert f'src="{live_server.url}/static/embed.js"' in snippet
    # Escape closes the menu and gives focus back to its button.
    share.click()
    page.keyboard.press("Escape")
    assert menu.is_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('share')")

    # J and K move between posts, as PageDown and PageUp do.
    page.locator(newest).focus()
    page.keyboard.press("j")
    assert page.evaluate("() => document.activeElement.id") == f"post-{ids[-2]}"
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("() => document.activeElement.id") == f"post-{ids[-2]}"
    context.close()
