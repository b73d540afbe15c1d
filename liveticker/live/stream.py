"""GET /blogs/{slug}/events: the Server-Sent-Events stream of one blog.

It is served beneath FastAPI's middleware so that it can reach the connection's transport
and write frames to it directly (see `hub`). A reconnect with `Last-Event-ID` (or
`?after=`) first gets what it missed — from memory, else from the database log — then
the live events, with no gap and no duplicate; past what the log replays it is told to
reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from liveticker.asgi import NOT_A_PAGE_HEADERS, send_whole
from liveticker.domain import events as event_log
from liveticker.live.hub import Channel, Hub
from liveticker.live.wire import LAST_CHUNK, OPENING, RELOAD, chunk, sse_frame

PATH = re.compile(r"^/blogs/([a-z0-9]+(?:-[a-z0-9]+)*)/events$")
QUEUE_FRAMES = 64  # the fallback path's bound, in frames


class TransportReader:
    """Writes straight to the socket; dropped when the socket's backlog passes the limit.

    Once live, the hub's broadcast loop calls `write` and `backlog` (bound once, here)
    itself, without going through `push`: at ten thousand readers, every Python call saved
    per reader is a millisecond saved per post.
    """

    __slots__ = (
        "abort",
        "backlog",
        "catching_up",
        "last_seq",
        "max_buffer",
        "pending",
        "transport",
        "write",
    )

    def __init__(self, transport: Any, *, max_buffer: int, last_seq: int) -> None:
        self.transport = transport
        self.write = transport.write
        self.backlog = transport.get_write_buffer_size
        self.abort = transport.abort
        self.max_buffer = max_buffer
        self.last_seq = last_seq
        self.catching_up = True
        self.pending: list[tuple[int, bytes, bytes]] = []

    def push(self, seq: int, frame: bytes, chunked: bytes) -> None:
        if self.catching_up:
            if seq >= 0:
                self.pending.append((seq, frame, chunked))
            return
        if self.transport.is_closing():
            return
        if self.backlog() > self.max_buffer:
            # Too slow: drop the connection; its browser resumes from its last event id.
            self.abort()
            return
        self.write(chunked)

    def close(self) -> None:
        transport = self.transport
        if not transport.is_closing():
            transport.write(LAST_CHUNK)
            transport.close()


class QueueReader:
    """For servers that don't expose a transport: a bounded queue drained by the handler."""

    __slots__ = ("catching_up", "last_seq", "pending", "queue")

    def __init__(self, *, last_seq: int) -> None:
        self.last_seq = last_seq
        self.catching_up = True
        self.pending: list[tuple[int, bytes, bytes]] = []
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_FRAMES)

    def push(self, seq: int, frame: bytes, chunked: bytes) -> None:
        if self.catching_up:
            if seq >= 0:
                self.pending.append((seq, frame, chunked))
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close()
            return
        if seq >= 0:
            self.last_seq = seq

    def close(self) -> None:
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()  # make room for the end marker


def _requested_after(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"last-event-id":
            return _int_or_none(value.decode("latin-1"))
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "after" in query:
        return _int_or_none(query["after"][0])
    return None


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > 18:
        return -1  # malformed: treated as "unknown position" → reload
    return int(text)


async def _plain(send: Send, status: int, text: str) -> None:
    await send_whole(
        send,
        status,
        text.encode(),
        content_type=b"text/plain; charset=utf-8",
        extra_headers=[(b"cache-control", b"no-store")],
    )


HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    *NOT_A_PAGE_HEADERS,
]


async def serve_events(hub: Hub, slug: str, scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await _plain(send, 405, "method not allowed")
        return
    info = await hub.lookup(slug)
    if info is None or not info.public:
        await _plain(send, 404, "no such blog")
        return
    if hub.closing:
        await _plain(send, 503, "shutting down; reconnect")
        return
    after = _requested_after(scope)
    # Which process serves the stream: for operators tracing a reader across workers.
    worker = (b"x-liveticker-worker", str(os.getpid()).encode())
    await send({"type": "http.response.start", "status": 200, "headers": [*HEADERS, worker]})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.body", "body": OPENING, "more_body": True})

    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    direct = transport is not None and getattr(cycle, "chunked_encoding", None) is True
    # No await from here to `add`: an empty channel is dropped when its last reader
    # leaves, and this reader must join the one the hub delivers to.
    channel = hub.channel(info)
    start = channel.head if after is None else after
    reader: TransportReader | QueueReader
    if direct:
        _bound_kernel_buffer(transport, hub.max_buffer)
        reader = TransportReader(transport, max_buffer=hub.max_buffer, last_seq=start)
    else:
        reader = QueueReader(last_seq=start)
    channel.add(reader)  # from here on, new events wait in reader.pending
    try:
        replay = await _replay(hub, channel, start)
        if replay is None:
            await send({"type": "http.response.body", "body": RELOAD, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        for seq, frame in replay:
            await _write(send, reader, frame)
            reader.last_seq = seq
        reader.catching_up = False
        for seq, frame, chunked in reader.pending:
            if seq > reader.last_seq:
                reader.push(seq, frame, chunked)
                reader.last_seq = seq
        reader.pending = []
        if isinstance(reader, TransportReader):
            channel.go_direct(reader, reader.write, reader.backlog, reader.abort)
        if direct:
            # Frames go straight to the transport; wait here until the client leaves
            # (or the hub closes the transport, which ends receive() the same way).
            while (await receive())["type"] != "http.disconnect":
                pass
        else:
            await _drain_queue(reader, receive, send)  # type: ignore[arg-type]
    finally:
        hub.leave(channel, reader)


def _bound_kernel_buffer(transport: Any, size: int) -> None:
    """Cap the socket's send buffer too: left to autotuning, the kernel would hold megabytes
    for a reader that stopped reading before our own limit ever saw a byte of backlog."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max(size, 4096))


async def _write(send: Send, reader: TransportReader | QueueReader, frame: bytes) -> None:
    if isinstance(reader, TransportReader):
        if not reader.transport.is_closing():
            reader.transport.write(chunk(frame))
    else:
        await send({"type": "http.response.body", "body": frame, "more_body": True})


async def _replay(hub: Hub, channel: Channel, after: int) -> list[tuple[int, bytes]] | None:
    """The frames after `after` up to the channel's head; None means: reload instead."""
    if after < 0:
        return None
    if after > channel.head and not await hub.catch_up_to(channel, after):
        return None  # the client has seen events this server cannot confirm
    head = channel.head
    if event_log.must_reload(after=after, head=head, replay_limit=hub.replay_limit):
        return None
    cached = channel.frames_after(after)
    if cached is not None:
        return cached
    messages = await asyncio.to_thread(hub.load_replay, channel.blog_id, after, head)
    if messages is None:
        return None
    return [(message.seq, sse_frame(message, hub.fragments)) for message in messages]


async def _drain_queue(reader: QueueReader, receive: Receive, send: Send) -> None:
    disconnect = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        while True:
            getter = asyncio.ensure_future(reader.queue.get())
            done, _ = await asyncio.wait({getter, disconnect}, return_when=asyncio.FIRST_COMPLETED)
            if disconnect in done:
                getter.cancel()
                return
            frame = getter.result()
            if frame is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send({"type": "http.response.body", "body": frame, "more_body": True})
    finally:
        disconnect.cancel()


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


__all__ = ["PATH", "serve_events"]
