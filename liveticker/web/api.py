"""The JSON API under /api/v1: thin routes over the domain functions."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from liveticker import __version__
from liveticker.domain import audit, blogs, events, history, media, posts, review, sessions, teams
from liveticker.domain.inputs import (
    MAX_AUDIT_ENTRIES,
    MAX_CHANGES,
    MAX_CURSOR,
    MAX_EVENT_ID,
    MAX_PAGE,
    MAX_REASON,
    BlogCreate,
    BlogUpdate,
    CloseInput,
    DeleteInput,
    KeyPointsInput,
    LoginInput,
    MemberInput,
    PostCreate,
    PostUpdate,
    PurgeInput,
    ReturnInput,
    Text,
)
from liveticker.live.wire import Message, client_payload
from liveticker.web.caching import not_modified
from liveticker.web.deps import (
    AppServices,
    DbSession,
    MaybeActor,
    Uploader,
    Writer,
    limit_sign_in,
)
from liveticker.web.schemas import (
    AuditEntryOut,
    BlogOut,
    ChangeOut,
    ChangesOut,
    MediaOut,
    MemberOut,
    PostOut,
    PostPage,
    ReviewQueueOut,
    RevisionDiffOut,
    RevisionOut,
    StatusOut,
    TokenOut,
)

router = APIRouter(prefix="/api/v1")
# Image uploads have a body limit of their own (LIVETICKER_MEDIA_MAX_BYTES): web.middleware.
MEDIA_PATH = "/api/v1/media"

ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Malformed request (invalid JSON, bad cursor)"},
    401: {"description": "Missing or invalid API token"},
    403: {"description": "The token's role may not do this"},
    404: {"description": "No such blog or post (or not visible to you)"},
    409: {"description": "Conflicts with the current state"},
    410: {"description": "The post was purged (legal takedown)"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid fields"},
    429: {"description": "Too many writes; see Retry-After"},
}

PostId = Annotated[int, "the post's numeric id"]
# Short enough that polling readers see a post within seconds, long enough that a CDN
# answers a crowd of them from one entry.
CHANGES_CACHE = "public, max-age=2, stale-while-revalidate=8"


@router.post("/tokens", status_code=201, response_model=TokenOut, responses=ERRORS, tags=["auth"])
def login(
    request: Request, session: DbSession, services: AppServices, data: LoginInput
) -> TokenOut:
    """Exchange a username and password for a new API token (shown once)."""
    limit_sign_in(request, services, data.username)
    token, user = sessions.sign_in_for_token(
        session, username=data.username, password=data.password, label=data.label or "login"
    )
    return TokenOut(token=token, username=user.username, role=user.role)


@router.post("/blogs", status_code=201, response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def create_blog(
    session: DbSession, services: AppServices, actor: Writer, data: BlogCreate
) -> BlogOut:
    """A new draft blog; without `language`, it speaks the site's default language."""
    language = services.settings.default_language
    made = blogs.create_blog(session, actor=actor, data=data, default_language=language)
    return BlogOut.of(made)


@router.get("/blogs/{slug}", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def get_blog(session: DbSession, actor: MaybeActor, slug: str) -> BlogOut:
    return BlogOut.of(blogs.get_blog(session, slug=slug, actor=actor))


@router.patch("/blogs/{slug}", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def update_blog(session: DbSession, actor: Writer, slug: str, data: BlogUpdate) -> BlogOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return BlogOut.of(blogs.update_blog(session, actor=actor, blog=blog, data=data))


@router.post("/blogs/{slug}/publish", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def publish_blog(session: DbSession, actor: Writer, slug: str) -> BlogOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return BlogOut.of(blogs.publish_blog(session, actor=actor, blog=blog))


@router.post("/blogs/{slug}/close", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def close_blog(
    session: DbSession,
    actor: Writer,
    slug: str,
    data: Annotated[CloseInput | None, Body()] = None,
) -> BlogOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return BlogOut.of(blogs.close_blog(session, actor=actor, blog=blog, data=data))


@router.post("/blogs/{slug}/reopen", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def reopen_blog(session: DbSession, actor: Writer, slug: str) -> BlogOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return BlogOut.of(blogs.reopen_blog(session, actor=actor, blog=blog))


@router.put("/blogs/{slug}/key-points", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def set_key_points(session: DbSession, actor: Writer, slug: str, data: KeyPointsInput) -> BlogOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return BlogOut.of(blogs.set_key_points(session, actor=actor, blog=blog, data=data))


@router.get(
    "/blogs/{slug}/members", response_model=list[MemberOut], responses=ERRORS, tags=["blogs"]
)
def list_members(session: DbSession, actor: MaybeActor, slug: str) -> list[MemberOut]:
    """The blog's team: the staff who may work on it (admins work on every blog)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return [MemberOut.of(user) for user in teams.members(session, actor=actor, blog=blog)]


@router.post(
    "/blogs/{slug}/members",
    status_code=201,
    response_model=MemberOut,
    responses=ERRORS,
    tags=["blogs"],
)
def add_member(session: DbSession, actor: Writer, slug: str, data: MemberInput) -> MemberOut:
    """Add an editor or contributor to the team (an admin or the blog's creator)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return MemberOut.of(teams.add_member(session, actor=actor, blog=blog, username=data.username))


@router.delete(
    "/blogs/{slug}/members/{username}", status_code=204, responses=ERRORS, tags=["blogs"]
)
def remove_member(session: DbSession, actor: Writer, slug: str, username: str) -> Response:
    """Take someone off the team (an admin or the blog's creator)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    teams.remove_member(session, actor=actor, blog=blog, username=username)
    return Response(status_code=204)


@router.post(
    "/blogs/{slug}/posts", status_code=201, response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def create_post(session: DbSession, actor: Writer, slug: str, data: PostCreate) -> PostOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return PostOut.of(posts.create_post(session, actor=actor, blog=blog, data=data))


@router.get("/blogs/{slug}/posts", response_model=PostPage, responses=ERRORS, tags=["posts"])
def list_posts(
    session: DbSession,
    actor: MaybeActor,
    slug: str,
    before: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    status: Annotated[str, Query(pattern="^(published|draft|submitted|scheduled)$")] = "published",
) -> PostPage:
    """Posts newest first (scheduled ones: next due first; submitted ones, the review
    queue: longest waiting first); pass `next_cursor` back as `before` for the next page.
    Drafts, submitted and scheduled posts are for staff (contributors: their own)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    page = posts.list_posts(
        session, blog=blog, actor=actor, before=before, limit=limit, status=status
    )
    return PostPage(posts=[PostOut.of(p) for p in page.posts], next_cursor=page.next_cursor)


@router.get(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def get_post(session: DbSession, actor: MaybeActor, slug: str, post_id: PostId) -> PostOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return PostOut.of(posts.get_post(session, blog=blog, post_id=post_id, actor=actor))


@router.patch(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def update_post(
    session: DbSession, actor: Writer, slug: str, post_id: PostId, data: PostUpdate
) -> PostOut:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return PostOut.of(posts.update_post(session, actor=actor, post=post, data=data))


@router.delete(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def delete_post(
    session: DbSession,
    actor: Writer,
    slug: str,
    post_id: PostId,
    reason: Annotated[Text | None, Query(max_length=MAX_REASON)] = None,
    data: Annotated[DeleteInput | None, Body()] = None,
) -> PostOut:
    """Soft delete; the reason comes as `?reason=` or `{"reason": ...}`."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    if data is None and reason is not None:
        data = DeleteInput(reason=reason)
    return PostOut.of(posts.delete_post(session, actor=actor, post=post, data=data))


@router.post(
    "/blogs/{slug}/posts/{post_id}/purge",
    response_model=PostOut,
    responses=ERRORS,
    tags=["posts"],
)
def purge_post(
    session: DbSession, actor: Writer, slug: str, post_id: PostId, data: PurgeInput
) -> PostOut:
    """Legal takedown (admins): erase the post's content and its revisions' content.

    The post, its page and its short link answer 410 Gone from then on; who did what and
    when remains, with the reason, in the post's history and in the audit log.
    """
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return PostOut.of(posts.purge_post(session, actor=actor, post=post, data=data))


@router.post("/media", status_code=201, response_model=MediaOut, responses=ERRORS, tags=["media"])
def upload_media(
    session: DbSession, actor: Uploader, services: AppServices, file: UploadFile
) -> MediaOut:
    """Upload an image (multipart/form-data, field `file`; staff): JPEG, PNG, WebP or GIF.

    It is decoded and stored again without its metadata (EXIF with GPS, XMP, ICC), upright
    and in sRGB, in widths up to 1600 pixels (never enlarged). Add `alt` (and a `caption`,
    a `credit`) to the answer and it is an image of a post or a blog's lead image.
    """
    library = services.media
    data = file.file.read(library.max_bytes + 1)  # one byte over is enough to refuse it
    return MediaOut.of(media.upload(session, actor=actor, data=data, library=library), library)


@router.get("/audit", response_model=list[AuditEntryOut], responses=ERRORS, tags=["auth"])
def audit_log(
    session: DbSession,
    actor: MaybeActor,
    response: Response,
    user: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    blog: Annotated[str | None, Query(max_length=80)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ENTRIES)] = 100,
) -> list[AuditEntryOut]:
    """What staff did, newest first (admins only): sign-ins and failed ones, accounts,
    tokens, blogs, teams, deletions, purges. Filters combine: `user` (who acted), `action`
    (a prefix: `blog.`), `blog` (a slug), `since` (an ISO 8601 date or time)."""
    response.headers["Cache-Control"] = "no-store"
    found = audit.entries(
        session, actor=actor, limit=limit, user=user, action=action, blog=blog, since=since
    )
    return [AuditEntryOut.of(entry) for entry in found]


@router.get(
    "/blogs/{slug}/posts/{post_id}/revisions",
    response_model=list[RevisionOut],
    responses=ERRORS,
    tags=["posts"],
)
def post_revisions(
    session: DbSession, actor: MaybeActor, slug: str, post_id: PostId
) -> list[RevisionOut]:
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return [RevisionOut.of(r) for r in posts.post_revisions(session, actor=actor, post=post)]


@router.get(
    "/blogs/{slug}/posts/{post_id}/history",
    response_model=list[RevisionDiffOut],
    responses=ERRORS,
    tags=["posts"],
)
def post_history(
    session: DbSession, actor: MaybeActor, slug: str, post_id: PostId
) -> list[RevisionDiffOut]:
    """The post's history as readable changes: each field old → new, text word by word."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    diffs = history.revision_diffs(session, actor=actor, post=post)
    return [RevisionDiffOut.of(diff) for diff in diffs]


@router.post(
    "/blogs/{slug}/posts/{post_id}/revisions/{revision_id}/restore",
    response_model=PostOut,
    responses=ERRORS,
    tags=["posts"],
)
def restore_revision(
    session: DbSession, actor: Writer, slug: str, post_id: PostId, revision_id: int
) -> PostOut:
    """Give the post its headline, body, images and quoted post as of that revision, as a
    new revision; readers of a published post see it at once."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    restored = history.restore_revision(session, actor=actor, post=post, revision_id=revision_id)
    return PostOut.of(restored)


@router.post(
    "/blogs/{slug}/posts/{post_id}/submit",
    response_model=PostOut,
    responses=ERRORS,
    tags=["review"],
)
def submit_post(session: DbSession, actor: Writer, slug: str, post_id: PostId) -> PostOut:
    """Put a draft in the blog's review queue (its author, or an editor)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return PostOut.of(review.submit_post(session, actor=actor, post=post))


@router.post(
    "/blogs/{slug}/posts/{post_id}/withdraw",
    response_model=PostOut,
    responses=ERRORS,
    tags=["review"],
)
def withdraw_post(session: DbSession, actor: Writer, slug: str, post_id: PostId) -> PostOut:
    """Take a submitted post back out of the queue, a draft again (its author only)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return PostOut.of(review.withdraw_post(session, actor=actor, post=post))


@router.post(
    "/blogs/{slug}/posts/{post_id}/return",
    response_model=PostOut,
    responses=ERRORS,
    tags=["review"],
)
def return_post(
    session: DbSession, actor: Writer, slug: str, post_id: PostId, data: ReturnInput
) -> PostOut:
    """Send a submitted post back to its author as a draft, with a comment (editors)."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return PostOut.of(review.return_post(session, actor=actor, post=post, data=data))


@router.get(
    "/blogs/{slug}/review-queue", response_model=ReviewQueueOut, responses=ERRORS, tags=["review"]
)
def review_queue(session: DbSession, actor: MaybeActor, slug: str) -> ReviewQueueOut:
    """How many posts wait for review, and since when (editors on the team); the posts
    themselves: `GET /blogs/{slug}/posts?status=submitted`."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return ReviewQueueOut.of(review.queue(session, actor=actor, blog=blog))


@router.get(
    "/blogs/{slug}/changes",
    response_model=ChangesOut,
    responses={**ERRORS, 304: {"description": "Nothing new since the ETag"}},
    tags=["live"],
)
def changes(
    request: Request,
    session: DbSession,
    services: AppServices,
    slug: str,
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_ID)],
    limit: Annotated[int, Query(ge=1, le=MAX_CHANGES)] = MAX_CHANGES,
) -> Response:
    """The blog's events after `after`, oldest first: the polling fallback of the live stream.

    Only the present is served: an event that a later one replaced (an edit, a deletion)
    is left out, and a deleted post leaves just its `remove` tombstone. Every reader that
    is up to date asks for the same URL (`after` = the newest id it has), so a CDN
    answers them all from one cache entry; `ETag` and a few seconds of public caching
    make the repeats cheap. `reload` says the reader is too far behind
    (or ahead) to catch up event by event and should reload the page.
    """
    blog = blogs.get_blog(session, slug=slug, actor=None)
    head = blog.version
    etag = f'"{blog.id}.{after}.{head}.{limit}"'
    headers = {"ETag": etag, "Cache-Control": CHANGES_CACHE}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    rows = events.replay(
        session,
        blog_id=blog.id,
        after=after,
        head=head,
        limit=limit,
        replay_limit=services.settings.replay_limit,
    )
    reload = rows is None
    fragments = services.hub.fragments
    body = ChangesOut(
        head=head,
        reload=reload,
        events=[
            ChangeOut(id=row.seq, event=row.kind, data=client_payload(Message.of(row), fragments))
            for row in rows or []
        ],
    )
    return JSONResponse(body.model_dump(mode="json"), headers=headers)


@router.get("/status", response_model=StatusOut, tags=["live"])
def status(services: AppServices) -> StatusOut:
    """This process's live readers: for load balancers, dashboards and operators."""
    figures = services.hub.figures()
    return StatusOut(
        version=__version__,
        worker=os.getpid(),
        live_readers=figures.readers,
        live_blogs=figures.blogs,
    )
