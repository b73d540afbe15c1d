"""Request-scoped dependencies: the unit of work, who is asking, and write rate limits.

Two ways of asking: a bearer token (the JSON API) or the session cookie of a signed-in
browser (the desk). Only the cookie carries ambient authority, so only cookie-authenticated
writes need the CSRF checks (`DeskWriter`): same origin, and the session's own token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from liveticker.domain import sessions
from liveticker.domain.accounts import Actor, authenticate
from liveticker.domain.inputs import MAX_ROW_ID
from liveticker.domain.sessions import SignedIn
from liveticker.exceptions import Forbidden, Unauthorized
from liveticker.settings import Settings
from liveticker.web.services import Services, services_of

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session(request: Request) -> Iterator[Session]:
    """Each request is one transaction: committed when the route returns, else rolled back.

    scope="function" (below) ends it before the response is sent, so a failed commit
    still becomes an error response instead of a success the database never kept.
    """
    database = services_of(request).database
    with database.transaction(write=request.method not in _READ_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]


def _up_to(limit: int) -> str:
    """A regex of the decimal numbers 1..limit, without leading zeros."""
    digits = str(limit)
    parts = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(digits) - i - 1
            parts.append(
                f"{digits[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else "")
            )
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class RowIdConvertor(Convertor[int]):
    """`{name:row_id}` in a page's path: a row's id, within every database's integer.

    A larger number cannot name a row, and on PostgreSQL it would not even fit the
    column and fail the query; it does not match the route, which is the ordinary 404.
    """

    regex = _up_to(MAX_ROW_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("row_id", RowIdConvertor())


def _actor(request: Request, session: DbSession) -> Actor | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use Authorization: Bearer <token>")
    return authenticate(session, token.strip())


MaybeActor = Annotated[Actor | None, Depends(_actor)]


def _writer(request: Request, actor: MaybeActor) -> Actor | None:
    """Writes are rate-limited per account (anonymous writes fail later with 401)."""
    if actor is not None:
        services_of(request).write_limiter.hit(f"user:{actor.user_id}")
    return actor


Writer = Annotated[Actor | None, Depends(_writer)]


def _uploader(request: Request) -> Actor | None:
    """A writer asked in a short transaction of its own, for routes that work long before
    they write (decoding an image): their request's transaction then opens at its first
    statement, after that work, and never holds SQLite's write lock through it."""
    with services_of(request).database.transaction() as session:
        actor = _actor(request, session)
    return _writer(request, actor)


Uploader = Annotated[Actor | None, Depends(_uploader)]


def limit_sign_in(request: Request, services: Services, username: str) -> None:
    """Sign-in attempts are limited per address and per account (a guessing attack spread
    over many addresses still meets the second)."""
    client = request.client.host if request.client else "unknown"
    services.login_limiter.hit(f"login:{client}")
    services.account_login_limiter.hit(f"account:{username.strip().lower()[:40]}")


def get_settings(request: Request) -> Settings:
    return services_of(request).settings


AppSettings = Annotated[Settings, Depends(get_settings)]
AppServices = Annotated[Services, Depends(services_of)]


SESSION_COOKIE = "lt_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """A desk page asked for without a session: answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _signed_in(request: Request, session: DbSession) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    hours = services_of(request).settings.session_hours
    return sessions.resolve(session, token=token, hours=hours)


MaybeSignedIn = Annotated[SignedIn | None, Depends(_signed_in)]


def _signed_in_user(request: Request, signed_in: MaybeSignedIn) -> SignedIn:
    if signed_in is None:
        raise SignInRequired(_return_path(request))
    return signed_in


# Anyone signed in, staff or reader: their own account, password, tokens, signing out.
AnyUser = Annotated[SignedIn, Depends(_signed_in_user)]


def _desk_user(request: Request, signed_in: MaybeSignedIn) -> SignedIn:
    user = _signed_in_user(request, signed_in)
    if not user.actor.is_staff:
        raise Forbidden("the desk is for the newsroom's staff")
    return user


def _return_path(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form the page it was on
    (whose unsent text the desk's script keeps)."""
    if request.method in ("GET", "HEAD"):
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/desk"):
        return referer.path
    return "/desk"


DeskUser = Annotated[SignedIn, Depends(_desk_user)]


def same_origin(request: Request) -> bool:
    """Did the browser send this from a page of this site? (Non-browsers send neither
    header; for them the CSRF token alone decides.)"""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    public = services_of(request).settings.public_url.rstrip("/")
    if public:
        own.add(public)
    return origin in own


def require_same_origin(request: Request) -> None:
    if not same_origin(request):
        raise Forbidden("requests from other sites are refused")


async def _any_writer(request: Request, maybe: MaybeSignedIn) -> SignedIn:
    """A signed-in browser's change: from this site, with the session's CSRF token."""
    require_same_origin(request)  # first: a cross-site post is refused, signed in or not
    signed_in = _signed_in_user(request, maybe)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sessions.csrf_matches(signed_in, sent):
        raise Forbidden(
            "this form has expired or did not come from this site; reload the page and try again"
        )
    return signed_in


AnyWriter = Annotated[SignedIn, Depends(_any_writer)]


async def _desk_writer(request: Request, signed_in: AnyWriter) -> SignedIn:
    if not signed_in.actor.is_staff:
        raise Forbidden("the desk is for the newsroom's staff")
    return signed_in


DeskWriter = Annotated[SignedIn, Depends(_desk_writer)]
