"""Reader pages: the list of blogs, a live blog and its stream, single posts, short links.

Routes load through the domain as an anonymous reader (so drafts never show), answer a
matching If-None-Match from the blog's version before any rendering, then render. The
notes shown under posts are part of that: a change of them bumps the blog's version too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from liveticker.domain import blogs, languages, notes, permissions, posts, times
from liveticker.domain.shortcodes import is_wellformed
from liveticker.exceptions import NotFound
from liveticker.storage.models import Blog, Post
from liveticker.web import assets, feeds, i18n, seo
from liveticker.web.caching import not_modified
from liveticker.web.deps import AppSettings, DbSession
from liveticker.web.services import services_of

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).parent
INDEX_CACHE = "public, max-age=5, stale-while-revalidate=30"
LIVE_CACHE = "public, max-age=5, stale-while-revalidate=30"
# A closed blog changes rarely, but a legal takedown can still come: bounded at 2 minutes.
CLOSED_CACHE = "public, max-age=60, stale-while-revalidate=60"
SHORT_LINK_CACHE = "public, max-age=300"


def _asset_version() -> str:
    """A digest of the templates and of the assets' hashes (the pages link the assets by
    them): part of every ETag, so a deploy that changes either is never answered from an
    old cache."""
    digest = hashlib.sha256()
    templates = HERE / "templates"
    files = [
        *templates.glob("*.html"),
        *templates.glob("notes/_*.html"),  # the notes box, inside every post
    ]
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(b"\0" + assets.MANIFEST.version.encode())
    return digest.hexdigest()[:10]


ASSET_VERSION = _asset_version()


def _iso(when: datetime | str | None) -> str:
    return "" if when is None else times.iso(when)


# What every page's templates format times with (the notes pages' too); `human`, in the
# page's language, is a template global (web/i18n.py).
TIME_HELPERS = {"iso": _iso}


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    settings: AppSettings,
    blog: Blog | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The page in the blog's language and look, else the site's default ones."""
    services = services_of(request)
    templates = services.templates
    theme = services.themes.get(blog.theme) if blog is not None else services.themes.default
    context = {
        "site_name": theme.site_name or settings.site_name,
        "theme": theme,
        **TIME_HELPERS,
        **context,
    }
    with i18n.speaking(blog.language if blog is not None else settings.default_language):
        return templates.TemplateResponse(request, template, context, headers=headers)


def _shown_notes(session: DbSession, shown: list[Post]) -> dict[int, list[dict[str, Any]]]:
    """What each post shows under it, as the "notes" live event carries it."""
    found = notes.shown_notes(session, post_ids=[post.id for post in shown])
    return {
        post_id: [notes.note_snapshot(note) for note in rows] for post_id, rows in found.items()
    }


def stream_context(
    session: DbSession, *, blog: Blog, base: str, before: str | None, limit: int
) -> dict[str, Any]:
    """What a page of the blog's stream renders: the page of posts (pinned first), the notes
    under them, the key points. The blog page's and its embed's."""
    page = posts.stream_page(session, blog=blog, before=before, limit=limit)
    shown = ([page.pinned] if page.pinned else []) + page.posts
    return {
        "blog": blog,
        "page": page,
        "shown": shown,
        "notes": _shown_notes(session, shown),
        "base": base,
        "key_points": blogs.key_points_html(blog),
    }


def _etag(blog: Blog, request: Request, base: str, siblings: list[Blog] | None = None) -> str:
    """Strong validator from what the page is made of: the blog row, its look's digest (a
    new logo or link in the themes file is a new page), and the siblings in other languages
    it links (one indexed query, only for a blog that names any)."""
    look = services_of(request).themes.get(blog.theme).digest
    parts = [blog.id, blog.version, request.url.path, request.url.query, base, ASSET_VERSION, look]
    parts += [f"{sibling.id}.{sibling.version}" for sibling in siblings or []]
    key = "\n".join(str(part) for part in parts)
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _site_name(request: Request, settings: AppSettings, blog: Blog) -> str:
    """The name the blog's look gives the site (in its meta tags and feed too), else the site's."""
    return services_of(request).themes.get(blog.theme).site_name or settings.site_name


def _alternates(blog: Blog, siblings: list[Blog], base: str) -> list[dict[str, str]]:
    """The blog and its public siblings, each in its language: hreflang links for search
    engines (each page names itself too), and the "read in" links for readers."""
    return [
        {
            "language": sibling.language,
            "name": languages.native_name(sibling.language),
            "url": base + seo.blog_path(sibling),
            "current": "1" if sibling.id == blog.id else "",
        }
        for sibling in ([blog, *siblings] if siblings else [])
    ]


def _cache_headers(blog: Blog, etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": CLOSED_CACHE if blog.status == "closed" else LIVE_CACHE}


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> Response:
    """Every browser asks a site for its icon; a 404 in every log helps no one."""
    return FileResponse(
        HERE / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.api_route("/", methods=["GET", "HEAD"])
def index(request: Request, session: DbSession, settings: AppSettings) -> Response:
    public = blogs.list_public_blogs(session, limit=50)
    context = {
        "live": [blog for blog in public if blog.status == "live"],
        "closed": [blog for blog in public if blog.status == "closed"],
        "canonical": seo.base_url(request, settings) + "/",
    }
    return _render(
        request, "index.html", context, settings=settings, headers={"Cache-Control": INDEX_CACHE}
    )


@router.api_route("/blogs/{slug}", methods=["GET", "HEAD"])
def blog_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    slug: str,
    before: str | None = None,
) -> Response:
    blog = blogs.get_blog(session, slug=slug, actor=None)
    if before is not None:
        posts.decode_cursor(before)  # a bad cursor is a 400 even for a conditional request
    base = seo.base_url(request, settings)
    siblings = blogs.public_translations(session, blog=blog)
    headers = _cache_headers(blog, _etag(blog, request, base, siblings))
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    context = stream_context(session, blog=blog, base=base, before=before, limit=settings.page_size)
    shown = context["shown"]
    context |= {
        "alternates": _alternates(blog, siblings, base),
        "meta": seo.blog_meta(
            blog,
            shown,
            base=base,
            site_name=_site_name(request, settings, blog),
            query=f"before={before}" if before else "",
        ),
    }
    return _render(
        request,
        "blog.html",
        context,
        settings=settings,
        blog=blog,
        headers=headers,
    )


@router.api_route("/blogs/{slug}/feed.atom", methods=["GET", "HEAD"])
def blog_feed(request: Request, session: DbSession, settings: AppSettings, slug: str) -> Response:
    """The blog's Atom feed: the newest posts, cached and revalidated like the page."""
    blog = blogs.get_blog(session, slug=slug, actor=None)
    base = seo.base_url(request, settings)
    headers = _cache_headers(blog, _etag(blog, request, base))
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    newest = posts.feed_posts(session, blog=blog, limit=settings.page_size)
    body = feeds.atom_feed(blog, newest, base=base, site_name=_site_name(request, settings, blog))
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=headers)


@router.api_route("/blogs/{slug}/posts/{post_id:row_id}", methods=["GET", "HEAD"])
def post_page(
    request: Request, session: DbSession, settings: AppSettings, slug: str, post_id: int
) -> Response:
    blog = blogs.get_blog(session, slug=slug, actor=None)
    base = seo.base_url(request, settings)
    # Every change to a visible post bumps the blog's version, so the blog's ETag covers it.
    headers = _cache_headers(blog, _etag(blog, request, base))
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=None)
    context = {
        "blog": blog,
        "post": post,
        "notes": _shown_notes(session, [post]).get(post.id),
        "base": base,
        "title": seo.post_title(post),
        "meta": seo.post_meta(post, base=base, site_name=_site_name(request, settings, blog)),
    }
    return _render(
        request,
        "post.html",
        context,
        settings=settings,
        blog=blog,
        headers=headers,
    )


@router.api_route("/p/{code}", methods=["GET", "HEAD"])
def short_link(session: DbSession, code: str) -> Response:
    """The short permalink of a blog or a post, for print, radio and social posts."""
    if is_wellformed(code):
        blog = blogs.find_blog_by_code(session, code)
        if blog is not None and permissions.can_see_blog(None, blog):
            return _moved(seo.blog_path(blog))
        post = posts.find_post_by_code(session, code)
        if post is not None and permissions.can_see_post(None, post):
            return _moved(seo.post_path(post))
    raise NotFound("there is no blog or post with this short link")


def _moved(path: str) -> Response:
    return RedirectResponse(path, status_code=301, headers={"Cache-Control": SHORT_LINK_CACHE})


class PostFragments:
    """Renders one post's <article> from an event snapshot, for live delivery and polling.

    The same macro as the page renders it, so a post that arrives live is the markup a
    reload would show; the script fixes its feed position and skip link on insertion. It
    speaks the blog's language (the snapshot's), once per event for every reader.
    """

    def __init__(self, templates: Jinja2Templates) -> None:
        module = templates.env.get_template("_post.html").make_module(TIME_HELPERS)
        self._article = getattr(module, "article")  # noqa: B009 - a template macro, untyped

    def __call__(self, snapshot: dict[str, Any]) -> str:
        with i18n.speaking(snapshot.get("blog", {}).get("language") or i18n.SOURCE_LANGUAGE):
            return str(self._article(snapshot, next_href="#feed-end"))


class NotesFragments:
    """Renders a post's "Readers added context" box from a "notes" event's snapshot: the
    page's own macro, so the script swaps it in as it is; empty when nothing is shown."""

    def __init__(self, templates: Jinja2Templates) -> None:
        module = templates.env.get_template("notes/_box.html").make_module({})
        self._box = getattr(module, "box")  # noqa: B009 - a template macro, untyped

    def __call__(self, snapshot: dict[str, Any]) -> str:
        shown = snapshot.get("notes") or []
        if not shown:
            return ""
        with i18n.speaking(snapshot.get("language") or i18n.SOURCE_LANGUAGE):
            return str(self._box(snapshot["post_id"], shown))
