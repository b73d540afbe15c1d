"""One client process of bench/fanout.py: N Server-Sent-Events readers on raw sockets.

It prints `READY <connected>` once every reader has its response, then records when each
reader first sees each `BENCHMARK:<k>:` marker, and on `DONE` (standard input) prints
the receive times as JSON. Times are CLOCK_MONOTONIC nanoseconds, shared by every process
on the machine, so the parent can subtract its own send times.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

MARKER = re.compile(rb"BENCHMARK:(\d+):")


class Reader(asyncio.Protocol):
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.tail = b""
        self.seen: set[int] = set()
        self.opened = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.registry.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        if not self.opened:
            self.opened = True
            self.registry.opened += 1
        text = self.tail + data
        for match in MARKER.finditer(text):
            k = int(match.group(1))
            if k not in self.seen:
                self.seen.add(k)
                self.registry.times.setdefault(k, []).append(now)
        self.tail = text[-32:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.registry.lost += 1


class Registry:
    def __init__(self, path: str, host: str) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.opened = 0
        self.lost = 0
        self.times: dict[int, list[int]] = {}


async def main(host: str, port: int, path: str, count: int) -> None:
    loop = asyncio.get_running_loop()
    registry = Registry(path, host)
    readers = []
    for start in range(0, count, 100):  # in batches, so the accept backlog never overflows
        batch = [
            loop.create_connection(lambda: Reader(registry), host, port)
            for _ in range(min(100, count - start))
        ]
        for result in await asyncio.gather(*batch, return_exceptions=True):
            if isinstance(result, BaseException):
                print(f"connect failed: {result}", file=sys.stderr)
            else:
                readers.append(result)
        await asyncio.sleep(0.01)
    deadline = time.monotonic() + 60
    while registry.opened < len(readers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print(f"READY {registry.opened}", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # the parent says DONE
    print(json.dumps({"times": registry.times, "lost": registry.lost}), flush=True)
    for transport, _ in readers:
        transport.close()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
