"""The Content-Security-Policy, as Chromium enforces it: every page works under it (the
live script, the desk's scripts, Swagger UI) and the browser reports no violation."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import CHROMIUM
from tests.web.test_desk_browser import _sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

WAIT = 15_000
# Recorded in the page as they happen; the console also reports them, as text.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def test_pages_work_under_the_policy(chromium: Any, live_server: LiveServer) -> None:
    url = live_server.url
    made = httpx.post(
        f"{url}/api/v1/blogs",
        json={"slug": "csp", "title": "Under the policy"},
        headers=live_server.headers,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    assert httpx.post(f"{url}/api/v1/blogs/csp/publish", headers=live_server.headers).is_success
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    context.add_init_script(WATCH_VIOLATIONS)
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{url}/blogs/csp")
        # The live script runs: a post published now appears without a reload.
        post = httpx.post(
            f"{url}/api/v1/blogs/csp/posts",
            json={"body": "Arrives live under the policy."},
            headers=live_server.headers,
            timeout=10,
        )
        assert post.status_code == 201, post.text
        page.get_by_text("Arrives live under the policy.").wait_for()
        assert page.evaluate("window.cspViolations") == []
        page.goto(f"{url}/blogs/csp/posts/{post.json()['id']}")
        assert page.evaluate("window.cspViolations") == []

        _sign_in(page, url, "desk", "correct horse battery")
        page.goto(f"{url}/desk/blogs/csp")
        page.get_by_label("Text", exact=True).fill("A *preview* under the policy")
        # desk.js fetched the server's rendering of it as one types.
        page.locator(".preview-body em", has_text="preview").wait_for()
        assert page.evaluate("window.cspViolations") == []

        page.goto(f"{url}/api/v1/docs")
        page.locator(".opblock").first.wait_for()  # Swagger UI built the operations
        assert page.evaluate("window.cspViolations") == []
    finally:
        context.close()
    assert not [text for text in console if "Content Security Policy" in text], console
