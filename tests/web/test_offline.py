"""No page Liveticker serves makes a browser load anything from another host.

A newsroom's site must work on a network without the internet (and leak no reader to a
third party): every page kind, and every stylesheet, script and image it loads, is
crawled in process and its HTML, CSS and JavaScript read for URLs the browser would
fetch; the API docs are also opened in Chromium with every request off 127.0.0.1 aborted.
Links (<a href>) to other hosts are where a reader may go, not loads, so they may point
anywhere.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database
from tests.conftest import Account
from tests.images import camera_jpeg
from tests.web.htmltree import Node, parse
from tests.web.test_notes_pages import score, sign_in, write_note

PASSWORD = "correct horse battery"
# Canonical links, Open Graph and JSON-LD name the public URL; the test client is served
# at https://testserver. Both are this site.
PUBLIC = "https://live.example.org"
SITE_ORIGINS = {("https", "live.example.org"), ("https", "testserver")}
# A vocabulary identifier, never fetched: JSON-LD's "@context" names schema.org's terms.
IDENTIFIERS = {("@context", "https://schema.org")}
# Schemes whose URLs load nothing from a host (inline data, a script, mail).
HOSTLESS = {"data", "blob", "about", "javascript", "mailto", "tel"}
# Attributes whose URL the browser fetches by itself (or, for forms, sends the reader to
# with their input). `href` counts for every element but <a> and <area>.
URL_ATTRIBUTES = {
    "src", "srcset", "imagesrcset", "href", "xlink:href", "action", "formaction",
    "poster", "data", "ping", "background", "manifest",
}  # fmt: skip
# Open streams never end: a crawl must not wait on them.
NEVER_FETCH = re.compile(r"/events$|/live$|^/open-data/")
CRAWL_LIMIT = 150  # pages and assets per persona: the site has a few dozen
# Where forms send the reader (a POST, mostly): checked like loads, never fetched here.
SENT_NOT_FETCHED = ("action>", "formaction>", "ping>")

# -- finding the URLs a page, a stylesheet or a script would load ------------------------------

_CSS_URL = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)""", re.S)
_CSS_IMPORT = re.compile(r"""@import\s+(["'])(.*?)\1""")


def unhashed(path: str) -> str:
    """`/static/liveticker.<hash>.css` -> `/static/liveticker.css`."""
    return re.sub(r"\.[0-9a-f]{10}(\.[^./]+)$", r"\1", path)


# Calls that fetch by themselves; the URL is the first argument (XMLHttpRequest's second).
_JS_CALL = re.compile(
    r"""\b(?:fetch|EventSource|WebSocket|importScripts|import|sendBeacon|\.open)\s*\(\s*"""
    r"""(?:["'](?:GET|POST|PUT|PATCH|DELETE|HEAD)["']\s*,\s*)?(["'`])([^"'`]*)\1"""
)
_JS_IMPORT = re.compile(r"""\bimport\s+(?:[\w*{}\s,]+\s+from\s+)?(["'])([^"']+)\1""")
_JS_SRC = re.compile(r"""\.(?:src|srcset)\s*=\s*(["'`])([^"'`]*)\1""")
_ABSOLUTE_LITERAL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]*)""")
_SVG_REF = re.compile(r"""\b(?:href|xlink:href|src)\s*=\s*(["'])(.*?)\1""")
_JSON_LD_URL_KEYS = {"@context", "@id", "url", "image", "logo", "sameAs", "mainEntityOfPage"}


def foreign(url: str, base: str) -> bool:
    """Whether `url` (as found at `base`) points at a host other than this site."""
    url = url.strip()
    if not url or url.startswith("#"):
        return False
    parts = urlsplit(urljoin(base, url))
    if parts.scheme in HOSTLESS:
        return False
    return (parts.scheme, parts.netloc) not in SITE_ORIGINS


def css_loads(css: str) -> list[str]:
    return [m.group(2) for m in _CSS_URL.finditer(css)] + [
        m.group(2) for m in _CSS_IMPORT.finditer(css)
    ]


def js_loads(js: str, *, ours: bool) -> list[str]:
    """URLs a script fetches. Our own scripts name no absolute URL at all; a vendored one
    (Swagger UI) mentions many (specs, licences), so only what it loads counts there, and
    the Chromium test below is the proof for it."""
    found = [
        m.group(2) for pattern in (_JS_CALL, _JS_IMPORT, _JS_SRC) for m in pattern.finditer(js)
    ]
    if ours:
        found += [m.group(1) for m in _ABSOLUTE_LITERAL.finditer(js)]
    return list(dict.fromkeys(found))


def _json_ld_urls(data: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for name, value in data.items():
            yield from _json_ld_urls(value, name)
    elif isinstance(data, list):
        for value in data:
            yield from _json_ld_urls(value, key)
    elif isinstance(data, str) and key in _JSON_LD_URL_KEYS:
        yield key, data


@dataclass
class Found:
    """What one HTML page references: where it loads from, and where it links to."""

    loads: list[tuple[str, str]] = field(default_factory=list)  # (where, url)
    links: list[str] = field(default_factory=list)


def html_references(html: str) -> Found:
    found = Found()
    for node in parse(html).iter():
        found.loads.extend(_element_loads(node))
        if node.tag in ("a", "area") and node.get("href"):
            found.links.append(node.get("href"))
    return found


def _element_loads(node: Node) -> Iterator[tuple[str, str]]:
    tag = node.tag
    for name, value in node.attrs.items():
        where = f"<{tag} {name}>"
        if name in URL_ATTRIBUTES and not (name == "href" and tag in ("a", "area")):
            if name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    if candidate.strip():
                        yield where, candidate.split()[0]
            else:
                yield where, value
        elif name.startswith("data-") and re.match(r"(?:https?:)?//", value.strip()):
            yield where, value  # a script reads it (a stream's URL, the OpenAPI document)
        elif name == "style":
            yield from ((where, url) for url in css_loads(value))
    if tag == "meta":
        content = node.get("content")
        if node.get("http-equiv").lower() == "refresh" and "url=" in content.lower():
            yield "<meta refresh>", content[content.lower().index("url=") + 4 :]
        elif re.match(r"(?:https?:)?//", content):  # og:image, og:url: the canonical site
            yield f"<meta {node.get('property') or node.get('name')}>", content
    elif tag == "style":
        yield from (("<style>", url) for url in css_loads(node.raw_text))
    elif tag == "script" and not node.get("src"):
        if node.get("type") == "application/ld+json":
            for key, url in _json_ld_urls(json.loads(node.raw_text)):
                if (key, url) not in IDENTIFIERS:
                    yield f"JSON-LD {key}", url
        else:
            yield from (("<script>", url) for url in js_loads(node.raw_text, ours=True))


# -- the checker catches what it should --------------------------------------------------------


def test_the_checks_see_every_kind_of_load_and_allow_only_links_and_identifiers() -> None:
    page = f"""<!doctype html><html><head>
<link rel="stylesheet" href="https://cdn.example.net/a.css">
<link rel="canonical" href="{PUBLIC}/blogs/storm">
<link rel="preconnect" href="https://fonts.example.net">
<meta property="og:image" content="https://images.example.net/x.jpg">
<script src="//cdn.example.net/b.js"></script>
<script type="application/ld+json">{{"@context": "https://schema.org",
 "url": "{PUBLIC}/blogs/storm", "image": ["https://images.example.net/y.jpg"]}}</script>
<script>fetch("https://api.example.net/track")</script>
<style>@import "https://fonts.example.net/f.css"; body {{ background: url(/static/ok.png) }}</style>
</head><body>
<a href="https://elsewhere.example.net/story">a link is not a load</a>
<img src="/media/ok.jpg" srcset="/media/ok-800.jpg 800w, https://images.example.net/z.jpg 1600w">
<iframe src="https://video.example.net/embed"></iframe>
<form action="https://forms.example.net/send"></form>
<div data-stream="https://live.example.net/stream" style="background: url('https://i.example.net/p.png')"></div>
</body></html>"""
    found = html_references(page)
    bad = sorted(url for _, url in found.loads if foreign(url, "https://testserver/"))
    assert bad == [
        "//cdn.example.net/b.js",
        "https://api.example.net/track",
        "https://cdn.example.net/a.css",
        "https://fonts.example.net",
        "https://fonts.example.net/f.css",
        "https://forms.example.net/send",
        "https://i.example.net/p.png",
        "https://images.example.net/x.jpg",
        "https://images.example.net/y.jpg",
        "https://images.example.net/z.jpg",
        "https://live.example.net/stream",
        "https://video.example.net/embed",
    ]
    assert "https://elsewhere.example.net/story" in found.links
    assert js_loads('new EventSource("https://x.example.net/s")', ours=False) == [
        "https://x.example.net/s"
    ]
    assert js_loads('const spec = "https://spec.example.net/"', ours=False) == []
    assert js_loads('const spec = "https://spec.example.net/"', ours=True) == [
        "https://spec.example.net/"
    ]


# -- the whole site, crawled --------------------------------------------------------------------


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url,
        public_url=PUBLIC,
        media_dir=str(tmp_path / "media"),
        write_rate_per_minute=10_000,
        notes_interval_seconds=0,
    )


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    # Over https, as in production: with an https public URL, session cookies are Secure.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@dataclass
class Crawl:
    client: TestClient
    statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def run(self, seeds: list[str]) -> None:
        """Fetch the seeds and every page and asset of this site they reach, up to a bound,
        recording each load from another host."""
        queue = deque(seeds)
        fetched = 0
        while queue and fetched < CRAWL_LIMIT:
            path = queue.popleft()
            if not path or path in self.statuses or NEVER_FETCH.search(path.split("?")[0]):
                continue
            response = self.client.get(path, follow_redirects=True)
            fetched += 1
            self.statuses[path] = response.status_code
            assert response.status_code < 500, f"{path}: {response.status_code}"
            url = str(response.url)
            kind = response.headers.get("content-type", "").split(";")[0]
            if kind == "text/html":
                found = html_references(response.text)
                for where, ref in found.loads:
                    self._check(path, where, ref, url)
                    if not where.endswith(SENT_NOT_FETCHED):
                        queue.append(self._local(url, ref))
                queue.extend(self._local(url, link) for link in found.links)
            elif kind == "text/css":
                for ref in css_loads(response.text):
                    self._check(path, "CSS url()/@import", ref, url)
            elif kind in ("text/javascript", "application/javascript"):
                ours = urlsplit(url).path.startswith("/static/")
                for ref in js_loads(response.text, ours=ours):
                    self._check(path, "script", ref, url)
            elif kind == "image/svg+xml":
                for match in _SVG_REF.finditer(response.text):
                    self._check(path, "SVG reference", match.group(2), url)

    def _check(self, path: str, where: str, ref: str, base: str) -> None:
        if foreign(ref, base):
            self.problems.append(f"{path}: {where} loads {ref}")

    @staticmethod
    def _local(base: str, ref: str) -> str:
        """The path to fetch for a reference of this site; "" (never fetched) for others."""
        parts = urlsplit(urljoin(base, ref.strip()))
        if (parts.scheme, parts.netloc) not in SITE_ORIGINS:
            return ""
        if parts.path.startswith("/api/") and not parts.path.startswith("/api/v1/docs"):
            return ""  # JSON, not pages (the docs page itself is crawled)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def site(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    accounts_by_role: dict[str, Account],
) -> dict[str, Any]:
    """A site with something of every kind on its pages: images (uploaded, with a srcset,
    and of the site's own), a quoted social post, links to other hosts in posts and
    notes, key points, a helpful note, a closed blog and a short link."""
    editor = accounts_by_role["editor"].headers
    uploaded = client.post(
        "/api/v1/media",
        files={"file": ("photo.jpg", camera_jpeg((1800, 900)), "image/jpeg")},
        headers=editor,
    )
    assert uploaded.status_code == 201, uploaded.text
    image = {**uploaded.json(), "alt": "The river at the bridge"}
    make_blog(
        "storm",
        standfirst="Live updates on the storm.",
        lead_image={"url": "/static/demo/flood-river.svg", "alt": "A flooded river"},
        labels=["Weather"],
    )
    post = make_post(
        body="Levels at [the gauge](https://gauges.example.net/7) are **rising**.",
        headline="Levels",
        images=[{k: image[k] for k in ("url", "alt", "width", "height", "srcset")}],
    )
    make_post(
        body="City hall says stay away.",
        social={
            "url": "https://x.com/cityhall/status/1",
            "author_name": "City Hall",
            "handle": "cityhall",
            "text": "Stay away from the river banks.",
        },
    )
    make_post(body="A draft for the desk.", status="draft")
    answered = client.put(
        "/api/v1/blogs/storm/key-points", json={"items": ["Roads closed"]}, headers=editor
    )
    assert answered.status_code == 200, answered.text
    with database.transaction() as session:
        reader = accounts.create_user(session, username="reader", password=PASSWORD, role="reader")
        reader.participant_id = "Preader"
    note_id = write_note(database, post, "reader")
    score(database, note_id)
    make_blog("closed", title="Last week's vote")
    make_post("closed", body="The count is done.")
    closed = client.post("/api/v1/blogs/closed/close", headers=editor)
    assert closed.status_code == 200, closed.text
    return {"post": post, "note": note_id}


def test_no_page_or_asset_loads_anything_from_another_host(
    client: TestClient, site: dict[str, Any]
) -> None:
    post, note = site["post"]["id"], site["note"]
    crawl = Crawl(client)
    client.cookies.clear()
    crawl.run(
        [
            "/",
            "/blogs/storm",
            f"/blogs/storm/posts/{post}",
            "/blogs/closed",
            "/no/such/page",
            "/blogs/nowhere",
            "/login",
            "/signup",
            f"/notes/{note}",
            f"/blogs/storm/posts/{post}/notes",
            "/favicon.ico",
            "/api/v1/docs",
        ]
    )
    anonymous = dict(crawl.statuses)
    sign_in(client, "editor")
    crawl.statuses.clear()
    crawl.run(["/desk", "/desk/blogs/storm", f"/desk/blogs/storm/posts/{post}", "/desk/account"])
    editor = dict(crawl.statuses)
    sign_in(client, "reader", next="/")
    crawl.statuses.clear()
    crawl.run(["/notes/needs-help", f"/notes/{note}", f"/blogs/storm/posts/{post}/notes"])
    reader = dict(crawl.statuses)
    sign_in(client, "admin")
    crawl.statuses.clear()
    crawl.run(["/desk/users", "/blogs/storm/notes/plot"])
    admin = dict(crawl.statuses)

    assert crawl.problems == []
    # Every kind of page was seen as its audience sees it, and every asset they load.
    for path, status in {
        "/": 200,
        "/blogs/storm": 200,
        f"/blogs/storm/posts/{post}": 200,
        "/blogs/closed": 200,
        "/no/such/page": 404,
        "/login": 200,
        "/signup": 200,
        f"/notes/{note}": 200,
        "/api/v1/docs": 200,
        "/favicon.ico": 200,
    }.items():
        assert anonymous.get(path) == status, path
    assert any(path.startswith("/p/") for path in anonymous)  # a short link was followed
    assert any(path.startswith("/media/") for path in anonymous)  # an uploaded image
    for asset in (
        "/static/liveticker.css",
        "/static/liveticker.js",
        "/static/notes.css",
        "/static/api-docs.js",
        "/static/demo/flood-river.svg",
        "/api/v1/docs/assets/swagger-ui.css",
        "/api/v1/docs/assets/swagger-ui-bundle.js",
    ):
        # Our own assets are linked under their content's hash (web/assets.py).
        assert any(unhashed(path.split("?")[0]) == asset for path in anonymous), asset
    assert editor["/desk"] == editor["/desk/blogs/storm"] == 200
    assert any(path.startswith("/static/desk.") for path in editor)
    assert len(editor) > 10, sorted(editor)  # the desk's own links were followed
    assert reader["/notes/needs-help"] == reader[f"/blogs/storm/posts/{post}/notes"] == 200
    assert admin["/desk/users"] == admin["/blogs/storm/notes/plot"] == 200
    assert all(status == 200 for path, status in anonymous.items() if "/static/" in path)


# -- the API docs in a browser with no internet ------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Debian's Chromium at {CHROMIUM}")
def test_the_api_docs_render_with_every_other_host_unreachable(
    chromium: Any, live_server: Any
) -> None:
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_this_machine(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context = chromium.new_context()
    try:
        context.route("**/*", only_this_machine)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # A load or a script the Content-Security-Policy refuses is a console error.
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        # Every operation of the OpenAPI document is listed, ours among them.
        assert page.locator(".opblock").count() >= 30
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/blogs/{slug}/posts" in path for path in paths), paths[:5]
        assert page.locator(".swagger-ui .info .title").inner_text().startswith("Liveticker")
    finally:
        context.close()
    assert elsewhere == []
    assert errors == []
