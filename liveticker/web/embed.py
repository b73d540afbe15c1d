"""The embeddable live widget and the oEmbed provider: other sites show a blog or a post.

`/blogs/{slug}/embed` is the blog page without the site around it, framable by other sites
(its own frame-ancestors) and live through the same script; static/embed-frame.js inside
tells the host page its height, static/embed.js on the host page makes the iframes and sizes
them. `/oembed` gives a CMS that snippet for a blog's or a post's URL. Drafts, deletions and
caching follow the pages (web/pages.py), whose helpers these routes share.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import escape

from liveticker.domain import blogs, permissions, posts
from liveticker.domain.shortcodes import is_wellformed
from liveticker.exceptions import BadRequest, Gone, LivetickerError, NotFound
from liveticker.storage.models import Blog, Post
from liveticker.web import seo
from liveticker.web.caching import not_modified
from liveticker.web.deps import AppSettings, DbSession
from liveticker.web.middleware import framable_policy
from liveticker.web.pages import HERE, _cache_headers, _etag, _render, _shown_notes, stream_context

router = APIRouter(include_in_schema=False)

# A widget is a window onto the blog, not the blog: its newest posts, then a link to it all.
EMBED_POSTS = 10
# The loader's URL is pasted into other sites' pages and never changes: an hour, not a day.
LOADER_PATH = "/static/embed.js"
LOADER_CACHE = "public, max-age=3600"
LOADER = (HERE / "static" / "embed.js").read_bytes()
LOADER_ETAG = '"' + hashlib.sha256(LOADER).hexdigest()[:32] + '"'

# oEmbed sizes when the consumer names no maximum: the iframe is as wide as its column and
# grows to its content, so these are a first guess for the consumer's layout.
DEFAULT_WIDTH = 640
BLOG_HEIGHT = 800
POST_HEIGHT = 400
MAX_URL = 2000
MAX_SIZE = 100_000
# Our page URLs: a blog, a post, either's embed, or a short link (`/p/{code}`).
_PAGE_PATH = re.compile(r"/blogs/([^/]{1,80})(?:/posts/([0-9]{1,10}))?(?:/embed)?/?")
_SHORT_PATH = re.compile(r"/p/([^/]{1,40})/?")


@cache
def _framable_policy(ancestors: str) -> str:
    return framable_policy(ancestors)


def _embed_headers(
    blog: Blog, request: Request, settings: AppSettings, base: str
) -> dict[str, str]:
    """The page's ETag and lifetimes, and the policy that lets the chosen sites frame it."""
    policy = _framable_policy(settings.embed_frame_ancestors)
    headers = _cache_headers(blog, _etag(blog, request, f"{base}\n{policy}"))
    headers["Content-Security-Policy"] = policy
    return headers


@router.api_route("/blogs/{slug}/embed", methods=["GET", "HEAD"])
def blog_embed(request: Request, session: DbSession, settings: AppSettings, slug: str) -> Response:
    """The blog's newest posts for another site's page, live like the blog page."""
    blog = blogs.get_blog(session, slug=slug, actor=None)
    base = seo.base_url(request, settings)
    headers = _embed_headers(blog, request, settings, base)
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    context = stream_context(session, blog=blog, base=base, before=None, limit=EMBED_POSTS)
    return _render(request, "embed.html", context, settings=settings, blog=blog, headers=headers)


@router.api_route("/blogs/{slug}/posts/{post_id:row_id}/embed", methods=["GET", "HEAD"])
def post_embed(
    request: Request, session: DbSession, settings: AppSettings, slug: str, post_id: int
) -> Response:
    """One post for another site's page (as it was when loaded: no live edits)."""
    blog = blogs.get_blog(session, slug=slug, actor=None)
    base = seo.base_url(request, settings)
    headers = _embed_headers(blog, request, settings, base)
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=None)
    context = {
        "blog": blog,
        "post": post,
        "post_title": seo.post_title(post),
        "notes": _shown_notes(session, [post]).get(post.id),
        "base": base,
    }
    return _render(request, "embed.html", context, settings=settings, blog=blog, headers=headers)


@router.api_route(LOADER_PATH, methods=["GET", "HEAD"])
def loader(request: Request) -> Response:
    """The script integrators paste: a stable URL (a route before the static files, whose
    plain names live 5 minutes) cached for an hour. Any site may load it, with or without
    CORS."""
    headers = {
        "ETag": LOADER_ETAG,
        "Cache-Control": LOADER_CACHE,
        "Access-Control-Allow-Origin": "*",
    }
    if not_modified(request, LOADER_ETAG):
        return Response(status_code=304, headers=headers)
    return Response(LOADER, media_type="text/javascript; charset=utf-8", headers=headers)


@router.api_route("/oembed", methods=["GET", "HEAD"])
def oembed(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """oEmbed 1.0 (https://oembed.com): a blog's or a post's URL → the embed snippet.

    Its errors are JSON like the API's, with the statuses the spec names: 400 for
    parameters we cannot read, 404 for a URL that is not a public blog or post of ours,
    501 for a format other than JSON.
    """
    params = request.query_params
    try:
        url = params.get("url", "")
        if not url:
            raise BadRequest("the url parameter is required", field="url")
        maxwidth = _size(params.get("maxwidth"), "maxwidth")
        maxheight = _size(params.get("maxheight"), "maxheight")
        if params.get("format", "json") != "json":
            return _error(501, "not_implemented", "only format=json is available")
        base = seo.base_url(request, settings)
        blog, post = _resource(session, _our_path(url, base=base))
    except LivetickerError as error:
        status = 404 if isinstance(error, Gone) else error.status_code
        code = "not_found" if isinstance(error, Gone) else error.code
        return _error(status, code, error.message, field=error.field)
    # The page's lifetimes: the answer holds a post's title, which a deletion must take away.
    headers = _cache_headers(blog, _etag(blog, request, base))
    headers["Access-Control-Allow-Origin"] = "*"  # public data: browsers may ask too
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    answer = _answer(
        blog, post, base=base, site_name=settings.site_name, maxwidth=maxwidth, maxheight=maxheight
    )
    return JSONResponse(answer, headers=headers)


def _error(status: int, code: str, message: str, *, field: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


def _size(raw: str | None, name: str) -> int | None:
    """maxwidth / maxheight: a whole number of pixels, or absent."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_SIZE:
        raise BadRequest(f"{name} must be a whole number from 1 to {MAX_SIZE}", field=name)
    return int(raw)


def _our_path(url: str, *, base: str) -> str:
    """The path of `url` on this site: BadRequest when it is no URL at all, NotFound when
    it is someone else's (another host, a port, a user, a scheme that is not the web's)."""
    if len(url) > MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise BadRequest(f"url must be a URL of at most {MAX_URL} characters", field="url")
    try:
        parts = urlsplit(url)
        ours = urlsplit(base)
        same_host = _host(parts) == _host(ours)
    except ValueError:  # a bad port or IPv6 address
        raise BadRequest("url is not a well-formed URL", field="url") from None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not same_host:
        raise NotFound("url is not a page of this site")
    prefix = ours.path.rstrip("/")  # a site served below a path of its public URL
    if prefix and not parts.path.startswith(prefix + "/"):
        raise NotFound("url is not a page of this site")
    return parts.path[len(prefix) :]


def _host(parts: SplitResult) -> tuple[str, int | None]:
    # http and https are the same site here: a page linked over either embeds alike.
    return (parts.hostname or "", parts.port)


def _resource(session: DbSession, path: str) -> tuple[Blog, Post | None]:
    """The public blog, and the post if the path names one, that `path` shows."""
    page = _PAGE_PATH.fullmatch(path)
    if page is not None:
        blog = blogs.get_blog(session, slug=page.group(1), actor=None)
        if page.group(2) is None:
            return blog, None
        return blog, posts.get_post(session, blog=blog, post_id=int(page.group(2)), actor=None)
    short = _SHORT_PATH.fullmatch(path)
    code = short.group(1) if short is not None else ""
    if is_wellformed(code):
        found_blog = blogs.find_blog_by_code(session, code)
        if found_blog is not None and permissions.can_see_blog(None, found_blog):
            return found_blog, None
        found_post = posts.find_post_by_code(session, code)
        if found_post is not None and permissions.can_see_post(None, found_post):
            return found_post.blog, found_post
    raise NotFound("url is not a public blog or post of this site")


def snippet(url: str, *, title: str, base: str, maxwidth: int | None, maxheight: int | None) -> str:
    """What a host page pastes: a link (what readers without JavaScript get) that the
    loader turns into the live iframe."""
    limits = "".join(
        f' data-{name}="{value}"'
        for name, value in (("max-width", maxwidth), ("max-height", maxheight))
        if value is not None
    )
    return (
        f'<div data-liveticker="{escape(url)}"{limits}><a href="{escape(url)}">{escape(title)}</a>'
        f'</div><script src="{escape(base + LOADER_PATH)}" async></script>'
    )


def _answer(
    blog: Blog,
    post: Post | None,
    *,
    base: str,
    site_name: str,
    maxwidth: int | None,
    maxheight: int | None,
) -> dict[str, Any]:
    url = base + (seo.post_path(post) if post is not None else seo.blog_path(blog))
    title = seo.post_title(post) if post is not None else blog.title
    height = POST_HEIGHT if post is not None else BLOG_HEIGHT
    answer: dict[str, Any] = {
        "type": "rich",
        "version": "1.0",
        "title": title,
        "provider_name": site_name,
        "provider_url": base + "/",
        "html": snippet(url, title=title, base=base, maxwidth=maxwidth, maxheight=maxheight),
        "width": min(DEFAULT_WIDTH, maxwidth or DEFAULT_WIDTH),
        "height": min(height, maxheight or height),
    }
    if post is not None and post.author is not None:
        answer["author_name"] = post.author.display_name
    image = (post.images[0] if post is not None and post.images else None) or blog.lead_image
    # A thumbnail's three fields come together or not at all (uploads know their size), and
    # it must fit the consumer's maxima.
    if (
        image
        and 0 < (image.get("width") or 0) <= (maxwidth or MAX_SIZE)
        and 0 < (image.get("height") or 0) <= (maxheight or MAX_SIZE)
    ):
        answer["thumbnail_url"] = seo.absolute(base, image["url"])
        answer["thumbnail_width"] = image["width"]
        answer["thumbnail_height"] = image["height"]
    return answer
