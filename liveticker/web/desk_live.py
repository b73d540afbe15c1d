"""The desk's live parts: a blog's desk redraws when anyone changes the blog, and shows
how many readers follow it live.

GET /desk/blogs/{slug}/live is a Server-Sent-Events stream for staff, authenticated by
the session and the blog's team like every desk page, and separate from the public
stream. It carries no content: `changed` (`{"state": …}`, a short fingerprint of what
the desk shows, when it differs from what was last sent) and `readers` (`{"readers": N}`).
The desk then fetches its own page again, signed in, so drafts and the review queue never
travel through a stream, and a session ended or a user taken off the team meanwhile gets
nothing more: the stream checks the session at each wake-up and heartbeat and ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liveticker.domain import presence, sessions
from liveticker.exceptions import LivetickerError
from liveticker.storage.models import Blog, Post, utcnow
from liveticker.web.deps import SESSION_COOKIE, AppServices, DbSession, DeskUser
from liveticker.web.desk import PRIVATE_HEADERS, blog_of
from liveticker.web.services import Services

router = APIRouter(include_in_schema=False)


def desk_state(session: Session, blog: Blog) -> str:
    """What the blog's desk shows, as one short string that changes whenever it does:
    the blog's version (every public change) and its posts' count and newest edit (drafts,
    the review queue and schedules too)."""
    count, newest = session.execute(
        select(func.count(Post.id), func.max(Post.updated_at)).where(Post.blog_id == blog.id)
    ).one()
    stamp = newest.isoformat() if newest else ""
    return f"{blog.version}.{blog.updated_at.isoformat()}.{count}.{stamp}"


def live_readers(session: Session, services: Services, blog_ids: list[int]) -> dict[int, int]:
    """Live readers per blog over every server process (blogs with none left out)."""
    # Each process reports at every heartbeat: three missed reports and it counts no more.
    max_age = timedelta(seconds=3 * services.settings.heartbeat_seconds + 5)
    return presence.live_readers(session, blog_ids=blog_ids, now=utcnow(), max_age=max_age)


def _look(services: Services, token: str, slug: str) -> tuple[str, int] | None:
    """The desk's state and live readers now, or None when this session may no longer
    see the blog (signed out, disabled, off the team, the blog gone)."""
    with services.database.transaction(write=False) as session:
        signed_in = sessions.resolve(session, token=token, hours=services.settings.session_hours)
        if signed_in is None:
            return None
        try:
            blog = blog_of(session, signed_in, slug)
        except LivetickerError:
            return None
        readers = live_readers(session, services, [blog.id]).get(blog.id, 0)
        return desk_state(session, blog), readers


def _frame(kind: str, data: dict[str, object]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


@router.get("/desk/blogs/{slug}/live")
def desk_stream(
    request: Request, session: DbSession, services: AppServices, me: DeskUser, slug: str
) -> Response:
    blog_id = blog_of(session, me, slug).id
    token = request.cookies.get(SESSION_COOKIE, "")
    signals = services.desk_signals
    heartbeat = services.settings.heartbeat_seconds

    async def frames() -> AsyncIterator[bytes]:
        yield b"retry: 5000\n\n"
        sent: tuple[str, int] | None = None
        with signals.watch(blog_id) as wake:
            while not signals.closing:
                wake.clear()  # before looking: a change during the look wakes us again
                now = await asyncio.to_thread(_look, services, token, slug)
                if now is None:
                    return
                frame = b""
                if sent is None or now[0] != sent[0]:
                    frame += _frame("changed", {"state": now[0]})
                if sent is None or now[1] != sent[1]:
                    frame += _frame("readers", {"readers": now[1]})
                sent = now
                yield frame or b": still here\n\n"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=heartbeat)

    # The worker, as on the public stream: which process serves it, for operators.
    headers = {
        **PRIVATE_HEADERS,
        "X-Accel-Buffering": "no",
        "X-Liveticker-Worker": str(os.getpid()),
    }
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
