"""The Atom feed of a blog: RFC 4287's essentials, what feed readers parse, what never shows."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import feedparser
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.htmltree import parse

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def atom(client: TestClient, slug: str = "storm") -> ElementTree.Element:
    response = client.get(f"/blogs/{slug}/feed.atom")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(response.content)


def one(parent: ElementTree.Element, name: str) -> ElementTree.Element:
    found = parent.findall(ATOM + name)
    assert len(found) == 1, (name, len(found))
    return found[0]


def test_feed_has_rfc_4287_essentials_newest_first(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm", title="Storm over the coast", standfirst="Winds of **120 km/h**.")
    first = make_post("storm", "The first words.", headline="First")
    pinned = make_post("storm", "Pinned words.", pinned=True)
    last = make_post("storm", "Water is *rising*.\n\nSecond paragraph.", headline="Latest")
    feed = atom(client)
    assert feed.tag == ATOM + "feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert one(feed, "id").text == "http://testserver/blogs/storm"
    assert one(feed, "title").text == "Storm over the coast"
    assert one(feed, "subtitle").text == "Winds of 120 km/h."
    assert RFC3339.fullmatch(one(feed, "updated").text or "")
    assert one(one(feed, "author"), "name").text  # entries without an author inherit it
    links = {link.get("rel"): link for link in feed.findall(ATOM + "link")}
    assert links["self"].get("href") == "http://testserver/blogs/storm/feed.atom"
    assert links["alternate"].get("href") == "http://testserver/blogs/storm"
    entries = feed.findall(ATOM + "entry")
    # Newest first, the pinned post in its place by time like any other.
    assert [one(entry, "id").text for entry in entries] == [
        f"http://testserver/blogs/storm/posts/{post['id']}" for post in (last, pinned, first)
    ]
    latest = entries[0]
    assert one(latest, "title").text == "Latest"
    assert one(latest, "link").get("href") == one(latest, "id").text
    assert RFC3339.fullmatch(one(latest, "updated").text or "")
    assert RFC3339.fullmatch(one(latest, "published").text or "")
    content = one(latest, "content")
    assert content.get("type") == "html"
    assert "<em>rising</em>" in (content.text or "")
    assert one(entries[1], "title").text == "Pinned words."  # no headline: its first words
    # The feed's updated time is its newest change.
    assert max(one(entry, "updated").text or "" for entry in entries) == one(feed, "updated").text


def test_feed_readers_parse_it(client: TestClient, make_blog: Any, make_post: Any) -> None:
    make_blog("storm", title="Storm over the coast")
    make_post("storm", "Water is rising.", headline="Rising")
    parsed = feedparser.parse(client.get("/blogs/storm/feed.atom").content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Storm over the coast"
    assert [entry.title for entry in parsed.entries] == ["Rising"]
    assert parsed.entries[0].link.startswith("http://testserver/blogs/storm/posts/")


def test_hostile_text_stays_text_and_scripts_never_arrive(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm", title="</title><script>alert(1)</script> & more")
    make_post(
        "storm",
        'Body <script>alert(2)</script> <img src=x onerror="alert(3)"> ]]> &amp;',
        headline='<b>bold</b> & "quoted" ]]>',
    )
    response = client.get("/blogs/storm/feed.atom")
    feed = ElementTree.fromstring(response.content)  # well-formed whatever the text
    assert one(feed, "title").text == "</title><script>alert(1)</script> & more"
    entry = one(feed, "entry")
    assert one(entry, "title").text == '<b>bold</b> & "quoted" ]]>'
    html = one(entry, "content").text or ""
    # The body's HTML was escaped into text when it was written: no tag of it survives.
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;img src=x onerror" in html
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert "<script" not in parsed.entries[0].content[0].value


def test_drafts_deleted_posts_and_draft_blogs_never_feed(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    visible = make_post("storm", "Visible words.")
    make_post("storm", "Secret draft words.", status="draft")
    deleted = make_post("storm", "Deleted words.", headline="Deleted headline")
    response = client.delete(f"/api/v1/blogs/storm/posts/{deleted['id']}", headers=editor.headers)
    assert response.status_code == 200
    text = client.get("/blogs/storm/feed.atom").text
    assert "Secret draft" not in text
    assert "Deleted" not in text
    entries = atom(client).findall(ATOM + "entry")
    assert [one(entry, "id").text for entry in entries] == [
        f"http://testserver/blogs/storm/posts/{visible['id']}"
    ]
    make_blog("hidden", live=False)
    make_post("hidden", "Words in a draft blog.")
    assert client.get("/blogs/hidden/feed.atom").status_code == 404
    assert client.get("/blogs/nowhere/feed.atom").status_code == 404


def test_feed_is_cached_and_revalidated_like_the_page(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    make_post("storm", "First.")
    response = client.get("/blogs/storm/feed.atom")
    etag = response.headers["etag"]
    assert etag != client.get("/blogs/storm").headers["etag"]  # another representation
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    again = client.get("/blogs/storm/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.head("/blogs/storm/feed.atom").headers["etag"] == etag
    make_post("storm", "Second.")
    changed = client.get("/blogs/storm/feed.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert len(ElementTree.fromstring(changed.content).findall(ATOM + "entry")) == 2
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    closed = client.get("/blogs/storm/feed.atom")
    assert closed.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=60"


def test_blog_and_post_pages_link_to_the_feed(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm")
    post = make_post("storm", "First.")
    for url in ("/blogs/storm", f"/blogs/storm/posts/{post['id']}"):
        tree = parse(client.get(url).text)
        links = tree.find_all("link", rel="alternate", type="application/atom+xml")
        assert [node.get("href") for node in links] == ["/blogs/storm/feed.atom"]


def test_pictures_come_with_absolute_addresses(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm")
    make_post(
        "storm",
        "The old bridge is closed.",
        images=[
            {
                "url": "/static/demo/sandbags-bridge.svg",
                "alt": 'Sandbags "on" a bridge',
                "caption": "The bridge <during> the last flood",
            }
        ],
    )
    html = one(one(atom(client), "entry"), "content").text or ""
    figure = parse(html).find("img")
    assert figure is not None
    assert figure.get("src") == "http://testserver/static/demo/sandbags-bridge.svg"
    assert figure.get("alt") == 'Sandbags "on" a bridge'
    assert "The bridge &lt;during&gt; the last flood" in html
