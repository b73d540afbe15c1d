"""Accessibility measured: axe-core in Debian's Chromium finds no violation on the reader
pages, light and dark, at desktop and phone width; the keyboard reaches the updates.

The content is the demo's (domain/demo.py): headlines, a pinned post, a key event, pictures
with captions, a social card, a correction, a deletion, notes, and a closed blog, so the
pages carry what a newsroom's pages carry. An Arabic copy of the live blog checks RTL.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from liveticker.domain import demo
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, Note, Post
from liveticker.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}"
    ),
]

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (the level EN 301 549 and most newsroom policies
# require), plus axe's best practices: those cover what WCAG leaves to judgement but screen
# reader users rely on (landmarks, one h1, heading order, content inside regions).
# AAA (enhanced contrast) and axe's experimental rules are left out.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
WIDTHS = {"desktop": 1280, "phone": 390}
SCHEMES = ("light", "dark")
WAIT = 15_000


@dataclasses.dataclass(frozen=True)
class DemoSite:
    url: str
    pages: dict[str, str]  # name -> path


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo on a live server: its English and Arabic (right-to-left) live blogs."""
    path = tmp_path_factory.mktemp("a11y") / "liveticker.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        info = demo.create_demo(session)
        live = session.scalars(select(Blog).where(Blog.slug == info.blog_slug)).one()
        with_picture = session.scalars(
            select(Post)
            .where(Post.blog_id == live.id, Post.key_event.is_(True), Post.deleted_at.is_(None))
            .limit(1)
        ).one()
        noted = session.scalars(
            select(Post).join(Note, Note.post_id == Post.id).where(Post.blog_id == live.id).limit(1)
        ).one()
    pages = {
        "index": "/",
        "blog": f"/blogs/{info.blog_slug}",
        "blog-rtl": f"/blogs/{info.arabic_blog_slug}",
        "post": f"/blogs/{info.blog_slug}/posts/{with_picture.id}",
        "closed-blog": f"/blogs/{info.closed_blog_slug}",
        "notes": f"/blogs/{info.blog_slug}/posts/{noted.id}/notes",
        "error": "/blogs/no-such-blog",
        "embed": f"/blogs/{info.blog_slug}/embed",
    }
    settings = Settings(database_url=database.url, notes_interval_seconds=0)
    try:
        with serving(create_app(settings, database=database)) as url:
            yield DemoSite(url=url, pages=pages)
    finally:
        database.dispose()


def violations_report(violations: list[dict[str, Any]]) -> str:
    """Each violation's rule, impact, elements and what to fix, one element a line."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def run_axe(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    # Axe injects itself with page.evaluate, which the page's CSP (script-src 'self') does
    # not govern: no bypass_csp needed, so the page is measured as readers get it.
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


PAGES = [
    "index",
    "blog",
    "blog-rtl",
    "post",
    "closed-blog",
    "notes",
    "error",
    "embed",
]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_violation(
    chromium: Any, demo_site: DemoSite, name: str, width: int, scheme: str
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(WAIT)
    try:
        page = context.new_page()
        response = page.goto(demo_site.url + demo_site.pages[name])
        assert response is not None
        assert response.status == (404 if name == "error" else 200)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
            scheme == "dark"
        )
        if name == "blog-rtl":  # the Arabic demo blog: mirrored, its dates in Arabic
            assert page.locator("html").get_attribute("dir") == "rtl"
            direction = "() => getComputedStyle(document.querySelector('.feed')).direction"
            assert page.evaluate(direction) == "rtl"
            key = page.locator("[role=feed] > article.key-event").first
            assert key.evaluate("el => getComputedStyle(el).borderRightWidth") == "4px"
            page.wait_for_function(
                "() => /[\u0600-\u06ff]/.test("
                "document.querySelector('[role=feed] time').textContent)"
            )
        violations = run_axe(page)
        assert violations == [], "\n" + violations_report(violations)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_runs_under_the_pages_policy_and_finds_a_planted_fault(
    chromium: Any, demo_site: DemoSite, scheme: str
) -> None:
    """The zero above is a measurement: on the same page, under the same CSP, axe reports
    a picture without alt text and text as faint as the page's own lines."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(WAIT)
    try:
        page = context.new_page()
        page.goto(demo_site.url + demo_site.pages["post"])
        page.evaluate(
            """() => {
              const main = document.getElementById("content");
              const img = document.createElement("img");
              img.src = "/static/demo/flood-river.svg";
              main.append(img);
              const faint = document.createElement("p");
              faint.textContent = "Faint text";
              faint.style.color = "var(--line)";
              main.append(faint);
            }"""
        )
        found = {violation["id"] for violation in run_axe(page)}
        assert found == {"image-alt", "color-contrast"}
    finally:
        context.close()


def test_tab_reaches_the_skip_links_first_and_they_lead_to_the_updates(
    chromium: Any, demo_site: DemoSite
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    focused = (
        "({text: document.activeElement.textContent, cls: document.activeElement.className,"
        " shown: document.activeElement.getBoundingClientRect().height > 1,"
        " post: document.activeElement.closest('[role=feed] > article')?.getAttribute("
        "'aria-posinset') ?? null})"
    )
    try:
        page = context.new_page()
        page.goto(demo_site.url + demo_site.pages["blog"])
        page.keyboard.press("Tab")
        first = page.evaluate(focused)
        assert (first["text"], first["cls"], first["shown"]) == (
            "Skip to content",
            "skip-link",
            True,
        )
        page.keyboard.press("Tab")
        second = page.evaluate(focused)
        assert (second["text"], second["shown"]) == ("Skip to live updates", True)
        # Enter follows it: the next Tab lands on the newest update, past the header,
        # the standfirst and the key points.
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#live-updates"
        page.keyboard.press("Tab")
        assert page.evaluate(focused)["post"] == "1"

        # "Skip to content" moves focus to <main> itself.
        page.goto(demo_site.url + demo_site.pages["post"])
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"
    finally:
        context.close()


def test_page_down_and_page_up_move_between_posts(chromium: Any, demo_site: DemoSite) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 800})
    context.set_default_timeout(WAIT)
    try:
        page = context.new_page()
        page.goto(demo_site.url + demo_site.pages["blog"])
        articles = page.locator("[role=feed] > article")
        articles.first.focus()
        position = "document.activeElement.getAttribute('aria-posinset')"
        assert page.evaluate(position) == "1"
        page.keyboard.press("PageDown")
        page.keyboard.press("PageDown")
        assert page.evaluate(position) == "3"
        # It scrolls into view (smoothly, unless the reader asks for reduced motion).
        page.wait_for_function(
            "() => { const r = document.activeElement.getBoundingClientRect();"
            " return r.top < innerHeight && r.bottom > 0; }"
        )
        page.keyboard.press("PageUp")
        assert page.evaluate(position) == "2"
    finally:
        context.close()
