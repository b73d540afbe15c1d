"""The JSON API under /api/v1: thin routes over the domain functions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from liveticker.domain import accounts, blogs, posts
from liveticker.domain.inputs import (
    BlogCreate,
    BlogUpdate,
    CloseInput,
    DeleteInput,
    KeyPointsInput,
    LoginInput,
    PostCreate,
    PostUpdate,
)
from liveticker.web.deps import DbSession, MaybeActor, Writer
from liveticker.web.schemas import BlogOut, PostOut, PostPage, RevisionOut, TokenOut

router = APIRouter(prefix="/api/v1")

ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Malformed request (invalid JSON, bad cursor)"},
    401: {"description": "Missing or invalid API token"},
    403: {"description": "The token's role may not do this"},
    404: {"description": "No such blog or post (or not visible to you)"},
    409: {"description": "Conflicts with the current state"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid fields"},
    429: {"description": "Too many writes; see Retry-After"},
}

PostId = Annotated[int, "the post's numeric id"]


@router.post("/tokens", status_code=201, response_model=TokenOut, responses=ERRORS, tags=["auth"])
def login(request: Request, session: DbSession, data: LoginInput) -> TokenOut:
    """Exchange a username and password for a new API token (shown once)."""
    client = request.client.host if request.client else "unknown"
    request.app.state.login_limiter.hit(f"login:{client}")
    user = accounts.check_password(session, username=data.username, password=data.password)
    token = accounts.create_token(session, user, label=data.label or "login")
    return TokenOut(token=token, username=user.username, role=user.role)


@router.post("/blogs", status_code=201, response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def create_blog(session: DbSession, actor: Writer, data: BlogCreate) -> BlogOut:
    return BlogOut.of(blogs.create_blog(session, actor, data))


@router.get("/blogs/{slug}", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def get_blog(session: DbSession, actor: MaybeActor, slug: str) -> BlogOut:
    return BlogOut.of(blogs.get_blog(session, slug, actor))


@router.patch("/blogs/{slug}", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def update_blog(session: DbSession, actor: Writer, slug: str, data: BlogUpdate) -> BlogOut:
    blog = blogs.get_blog(session, slug, actor)
    return BlogOut.of(blogs.update_blog(session, actor, blog, data))


@router.post("/blogs/{slug}/publish", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def publish_blog(session: DbSession, actor: Writer, slug: str) -> BlogOut:
    blog = blogs.get_blog(session, slug, actor)
    return BlogOut.of(blogs.publish_blog(session, actor, blog))


@router.post("/blogs/{slug}/close", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def close_blog(
    session: DbSession,
    actor: Writer,
    slug: str,
    data: Annotated[CloseInput | None, Body()] = None,
) -> BlogOut:
    blog = blogs.get_blog(session, slug, actor)
    return BlogOut.of(blogs.close_blog(session, actor, blog, data))


@router.post("/blogs/{slug}/reopen", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def reopen_blog(session: DbSession, actor: Writer, slug: str) -> BlogOut:
    blog = blogs.get_blog(session, slug, actor)
    return BlogOut.of(blogs.reopen_blog(session, actor, blog))


@router.put("/blogs/{slug}/key-points", response_model=BlogOut, responses=ERRORS, tags=["blogs"])
def set_key_points(session: DbSession, actor: Writer, slug: str, data: KeyPointsInput) -> BlogOut:
    blog = blogs.get_blog(session, slug, actor)
    return BlogOut.of(blogs.set_key_points(session, actor, blog, data))


@router.post(
    "/blogs/{slug}/posts", status_code=201, response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def create_post(session: DbSession, actor: Writer, slug: str, data: PostCreate) -> PostOut:
    blog = blogs.get_blog(session, slug, actor)
    return PostOut.of(posts.create_post(session, actor, blog, data))


@router.get("/blogs/{slug}/posts", response_model=PostPage, responses=ERRORS, tags=["posts"])
def list_posts(
    session: DbSession,
    actor: MaybeActor,
    slug: str,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=posts.MAX_PAGE)] = 20,
    status: Annotated[str, Query(pattern="^(published|draft)$")] = "published",
) -> PostPage:
    """Posts newest first; pass `next_cursor` back as `before` for the next page."""
    blog = blogs.get_blog(session, slug, actor)
    page = posts.list_posts(session, blog, actor, before=before, limit=limit, status=status)
    return PostPage(posts=[PostOut.of(p) for p in page.posts], next_cursor=page.next_cursor)


@router.get(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def get_post(session: DbSession, actor: MaybeActor, slug: str, post_id: PostId) -> PostOut:
    blog = blogs.get_blog(session, slug, actor)
    return PostOut.of(posts.get_post(session, blog, post_id, actor))


@router.patch(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def update_post(
    session: DbSession, actor: Writer, slug: str, post_id: PostId, data: PostUpdate
) -> PostOut:
    blog = blogs.get_blog(session, slug, actor)
    post = posts.get_post(session, blog, post_id, actor)
    return PostOut.of(posts.update_post(session, actor, post, data))


@router.delete(
    "/blogs/{slug}/posts/{post_id}", response_model=PostOut, responses=ERRORS, tags=["posts"]
)
def delete_post(
    session: DbSession,
    actor: Writer,
    slug: str,
    post_id: PostId,
    reason: Annotated[str | None, Query(max_length=500)] = None,
    data: Annotated[DeleteInput | None, Body()] = None,
) -> PostOut:
    """Soft delete; the reason comes as `?reason=` or `{"reason": ...}`."""
    blog = blogs.get_blog(session, slug, actor)
    post = posts.get_post(session, blog, post_id, actor)
    if data is None and reason is not None:
        data = DeleteInput(reason=reason)
    return PostOut.of(posts.delete_post(session, actor, post, data))


@router.get(
    "/blogs/{slug}/posts/{post_id}/revisions",
    response_model=list[RevisionOut],
    responses=ERRORS,
    tags=["posts"],
)
def post_revisions(
    session: DbSession, actor: MaybeActor, slug: str, post_id: PostId
) -> list[RevisionOut]:
    blog = blogs.get_blog(session, slug, actor)
    post = posts.get_post(session, blog, post_id, actor)
    return [RevisionOut.of(r) for r in posts.post_revisions(session, actor, post)]
