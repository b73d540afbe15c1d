"""The desk's live parts on a real server: the staff stream wakes a blog's desks at once
for any change (drafts included), across worker processes over Redis, ends when the
session does, and counts the blog's live readers over every process."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.live.conftest import Server, Stream, open_stream, require_redis

PASSWORD = "correct horse battery"  # the prepared editor's


def _session_cookie(server: Server) -> str:
    response = httpx.post(
        f"{server.base}/login",
        data={"username": "editor", "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 303, response.text
    return response.cookies["lt_session"]


def _desk_stream(server: Server, cookie: str) -> Stream:
    url = f"{server.base}/desk/blogs/{server.slug}/live"
    return Stream(url, {"Cookie": f"lt_session={cookie}"})


def _kinds(stream: Stream, kind: str) -> list[dict[str, object]]:
    return [data for _, name, data in stream.events if name == kind]


def test_a_draft_wakes_the_desk_at_once_and_readers_never_see_it(
    start_server: Callable[..., Server],
) -> None:
    # Heartbeats 30 s apart: whatever arrives sooner was pushed, not found by a periodic look.
    server = start_server(env={"LIVETICKER_HEARTBEAT_SECONDS": "30"})
    desk = _desk_stream(server, _session_cookie(server))
    reader = open_stream(server, after=server.version())
    try:
        assert desk.status == 200
        assert desk.response_headers["cache-control"] == "no-store"
        desk.wait_for(lambda s: len(_kinds(s, "changed")) == 1)
        assert _kinds(desk, "readers") == [{"readers": 0}]  # no report yet
        first = _kinds(desk, "changed")[0]["state"]

        started = time.monotonic()
        server.post("Not ready for readers yet.", status="draft")
        desk.wait_for(lambda s: len(_kinds(s, "changed")) == 2, timeout=5)
        assert time.monotonic() - started < 2.5
        assert _kinds(desk, "changed")[1]["state"] != first

        server.post("Out now.")
        desk.wait_for(lambda s: len(_kinds(s, "changed")) == 3, timeout=5)
        reader.wait_ids(1)
        # The draft's text went nowhere public; the stream itself carries no text at all.
        assert b"Not ready" not in reader.raw
        assert b"Not ready" not in desk.raw
        assert b"Out now" not in desk.raw
    finally:
        desk.close()
        reader.close()


def test_the_desk_counts_live_readers_and_its_stream_ends_with_the_session(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()  # heartbeats every second: reports and looks each second
    cookie = _session_cookie(server)
    desk = _desk_stream(server, cookie)
    readers = [open_stream(server, after=server.version()) for _ in range(3)]
    try:
        desk.wait_for(lambda s: {"readers": 3} in _kinds(s, "readers"), timeout=10)
        home = httpx.get(f"{server.base}/desk", cookies={"lt_session": cookie}, timeout=10)
        assert home.status_code == 200
        assert '<td class="number">3</td>' in home.text
        page = httpx.get(
            f"{server.base}/desk/blogs/{server.slug}", cookies={"lt_session": cookie}, timeout=10
        )
        assert "<span data-readers>3</span> following live" in page.text

        for stream in readers[:2]:
            stream.close()
        desk.wait_for(lambda s: _kinds(s, "readers")[-1] == {"readers": 1}, timeout=10)

        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = httpx.post(
            f"{server.base}/logout",
            data={"csrf": csrf},
            cookies={"lt_session": cookie},
            headers={"Origin": server.base},
            timeout=10,
        )
        assert out.status_code == 303
        desk.wait_for(lambda s: s.ended, timeout=10)
        assert desk.error is None
        assert desk.ended_cleanly
        again = httpx.get(
            f"{server.base}/desk/blogs/{server.slug}/live",
            cookies={"lt_session": cookie},
            timeout=10,
        )
        assert again.status_code == 303
        assert again.headers["location"].startswith("/login")
    finally:
        desk.close()
        for stream in readers:
            stream.close()


def test_desks_on_every_worker_wake_over_redis(start_server: Callable[..., Server]) -> None:
    redis = require_redis()
    server = start_server(
        workers=2, env={"LIVETICKER_REDIS_URL": redis, "LIVETICKER_HEARTBEAT_SECONDS": "30"}
    )
    cookie = _session_cookie(server)
    desks: list[Stream] = []
    try:
        for _ in range(40):
            desks.append(_desk_stream(server, cookie))
            workers = {d.response_headers["x-liveticker-worker"] for d in desks}
            if len(workers) == 2:
                break
        assert len(workers) == 2, "the desk streams did not spread over both workers"
        for desk in desks:
            desk.wait_for(lambda s: len(_kinds(s, "changed")) == 1)
        server.post("Drafted on one worker.", status="draft")
        for desk in desks:  # heartbeats are 30 s away: this is the bus
            desk.wait_for(lambda s: len(_kinds(s, "changed")) == 2, timeout=5)
    finally:
        for desk in desks:
            desk.close()
