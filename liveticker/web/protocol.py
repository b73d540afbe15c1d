"""The HTTP connection, guarded: read deadlines and a cap on connections per client.

uvicorn closes idle keep-alive connections but waits for ever on a client that connects
and then sends its headers one byte at a time, or never finishes its body. 1,100 such
connections exhaust a process with the common limit of 1,024 open files, and every
honest request fails until they go. So each connection here gets:

- a deadline for the request line and headers (LIVETICKER_HEADER_TIMEOUT_SECONDS), armed
  when the connection opens and again when the next request's first byte arrives;
- a deadline between two pieces of a body (LIVETICKER_BODY_TIMEOUT_SECONDS), so a
  stalled upload is dropped while a slow one that keeps sending is not;
- a cap on open connections per client address (LIVETICKER_MAX_CONNECTIONS_PER_CLIENT),
  which a trusted reverse proxy is exempt from: it speaks for many readers and limits
  them itself (docs/operations.md has the settings for nginx).

Long responses (the live stream) are not limited: the deadlines end when the request
has been read, and the stream's heartbeat finds dead readers.

`liveticker serve` names this class as uvicorn's HTTP protocol; every worker process
builds it from its own settings.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from collections import Counter
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from liveticker.settings import Settings

log = logging.getLogger("liveticker.protocol")

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"retry-after: 5\r\n"
    b"connection: close\r\n"
    b"content-length: 41\r\n\r\n"
    b"too many connections from this address\r\n"
)
_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: 30\r\n\r\n"
    b"the request came in too slowly"
)


@functools.cache
def _limits() -> tuple[float, float, int, frozenset[str]]:
    settings = Settings.from_env()
    proxies = frozenset(p.strip() for p in settings.trusted_proxies.split(",") if p.strip())
    return (
        settings.header_timeout_seconds,
        settings.body_timeout_seconds,
        settings.max_connections_per_client,
        proxies,
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    # Open connections per client address in this process (the event loop is one thread).
    open_per_client: ClassVar[Counter[str]] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._counted: str | None = None
        self._in_body = False  # the current request's headers are in; its body is coming

    # --- the cap -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        header_timeout, _, per_client, proxies = _limits()
        address = self.client[0] if self.client else None
        if address is not None and per_client > 0 and address not in proxies and "*" not in proxies:
            if self.open_per_client[address] >= per_client:
                transport.write(_BUSY)
                transport.close()
                return
            self.open_per_client[address] += 1
            self._counted = address
        self._arm(header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted is not None:
            self.open_per_client[self._counted] -= 1
            if self.open_per_client[self._counted] <= 0:
                del self.open_per_client[self._counted]
            self._counted = None
        super().connection_lost(exc)

    # --- the deadlines -------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_body = False
        if self._read_deadline is None:  # a keep-alive connection's next request
            self._arm(_limits()[0])

    def on_headers_complete(self) -> None:
        self._in_body = True
        self._arm(_limits()[1])
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._arm(_limits()[1])
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds > 0:
            self._read_deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._in_body and self.flow is not None and self.flow.read_paused:
            # We stopped reading (the app is busy with what came): not the client's delay.
            self._arm(_limits()[1])
            return
        # Headers not yet complete: `cycle` (if any) is the previous request's, answered.
        if not self._in_body or not self.cycle.response_started:
            self.transport.write(_TOO_SLOW)
        self.transport.close()


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; returns the new
    soft limit. Live readers each hold a connection, and 1,024 is a common default."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # a container may forbid it: keep going
            log.warning("could not raise the open-files limit from %s: %s", soft, exc)
    return soft
