"""Reader pages in process: structure, accessibility, metadata, caching, visibility, paging."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from liveticker.web import i18n
from tests.conftest import Account
from tests.web.htmltree import Node, parse

BASE = "http://testserver"
PARAGRAPH = (
    "Rescue teams reached the lower town shortly after dawn, where the water had risen "
    "above the windows of the ground floors overnight. The mayor said about 300 people "
    "were still waiting on rooftops and upper floors. "
)
# About 600 characters in three paragraphs, with a link and a quotation, like a real post.
REALISTIC_BODY = (
    PARAGRAPH
    + "\n\n> We are bringing everyone out before the next surge, said the fire chief.\n\n"
    + "Read our [explainer on the river levels](https://example.org/explainer). Officials "
    + "expect the river to peak on Wednesday evening; the army has sent two more helicopters "
    + "and shelters in the school halls are open all night for families. Power is out in three "
    + "districts, and the water company asks people to boil tap water."
)


def get_page(client: TestClient, url: str, status: int = 200) -> tuple[Response, Node]:
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response, parse(response.text)


def feed_articles(tree: Node) -> list[Node]:
    feed = tree.find(role="feed")
    assert feed is not None
    return [child for child in feed.children if isinstance(child, Node) and child.tag == "article"]


def json_ld(tree: Node) -> dict[str, Any]:
    scripts = tree.find_all("script", type="application/ld+json")
    assert len(scripts) == 1
    data: dict[str, Any] = json.loads(scripts[0].raw_text)
    return data


def meta_tags(tree: Node) -> dict[str, str]:
    tags = {}
    for meta in tree.find_all("meta"):
        key = meta.get("property") or meta.get("name")
        if key:
            tags[key] = meta.get("content")
    return tags


def assert_accessible_structure(tree: Node) -> None:
    html = tree.find("html")
    assert html is not None
    assert html.get("lang")
    assert tree.find("meta", name="viewport") is not None
    headings = [n for n in tree.iter() if re.fullmatch(r"h[1-6]", n.tag)]
    levels = [int(h.tag[1]) for h in headings]
    assert levels.count(1) == 1, levels
    assert levels[0] == 1, levels
    for previous, level in itertools.pairwise(levels):
        assert level <= previous + 1, f"heading order skips a level: {levels}"
    assert all(h.text for h in headings)
    # Landmarks: a page-level header, main and footer (not those inside articles).
    for tag in ("header", "main", "footer"):
        found = [
            n for n in tree.find_all(tag) if not any(a.tag == "article" for a in n.ancestors())
        ]
        assert len(found) == 1, tag
    assert tree.find("main", id="content") is not None
    for img in tree.find_all("img"):
        assert img.get("alt").strip(), img.attrs
    # Skip links come first in <body>, and every in-page link lands on an element.
    body = tree.find("body")
    assert body is not None
    first_links = body.find_all("a")[:2]
    assert first_links[0].get("href") == "#content"
    assert "skip-link" in first_links[0].get("class")
    for link in tree.find_all("a"):
        href = link.get("href")
        if href.startswith("#"):
            assert tree.by_id(href[1:]) is not None, f"no element for {href}"
    announcer = tree.by_id("live-announcer")
    assert announcer is not None
    assert announcer.get("aria-live") == "polite"
    assert announcer.text == ""


def assert_feed(tree: Node, *, first_position: int, total: int) -> list[Node]:
    articles = feed_articles(tree)
    feed = tree.find(role="feed")
    assert feed is not None
    assert feed.get("aria-busy") == "false"
    html = tree.find("html")
    language = i18n.language((html.get("lang") if html is not None else None) or "en")
    assert feed.get("aria-label") == language.gettext("Live updates")
    for offset, article in enumerate(articles):
        assert article.get("aria-posinset") == str(first_position + offset)
        assert article.get("aria-setsize") == str(total)
        assert article.get("tabindex") == "0"
        assert article.get("id") == f"post-{article.get('data-post-id')}"
        assert article.get("data-updated")
        label = tree.by_id(article.get("aria-labelledby"))
        assert label is not None
        assert label.text
        assert any(a is article for a in label.ancestors())
        # The "Skip to next post" link is the first thing in each post.
        first = next(c for c in article.children if isinstance(c, Node))
        assert first.tag == "a"
        assert first.text == language.gettext("Skip to next post")
        target = first.get("href")
        following = articles[offset + 1].get("id") if offset + 1 < len(articles) else "feed-end"
        assert target == f"#{following}"
        assert article.find("time") is not None
    return articles


@pytest.fixture
def full_blog(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> dict[str, Any]:
    """A blog with everything the reader page shows."""
    blog = make_blog(
        "flood",
        title="Floods in the river valley: live",
        standfirst="Rescue teams are evacuating the lower town as the river keeps rising.",
        labels=["Europe", "Weather"],
        lead_image={
            "url": "/static/demo/flood-river.svg",
            "alt": "A flooded street with a rescue boat",
            "caption": "The lower town on Tuesday morning",
            "credit": "Agency/Photographer",
        },
    )
    response = client.put(
        "/api/v1/blogs/flood/key-points",
        json={"items": ["About **300 people** wait for rescue.", "Schools are closed."]},
        headers=editor.headers,
    )
    assert response.status_code == 200
    posts = {
        "plain": make_post("flood", "The first boats are out.", headline="Boats are out"),
        "no_headline": make_post("flood", "A short update without a headline."),
        "rich": make_post(
            "flood",
            "The old bridge is closed. [Our map](https://example.org/map)",
            headline="Bridge closed",
            key_event=True,
            images=[
                {
                    "url": "/static/demo/sandbags-bridge.svg",
                    "alt": "Sandbags on a bridge",
                    "caption": "FILE: 12 March 2024 — the bridge during the last flood",
                    "credit": "Image: City archive",
                }
            ],
            social={
                "url": "https://x.com/cityhall/status/1",
                "author_name": "City Hall",
                "handle": "@cityhall",
                "text": "The bridge is closed until further notice.",
                "posted_at": "2026-11-27T06:00:00Z",
            },
        ),
        "pinned": make_post("flood", "Our emergency numbers.", headline="Helplines", pinned=True),
        "latest": make_post("flood", "The water level is stable.", headline="Level stable"),
    }
    return {"blog": blog, "posts": posts}


def test_blog_page_has_every_part_of_the_anatomy(client: TestClient, full_blog: Any) -> None:
    response, tree = get_page(client, "/blogs/flood")
    assert_accessible_structure(tree)
    title = tree.find("title")
    assert title is not None
    assert "Floods in the river valley: live" in title.text
    h1 = tree.find("h1")
    assert h1 is not None
    assert h1.text == "Floods in the river valley: live"
    # Skip links to the content and to the stream.
    skip_targets = [a.get("href") for a in tree.select(lambda n: "skip-link" in n.get("class"))]
    assert {"#content", "#live-updates"} <= set(skip_targets)
    topics = tree.find("nav", aria_label="Topics")
    assert topics is not None
    assert [li.text for li in topics.find_all("li")] == ["Europe", "Weather"]
    dates = tree.find("p", **{"class": "dates"})
    assert dates is not None
    assert "Published" in dates.text
    assert "last updated" in dates.text
    times = dates.find_all("time")
    assert len(times) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t.get("datetime")) for t in times)
    assert "Rescue teams are evacuating" in response.text
    short = full_blog["blog"]["short_code"]
    assert tree.find("a", href=f"{BASE}/p/{short}") is not None
    assert f"{BASE}/p/{short}</a>" in response.text  # shown as an absolute, copyable URL
    lead = tree.find("figure", **{"class": "lead-image"})
    assert lead is not None
    lead_img = lead.find("img")
    assert lead_img is not None
    assert lead_img.get("loading") == "eager"
    assert lead_img.get("width")
    assert lead_img.get("height")
    caption = lead.find("figcaption")
    assert caption is not None
    assert "The lower town on Tuesday morning" in caption.text
    assert "Image: Agency/Photographer" in caption.text
    key_points = tree.find("section", **{"class": "key-points"})
    assert key_points is not None
    heading = tree.by_id(key_points.get("aria-labelledby"))
    assert heading is not None
    assert heading.tag == "h2"
    assert heading.text == "What you need to know"
    assert "<strong>300 people</strong>" in response.text
    assert tree.find("section", **{"class": "closed-notice"}) is None

    articles = assert_feed(tree, first_position=1, total=5)
    posts = full_blog["posts"]
    expected = ["pinned", "latest", "rich", "no_headline", "plain"]
    assert [a.get("data-post-id") for a in articles] == [str(posts[k]["id"]) for k in expected]
    pinned = articles[0]
    assert "Pinned" in pinned.text
    assert sum("Pinned" in a.text for a in articles) == 1
    rich = articles[2]
    assert rich.find("span", **{"class": "badge key"}) is not None
    assert sum(a.find("span", **{"class": "badge key"}) is not None for a in articles) == 1
    headline = rich.find("h2")
    assert headline is not None
    assert headline.text == "Bridge closed"
    image = rich.find("figure", **{"class": "post-image"})
    assert image is not None
    img = image.find("img")
    assert img is not None
    assert img.get("loading") == "lazy"
    figcaption = image.find("figcaption")
    assert figcaption is not None
    assert "FILE: 12 March 2024 — the bridge during the last flood" in figcaption.text
    assert "Image: City archive" in figcaption.text
    assert "Image: Image" not in figcaption.text
    # The post without a headline is labelled by its time.
    untitled = articles[3]
    assert untitled.find("h2") is None
    assert untitled.get("aria-labelledby") == f"post-{posts['no_headline']['id']}-time"
    for article in articles:
        post_id = article.get("data-post-id")
        permalink = article.find("a", **{"class": "permalink"})
        assert permalink is not None
        assert permalink.get("href") == f"/blogs/flood/posts/{post_id}"
        assert permalink.find("time") is not None  # the post's time is its link
        short_link = article.find("a", **{"data-share": ""})
        assert short_link is not None
        assert short_link.text == "Share"
        codes = {str(p["id"]): p["short_code"] for p in posts.values()}
        assert short_link.get("href") == f"/p/{codes[post_id]}"
    assert "By " in articles[1].text
    # Page Down/Up between posts is documented for screen-reader users.
    feed = tree.find(role="feed")
    assert feed is not None
    hint = tree.by_id(feed.get("aria-describedby"))
    assert hint is not None
    assert "Page Down" in hint.text
    # Static assets are named by their content's hash.
    stylesheet = tree.find("link", rel="stylesheet")
    assert stylesheet is not None
    assert re.fullmatch(r"/static/liveticker\.[0-9a-f]{10}\.css", stylesheet.get("href"))
    js = tree.select(lambda n: n.tag == "script" and n.get("src").startswith("/static/"))
    assert len(js) == 1
    assert "defer" in js[0].attrs
    assert re.fullmatch(r"/static/liveticker\.[0-9a-f]{10}\.js", js[0].get("src"))


def test_social_card_is_quoted_without_embed(client: TestClient, full_blog: Any) -> None:
    response, tree = get_page(client, "/blogs/flood")
    post_id = full_blog["posts"]["rich"]["id"]
    article = tree.by_id(f"post-{post_id}")
    assert article is not None
    card = article.find("figure", **{"class": "social"})
    assert card is not None
    quote = card.find("blockquote")
    assert quote is not None
    assert "The bridge is closed until further notice." in quote.text
    assert "City Hall" in card.text
    assert "@cityhall" in card.text
    assert card.find("a", href="https://x.com/cityhall/status/1") is not None
    assert card.find("time", datetime="2026-11-27T06:00:00Z") is not None
    assert not tree.find_all("iframe")
    assert all(
        script.get("src").startswith("/static/") or script.get("type")
        for script in tree.find_all("script")
    )
    assert "platform.twitter.com" not in response.text
    assert "widgets.js" not in response.text


def test_nothing_on_the_page_is_loaded_from_another_host(
    client: TestClient, full_blog: Any
) -> None:
    _, tree = get_page(client, "/blogs/flood")
    for node in tree.iter():
        for attribute in ("src", "href", "srcset", "poster", "data"):
            value = node.get(attribute)
            if not value:
                continue
            host = urlsplit(value).netloc
            if host in ("", "testserver"):
                continue
            inside = [a.get("class") for a in node.ancestors()]
            # Only plain links inside a post body or a social card may point elsewhere.
            assert node.tag == "a", node.attrs
            assert "post-body" in inside or "social" in inside, node.attrs


def test_json_ld_describes_the_live_blog(
    client: TestClient, full_blog: Any, editor: Account
) -> None:
    _, tree = get_page(client, "/blogs/flood")
    data = json_ld(tree)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == "Floods in the river valley: live"
    assert data["url"] == f"{BASE}/blogs/flood"
    assert data["description"].startswith("Rescue teams")
    assert data["image"] == [f"{BASE}/static/demo/flood-river.svg"]
    assert data["publisher"] == {"@type": "Organization", "name": "Liveticker", "url": f"{BASE}/"}
    assert data["author"]["@type"] == "Organization"
    for field in ("datePublished", "dateModified", "coverageStartTime"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data[field])
    assert "coverageEndTime" not in data
    updates = data["liveBlogUpdate"]
    articles = feed_articles(tree)
    assert [u["url"] for u in updates] == [
        f"{BASE}/blogs/flood/posts/{a.get('data-post-id')}" for a in articles
    ]
    by_url = {u["url"]: u for u in updates}
    posts = full_blog["posts"]
    rich = by_url[f"{BASE}/blogs/flood/posts/{posts['rich']['id']}"]
    assert rich["@type"] == "BlogPosting"
    assert rich["headline"] == "Bridge closed"
    assert rich["articleBody"] == "The old bridge is closed. Our map"
    assert rich["image"] == [f"{BASE}/static/demo/sandbags-bridge.svg"]
    untitled = by_url[f"{BASE}/blogs/flood/posts/{posts['no_headline']['id']}"]
    assert untitled["headline"] == "A short update without a headline."
    assert all(u["datePublished"] and u["dateModified"] for u in updates)

    client.post("/api/v1/blogs/flood/close", headers=editor.headers)
    _, tree = get_page(client, "/blogs/flood")
    closed = json_ld(tree)
    assert closed["coverageEndTime"] >= closed["coverageStartTime"]


def test_json_ld_cannot_be_broken_out_of(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("xss", title="</script><script>alert(1)</script> & <!-- more")
    nasty = "</script><img src=x onerror=alert(2)> \u2028 done"
    make_post("xss", "Body </script><script>alert(3)</script>", headline=nasty)
    response, tree = get_page(client, "/blogs/xss")
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    data = json_ld(tree)
    assert data["headline"] == "</script><script>alert(1)</script> & <!-- more"
    assert data["liveBlogUpdate"][0]["headline"] == nasty
    script = tree.find("script", type="application/ld+json")
    assert script is not None
    assert "<" not in script.raw_text
    assert "&" not in script.raw_text


def test_open_graph_and_canonical_are_absolute(client: TestClient, full_blog: Any) -> None:
    _, tree = get_page(client, "/blogs/flood")
    canonical = tree.find("link", rel="canonical")
    assert canonical is not None
    assert canonical.get("href") == f"{BASE}/blogs/flood"
    tags = meta_tags(tree)
    assert tags["og:title"] == "Floods in the river valley: live"
    assert tags["og:type"] == "article"
    assert tags["og:url"] == f"{BASE}/blogs/flood"
    assert tags["og:image"] == f"{BASE}/static/demo/flood-river.svg"
    assert tags["og:image:alt"] == "A flooded street with a rescue boat"
    assert tags["og:site_name"] == "Liveticker"
    assert tags["og:description"].startswith("Rescue teams")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["description"].startswith("Rescue teams")


def test_public_url_setting_wins_over_the_request(
    database: Any, make_blog: Any, make_post: Any
) -> None:
    from liveticker.settings import Settings
    from liveticker.web.app import create_app

    make_blog("storm")
    settings = Settings(database_url=database.url, public_url="https://live.example.org/")
    with TestClient(create_app(settings, database=database)) as other:
        _, tree = get_page(other, "/blogs/storm")
    canonical = tree.find("link", rel="canonical")
    assert canonical is not None
    assert canonical.get("href") == "https://live.example.org/blogs/storm"
    assert json_ld(tree)["url"] == "https://live.example.org/blogs/storm"


def test_caching_headers_and_conditional_requests(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    make_post("storm", "First.")
    response = client.get("/blogs/storm")
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]+-gzip"', etag)  # strong, of the gzip body TestClient asks for
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = client.get("/blogs/storm", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"].startswith("public")
    assert client.get("/blogs/storm", headers={"If-None-Match": '"nope"'}).status_code == 200
    head = client.head("/blogs/storm")
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    # Another page of the same blog is another representation.
    make_post("storm", "Second.")
    changed = client.get("/blogs/storm", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    etag = changed.headers["etag"]
    client.post("/api/v1/blogs/storm/close", headers=editor.headers)
    closed = client.get("/blogs/storm", headers={"If-None-Match": etag})
    assert closed.status_code == 200
    assert closed.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=60"


def test_etag_differs_per_query_and_single_posts_are_cached_too(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm")
    post = make_post("storm", "First.")
    first = client.get("/blogs/storm")
    single = client.get(f"/blogs/storm/posts/{post['id']}")
    assert single.status_code == 200
    assert single.headers["etag"] != first.headers["etag"]
    assert single.headers["cache-control"].startswith("public, max-age=5")
    again = client.get(
        f"/blogs/storm/posts/{post['id']}", headers={"If-None-Match": single.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_closed_notice_after_close(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    make_post("storm", "First.")
    _, tree = get_page(client, "/blogs/storm")
    assert tree.find("section", **{"class": "closed-notice"}) is None
    response = client.post(
        "/api/v1/blogs/storm/close",
        json={"message": "This blog has now been closed. Follow our new coverage."},
        headers=editor.headers,
    )
    assert response.status_code == 200
    _, tree = get_page(client, "/blogs/storm")
    assert_accessible_structure(tree)
    notice = tree.find("section", **{"class": "closed-notice"})
    assert notice is not None
    assert notice.get("role") == "status"
    assert "Follow our new coverage." in notice.text
    heading = tree.by_id(notice.get("aria-labelledby"))
    assert heading is not None
    assert heading.tag == "h2"
    dates = tree.find("p", **{"class": "dates"})
    assert dates is not None
    assert dates.find("span", **{"class": "badge live"}) is None


def test_drafts_deleted_posts_and_draft_blogs_never_show(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm")
    visible = make_post("storm", "Visible words.")
    draft = make_post("storm", "Secret draft words.", status="draft")
    deleted = make_post("storm", "Deleted words.", headline="Deleted headline")
    assert (
        client.delete(
            f"/api/v1/blogs/storm/posts/{deleted['id']}", headers=editor.headers
        ).status_code
        == 200
    )
    make_blog("hidden", live=False, title="Hidden draft blog")
    hidden_post = make_post("hidden", "Words in a draft blog.")

    response, tree = get_page(client, "/blogs/storm")
    assert "Secret draft words" not in response.text
    assert "Deleted" not in response.text
    assert [a.get("data-post-id") for a in feed_articles(tree)] == [str(visible["id"])]
    assert_feed(tree, first_position=1, total=1)
    for post in (draft, deleted):
        get_page(client, f"/blogs/storm/posts/{post['id']}", status=404)
        assert client.get(f"/p/{post['short_code']}", follow_redirects=False).status_code == 404
    get_page(client, "/blogs/hidden", status=404)
    get_page(client, f"/blogs/hidden/posts/{hidden_post['id']}", status=404)
    hidden = client.get("/api/v1/blogs/hidden", headers=editor.headers).json()
    assert client.get(f"/p/{hidden['short_code']}", follow_redirects=False).status_code == 404
    assert client.get(f"/p/{hidden_post['short_code']}", follow_redirects=False).status_code == 404
    index = client.get("/").text
    assert "Hidden draft blog" not in index
    assert "Live: storm" in index
    # A post id from another blog is not found under this one.
    other = make_post("storm", "Other.")
    make_blog("second")
    get_page(client, f"/blogs/second/posts/{other['id']}", status=404)


def test_short_links_redirect(client: TestClient, make_blog: Any, make_post: Any) -> None:
    blog = make_blog("storm")
    post = make_post("storm", "First.")
    response = client.get(f"/p/{blog['short_code']}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/blogs/storm"
    response = client.get(f"/p/{post['short_code']}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/blogs/storm/posts/{post['id']}"
    for code in ("zzzzzzz", "0O0O0O0", "x", "a" * 40):
        missing = client.get(f"/p/{code}", follow_redirects=False)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")


def test_errors_are_html_pages(client: TestClient, make_blog: Any, make_post: Any) -> None:
    make_blog("storm")
    make_post("storm", "First.")
    for cursor in ("not-a-cursor", "", "x" * 200, "MTIzOmFiYw"):
        response, tree = get_page(client, f"/blogs/storm?before={cursor}", status=400)
        assert_accessible_structure(tree)
        assert "cursor" in response.text
    response, tree = get_page(client, "/blogs/nowhere", status=404)
    assert_accessible_structure(tree)
    h1 = tree.find("h1")
    assert h1 is not None
    assert h1.text == "Page not found"
    get_page(client, "/blogs/storm/posts/999999", status=404)
    get_page(client, "/blogs/storm/posts/abc", status=404)
    get_page(client, "/no/such/page", status=404)


def test_single_post_page(client: TestClient, full_blog: Any) -> None:
    posts = full_blog["posts"]
    _response, tree = get_page(client, f"/blogs/flood/posts/{posts['rich']['id']}")
    assert_accessible_structure(tree)
    assert tree.find("a", href=f"/blogs/flood#post-{posts['rich']['id']}") is not None
    article = tree.find("article")
    assert article is not None
    assert article.get("id") == f"post-{posts['rich']['id']}"
    h1 = tree.find("h1")
    assert h1 is not None
    assert h1.text == "Bridge closed"
    assert tree.find(role="feed") is None
    assert article.find("figure", **{"class": "social"}) is not None
    canonical = tree.find("link", rel="canonical")
    url = f"{BASE}/blogs/flood/posts/{posts['rich']['id']}"
    assert canonical is not None
    assert canonical.get("href") == url
    tags = meta_tags(tree)
    assert tags["og:url"] == url
    assert tags["og:title"] == "Bridge closed"
    assert tags["og:image"] == f"{BASE}/static/demo/sandbags-bridge.svg"
    data = json_ld(tree)
    assert data["@type"] == "BlogPosting"
    assert data["url"] == url
    assert data["isPartOf"]["url"] == f"{BASE}/blogs/flood"
    # Without a headline the page is headed by the start of the text.
    _, tree = get_page(client, f"/blogs/flood/posts/{posts['no_headline']['id']}")
    assert_accessible_structure(tree)
    h1 = tree.find("h1")
    assert h1 is not None
    assert h1.text == "A short update without a headline."


def test_paging_without_javascript_reaches_every_post(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("long")
    created = [make_post("long", f"Update number {n}.")["id"] for n in range(45)]
    pinned = make_post("long", "Pinned note.", pinned=True)["id"]
    make_post("long", "A draft.", status="draft")
    gone = make_post("long", "Deleted.")["id"]
    client.delete(f"/api/v1/blogs/long/posts/{gone}", headers=editor.headers)
    expected = [pinned, *reversed(created)]

    seen: list[int] = []
    url: str | None = "/blogs/long"
    pages = 0
    while url is not None:
        _, tree = get_page(client, url)
        pages += 1
        articles = assert_feed(tree, first_position=len(seen) + 1, total=len(expected))
        seen += [int(a.get("data-post-id")) for a in articles]
        more = tree.find("a", **{"class": "more"})
        if more is None:
            url = None
        else:
            href = more.get("href")
            assert href.startswith("?before=")
            assert more.text == "Show more posts"
            url = "/blogs/long" + href
        assert pages < 10
    assert seen == expected
    assert pages == 3
    assert "You have reached the first update." in client.get(url or "/blogs/long" + href).text


def test_index_lists_live_and_closed_blogs(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    make_blog("storm", title="Storm live", standfirst="The storm reaches the coast.")
    make_blog("summit", title="Summit live")
    client.post("/api/v1/blogs/summit/close", headers=editor.headers)
    make_blog("draft", live=False, title="Not yet")
    response, tree = get_page(client, "/")
    assert_accessible_structure(tree)
    assert "Not yet" not in response.text
    assert tree.find("a", href="/blogs/storm") is not None
    assert "The storm reaches the coast." in response.text
    live = tree.by_id("live-now")
    closed = tree.by_id("recently-closed")
    assert live is not None
    assert closed is not None
    assert response.text.index("Storm live") < response.text.index("Recently closed")
    assert response.text.index("Recently closed") < response.text.index("Summit live")
    assert tree.find("time") is not None


def test_page_weight_with_twenty_posts(client: TestClient, make_blog: Any, make_post: Any) -> None:
    make_blog(
        "budget",
        title="Budget night: live",
        standfirst="The finance minister presents the budget for next year.",
        labels=["Politics", "Economy"],
        lead_image={
            "url": "/static/demo/harbour-morning.svg",
            "alt": "The parliament",
            "credit": "Agency",
        },
    )
    for n in range(20):
        make_post("budget", REALISTIC_BODY, headline=f"The minister speaks, part {n}")
    assert 550 <= len(REALISTIC_BODY) <= 650
    response, tree = get_page(client, "/blogs/budget")
    assert len(feed_articles(tree)) == 20
    assets = [
        node.get("href") or node.get("src")
        for node in tree.iter()
        if (node.tag == "link" and node.get("rel") == "stylesheet")
        or (node.tag == "script" and node.get("src"))
    ]
    assert len(assets) == 2
    sizes = {"html": len(response.content)}
    for asset in assets:
        asset_response = client.get(asset)
        assert asset_response.status_code == 200
        assert asset_response.headers["cache-control"] == "public, max-age=31536000, immutable"
        sizes[asset.rsplit(".", 1)[-1]] = len(asset_response.content)
    print("page weight (bytes):", sizes, "total", sum(sizes.values()))
    assert sizes["js"] < 16_000  # local times, show-more in place and live updates
    assert sum(sizes.values()) < 60_000, sizes


def test_demo_pages_are_well_formed(client: TestClient, database: Any) -> None:
    from liveticker.domain.demo import create_demo

    with database.transaction() as session:
        demo = create_demo(session)
    for slug in (demo.blog_slug, demo.closed_blog_slug, demo.arabic_blog_slug):
        _, tree = get_page(client, f"/blogs/{slug}")
        assert_accessible_structure(tree)
        articles = feed_articles(tree)
        assert articles
        assert_feed(tree, first_position=1, total=int(articles[0].get("aria-setsize")))
        for article in articles[:3]:
            _, single = get_page(client, f"/blogs/{slug}/posts/{article.get('data-post-id')}")
            assert_accessible_structure(single)
    _, index = get_page(client, "/")
    assert_accessible_structure(index)


def test_the_site_has_an_icon(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # the ICO format's header
    assert "max-age" in icon.headers["cache-control"]


def test_page_views_never_parse_markdown(
    client: TestClient,
    make_blog: Any,
    make_post: Any,
    editor: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Plain text for titles, descriptions and JSON-LD is derived when a post is written,
    key points rendered once: a hostile body (20,000 × "![" costs the parser about a
    second) or key point costs a view nothing."""
    from liveticker.domain import markdown

    make_blog("heavy", standfirst="A *standfirst* in Markdown.")
    hostile = make_post("heavy", body="![" * 10_000)
    plain = make_post("heavy", body="First **bold** words of a [linked](https://a.example) post.")
    points = {"items": ["A *key* point", "![" * 300]}
    assert client.put(
        "/api/v1/blogs/heavy/key-points", json=points, headers=editor.headers
    ).is_success
    get_page(client, "/blogs/heavy")  # the standfirst and the key points are cached from here

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a page view parsed Markdown")

    monkeypatch.setattr(markdown._md, "parse", no_parsing)
    monkeypatch.setattr(markdown._md, "render", no_parsing)
    _, tree = get_page(client, "/blogs/heavy")
    by_url = {u["url"]: u for u in json_ld(tree)["liveBlogUpdate"]}
    assert by_url[f"{BASE}/blogs/heavy/posts/{plain['id']}"]["articleBody"] == (
        "First bold words of a linked post."
    )
    assert by_url[f"{BASE}/blogs/heavy/posts/{hostile['id']}"]["articleBody"].endswith("…")
    assert "<em>key</em>" in client.get("/blogs/heavy").text
    _, tree = get_page(client, f"/blogs/heavy/posts/{plain['id']}")
    described = [n.get("content") for n in tree.iter() if n.get("name") == "description"]
    assert described == ["First bold words of a linked post."]
