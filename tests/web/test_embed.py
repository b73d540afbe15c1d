"""The embed pages and the oEmbed provider in process: what they show and hide, their headers
(framable, unlike every other page), caching, and hostile parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.exceptions import Misconfigured
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Blog
from liveticker.web import assets
from liveticker.web.app import create_app
from liveticker.web.middleware import framable_policy
from tests.conftest import Account
from tests.web.htmltree import Node, parse
from tests.web.test_security_headers import csp

BASE = "http://testserver"
MakeBlog = Callable[..., dict[str, Any]]
MakePost = Callable[..., dict[str, Any]]


def embed(client: TestClient, path: str, status: int = 200) -> Node:
    response = client.get(path)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


def articles(tree: Node) -> list[Node]:
    return [node for node in tree.iter() if node.tag == "article"]


def oembed(client: TestClient, status: int = 200, **params: str) -> dict[str, Any]:
    response = client.get("/oembed", params=params)
    assert response.status_code == status, (params, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


# ---- the embed pages ----


def test_blog_embed_is_the_newest_posts_without_the_site_around_them(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm", title="Storm over the coast")
    made = [make_post("storm", f"Update number {n}.", headline=f"Update {n}") for n in range(12)]
    tree = embed(client, "/blogs/storm/embed")
    html = tree.find("html")
    assert html is not None
    assert html.get("lang") == "en"
    assert html.get("dir") == "ltr"
    # No site chrome: no header, footer or navigation of the site, no link to its front page.
    assert tree.find("header", **{"class": "site-header"}) is None
    assert not [
        n for n in tree.find_all("footer") if not any(a.tag == "article" for a in n.ancestors())
    ]
    assert tree.find("nav") is None
    assert tree.find("a", href="#site-nav") is None
    assert tree.find("a", href="/") is None
    body = tree.find("body")
    assert body is not None
    skip = body.find_all("a")[0]
    assert skip.get("href") == "#live-updates"
    assert skip.text == "Skip to live updates"
    # The title links to the full page, in a new tab.
    heading = tree.find("h1")
    assert heading is not None
    assert heading.text == "Storm over the coast"
    link = heading.parent
    assert link is not None
    assert link.tag == "a"
    assert link.get("href") == f"{BASE}/blogs/storm"
    assert link.get("target") == "_blank"
    assert "noopener" in link.get("rel").split()
    # The newest ten posts, newest first, in the feed the live script works on.
    feed = tree.find(role="feed")
    assert feed is not None
    assert feed.get("id") == "live-updates"
    version = client.get("/api/v1/blogs/storm").json()["version"]
    assert feed.get("data-blog") == "storm"
    assert feed.get("data-version") == str(version)
    shown = [a.get("data-post-id") for a in articles(tree)]
    assert shown == [str(post["id"]) for post in reversed(made)][:10]
    assert [a.get("aria-posinset") for a in articles(tree)] == [str(n) for n in range(1, 11)]
    assert {a.get("aria-setsize") for a in articles(tree)} == {"12"}
    more = tree.find("a", **{"class": "more"})
    assert more is not None
    assert more.text == "Show more on Liveticker"
    assert more.get("href") == f"{BASE}/blogs/storm"
    assert more.get("target") == "_blank"
    scripts = [s.get("src") for s in tree.find_all("script") if s.get("src")]
    assert scripts == [
        f"/static/{assets.MANIFEST.path('liveticker.js')}",
        f"/static/{assets.MANIFEST.path('embed-frame.js')}",
    ]
    for src in scripts:
        assert client.get(src).status_code == 200


def test_post_embed_shows_that_post_only(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm", title="Storm over the coast")
    wanted = make_post("storm", "The bridge is closed.", headline="Bridge closed")
    make_post("storm", "Another update.")
    tree = embed(client, f"/blogs/storm/posts/{wanted['id']}/embed")
    assert [a.get("data-post-id") for a in articles(tree)] == [str(wanted["id"])]
    assert tree.find(role="feed") is None  # no live feed: the post stays as it was loaded
    assert tree.find("h2", id=f"post-{wanted['id']}-title") is not None
    body = tree.find("body")
    assert body is not None
    assert body.find_all("a")[0].get("href") == f"#post-{wanted['id']}"
    assert tree.find("a", **{"class": "more"}) is not None
    # A post without a headline is headed by its first words, as on its own page.
    plain = make_post("storm", "Only words here, no headline.")
    tree = embed(client, f"/blogs/storm/posts/{plain['id']}/embed")
    assert tree.find("h2", id=f"post-{plain['id']}-title") is not None


def test_embed_speaks_the_blogs_language(
    client: TestClient, make_blog: MakeBlog, database: Database
) -> None:
    make_blog("storm")
    with database.transaction() as session:
        blog = session.scalar(select(Blog).where(Blog.slug == "storm"))
        assert blog is not None
        blog.language = "ar"
    html = embed(client, "/blogs/storm/embed").find("html")
    assert html is not None
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")


def test_drafts_deleted_posts_and_draft_blogs_never_show_in_embeds(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost, editor: Account
) -> None:
    make_blog("storm")
    visible = make_post("storm", "Visible words.")
    draft = make_post("storm", "Secret draft words.", status="draft")
    deleted = make_post("storm", "Deleted words.")
    gone = client.delete(f"/api/v1/blogs/storm/posts/{deleted['id']}", headers=editor.headers)
    assert gone.status_code == 200
    response = client.get("/blogs/storm/embed")
    assert "Secret draft" not in response.text
    assert "Deleted words" not in response.text
    assert [a.get("data-post-id") for a in articles(parse(response.text))] == [str(visible["id"])]
    for post in (draft, deleted):
        embed(client, f"/blogs/storm/posts/{post['id']}/embed", status=404)
    make_blog("hidden", live=False, title="Hidden draft blog")
    hidden_post = make_post("hidden", "Words in a draft blog.")
    embed(client, "/blogs/hidden/embed", status=404)
    embed(client, f"/blogs/hidden/posts/{hidden_post['id']}/embed", status=404)
    # A post of another blog is not found under this one; ids beyond any row are no route.
    embed(client, f"/blogs/storm/posts/{hidden_post['id']}/embed", status=404)
    embed(client, "/blogs/storm/posts/99999999999999/embed", status=404)


def test_a_purged_post_is_gone_from_its_embed(
    client: TestClient,
    make_blog: MakeBlog,
    make_post: MakePost,
    accounts_by_role: dict[str, Account],
) -> None:
    make_blog("storm")
    post = make_post("storm", "Defamatory words.")
    purged = client.post(
        f"/api/v1/blogs/storm/posts/{post['id']}/purge",
        json={"reason": "court order"},
        headers=accounts_by_role["admin"].headers,
    )
    assert purged.status_code == 200, purged.text
    response = client.get(f"/blogs/storm/posts/{post['id']}/embed")
    assert response.status_code == 410
    assert "Defamatory" not in client.get("/blogs/storm/embed").text


def test_embed_is_framable_and_every_other_page_is_not(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm")
    post = make_post("storm")
    for path in ("/blogs/storm/embed", f"/blogs/storm/posts/{post['id']}/embed"):
        response = client.get(path)
        assert response.status_code == 200
        assert len(response.headers.get_list("content-security-policy")) == 1, path
        policy = csp(response)
        assert policy["frame-ancestors"] == "*", path
        assert "x-frame-options" not in response.headers, path
        # Framable, but as locked down as any page otherwise.
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["object-src"] == "'none'"
        assert policy["base-uri"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text
        assert " onclick=" not in response.text
    for path in ("/blogs/storm", f"/blogs/storm/posts/{post['id']}", "/", "/blogs/nope/embed"):
        response = client.get(path)
        assert csp(response)["frame-ancestors"] == "'none'", path
        assert response.headers["x-frame-options"] == "DENY", path


@pytest.mark.parametrize(
    ("ancestors", "deny"),
    [
        ("https://news.example.org https://*.example.com", False),
        ("'self'", False),
        ("'none'", True),
    ],
)
def test_who_may_frame_the_embed_is_a_setting(
    database: Database, make_blog: MakeBlog, ancestors: str, deny: bool
) -> None:
    make_blog("storm")
    settings = Settings(database_url=database.url, embed_frame_ancestors=ancestors)
    with TestClient(create_app(settings, database=database)) as framed:
        response = framed.get("/blogs/storm/embed")
    assert response.status_code == 200
    assert csp(response)["frame-ancestors"] == ancestors
    # Framing refused by the policy is refused to old browsers too.
    assert ("x-frame-options" in response.headers) is deny


@pytest.mark.parametrize(
    "ancestors",
    ["", "*; script-src *", "https://a.example, https://b.example", "'unsafe-inline'", "a\nb;"],
)
def test_a_frame_ancestors_setting_that_could_add_a_directive_is_refused(ancestors: str) -> None:
    with pytest.raises(Misconfigured, match="LIVETICKER_EMBED_FRAME_ANCESTORS"):
        framable_policy(ancestors)


def test_a_bad_setting_is_an_error_not_a_policy(database: Database, make_blog: MakeBlog) -> None:
    make_blog("storm")
    settings = Settings(database_url=database.url, embed_frame_ancestors="*; script-src *")
    with TestClient(create_app(settings, database=database)) as framed:
        response = framed.get("/blogs/storm/embed")
    assert response.status_code == 500
    assert "LIVETICKER_EMBED_FRAME_ANCESTORS" in response.text
    assert csp(response)["frame-ancestors"] == "'none'"
    assert csp(response)["script-src"] == "'self'"


def test_embed_answers_304_until_the_blog_changes(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm")
    post = make_post("storm")
    for path in ("/blogs/storm/embed", f"/blogs/storm/posts/{post['id']}/embed"):
        first = client.get(path)
        etag = first.headers["etag"]
        assert first.headers["cache-control"].startswith("public, max-age=5")
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        # Not the blog page's validator: the two pages differ.
        assert client.get("/blogs/storm").headers["etag"] != etag
    etag = client.get("/blogs/storm/embed").headers["etag"]
    make_post("storm", "A newer update.")
    changed = client.get("/blogs/storm/embed", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "A newer update." in changed.text
    assert client.head("/blogs/storm/embed").status_code == 200


def test_the_loader_is_a_stable_url_cached_for_an_hour(client: TestClient) -> None:
    response = client.get("/static/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "div[data-liveticker]" in response.text
    again = client.get("/static/embed.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # The frame's script is versioned like the page's assets: a day.
    assert client.get("/static/embed-frame.js").headers["cache-control"] == assets.SHORT_CACHE


# ---- oEmbed ----


def test_oembed_for_a_blog_and_a_post(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm", title="Storm over the coast")
    post = make_post("storm", "The bridge is closed.", headline="Bridge closed")
    blog = oembed(client, url=f"{BASE}/blogs/storm", format="json")
    assert blog["type"] == "rich"
    assert blog["version"] == "1.0"
    assert blog["title"] == "Storm over the coast"
    assert blog["provider_name"] == "Liveticker"
    assert blog["provider_url"] == f"{BASE}/"
    assert "author_name" not in blog
    assert isinstance(blog["width"], int)
    assert isinstance(blog["height"], int)
    html = parse(blog["html"])
    box = html.find("div")
    assert box is not None
    assert box.get("data-liveticker") == f"{BASE}/blogs/storm"
    link = box.find("a")  # what readers without JavaScript get
    assert link is not None
    assert link.get("href") == f"{BASE}/blogs/storm"
    assert link.text == "Storm over the coast"
    script = html.find("script")
    assert script is not None
    assert script.get("src") == f"{BASE}/static/embed.js"
    assert "async" in script.attrs
    assert not script.raw_text

    one = oembed(client, url=f"{BASE}/blogs/storm/posts/{post['id']}")  # format: json by default
    assert one["title"] == "Bridge closed"
    assert one["author_name"] == "editor"
    box = parse(one["html"]).find("div")
    assert box is not None
    assert box.get("data-liveticker") == f"{BASE}/blogs/storm/posts/{post['id']}"
    # Other spellings of the same pages: https, a trailing slash, a query, an embed, a short link.
    for url in (
        "https://testserver/blogs/storm/",
        f"{BASE}/blogs/storm?before=x#post-1",
        f"{BASE}/blogs/storm/embed",
        f"{BASE}/p/{client.get('/api/v1/blogs/storm').json()['short_code']}",
    ):
        assert oembed(client, url=url)["title"] == "Storm over the coast", url
    assert oembed(client, url=f"{BASE}/p/{post['short_code']}")["title"] == "Bridge closed"


def test_oembed_respects_maxwidth_and_maxheight(client: TestClient, make_blog: MakeBlog) -> None:
    make_blog(
        "storm",
        lead_image={"url": "/static/demo/harbour-morning.svg", "alt": "Harbour"},
    )
    roomy = oembed(client, url=f"{BASE}/blogs/storm")
    small = oembed(client, url=f"{BASE}/blogs/storm", maxwidth="300", maxheight="200")
    assert small["width"] <= 300
    assert small["height"] <= 200
    assert (small["width"], small["height"]) != (roomy["width"], roomy["height"])
    box = parse(small["html"]).find("div")
    assert box is not None
    assert (box.get("data-max-width"), box.get("data-max-height")) == ("300", "200")
    # A thumbnail only with its size known (this image's is not): all three or none.
    assert not {"thumbnail_url", "thumbnail_width", "thumbnail_height"} & set(small)


def test_oembed_escapes_titles_in_its_html(client: TestClient, make_blog: MakeBlog) -> None:
    make_blog("storm", title='<img src=x onerror="alert(1)"> & "quotes"')
    answer = oembed(client, url=f"{BASE}/blogs/storm")
    assert answer["title"] == '<img src=x onerror="alert(1)"> & "quotes"'
    assert "<img" not in answer["html"]
    assert "&lt;img" in answer["html"]
    assert parse(answer["html"]).find("a") is not None


def test_oembed_formats_other_than_json_are_not_implemented(
    client: TestClient, make_blog: MakeBlog
) -> None:
    make_blog("storm")
    for fmt in ("xml", "XML", "yaml", "<b>"):
        error = oembed(client, 501, url=f"{BASE}/blogs/storm", format=fmt)
        assert error["error"]["code"] == "not_implemented"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"url": ""},
        {"url": f"{BASE}/blogs/storm", "maxwidth": "wide"},
        {"url": f"{BASE}/blogs/storm", "maxwidth": "0"},
        {"url": f"{BASE}/blogs/storm", "maxwidth": "-5"},
        {"url": f"{BASE}/blogs/storm", "maxheight": "1e9"},
        {"url": f"{BASE}/blogs/storm", "maxheight": "99999999999999999999999"},
        {"url": f"{BASE}/blogs/storm", "maxwidth": "٣٠٠"},  # digits, but not ASCII ones
        {"url": f"{BASE}/blogs/storm\n"},
        {"url": f"{BASE}/blogs/ storm"},
        {"url": f"{BASE}/blogs/storm" + "/" * 3000},
        {"url": "http://[::1/blogs/storm"},
        {"url": "http://testserver:99999/blogs/storm"},
        {"url": "http://testserver\x00/blogs/storm"},
    ],
)
def test_oembed_bad_parameters_are_400(
    client: TestClient, make_blog: MakeBlog, params: dict[str, str]
) -> None:
    make_blog("storm")
    error = oembed(client, 400, **params)
    assert error["error"]["code"] == "bad_request"
    assert error["error"]["field"] in ("url", "maxwidth", "maxheight")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/blogs/storm",
        "http://testserver.example.org/blogs/storm",
        "http://example.org/http://testserver/blogs/storm",
        "http://testserver@example.org/blogs/storm",
        "http://user@testserver/blogs/storm",
        "http://testserver:8080/blogs/storm",
        "//testserver/blogs/storm",
        "/blogs/storm",
        "ftp://testserver/blogs/storm",
        "javascript:alert(1)//testserver/blogs/storm",
        "data:text/html,<script>alert(1)</script>",
        "http://testserver/blogs/storm/../hidden",
        "http://testserver/blogs/%73torm",
        "http://testserver/blogs/<script>alert(1)</script>",
        "http://testserver/blogs/storm/posts/0",
        "http://testserver/blogs/storm/posts/99999999999",
        "http://testserver/blogs/storm/feed.atom",
        "http://testserver/api/v1/blogs/storm",
        "http://testserver/",
        "http://testserver/p/zzzzzzz",
        "http://testserver/p/../blogs/storm",
    ],
)
def test_oembed_urls_not_of_our_public_pages_are_404(
    client: TestClient, make_blog: MakeBlog, url: str
) -> None:
    make_blog("storm")
    error = oembed(client, 404, url=url)
    assert error["error"]["code"] == "not_found"
    assert "<script" not in str(error)


def test_oembed_never_tells_of_drafts_deleted_or_purged_posts(
    client: TestClient,
    make_blog: MakeBlog,
    make_post: MakePost,
    accounts_by_role: dict[str, Account],
    editor: Account,
) -> None:
    make_blog("storm")
    draft = make_post("storm", "Secret draft words.", status="draft")
    deleted = make_post("storm", "Deleted words.")
    client.delete(f"/api/v1/blogs/storm/posts/{deleted['id']}", headers=editor.headers)
    purged = make_post("storm", "Defamatory words.")
    client.post(
        f"/api/v1/blogs/storm/posts/{purged['id']}/purge",
        json={"reason": "court order"},
        headers=accounts_by_role["admin"].headers,
    )
    make_blog("hidden", live=False)
    hidden_post = make_post("hidden", "Words in a draft blog.")
    hidden = client.get("/api/v1/blogs/hidden", headers=editor.headers).json()
    for url in (
        *(f"{BASE}/blogs/storm/posts/{post['id']}" for post in (draft, deleted, purged)),
        *(f"{BASE}/p/{post['short_code']}" for post in (draft, deleted, hidden_post)),
        f"{BASE}/blogs/hidden",
        f"{BASE}/blogs/hidden/posts/{hidden_post['id']}",
        f"{BASE}/p/{hidden['short_code']}",
    ):
        response = client.get("/oembed", params={"url": url}, headers=editor.headers)
        assert response.status_code == 404, (url, response.text)  # even asked with a token
        assert "words" not in response.text.lower()


def test_oembed_follows_the_public_url_and_revalidates(
    database: Database, make_blog: MakeBlog
) -> None:
    make_blog("storm")
    settings = Settings(database_url=database.url, public_url="https://live.example.org/")
    with TestClient(create_app(settings, database=database)) as public:
        answer = public.get("/oembed", params={"url": "https://live.example.org/blogs/storm"})
        assert answer.status_code == 200
        assert answer.json()["provider_url"] == "https://live.example.org/"
        assert 'src="https://live.example.org/static/embed.js"' in answer.json()["html"]
        assert answer.headers["access-control-allow-origin"] == "*"
        # As long as the page's: a deleted post's title goes from caches as fast.
        assert answer.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
        again = public.get(
            "/oembed",
            params={"url": "https://live.example.org/blogs/storm"},
            headers={"If-None-Match": answer.headers["etag"]},
        )
        assert again.status_code == 304
        # The request's own host is not the site's when the public URL says otherwise.
        assert public.get("/oembed", params={"url": f"{BASE}/blogs/storm"}).status_code == 404


def test_blog_and_post_pages_announce_their_oembed(
    client: TestClient, make_blog: MakeBlog, make_post: MakePost
) -> None:
    make_blog("storm", title="Storm over the coast")
    post = make_post("storm", "The bridge is closed.", headline="Bridge closed")
    for path, title in (
        ("/blogs/storm", "Storm over the coast"),
        (f"/blogs/storm/posts/{post['id']}", "Bridge closed"),
    ):
        tree = parse(client.get(path).text)
        links = tree.find_all("link", rel="alternate", type="application/json+oembed")
        assert len(links) == 1, path
        href = links[0].get("href")
        assert href.startswith("/oembed?")  # a path, like the feed's: the page weighs
        query = parse_qs(urlsplit(href).query)
        assert query == {"url": [f"{BASE}{path}"], "format": ["json"]}
        assert links[0].get("title") == title
        assert client.get(href).json()["title"] == title
