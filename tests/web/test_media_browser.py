"""An uploaded image in Debian's Chromium: its box is there before it loads, and the browser
picks the width that fits the screen from its srcset."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from tests.images import camera_jpeg
from tests.web.conftest import LiveServer
from tests.web.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

BOX = "el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; }"


@pytest.fixture(scope="module")
def photo_post(live_server: LiveServer) -> dict[str, Any]:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers) as api:
        uploaded = api.post(
            "/api/v1/media", files={"file": ("photo.jpg", camera_jpeg((1200, 900)), "image/jpeg")}
        )
        assert uploaded.status_code == 201, uploaded.text
        image = {**uploaded.json(), "alt": "Sandbags at the river"}
        assert (
            api.post("/api/v1/blogs", json={"slug": "river", "title": "River"}).status_code == 201
        )
        assert api.post("/api/v1/blogs/river/publish").status_code == 200
        post = api.post("/api/v1/blogs/river/posts", json={"body": "Sandbags.", "images": [image]})
        assert post.status_code == 201, post.text
    return {"url": f"{live_server.url}/blogs/river", "image": image}


def test_the_image_box_is_reserved_before_the_image_arrives(
    chromium: Any, photo_post: dict[str, Any]
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.route("**/media/**", lambda route: None)  # the image never arrives
    page.goto(photo_post["url"], wait_until="domcontentloaded")
    image = page.locator(".post-image img").first
    assert image.evaluate("el => el.naturalWidth") == 0  # not loaded
    width, height = image.evaluate(BOX)
    assert width == 358  # the column: 390 px less 2 × 1rem
    assert abs(height - width * 900 / 1200) < 1
    context.close()


def test_the_browser_picks_the_width_that_fits(chromium: Any, photo_post: dict[str, Any]) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(photo_post["url"])
    image = page.locator(".post-image img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('.post-image img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert image.evaluate("el => el.currentSrc").endswith("-480.jpg")
    # A 480-pixel file for a 358-pixel slot: the browser's density-corrected width.
    assert image.evaluate("el => el.naturalWidth") == 358
    width, height = image.evaluate(BOX)
    assert (width, abs(height - width * 0.75) < 1) == (358, True)
    context.close()
