"""The desk's blog pages: the desk home's blog list, a blog's desk (composer, the stream
as readers see it with its actions, drafts, key points, settings, publish / close /
reopen) and a post's edit page.

Every form posts and redirects (so it works without JavaScript) and calls the same domain
functions as the JSON API; a refused form is shown again with what was typed and the
problem next to its field.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUploadFile

from liveticker.domain import (
    blogs,
    history,
    languages,
    media,
    posts,
    review,
    sessions,
    teams,
    times,
)
from liveticker.domain.inputs import (
    BlogCreate,
    BlogUpdate,
    CloseInput,
    DeleteInput,
    KeyPointsInput,
    PostCreate,
    PostUpdate,
    ReturnInput,
)
from liveticker.domain.markdown import render_markdown
from liveticker.domain.sessions import SignedIn
from liveticker.exceptions import (
    Forbidden,
    LivetickerError,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from liveticker.storage.models import Blog, Post
from liveticker.web.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AppServices,
    DbSession,
    DeskUser,
    DeskWriter,
    require_same_origin,
)
from liveticker.web.desk import PRIVATE_HEADERS, blog_of, form_fields, page
from liveticker.web.desk_live import desk_state, live_readers
from liveticker.web.schemas import MediaOut
from liveticker.web.services import Services

router = APIRouter(include_in_schema=False)

# The languages the reader pages ship catalogues for, offered by the language field; any
# other tag CLDR knows may be typed (its pages then speak English around its posts).
OFFERED_LANGUAGES = ("en", "de", "uk", "ru", "ar", "fa")
_LIST_SEPARATOR = re.compile(r"[,\r\n]+")

# Composer fields and where their errors come from in the input models.
_FIELD_OF_LOCATION = {
    ("images", "url"): "image_url",
    ("images", "alt"): "image_alt",
    ("images", "caption"): "image_caption",
    ("images", "credit"): "image_credit",
    ("social", "url"): "social_url",
    ("social", "author_name"): "social_author",
    ("social", "handle"): "social_handle",
    ("social", "text"): "social_text",
    ("lead_image", "url"): "lead_url",
    ("lead_image", "alt"): "lead_alt",
}


def validation_problem(exc: ValidationError) -> ValidationFailed:
    """The first problem of a model's validation, named after the form field it concerns."""
    first = exc.errors()[0]
    location = [str(part) for part in first["loc"] if not isinstance(part, int)]
    field = _FIELD_OF_LOCATION.get(tuple(location[:2]), location[0] if location else None)  # type: ignore[arg-type]
    message = "this field is required" if first["type"] == "missing" else str(first["msg"])
    return ValidationFailed(message.removeprefix("Value error, "), field=field)


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def post_fields(form: dict[str, str]) -> dict[str, Any]:
    """The composer's fields as the API's post body."""
    fields: dict[str, Any] = {
        "headline": form.get("headline", "").strip() or None,
        "body": form.get("body", ""),
        "key_event": _checked(form, "key_event"),
        "pinned": _checked(form, "pinned"),
        "images": [],
        "social": None,
    }
    if form.get("image_url", "").strip():
        image: dict[str, Any] = {
            "url": form.get("image_url", ""),
            "alt": form.get("image_alt", ""),
            "caption": form.get("image_caption", ""),
            "credit": form.get("image_credit", ""),
        }
        image.update(_uploaded_size(form))
        fields["images"] = [image]
    if form.get("social_url", "").strip():
        fields["social"] = {
            "url": form.get("social_url", ""),
            "author_name": form.get("social_author", ""),
            "handle": form.get("social_handle", ""),
            "text": form.get("social_text", ""),
        }
    return fields


def _uploaded_size(form: dict[str, str]) -> dict[str, Any]:
    """The size and widths an upload answered with, which the composer keeps in hidden
    fields (the input model checks them like any client's)."""
    try:
        width, height = int(form["image_width"]), int(form["image_height"])
        srcset = json.loads(form.get("image_srcset") or "[]")
    except (KeyError, ValueError):
        return {}
    return {"width": width, "height": height, "srcset": srcset}


def _publish_at(form: dict[str, str]) -> datetime:
    """The composer's schedule, a `datetime-local` value read as UTC (the label says so)."""
    raw = form.get("publish_at", "").strip()
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            "give a date and time, e.g. 2026-11-27 18:30", field="publish_at"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _form_of_post(post: Post) -> dict[str, str]:
    image = post.images[0] if post.images else {}
    social = post.social or {}
    form: dict[str, str] = {
        "headline": post.headline or "",
        "body": post.body,
        "image_url": image.get("url", ""),
        "image_alt": image.get("alt", ""),
        "image_caption": image.get("caption", ""),
        "image_credit": image.get("credit", ""),
        "social_url": social.get("url", ""),
        "social_author": social.get("author_name", ""),
        "social_handle": social.get("handle", ""),
        "social_text": social.get("text", ""),
    }
    if image.get("width") and image.get("height"):
        form["image_width"], form["image_height"] = str(image["width"]), str(image["height"])
        form["image_srcset"] = json.dumps(image.get("srcset") or [])
    if post.key_event:
        form["key_event"] = "on"
    if post.pinned:
        form["pinned"] = "on"
    return form


def _post_of(session: DbSession, me: SignedIn, slug: str, post_id: int) -> tuple[Blog, Post]:
    """The blog (on the user's team) and one of its posts the user may see."""
    blog = blog_of(session, me, slug)
    return blog, posts.get_post(session, blog=blog, post_id=post_id, actor=me.actor)


def _back(blog: Blog, what: str = "", *, anchor: str = "") -> Response:
    done = f"?done={what}" if what else ""
    target = f"/desk/blogs/{blog.slug}{done}{anchor}"
    return RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)


# -- the desk home's blogs ------------------------------------------------------------------


def blog_rows(session: DbSession, me: SignedIn) -> list[tuple[Blog, datetime | None]]:
    """The blogs the user works on, most recently updated first, with their last post time."""
    last_post = (
        select(Post.blog_id, func.max(Post.published_at).label("last"))
        .where(Post.status == "published")
        .group_by(Post.blog_id)
        .subquery()
    )
    query = (
        select(Blog, last_post.c.last)
        .outerjoin(last_post, last_post.c.blog_id == Blog.id)
        .order_by(Blog.updated_at.desc())
        .limit(200)
    )
    mine = teams.blog_ids_of(session, actor=me.actor)
    if mine is not None:  # admins see every blog; staff the blogs of their teams
        query = query.where(Blog.id.in_(mine))
    return [(row[0], row[1]) for row in session.execute(query)]


def _home(session: Session, services: Services, me: SignedIn) -> dict[str, Any]:
    rows = blog_rows(session, me)
    readers = live_readers(session, services, [blog.id for blog, _last in rows])
    form = {"language": services.settings.default_language}
    return {"blogs": rows, "readers": readers, "form": form, **_language_choices()}


def _language_choices() -> dict[str, Any]:
    """The language field's suggestions: each tag with its name in its own language."""
    return {"language_choices": [(tag, languages.native_name(tag)) for tag in OFFERED_LANGUAGES]}


@router.get("/desk")
def home(request: Request, session: DbSession, services: AppServices, me: DeskUser) -> Response:
    return page(request, services, "desk/home.html", _home(session, services, me), me=me)


@router.post("/desk/blogs")
async def create_blog(
    request: Request, session: DbSession, services: AppServices, me: DeskWriter
) -> Response:
    form = await form_fields(request)
    try:
        data = BlogCreate.model_validate(
            {
                "slug": form.get("slug", "").strip(),
                "title": form.get("title", ""),
                # Left empty: the site's default language, as in the API.
                "language": form.get("language", "").strip() or None,
            }
        )
        blog = blogs.create_blog(
            session,
            actor=me.actor,
            data=data,
            default_language=services.settings.default_language,
        )
    except ValidationError as exc:
        return _home_again(request, session, services, me, validation_problem(exc), form)
    except LivetickerError as exc:
        return _home_again(request, session, services, me, exc, form)
    return _back(blog, "blog-created")


def _home_again(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn,
    error: LivetickerError,
    form: dict[str, str],
) -> Response:
    context = {**_home(session, services, me), "error": error, "form": form}
    status = error.status_code
    return page(request, services, "desk/home.html", context, me=me, status=status)


# -- a blog's desk ---------------------------------------------------------------------------


def _blog_page(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn,
    blog: Blog,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    stream = posts.list_posts(session, blog=blog, actor=me.actor, limit=50)
    unpublished = {
        state: posts.list_posts(session, blog=blog, actor=me.actor, limit=50, status=state).posts
        for state in ("draft", "scheduled", "submitted")
    }
    context = {
        "blog": blog,
        "desk_state": desk_state(session, blog),
        "readers": live_readers(session, services, [blog.id]).get(blog.id, 0),
        "stream": stream.posts,
        "drafts": unpublished["draft"],
        "scheduled": unpublished["scheduled"],
        "submitted": unpublished["submitted"],
        "key_points_text": "\n".join(blog.key_points),
        "form": {},
        "settings_form": None,
        **_language_choices(),
        **extra,
    }
    return page(request, services, "desk/blog.html", context, me=me, status=status)


@router.get("/desk/blogs/{slug}")
def blog_desk(
    request: Request, session: DbSession, services: AppServices, me: DeskUser, slug: str
) -> Response:
    return _blog_page(request, session, services, me, blog_of(session, me, slug))


@router.post("/desk/blogs/{slug}/posts")
async def compose(
    request: Request, session: DbSession, services: AppServices, me: DeskWriter, slug: str
) -> Response:
    blog = blog_of(session, me, slug)
    form = await form_fields(request)
    action = form.get("action", "publish")
    try:
        fields = post_fields(form)
        if action == "draft":
            fields["status"] = "draft"
        elif action == "submit":
            fields["status"] = "submitted"
        elif action == "schedule":
            fields["publish_at"] = _publish_at(form)
        else:  # "publish": as in the API, a contributor asking for it is refused
            fields["status"] = "published"
        data = PostCreate.model_validate(fields)
        with session.begin_nested():  # a refused post leaves nothing behind
            made = posts.create_post(session, actor=me.actor, blog=blog, data=data)
    except ValidationError as exc:
        error: LivetickerError = validation_problem(exc)
    except LivetickerError as exc:
        error = exc
    else:
        return _back(blog, made.status, anchor="#composer")
    return _blog_page(
        request, session, services, me, blog, status=error.status_code, error=error, form=form
    )


@router.post("/desk/preview")
async def preview(request: Request, me: DeskWriter) -> Response:
    """The composer's body as the page will show it: the same renderer and sanitizer."""
    body = (await form_fields(request)).get("body", "")
    return HTMLResponse(render_markdown(body), headers=PRIVATE_HEADERS)


UPLOAD_PATH = "/desk/media"


@router.post(UPLOAD_PATH)
async def upload_image(request: Request, services: AppServices) -> Response:
    """An image from the composer (file picker or drag and drop), answered as JSON.

    The session is checked in a short transaction of its own and the image is decoded
    before the write transaction opens, so SQLite's write lock is never held meanwhile.
    """
    try:
        require_same_origin(request)
        with services.database.transaction(write=False) as session:
            token = request.cookies.get(SESSION_COOKIE, "")
            signed_in = sessions.resolve(
                session, token=token, hours=services.settings.session_hours
            )
        if signed_in is None:
            raise Unauthorized("your session has ended; sign in again")
        if not sessions.csrf_matches(signed_in, request.headers.get(CSRF_HEADER)):
            raise Forbidden("this page has expired; reload it and try again")
        services.write_limiter.hit(f"user:{signed_in.actor.user_id}")
        library = services.media
        async with request.form() as form:  # closes the upload's temporary file
            upload = form.get("file")
            if not isinstance(upload, StarletteUploadFile):
                raise ValidationFailed("choose an image file", field="file")
            data = await upload.read(library.max_bytes + 1)
        with services.database.transaction() as session:
            made = media.upload(session, actor=signed_in.actor, data=data, library=library)
            answer = MediaOut.of(made, library)
    except LivetickerError as exc:
        problem = {"code": exc.code, "message": exc.message, "field": exc.field}
        return JSONResponse({"error": problem}, status_code=exc.status_code)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201, headers=PRIVATE_HEADERS)


@router.post("/desk/blogs/{slug}/posts/{post_id:row_id}/{action}")
async def post_action(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskWriter,
    slug: str,
    post_id: int,
    action: str,
) -> Response:
    blog, post = _post_of(session, me, slug, post_id)
    form = await form_fields(request)
    toggles: dict[str, dict[str, Any]] = {
        "pin": {"pinned": True},
        "unpin": {"pinned": False},
        "key-event": {"key_event": True},
        "no-key-event": {"key_event": False},
        "publish": {"status": "published"},
        "unpublish": {"status": "draft"},
    }
    changes = toggles.get(action)
    try:
        with session.begin_nested():
            if changes is not None:
                posts.update_post(
                    session, actor=me.actor, post=post, data=PostUpdate.model_validate(changes)
                )
            elif action == "submit":
                review.submit_post(session, actor=me.actor, post=post)
            elif action == "withdraw":
                review.withdraw_post(session, actor=me.actor, post=post)
            elif action == "return":
                comment = ReturnInput.model_validate({"comment": form.get("comment", "")})
                review.return_post(session, actor=me.actor, post=post, data=comment)
            elif action == "delete":
                reason = DeleteInput.model_validate({"reason": form.get("reason", "")})
                posts.delete_post(session, actor=me.actor, post=post, data=reason)
            else:
                raise NotFound(f"the desk has no action {action!r}")
    except ValidationError as exc:
        error: LivetickerError = validation_problem(exc)
    except LivetickerError as exc:
        error = exc
    else:
        return _back(blog, action, anchor=f"#desk-post-{post.id}")
    return _blog_page(request, session, services, me, blog, status=error.status_code, error=error)


@router.post("/desk/blogs/{slug}/{action}")
async def blog_action(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskWriter,
    slug: str,
    action: str,
) -> Response:
    blog = blog_of(session, me, slug)
    form = await form_fields(request)
    extra: dict[str, Any] = {}
    try:
        with session.begin_nested():  # a refused change leaves nothing behind
            if action == "publish":
                blogs.publish_blog(session, actor=me.actor, blog=blog)
            elif action == "close":
                message = form.get("message", "").strip() or None
                data = CloseInput.model_validate({"message": message})
                blogs.close_blog(session, actor=me.actor, blog=blog, data=data)
            elif action == "reopen":
                blogs.reopen_blog(session, actor=me.actor, blog=blog)
            elif action == "key-points":
                extra["key_points_text"] = form.get("items", "")
                lines = [line.strip() for line in form.get("items", "").splitlines()]
                items = KeyPointsInput.model_validate({"items": [line for line in lines if line]})
                blogs.set_key_points(session, actor=me.actor, blog=blog, data=items)
            elif action == "settings":
                extra["settings_form"] = form
                blogs.update_blog(session, actor=me.actor, blog=blog, data=_blog_update(form))
            else:
                raise NotFound(f"the desk has no action {action!r}")
    except ValidationError as exc:
        error: LivetickerError = validation_problem(exc)
    except LivetickerError as exc:
        error = exc
    else:
        return _back(blog, f"blog-{action}")
    return _blog_page(
        request, session, services, me, blog, status=error.status_code, error=error, **extra
    )


def _blog_update(form: dict[str, str]) -> BlogUpdate:
    labels = [label.strip() for label in form.get("labels", "").split(",") if label.strip()]
    fields: dict[str, Any] = {
        "title": form.get("title", ""),
        "standfirst": form.get("standfirst", ""),
        "labels": labels,
        "closing_message": form.get("closing_message", ""),
        "lead_image": None,
    }
    if form.get("lead_url", "").strip():
        fields["lead_image"] = {
            "url": form.get("lead_url", ""),
            "alt": form.get("lead_alt", ""),
            "caption": form.get("lead_caption", ""),
            "credit": form.get("lead_credit", ""),
        }
    # Only the fields the form has: a form from before they existed changes none of them.
    if "language" in form:
        fields["language"] = form["language"].strip()
    if "translations" in form:
        slugs = (slug.strip() for slug in _LIST_SEPARATOR.split(form["translations"]))
        fields["translations"] = [slug for slug in slugs if slug]
    if "theme" in form:
        fields["theme"] = form["theme"].strip()
    return BlogUpdate.model_validate(fields)


# -- a post's edit page ------------------------------------------------------------------------


@router.get("/desk/blogs/{slug}/posts/{post_id:row_id}")
def edit_page(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskUser,
    slug: str,
    post_id: int,
) -> Response:
    blog, post = _post_of(session, me, slug, post_id)
    form = {**_form_of_post(post), "based_on": times.iso(post.updated_at, precise=True)}
    return _edit_page(request, session, services, me, blog, post, form)


def _edit_page(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn,
    blog: Blog,
    post: Post,
    form: dict[str, str],
    *,
    error: LivetickerError | None = None,
) -> Response:
    conflict = error is not None and error.field == "based_on"
    context = {
        "blog": blog,
        "post": post,
        # After a conflict the form starts from theirs: saving again is a deliberate choice.
        "form": {**form, "based_on": times.iso(post.updated_at, precise=True)},
        "theirs": _form_of_post(post) if conflict else None,
        "history": history.revision_diffs(session, actor=me.actor, post=post),
        "error": error,
    }
    status = error.status_code if error is not None else 200
    return page(request, services, "desk/post.html", context, me=me, status=status)


@router.post("/desk/blogs/{slug}/posts/{post_id:row_id}/revisions/{revision_id:row_id}/restore")
def restore(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskWriter,
    slug: str,
    post_id: int,
    revision_id: int,
) -> Response:
    blog, post = _post_of(session, me, slug, post_id)
    try:
        with session.begin_nested():
            history.restore_revision(session, actor=me.actor, post=post, revision_id=revision_id)
    except LivetickerError as exc:
        return _edit_page(
            request, session, services, me, blog, post, _form_of_post(post), error=exc
        )
    target = f"/desk/blogs/{blog.slug}/posts/{post.id}?done=restored"
    return RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)


@router.post("/desk/blogs/{slug}/posts/{post_id:row_id}")
async def save_post(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskWriter,
    slug: str,
    post_id: int,
) -> Response:
    blog, post = _post_of(session, me, slug, post_id)
    form = await form_fields(request)
    try:
        fields = post_fields(form)
        if form.get("based_on"):
            fields["based_on"] = form["based_on"]
        data = PostUpdate.model_validate(fields)
        with session.begin_nested():
            posts.update_post(session, actor=me.actor, post=post, data=data)
    except ValidationError as exc:
        error: LivetickerError = validation_problem(exc)
    except LivetickerError as exc:
        error = exc
    else:
        return _back(blog, "saved", anchor=f"#desk-post-{post.id}")
    return _edit_page(request, session, services, me, blog, post, form, error=error)
