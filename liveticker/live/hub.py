"""The fan-out: one channel per blog, each event encoded once and written to every reader.

Readers that support it are written to straight through their socket transport, with no
queue and no task per reader: the broadcast is one loop of `transport.write` calls over
bytes built once. A reader whose unsent data passes `max_buffer` is dropped (its browser
reconnects and resumes from its last event id), so a stalled reader cannot grow memory.
Events arrive out of order or with gaps (another process, a Redis outage); the channel
then fills the gap from the database log before it delivers anything newer. The ring of
recent frames follows the log's rule: an event empties the ring's earlier frames of the
same entity, so a reconnecting reader is never handed text that is gone from the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from liveticker.domain import events as event_log
from liveticker.domain.permissions import PUBLIC_BLOG_STATUSES
from liveticker.live.wire import (
    HEARTBEAT,
    Fragments,
    Message,
    chunk,
    sse_frame,
)
from liveticker.storage.database import Database
from liveticker.storage.models import Blog

log = logging.getLogger("liveticker.live")

RING_SIZE = 256  # recent frames per blog kept in memory for reconnecting readers
FILL_BATCH = 500

# (seq, SSE frame, the frame as an HTTP chunk, entity); a superseded event keeps its
# place with empty bytes and no entity.
RingEntry = tuple[int, bytes, bytes, str]


class Reader(Protocol):
    last_seq: int
    catching_up: bool
    pending: list[tuple[int, bytes, bytes]]

    def push(self, seq: int, frame: bytes, chunked: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(slots=True, eq=False)
class Channel:
    blog_id: int
    head: int
    ring: deque[RingEntry] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    readers: set[Reader] = field(default_factory=set)  # all of them
    # Live readers that write straight to their socket: (write, backlog, abort), bound once.
    direct: dict[
        Reader, tuple[Callable[[bytes], object], Callable[[], int], Callable[[], object]]
    ] = field(default_factory=dict)
    others: set[Reader] = field(default_factory=set)  # catching up, or queue-based
    waiting: dict[int, Message] = field(default_factory=dict)
    filling: bool = False

    def add(self, reader: Reader) -> None:
        self.readers.add(reader)
        self.others.add(reader)

    def go_direct(
        self,
        reader: Reader,
        write: Callable[[bytes], object],
        backlog: Callable[[], int],
        abort: Callable[[], object],
    ) -> None:
        self.others.discard(reader)
        self.direct[reader] = (write, backlog, abort)

    def remove(self, reader: Reader) -> None:
        self.readers.discard(reader)
        self.others.discard(reader)
        self.direct.pop(reader, None)

    def frames_after(self, seq: int) -> list[tuple[int, bytes]] | None:
        """Ring frames after `seq`, or None when the ring no longer reaches back that far."""
        if seq >= self.head:
            return []
        if not self.ring or self.ring[0][0] > seq + 1:
            return None
        return [(entry[0], entry[1]) for entry in self.ring if entry[0] > seq and entry[1]]

    def forget_superseded(self, message: Message) -> None:
        """Empty the ring's frames that `message` replaces (domain.events.supersedes)."""
        kind, entity = message.kind, message.entity
        if any(event_log.supersedes(kind, entity, entry[3]) for entry in self.ring):
            self.ring = deque(
                (
                    (entry[0], b"", b"", "")
                    if event_log.supersedes(kind, entity, entry[3])
                    else entry
                    for entry in self.ring
                ),
                maxlen=RING_SIZE,
            )


@dataclass(frozen=True, slots=True)
class LiveFigures:
    readers: int
    blogs: int  # blogs with at least one reader here


@dataclass(frozen=True, slots=True)
class BlogInfo:
    id: int
    public: bool
    version: int


class Hub:
    def __init__(
        self,
        *,
        database: Database,
        fragments: Fragments,
        max_buffer: int = 256 * 1024,
        replay_limit: int = 1000,
        heartbeat_seconds: float = 15.0,
        sync_seconds: float = 2.0,
    ) -> None:
        self.database = database
        self.fragments = fragments
        self.max_buffer = max_buffer
        self.replay_limit = replay_limit
        self.heartbeat_seconds = heartbeat_seconds
        self.sync_seconds = sync_seconds
        self.channels: dict[int, Channel] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lookups: dict[str, tuple[float, asyncio.Future[BlogInfo | None]]] = {}
        self.closing = False
        # Other long-lived responses of the process to end with the streams (the desks').
        self.on_close: list[Callable[[], None]] = []

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # a server process
            # Everything loaded so far (modules, the app, its schemas: ~120,000 objects)
            # lives as long as the process. Frozen, it is left out of every full
            # collection, which would otherwise pause the event loop ~60 ms each time.
            gc.collect()
            gc.freeze()
        self._chain_shutdown_signals()
        self._tasks = [
            asyncio.create_task(self._every(self.heartbeat_seconds, self.heartbeat)),
            asyncio.create_task(self._every(self.sync_seconds, self.sync)),
        ]

    async def stop(self) -> None:
        self.close_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _chain_shutdown_signals(self) -> None:
        """Close the streams first when the server is told to stop.

        The server waits for open connections before it shuts the app down, and a live
        stream never ends by itself: so the stop signal must end the streams, cleanly,
        before the server starts waiting.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers (tests run apps elsewhere)
        loop = self.loop
        assert loop is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)

            def handler(number: int, frame: Any, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self.close_all)
                if callable(previous):
                    previous(number, frame)

            signal.signal(signum, handler)

    def close_all(self) -> None:
        """End every stream cleanly (server shutdown); browsers reconnect elsewhere."""
        self.closing = True
        for channel in self.channels.values():
            for reader in list(channel.readers):
                reader.close()
        for close in self.on_close:
            close()

    def figures(self) -> LiveFigures:
        """This process's live readers and the blogs they follow, for status and dashboards."""
        followed = [channel for channel in self.channels.values() if channel.readers]
        return LiveFigures(
            readers=sum(len(channel.readers) for channel in followed), blogs=len(followed)
        )

    def readers_by_blog(self) -> dict[int, int]:
        """This process's live readers per blog that has any."""
        return {
            channel.blog_id: len(channel.readers)
            for channel in self.channels.values()
            if channel.readers
        }

    async def _every(self, seconds: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                result = job()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # a failed round must not end the loop
                log.exception("live %s failed", getattr(job, "__name__", "job"))

    # -- events in ---------------------------------------------------------------------

    def publish_threadsafe(self, messages: list[Message]) -> None:
        """Hand committed events to the hub from any thread (the committing one)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(self.receive, messages)

    def receive(self, messages: Iterable[Message]) -> None:
        for message in sorted(messages, key=lambda m: (m.blog_id, m.seq)):
            channel = self.channels.get(message.blog_id)
            if channel is None or message.seq <= channel.head:
                continue  # nobody listens here, or we have it already
            if message.seq == channel.head + 1 and not channel.filling:
                self._emit(channel, message)
                self._drain_waiting(channel)
            else:
                channel.waiting[message.seq] = message
                self._start_fill(channel)

    def _drain_waiting(self, channel: Channel) -> None:
        while channel.waiting:
            next_message = channel.waiting.pop(channel.head + 1, None)
            if next_message is None:
                for seq in [s for s in channel.waiting if s <= channel.head]:
                    del channel.waiting[seq]
                if channel.waiting:
                    self._start_fill(channel)
                return
            self._emit(channel, next_message)

    def _emit(self, channel: Channel, message: Message) -> None:
        if message.kind == event_log.SUPERSEDED:
            # Read back from the log after a later event replaced it: nothing to send,
            # the later event (still to come, in order) carries the present state.
            channel.ring.append((message.seq, b"", b"", ""))
            channel.head = message.seq
            return
        started = time.perf_counter()
        frame = sse_frame(message, self.fragments)
        chunked = chunk(frame)
        encoded = time.perf_counter()
        channel.forget_superseded(message)
        channel.ring.append((message.seq, frame, chunked, message.entity))
        channel.head = message.seq
        # The broadcast allocates almost nothing; keep the cyclic collector from pausing
        # in the middle of it with a full scan of every reader's objects.
        collecting = gc.isenabled()
        gc.disable()
        limit = self.max_buffer
        seq = message.seq
        try:
            # The hot loop: a bound write per reader, nothing else (see Channel.direct).
            for write, backlog, abort in channel.direct.values():
                if backlog() > limit:
                    abort()  # too slow; its browser resumes from its last event id
                else:
                    write(chunked)
            for reader in channel.others:
                reader.push(seq, frame, chunked)
        finally:
            if collecting:
                gc.enable()
        if log.isEnabledFor(logging.DEBUG):
            done = time.perf_counter()
            log.debug(
                "blog %s event %s: encoded in %.2f ms, written to %d readers in %.2f ms",
                channel.blog_id,
                message.seq,
                (encoded - started) * 1000,
                len(channel.readers),
                (done - encoded) * 1000,
            )

    # -- catching up from the database ----------------------------------------------------

    def _start_fill(self, channel: Channel) -> None:
        if channel.filling or self.loop is None:
            return
        channel.filling = True
        task = self.loop.create_task(self._fill(channel))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _fill(self, channel: Channel) -> None:
        try:
            while True:
                missing = await asyncio.to_thread(self._load_after, channel.blog_id, channel.head)
                if not missing:
                    break
                if missing[0].seq != channel.head + 1:
                    # A hole in the log (it starts where the blog went public): a channel
                    # can't have started before it, but never spin on one.
                    log.warning(
                        "the log of blog %s has no event %s", channel.blog_id, channel.head + 1
                    )
                    break
                for message in missing:
                    if message.seq == channel.head + 1:
                        self._emit(channel, message)
        except Exception:
            log.exception("could not fill the live log of blog %s", channel.blog_id)
        finally:
            channel.filling = False
        self._drain_waiting(channel)

    def _load_after(self, blog_id: int, seq: int) -> list[Message]:
        with self.database.transaction(write=False) as session:
            rows = event_log.after(session, blog_id=blog_id, seq=seq, limit=FILL_BATCH)
            return [Message.of(row) for row in rows]

    def load_replay(self, blog_id: int, after: int, upto: int) -> list[Message] | None:
        """The log's replay from `after` to `upto`; None: the reader must reload."""
        with self.database.transaction(write=False) as session:
            rows = event_log.replay(
                session,
                blog_id=blog_id,
                after=after,
                head=upto,
                limit=max(upto - after, 1),
                replay_limit=self.replay_limit,
            )
            return None if rows is None else [Message.of(row) for row in rows]

    async def sync(self) -> None:
        """Compare each listened-to blog with the database; fill what the bus missed."""
        watched = [c.blog_id for c in self.channels.values() if c.readers and not c.filling]
        if not watched:
            return
        versions = await asyncio.to_thread(self._versions, watched)
        for blog_id, version in versions.items():
            channel = self.channels.get(blog_id)
            if channel is not None and version > channel.head:
                self._start_fill(channel)

    def _versions(self, blog_ids: list[int]) -> dict[int, int]:
        with self.database.transaction(write=False) as session:
            rows = session.execute(select(Blog.id, Blog.version).where(Blog.id.in_(blog_ids)))
            return {blog_id: version for blog_id, version in rows}

    # -- readers ---------------------------------------------------------------------------

    async def lookup(self, slug: str) -> BlogInfo | None:
        """The blog behind a slug, shared by the readers that connect in the same second."""
        assert self.loop is not None
        now = self.loop.time()
        cached = self._lookups.get(slug)
        if cached is not None and now - cached[0] < 1.0:
            return await asyncio.shield(cached[1])
        future: asyncio.Future[BlogInfo | None] = self.loop.create_future()
        self._lookups[slug] = (now, future)
        if len(self._lookups) > 10_000:
            self._lookups = {slug: (now, future)}
        try:
            info = await asyncio.to_thread(self._load_blog, slug)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so no "never retrieved" warning
            del self._lookups[slug]
            raise
        future.set_result(info)
        return info

    def _load_blog(self, slug: str) -> BlogInfo | None:
        with self.database.transaction(write=False) as session:
            row = session.execute(
                select(Blog.id, Blog.status, Blog.version).where(Blog.slug == slug)
            ).first()
            if row is None:
                return None
            return BlogInfo(
                id=row.id, public=row.status in PUBLIC_BLOG_STATUSES, version=row.version
            )

    def channel(self, info: BlogInfo) -> Channel:
        channel = self.channels.get(info.id)
        if channel is None:
            channel = self.channels[info.id] = Channel(blog_id=info.id, head=info.version)
        return channel

    def leave(self, channel: Channel, reader: Reader) -> None:
        """Take a reader off its channel; a channel left empty is dropped with its ring.

        Nobody keeps an empty channel up to date (the periodic check skips it), so its
        ring could hold frames of posts deleted since: the next reader starts afresh.
        """
        channel.remove(reader)
        if not channel.readers and self.channels.get(channel.blog_id) is channel:
            del self.channels[channel.blog_id]

    async def catch_up_to(self, channel: Channel, seq: int) -> bool:
        """Wait until the channel has reached `seq` (it may lag after a bus outage)."""
        if channel.head >= seq:
            return True
        self._start_fill(channel)
        for _ in range(50):
            await asyncio.sleep(0.05)
            if channel.head >= seq:
                return True
        return False

    def heartbeat(self) -> None:
        beat = chunk(HEARTBEAT)
        for channel in self.channels.values():
            for reader in channel.readers:
                reader.push(-1, HEARTBEAT, beat)


__all__ = ["BlogInfo", "Channel", "Hub", "LiveFigures", "Reader"]
