"""The embed in Debian's Chromium: live like the blog page, and on another origin's page the
loader's iframe, sized to its content as posts arrive, under a strict policy of that page."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import CHROMIUM
from tests.web.test_csp_browser import WATCH_VIOLATIONS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

WAIT = 15_000
LONG_BODY = "The river has reached the market square. " * 30


@pytest.fixture(scope="module")
def blog(live_server: LiveServer) -> dict[str, Any]:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=10) as api:
        made = api.post("/api/v1/blogs", json={"slug": "embedded", "title": "Floods, embedded"})
        assert made.status_code == 201, made.text
        assert api.post("/api/v1/blogs/embedded/publish").status_code == 200
        posts = []
        for n in range(2):
            answer = api.post("/api/v1/blogs/embedded/posts", json={"body": f"Update {n}."})
            assert answer.status_code == 201, answer.text
            posts.append(answer.json())
    return {"url": f"{live_server.url}/blogs/embedded", "posts": posts}


def publish(live_server: LiveServer, body: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{live_server.url}/api/v1/blogs/embedded/posts",
        json={"body": body},
        headers=live_server.headers,
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def host_page(live_server: LiveServer, blog: dict[str, Any]) -> Iterator[str]:
    """Another origin (another port) serving a news page with the snippet pasted twice (the
    blog and one post), under a policy that allows no inline code and frames only ours."""
    post_url = f"{blog['url']}/posts/{blog['posts'][0]['id']}"
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A newspaper</title></head>
<body><h1>Our article</h1>
<div data-liveticker="{blog["url"]}"><a href="{blog["url"]}">Floods, embedded</a></div>
<script src="{live_server.url}/static/embed.js" async></script>
<p id="between">Between the two.</p>
<div data-liveticker="{post_url}/"></div>
<script src="{live_server.url}/static/embed.js" async></script>
<p id="after">The article goes on.</p>
</body></html>""".encode()
    policy = (
        f"default-src 'none'; script-src {live_server.url}; frame-src {live_server.url}; "
        "style-src 'none'"
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news.html"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_a_post_published_while_the_embed_is_open_appears_in_it(
    chromium: Any, live_server: LiveServer, blog: dict[str, Any]
) -> None:
    context = chromium.new_context()
    context.set_default_timeout(WAIT)
    context.add_init_script(WATCH_VIOLATIONS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{blog['url']}/embed")
        articles = page.locator("[role=feed] > article")
        before = articles.count()
        assert before >= 2
        post = publish(live_server, "Arrives in the embed.")
        page.locator(f"#post-{post['id']}").wait_for()
        assert articles.count() == before + 1
        assert articles.first.get_attribute("id") == f"post-{post['id']}"  # newest first
        assert "Arrives in the embed." in articles.first.inner_text()
        assert page.evaluate("window.cspViolations") == []
    finally:
        context.close()
    assert errors == []


def test_the_loader_on_another_origin_frames_the_embed_and_sizes_it(
    chromium: Any, live_server: LiveServer, blog: dict[str, Any], host_page: str
) -> None:
    context = chromium.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(WAIT)
    context.add_init_script(WATCH_VIOLATIONS)
    errors: list[str] = []
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: console.append(message.text))
        page.goto(host_page)
        frames = page.locator("iframe")
        frames.nth(1).wait_for(state="attached")
        assert frames.count() == 2  # the loader pasted twice made each iframe once
        first = frames.nth(0)
        assert first.get_attribute("src") == f"{blog['url']}/embed"
        post_id = blog["posts"][0]["id"]
        assert frames.nth(1).get_attribute("src") == f"{blog['url']}/posts/{post_id}/embed"
        assert first.get_attribute("loading") == "lazy"
        assert first.get_attribute("title") == "Floods, embedded"  # from the pasted link

        # The frame reports its height, and the iframe takes it: no scrollbar, no gap.
        def content_height(index: int) -> float:
            frame = frames.nth(index).content_frame
            frame.locator("h1").wait_for()
            return float(
                frame.locator("html").evaluate("html => html.getBoundingClientRect().height")
            )

        def frame_height(index: int) -> float:
            box = frames.nth(index).bounding_box()
            assert box is not None
            return float(box["height"])

        page.wait_for_function(
            "() => [...document.querySelectorAll('iframe')].every(f => f.style.height !== '400px')"
        )
        for index in (0, 1):
            assert abs(frame_height(index) - content_height(index)) <= 1, index
        assert frame_height(0) > frame_height(1)  # the blog's posts outgrow the single post
        width = page.evaluate("document.documentElement.clientWidth")
        box = first.bounding_box()
        assert box is not None
        assert abs(box["width"] - (width - 16)) <= 1  # the column's width (body margins)
        assert first.evaluate("f => getComputedStyle(f).borderTopWidth") == "0px"

        # A post arrives: it shows in the frame, and the frame grows to hold it.
        grown_from = frame_height(0)
        post = publish(live_server, LONG_BODY)
        embed = first.content_frame
        embed.locator(f"#post-{post['id']}").wait_for()
        page.wait_for_function(
            f"() => parseFloat(document.querySelector('iframe').style.height) > {grown_from + 100}"
        )
        assert abs(frame_height(0) - content_height(0)) <= 1
        assert page.locator("#after").is_visible()  # the host page flows around it

        # Messages from anything but the frame itself are not believed.
        settled = first.evaluate("f => f.style.height")
        page.evaluate("window.postMessage({type: 'liveticker:height', height: 7}, '*')")
        page.wait_for_timeout(200)
        assert first.evaluate("f => f.style.height") == settled

        # A link to the site opens in a new tab, not inside the frame.
        with context.expect_page() as opened:
            embed.locator(f"#post-{post['id']} a.permalink").click()
        new_tab = opened.value
        new_tab.wait_for_load_state()
        assert new_tab.url == f"{blog['url']}/posts/{post['id']}"
        inside = first.element_handle().content_frame()
        assert inside is not None
        assert inside.url == f"{blog['url']}/embed"

        assert page.evaluate("window.cspViolations") == []
        assert inside.evaluate("window.cspViolations") == []
    finally:
        context.close()
    assert errors == []
    assert not [text for text in console if "Content Security Policy" in text], console
