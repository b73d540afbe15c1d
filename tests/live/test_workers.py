"""Several worker processes joined by real Redis; Redis stopping and starting again."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live.conftest import (
    Server,
    Stream,
    free_port,
    open_stream,
    require_redis,
    require_redis_server_binary,
)


def _streams_on_every_worker(server: Server, workers: int) -> list[Stream]:
    """Open readers until each worker process serves at least two of them."""
    start = server.version()
    streams: list[Stream] = []
    for _ in range(80):
        streams.append(open_stream(server, after=start))
        pids = [s.response_headers["x-liveticker-worker"] for s in streams]
        if len(set(pids)) == workers and all(pids.count(p) >= 2 for p in set(pids)):
            return streams
    raise AssertionError(f"connections did not spread over {workers} workers: {set(pids)}")


def test_posts_reach_readers_on_every_worker(start_server: Callable[..., Server]) -> None:
    redis = require_redis()
    server = start_server(workers=2, env={"LIVETICKER_REDIS_URL": redis})
    streams = _streams_on_every_worker(server, 2)
    try:
        start = streams[0].ids[-1] if streams[0].ids else server.version()
        for n in range(5):
            server.post(f"across workers {n}")
        for stream in streams:
            assert stream.wait_ids(5, timeout=10) == list(range(start + 1, start + 6))
    finally:
        for stream in streams:
            stream.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """A redis-server of the test's own on a free port, which the test may stop and restart."""
    binary = require_redis_server_binary()
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        time.sleep(0.3)
        return process

    start.port = port  # type: ignore[attr-defined]
    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(5)


def test_redis_outage_loses_nothing(
    start_server: Callable[..., Server], own_redis: Callable[[], subprocess.Popen[bytes]]
) -> None:
    redis = own_redis()
    url = f"redis://127.0.0.1:{own_redis.port}/0"  # type: ignore[attr-defined]
    server = start_server(workers=2, env={"LIVETICKER_REDIS_URL": url})
    streams = _streams_on_every_worker(server, 2)
    start = server.version()
    try:
        server.post("before the outage")
        for stream in streams:
            stream.wait_ids(1)

        redis.terminate()
        redis.wait(5)
        for n in range(3):
            server.post(f"during the outage {n}")  # writes keep working without Redis
        for stream in streams:  # readers on the other worker catch up from the log
            stream.wait_ids(4, timeout=10)

        own_redis()
        time.sleep(1.5)  # let the subscribers reconnect
        for n in range(2):
            server.post(f"after the outage {n}")
        for stream in streams:
            assert stream.wait_ids(6, timeout=10) == list(range(start + 1, start + 7))
    finally:
        for stream in streams:
            stream.close()
