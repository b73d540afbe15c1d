"""The desk's pages for accounts: sign in and out, your own password and API tokens, and the
admins' user management (the blogs' pages are in desk_blogs); readers sign up and sign in
here too, for community notes. Server-rendered forms that post and redirect, so they work
without JavaScript; the rules are the domain's (sessions, users, readers), as for the API
and CLI.

Every page is private (`Cache-Control: no-store`) and may not be framed; every form that
changes something carries the session's CSRF token and must come from this site.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from liveticker.domain import blogs, readers, sessions, teams, users
from liveticker.domain.accounts import Role
from liveticker.domain.inputs import ReaderSignUp
from liveticker.domain.sessions import SignedIn
from liveticker.exceptions import LivetickerError, ValidationFailed
from liveticker.storage.models import Blog
from liveticker.web import i18n
from liveticker.web.deps import (
    CSRF_FIELD,
    SESSION_COOKIE,
    AnyUser,
    AnyWriter,
    AppServices,
    DbSession,
    DeskUser,
    DeskWriter,
    MaybeSignedIn,
    limit_sign_in,
    require_same_origin,
)

router = APIRouter(include_in_schema=False)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    # The Content-Security-Policy and X-Frame-Options of every page come from
    # middleware.security_headers; a desk page's address is nobody else's business.
    "Referrer-Policy": "same-origin",
}
# Characters of any one form field: above the largest field a model takes (a post's
# 20,000-character body), which then checks each field's own limit.
MAX_FIELD = 25_000
# What a redirect after a successful form may announce: fixed texts, never user input.
DONE = {
    "password": "Your password has been changed. Your other sessions were signed out.",
    "everywhere": "You have been signed out everywhere else.",
    "revoked": "The token has been revoked.",
    "created": "The account has been created.",
    "role": "The role has been changed.",
    "disabled": "The account has been disabled and signed out everywhere.",
    "enabled": "The account has been enabled.",
    "reset": "The password has been reset and the account signed out everywhere.",
    "blog-created": "The blog has been created, as a draft. Publish it when it is ready.",
    "published": "The post is published.",
    "draft": "The draft is saved.",
    "scheduled": "The post is scheduled.",
    "saved": "The post is saved.",
    "pin": "The post is pinned.",
    "unpin": "The post is no longer pinned.",
    "key-event": "The post is marked as a key event.",
    "no-key-event": "The post is no longer a key event.",
    "publish": "The post is published.",
    "unpublish": "The post is back to a draft; readers no longer see it.",
    "delete": "The post is deleted; readers no longer see it.",
    "blog-publish": "The blog is live: readers can follow it now.",
    "submitted": "The post is in the review queue; an editor will publish it or return it.",
    "submit": "The post is in the review queue; an editor will publish it or return it.",
    "withdraw": "The post is back with you as a draft.",
    "return": "The post is returned to its author with your comment.",
    "restored": "The earlier version is restored, as a new revision.",
    "blog-key-points": "The key points are saved.",
    "blog-settings": "The blog's settings are saved.",
    "blog-close": "The blog is closed.",
    "blog-reopen": "The blog is live again.",
}


def page(
    request: Request,
    services: AppServices,
    template: str,
    context: dict[str, Any],
    *,
    me: SignedIn | None = None,
    status: int = 200,
) -> Response:
    done = DONE.get(request.query_params.get("done", ""))
    full = {
        "site_name": services.settings.site_name,
        "me": me,
        "csrf_field": CSRF_FIELD,
        "done": done,
        "error": None,
        **context,
    }
    # A reader's page (sign-in, sign-up) speaks the site's language; the desk, English.
    reader = template.startswith("notes/")
    language = services.settings.default_language if reader else i18n.SOURCE_LANGUAGE
    with i18n.speaking(language):
        return services.templates.TemplateResponse(
            request, template, full, status_code=status, headers=PRIVATE_HEADERS
        )


def blog_of(session: Session, me: SignedIn, slug: str) -> Blog:
    """A blog the signed-in user works on (NotFound, or Forbidden off its team)."""
    blog = blogs.get_blog(session, slug=slug, actor=me.actor)
    teams.require_member(session, actor=me.actor, blog=blog)
    return blog


def _done(path: str, what: str) -> Response:
    return RedirectResponse(f"{path}?done={what}", status_code=303, headers=PRIVATE_HEADERS)


async def form_fields(request: Request) -> dict[str, str]:
    """The posted fields as text, each at most MAX_FIELD characters."""
    values: dict[str, str] = {}
    async with request.form() as form:  # closes any file a client sent along
        for name, value in form.items():
            if isinstance(value, str):
                if len(value) > MAX_FIELD:
                    raise ValidationFailed(f"at most {MAX_FIELD} characters", field=name)
                values[name] = value
    return values


# Where a reader may come back to after signing in (the desk's paths are staff's, but for
# the account page); a reader sent to the desk lands on READER_HOME instead.
READER_PATHS = ("/blogs/", "/notes", "/account", "/desk/account")
READER_HOME = "/notes/needs-help"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a desk or reader path of this site, nothing else (not
    another host, not `//host`, nothing a header could not carry)."""
    if (
        value
        and value.startswith(("/desk", *READER_PATHS))
        and "//" not in value
        and "\\" not in value
        and value.isprintable()
        and " " not in value
    ):
        return value
    return "/desk"


def landing(target: str, *, staff: bool) -> str:
    """The desk answers readers 403: one sent there goes to their own page instead."""
    if staff or target.startswith(READER_PATHS):
        return target
    return READER_HOME


def _for_readers(target: str) -> bool:
    """Sign-in for a reader's page reads as a reader's, with a way to sign up."""
    return target.startswith(READER_PATHS) and not target.startswith("/desk")


def _cookie_is_secure(request: Request, services: AppServices) -> bool:
    return request.url.scheme == "https" or services.settings.public_url.startswith("https://")


# -- signing in and out --------------------------------------------------------------


@router.get("/login")
def login_form(
    request: Request, services: AppServices, signed_in: MaybeSignedIn, next: str = "/desk"
) -> Response:
    target = safe_next(next)
    if signed_in is not None:
        target = landing(target, staff=signed_in.actor.is_staff)
        return RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)
    return page(request, services, _login_template(target), {"next": target, "username": ""})


def _login_template(target: str) -> str:
    return "notes/signin.html" if _for_readers(target) else "desk/login.html"


@router.post("/login")
async def login(request: Request, session: DbSession, services: AppServices) -> Response:
    require_same_origin(request)  # no session yet: a login from another site is refused
    form = await form_fields(request)
    username, target = form.get("username", ""), safe_next(form.get("next"))
    context: dict[str, Any] = {"next": target, "username": username}
    try:
        limit_sign_in(request, services, username)
        token, user = sessions.sign_in(
            session,
            username=username,
            password=form.get("password", ""),
            hours=services.settings.session_hours,
        )
    except LivetickerError as exc:
        context["error"] = exc
        template = _login_template(target)
        return page(request, services, template, context, status=exc.status_code)
    staff = user.role != Role.READER.value
    return _signed_in(request, services, token, landing(target, staff=staff))


def _signed_in(request: Request, services: AppServices, token: str, target: str) -> Response:
    """The redirect that sets a new session's cookie."""
    response = RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_cookie_is_secure(request, services),
        path="/",
    )
    return response


@router.get("/signup")
def signup_form(
    request: Request, services: AppServices, signed_in: MaybeSignedIn, next: str = READER_HOME
) -> Response:
    target = safe_next(next)
    if signed_in is not None:
        target = landing(target, staff=signed_in.actor.is_staff)
        return RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)
    return page(request, services, "notes/signup.html", {"next": target, "alias": ""})


@router.post("/signup")
async def signup(request: Request, session: DbSession, services: AppServices) -> Response:
    """A reader's account (readers.sign_up, limited per address), then signed in at once."""
    require_same_origin(request)  # no session yet: a sign-up from another site is refused
    form = await form_fields(request)
    alias, password = form.get("alias", ""), form.get("password", "")
    target = landing(safe_next(form.get("next") or READER_HOME), staff=False)
    context: dict[str, Any] = {"next": target, "alias": alias}
    settings = services.settings
    try:
        if password != form.get("again", ""):
            with i18n.speaking(settings.default_language):  # the sign-up page's language
                message = i18n.gettext("the two passwords differ")
            raise ValidationFailed(message, field="again")
        try:
            data = ReaderSignUp(alias=alias, password=password)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else None
            raise ValidationFailed(str(first["msg"]), field=field) from None
        address = request.client.host if request.client else "unknown"
        with session.begin_nested():  # a refused sign-up leaves no account behind
            readers.sign_up(
                session, data=data, address=address, per_hour=settings.signup_rate_per_hour
            )
        token, _reader = sessions.sign_in(
            session, username=data.alias.strip(), password=password, hours=settings.session_hours
        )
    except LivetickerError as exc:
        context["error"] = exc
        return page(request, services, "notes/signup.html", context, status=exc.status_code)
    return _signed_in(request, services, token, target)


@router.post("/logout")
def logout(request: Request, session: DbSession, me: AnyWriter) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    sessions.sign_out(session, token=token)
    response = RedirectResponse("/login", status_code=303, headers=PRIVATE_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the desk home and your own account ---------------------------------------------------


def _account(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    tokens = users.list_tokens(session, actor=me.actor)
    context = {"tokens": tokens, "new_token": None, **extra}
    return page(request, services, "desk/account.html", context, me=me, status=status)


@router.get("/desk/account")
def account(request: Request, session: DbSession, services: AppServices, me: AnyUser) -> Response:
    return _account(request, session, services, me)


@router.post("/desk/account/password")
async def change_password(
    request: Request, session: DbSession, services: AppServices, me: AnyWriter
) -> Response:
    form = await form_fields(request)
    try:
        if form.get("new", "") != form.get("again", ""):
            raise ValidationFailed("the two new passwords differ", field="again")
        users.change_own_password(
            session,
            actor=me.actor,
            current=form.get("current", ""),
            new=form.get("new", ""),
            keep_session_id=me.session_id,
        )
    except LivetickerError as exc:
        return _account(request, session, services, me, status=exc.status_code, error=exc)
    return _done("/desk/account", "password")


@router.post("/desk/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, session: DbSession, me: AnyWriter) -> Response:
    """Ends every session of yours, this one too."""
    sessions.sign_out_everywhere(session, user_id=me.actor.user_id)
    response = RedirectResponse("/login", status_code=303, headers=PRIVATE_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/desk/account/tokens")
async def create_token(
    request: Request, session: DbSession, services: AppServices, me: AnyWriter
) -> Response:
    form = await form_fields(request)
    try:
        label = form.get("label", "").strip()
        if len(label) > 80:
            raise ValidationFailed("at most 80 characters", field="label")
        secret = users.create_token(session, actor=me.actor, label=label)
    except LivetickerError as exc:
        return _account(request, session, services, me, status=exc.status_code, error=exc)
    session.flush()
    # Shown once, on this answer only: no redirect, and nothing may cache it.
    return _account(request, session, services, me, new_token=secret)


@router.post("/desk/account/tokens/{token_id:row_id}/revoke")
def revoke_token(session: DbSession, me: AnyWriter, token_id: int) -> Response:
    users.revoke_token(session, actor=me.actor, token_id=token_id)
    return _done("/desk/account", "revoked")


# -- admins: the accounts -------------------------------------------------------------------


def _users(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = {
        "users": users.list_users(session, actor=me.actor),
        "roles": [role.value for role in Role],
        "form": {},
        **extra,
    }
    return page(request, services, "desk/users.html", context, me=me, status=status)


@router.get("/desk/users")
def user_list(
    request: Request, session: DbSession, services: AppServices, me: DeskUser
) -> Response:
    return _users(request, session, services, me)


@router.post("/desk/users")
async def user_create(
    request: Request, session: DbSession, services: AppServices, me: DeskWriter
) -> Response:
    form = await form_fields(request)
    try:
        with session.begin_nested():  # a refused account leaves nothing behind
            users.create(
                session,
                actor=me.actor,
                username=form.get("username", ""),
                password=form.get("password", ""),
                role=form.get("role", ""),
                display_name=form.get("display_name", ""),
            )
    except LivetickerError as exc:
        return _users(request, session, services, me, status=exc.status_code, error=exc, form=form)
    return _done("/desk/users", "created")


@router.post("/desk/users/{user_id:row_id}/{action}")
async def user_action(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: DeskWriter,
    user_id: int,
    action: str,
) -> Response:
    form = await form_fields(request)
    try:
        user = users.get(session, actor=me.actor, user_id=user_id)
        if action == "role":
            users.change_role(session, actor=me.actor, user=user, role=form.get("role", ""))
            done = "role"
        elif action == "disable":
            users.set_active(session, actor=me.actor, user=user, active=False)
            done = "disabled"
        elif action == "enable":
            users.set_active(session, actor=me.actor, user=user, active=True)
            done = "enabled"
        elif action == "password":
            users.reset_password(
                session, actor=me.actor, user=user, password=form.get("password", "")
            )
            done = "reset"
        else:
            return _users(request, session, services, me, status=404)
    except LivetickerError as exc:
        return _users(request, session, services, me, status=exc.status_code, error=exc)
    return _done("/desk/users", done)
