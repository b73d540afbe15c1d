"""What search engines and link previews read: canonical URLs, Open Graph and JSON-LD.

Every URL here is absolute, built from `settings.public_url` (or the request's base URL
when that is empty), and the JSON-LD is escaped so no text can end its `<script>` element.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request

from liveticker.domain.markdown import SUMMARY_LIMIT, plain_text, shorten
from liveticker.domain.times import iso
from liveticker.settings import Settings
from liveticker.storage.models import Blog, Post

DESCRIPTION_LIMIT = 300
# Google shows at most 110 characters of an article headline.
HEADLINE_LIMIT = 110
# Each post's opening in the JSON-LD, as a search result shows it; it is repeated for the
# twenty posts of a page, so it is kept short (the page's weight budget).
ARTICLE_BODY_LIMIT = 160
# Each excerpt here is cut from the post's stored summary, so none may be longer.
assert max(DESCRIPTION_LIMIT, HEADLINE_LIMIT, ARTICLE_BODY_LIMIT) <= SUMMARY_LIMIT

# Characters that could close the <script> element or open a comment inside it, and the two
# line separators that older JavaScript parsers refuse inside strings.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


@dataclass(frozen=True)
class PageMeta:
    """The <head> of a reader page: canonical link, description, meta tags, JSON-LD."""

    canonical: str
    description: str
    tags: list[tuple[str, str, str]]  # (attribute, key, content): property= or name=
    json_ld: Markup
    feed: str = ""  # the blog's Atom feed for <link rel="alternate"> (a path: the page weighs)
    oembed: str = ""  # the page's oEmbed answer for discovery (a path, like the feed)
    title: str = ""  # what the oEmbed link is titled: the blog's or the post's title


def base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def absolute(base: str, url: str) -> str:
    """Paths on this site become absolute; absolute http(s) URLs stay as they are."""
    return base + url if url.startswith("/") else url


def script_json(data: Any) -> Markup:
    """JSON that is safe to place verbatim inside <script type="application/ld+json">."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_ESCAPES))  # noqa: S704 - escaped just above


def blog_path(blog: Blog) -> str:
    return f"/blogs/{blog.slug}"


def feed_path(blog: Blog) -> str:
    return f"/blogs/{blog.slug}/feed.atom"


def post_path(post: Post) -> str:
    return f"/blogs/{post.blog.slug}/posts/{post.id}"


def oembed_path(url: str) -> str:
    """Where an oEmbed consumer asks about the page at `url` (absolute, as oEmbed wants)."""
    return "/oembed?" + urlencode({"url": url, "format": "json"})


def post_title(post: Post) -> str:
    """The post's headline, or the start of its text when the desk wrote none."""
    return post.headline or shorten(post.summary, HEADLINE_LIMIT)


def blog_description(blog: Blog) -> str:
    return _standfirst_text(blog.standfirst) or blog.title


@lru_cache(maxsize=1024)
def _standfirst_text(standfirst: str) -> str:
    # A standfirst is at most 600 characters and changes rarely: a bounded cache keyed
    # by its text spares every page view the Markdown parser.
    return plain_text(standfirst, limit=DESCRIPTION_LIMIT)


def _organization(site_name: str, base: str) -> dict[str, Any]:
    return {"@type": "Organization", "name": site_name, "url": base + "/"}


def _update(post: Post, base: str) -> dict[str, Any]:
    url = base + post_path(post)
    published = post.published_at or post.created_at
    update: dict[str, Any] = {
        "@type": "BlogPosting",
        "url": url,
        "headline": post_title(post),
        "datePublished": iso(published),
        "dateModified": iso(max(post.updated_at, published)),
        # An excerpt: the full text is on the page, and repeating it doubles the page weight.
        "articleBody": shorten(post.summary, ARTICLE_BODY_LIMIT),
    }
    if post.images:
        update["image"] = [absolute(base, image["url"]) for image in post.images]
    return update


def _live_blog(blog: Blog, posts: list[Post], *, base: str, site_name: str) -> dict[str, Any]:
    url = base + blog_path(blog)
    published = blog.published_at or blog.created_at
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "url": url,
        "headline": blog.title,
        "description": blog_description(blog),
        "datePublished": iso(published),
        "dateModified": iso(blog.updated_at),
        "coverageStartTime": iso(blog.coverage_start or published),
    }
    if blog.status == "closed" and blog.coverage_end is not None:
        data["coverageEndTime"] = iso(blog.coverage_end)
    if blog.lead_image:
        data["image"] = [absolute(base, blog.lead_image["url"])]
    if blog.labels:
        data["keywords"] = list(blog.labels)
    organization = _organization(site_name, base)
    data["publisher"] = organization
    data["author"] = organization
    data["liveBlogUpdate"] = [_update(post, base) for post in posts]
    return data


def _tags(
    *,
    title: str,
    description: str,
    url: str,
    site_name: str,
    image: dict[str, Any] | None,
    base: str,
) -> list[tuple[str, str, str]]:
    tags = [
        ("property", "og:type", "article"),
        ("property", "og:site_name", site_name),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", url),
    ]
    if image:
        tags.append(("property", "og:image", absolute(base, image["url"])))
        tags.append(("property", "og:image:alt", image.get("alt") or title))
    card = "summary_large_image" if image else "summary"
    tags.append(("name", "twitter:card", card))
    return tags


def blog_meta(
    blog: Blog, posts: list[Post], *, base: str, site_name: str, query: str = ""
) -> PageMeta:
    """Metadata of a blog page; `posts` are the ones shown, `query` the page's cursor query."""
    url = base + blog_path(blog)
    description = blog_description(blog)
    return PageMeta(
        # Older pages are pages of their own (their cursor never changes what they hold).
        canonical=f"{url}?{query}" if query else url,
        description=description,
        tags=_tags(
            title=blog.title,
            description=description,
            url=url,
            site_name=site_name,
            image=blog.lead_image,
            base=base,
        ),
        json_ld=script_json(_live_blog(blog, posts, base=base, site_name=site_name)),
        feed=feed_path(blog),
        oembed=oembed_path(url),
        title=blog.title,
    )


def post_meta(post: Post, *, base: str, site_name: str) -> PageMeta:
    """Metadata of a single post's page: a BlogPosting that is part of the live blog."""
    blog = post.blog
    url = base + post_path(post)
    description = shorten(post.summary, DESCRIPTION_LIMIT) or blog_description(blog)
    data = {"@context": "https://schema.org", **_update(post, base)}
    data["mainEntityOfPage"] = url
    data["isPartOf"] = {
        "@type": "LiveBlogPosting",
        "url": base + blog_path(blog),
        "headline": blog.title,
    }
    data["publisher"] = _organization(site_name, base)
    if post.author is not None:
        data["author"] = {"@type": "Person", "name": post.author.display_name}
    else:
        data["author"] = _organization(site_name, base)
    image = post.images[0] if post.images else blog.lead_image
    return PageMeta(
        canonical=url,
        description=description,
        tags=_tags(
            title=post_title(post),
            description=description,
            url=url,
            site_name=site_name,
            image=image,
            base=base,
        ),
        json_ld=script_json(data),
        feed=feed_path(blog),
        oembed=oembed_path(url),
        title=post_title(post),
    )
