"""Wake-up calls for the staff desks: "something of blog N changed", nothing more.

Every commit that touches a blog's posts or settings (drafts and the review queue
included, which never reach the public log) names the blog to the change listeners of
`storage.database`; this process wakes the desk streams that show it, and the Redis bus
carries the same ids to the other processes. A wake-up carries no content: the desk then
asks for the blog's page itself, signed in, so nothing staff-only ever travels through
a stream, and a session revoked meanwhile gets nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator

log = logging.getLogger("liveticker.live")


class DeskSignals:
    def __init__(self, *, origin: str) -> None:
        self.origin = origin  # this process, so that it ignores its own ids coming back
        self.watchers: dict[int, set[asyncio.Event]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closing = False  # the server is stopping: desk streams end

    def close_all(self) -> None:
        self.closing = True
        for watchers in self.watchers.values():
            for wake in watchers:
                wake.set()

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    def notify_threadsafe(self, blog_ids: Iterable[int]) -> None:
        """From the committing thread."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(self.notify, set(blog_ids))

    def notify(self, blog_ids: Iterable[int]) -> None:
        for blog_id in blog_ids:
            for wake in self.watchers.get(blog_id, ()):
                wake.set()

    @contextlib.contextmanager
    def watch(self, blog_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever the blog changes; the watcher clears it once woken."""
        wake = asyncio.Event()
        self.watchers.setdefault(blog_id, set()).add(wake)
        try:
            yield wake
        finally:
            watchers = self.watchers.get(blog_id)
            if watchers is not None:
                watchers.discard(wake)
                if not watchers:
                    del self.watchers[blog_id]

    # The bus's form: "origin id,id,…"
    def encode(self, blog_ids: Iterable[int]) -> bytes:
        return f"{self.origin} {','.join(str(i) for i in sorted(blog_ids))}".encode()

    def receive(self, raw: bytes | str) -> None:
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        origin, _, ids = text.partition(" ")
        if origin == self.origin:
            return  # woken already, when it committed
        try:
            blog_ids = {int(part) for part in ids.split(",") if part}
        except ValueError:
            log.warning("ignored a malformed desk signal")
            return
        self.notify(blog_ids)
