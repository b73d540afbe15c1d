"""Server-Sent Events against a real server: framing, replay, reload, slow and gone readers."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import httpx

from tests.live.conftest import Server, open_stream


def test_framing_headers_and_heartbeat(start_server: Callable[..., Server]) -> None:
    server = start_server()
    stream = open_stream(server, after=server.version())
    try:
        assert stream.status == 200
        assert stream.response_headers["content-type"].startswith("text/event-stream")
        assert stream.response_headers["cache-control"] == "no-cache"
        assert stream.response_headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in stream.response_headers
        post = server.post("Water is **rising**", headline="Levels")
        stream.wait_ids(1)
        stream.wait_for(lambda s: s.comments >= 3, timeout=5)  # ":ok" plus 1-second heartbeats
        text = stream.raw.decode()
        assert text.startswith("retry: 2000\n:ok\n\n")
        seq, kind, data = stream.events[0]
        assert f"id: {seq}\nevent: post\ndata: {{" in text
        assert kind == "post"
        assert data["id"] == post["id"]
        assert data["headline"] == "Levels"
        assert f'id="post-{post["id"]}"' in data["html"]
        assert "<strong>rising</strong>" in data["html"]
        assert "\n:\n\n" in text  # heartbeat comments keep proxies from timing out
    finally:
        stream.close()


def test_reconnect_replays_without_gap_or_duplicate(start_server: Callable[..., Server]) -> None:
    server = start_server()
    start = server.version()
    first = open_stream(server, after=start)
    for n in range(3):
        server.post(f"first batch {n}")
    ids = first.wait_ids(3)
    first.close()
    for n in range(3):
        server.post(f"while away {n}")
    second = open_stream(server, after=start, last_event_id=ids[-1])  # the header wins
    try:
        second.wait_ids(3)
        for n in range(2):
            server.post(f"after the reconnect {n}")
        second.wait_ids(5)
        time.sleep(0.3)
        assert ids == [start + 1, start + 2, start + 3]
        assert second.ids == list(range(start + 4, start + 9))
        bodies = [data["body_html"] for _, _, data in second.events]
        assert "while away 0" in bodies[0]
        assert "after the reconnect 1" in bodies[-1]
    finally:
        second.close()


def test_replay_from_the_database_log(start_server: Callable[..., Server]) -> None:
    """Events written before any reader connected are replayed from the log, in order."""
    server = start_server()
    start = server.version()
    for n in range(4):
        server.post(f"early {n}")
    stream = open_stream(server, after=start)
    try:
        assert stream.wait_ids(4) == [start + 1, start + 2, start + 3, start + 4]
    finally:
        stream.close()


def test_reload_when_the_gap_is_beyond_the_log(start_server: Callable[..., Server]) -> None:
    server = start_server(env={"LIVETICKER_REPLAY_LIMIT": "2"})
    start = server.version()
    for n in range(4):
        server.post(f"post {n}")
    behind = open_stream(server, after=start)
    ahead = open_stream(server, after=start + 100)
    garbage = open_stream(server, last_event_id=-5)
    try:
        for stream in (behind, ahead, garbage):
            stream.wait_for(lambda s: s.ended, timeout=5)
            assert [kind for _, kind, _ in stream.events] == ["reload"]
            assert stream.ended_cleanly
    finally:
        for stream in (behind, ahead, garbage):
            stream.close()


def test_drafts_and_draft_blogs_never_stream(start_server: Callable[..., Server]) -> None:
    server = start_server()
    stream = open_stream(server, after=server.version())
    try:
        draft = server.post("SECRET draft", status="draft")
        server.call("PATCH", f"/api/v1/blogs/storm/posts/{draft['id']}", json={"body": "SECRET 2"})
        public = server.post("public")
        stream.wait_ids(1)
        time.sleep(0.3)
        assert [data["id"] for _, _, data in stream.events] == [public["id"]]
        assert b"SECRET" not in bytes(stream.raw)
    finally:
        stream.close()
    server.call("POST", "/api/v1/blogs", json={"slug": "hidden", "title": "Hidden"})
    hidden = httpx.get(f"{server.base}/blogs/hidden/events", timeout=5)
    assert hidden.status_code == 404
    assert httpx.get(f"{server.base}/blogs/nope/events", timeout=5).status_code == 404


def test_edits_deletions_and_blog_changes_stream(start_server: Callable[..., Server]) -> None:
    server = start_server()
    stream = open_stream(server, after=server.version())
    try:
        post = server.post("first version")
        server.call("PATCH", f"/api/v1/blogs/storm/posts/{post['id']}", json={"body": "second"})
        server.call("PUT", "/api/v1/blogs/storm/key-points", json={"items": ["One"]})
        server.call("PATCH", "/api/v1/blogs/storm", json={"title": "Storm, day two"})
        server.call("DELETE", f"/api/v1/blogs/storm/posts/{post['id']}")
        server.call("POST", "/api/v1/blogs/storm/close", json={"message": "Over."})
        stream.wait_ids(6)
        kinds = [kind for _, kind, _ in stream.events]
        assert kinds == ["post", "post", "key-points", "blog", "remove", "blog"]
        assert "second" in stream.events[1][2]["html"]
        assert stream.events[3][2]["title"] == "Storm, day two"
        assert stream.events[4][2] == {"id": post["id"]}
        assert stream.events[5][2]["status"] == "closed"
        assert stream.events[5][2]["closing_message"] == "Over."
    finally:
        stream.close()


def _raw_reader(server: Server, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    host, port = server.base.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.sendall(f"GET /blogs/{server.slug}/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _wait_readers(server: Server, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.status()["live_readers"] == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"readers: {server.status()['live_readers']}, expected {count}")


def test_slow_reader_is_dropped_and_others_keep_up(start_server: Callable[..., Server]) -> None:
    server = start_server(env={"LIVETICKER_LIVE_BUFFER_BYTES": "16384"})
    stalled = _raw_reader(server, receive_buffer=4096)  # connects, then never reads
    healthy = open_stream(server, after=server.version())
    try:
        _wait_readers(server, 2)
        body = "A long dispatch from the flooded valley. " * 450  # ~18 KB a post
        for n in range(40):
            server.post(f"{n}: {body}")
        healthy.wait_ids(40, timeout=20)
        _wait_readers(server, 1)  # the stalled one was dropped, the healthy one stays
        assert healthy.ids == sorted(set(healthy.ids))
    finally:
        stalled.close()
        healthy.close()


def test_disconnected_readers_are_released_at_once(start_server: Callable[..., Server]) -> None:
    server = start_server()
    sockets = [_raw_reader(server) for _ in range(40)]
    _wait_readers(server, 40)
    for sock in sockets:
        sock.close()
    _wait_readers(server, 0, timeout=3)
    server.post("nobody listens")  # the hub copes with a channel that has no readers
    assert server.status()["live_readers"] == 0


def test_shutdown_ends_streams_cleanly(start_server: Callable[..., Server]) -> None:
    server = start_server()
    streams = [open_stream(server, after=server.version()) for _ in range(3)]
    started = time.monotonic()
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM.
    assert server.stop(timeout=10) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 8
    for stream in streams:
        stream.wait_for(lambda s: s.ended, timeout=5)
        assert stream.ended_cleanly, stream.error
        stream.close()
