"""The Atom feed of a live blog (RFC 4287): newest published posts, each with its permalink.

Built with ElementTree, which escapes every text and attribute; a post's content is its
stored, already sanitized HTML, carried as escaped text (`type="html"`). Characters that
XML 1.0 cannot hold at all are dropped, so no stored text can make the feed ill-formed.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from markupsafe import escape

from liveticker.domain.times import iso
from liveticker.storage.models import Blog, Post
from liveticker.web import seo

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ElementTree.register_namespace("", ATOM)


def atom_feed(blog: Blog, posts: list[Post], *, base: str, site_name: str) -> bytes:
    """The feed document; `posts` newest first, `base` the site's absolute URL."""
    # xml:lang: feed readers show the text in the blog's language (and direction).
    feed = ElementTree.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": blog.language})
    blog_url = base + seo.blog_path(blog)
    _text(feed, "id", blog_url)
    _text(feed, "title", blog.title)
    description = seo.blog_description(blog)
    if description != blog.title:
        _text(feed, "subtitle", description)
    updated = max([post.updated_at for post in posts] + [blog.updated_at])
    _text(feed, "updated", iso(updated))
    _link(feed, "self", base + seo.feed_path(blog), "application/atom+xml")
    _link(feed, "alternate", blog_url, "text/html")
    author = ElementTree.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", site_name)  # entries without a named author inherit it
    _text(feed, "generator", "Liveticker")
    for post in posts:
        _entry(feed, post, base=base)
    document: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _entry(feed: ElementTree.Element, post: Post, *, base: str) -> None:
    entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
    url = base + seo.post_path(post)
    _text(entry, "id", url)
    _text(entry, "title", seo.post_title(post))
    _link(entry, "alternate", url, "text/html")
    published = post.published_at or post.created_at
    _text(entry, "published", iso(published))
    _text(entry, "updated", iso(max(post.updated_at, published)))
    if post.author is not None:
        author = ElementTree.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", post.author.display_name)
    if post.summary:
        _text(entry, "summary", post.summary)
    content = _text(entry, "content", post.body_html + _images_html(post, base=base))
    content.set("type", "html")


def _images_html(post: Post, *, base: str) -> str:
    """The post's pictures as the page shows them, with absolute addresses."""
    figures = []
    for image in post.images:
        source = seo.absolute(base, str(image.get("url", "")))
        if not source.startswith(("http://", "https://")):
            continue
        caption = image.get("caption") or ""
        figures.append(
            f'<figure><img src="{escape(source)}" alt="{escape(image.get("alt") or "")}">'
            + (f"<figcaption>{escape(caption)}</figcaption>" if caption else "")
            + "</figure>"
        )
    return "".join(figures)


def _text(parent: ElementTree.Element, name: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = _NOT_XML.sub("", text)
    return element


def _link(parent: ElementTree.Element, rel: str, href: str, media_type: str) -> None:
    ElementTree.SubElement(
        parent, f"{{{ATOM}}}link", {"rel": rel, "href": _NOT_XML.sub("", href), "type": media_type}
    )
