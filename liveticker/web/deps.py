"""Request-scoped dependencies: the unit of work, who is asking, and write rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from liveticker.domain.accounts import Actor, authenticate
from liveticker.exceptions import Unauthorized
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


def get_settings(request: Request) -> Settings:
    return services_of(request).settings


AppSettings = Annotated[Settings, Depends(get_settings)]
AppServices = Annotated[Services, Depends(services_of)]
