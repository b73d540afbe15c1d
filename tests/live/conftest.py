"""Real servers for the live-delivery tests: `liveticker serve` in its own process.

Each server gets its own SQLite file, prepared in-process with an editor, a token and a
live blog; the tests talk to it over 127.0.0.1 like browsers and newsrooms do.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from liveticker.domain import accounts, blogs
from liveticker.domain.inputs import BlogCreate
from liveticker.storage.database import Database

REDIS_ENV = "LIVETICKER_TEST_REDIS_URL"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    token: str
    slug: str = "storm"
    log: Path | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, body: str, **fields: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/api/v1/blogs/{self.slug}/posts",
            json={"body": body, **fields},
            headers=self.headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base + path, headers=self.headers, timeout=10, **kwargs)

    def version(self) -> int:
        return int(httpx.get(f"{self.base}/api/v1/blogs/{self.slug}", timeout=10).json()["version"])

    def status(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/api/v1/status", timeout=10).json())

    def stop(self, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise


def spawn_server(
    url: str, port: int, *, workers: int, env: dict[str, str], output: Any
) -> subprocess.Popen[bytes]:
    """`liveticker serve` in its own process on 127.0.0.1 (the tests' and the benchmark's)."""
    environment = {
        **os.environ,
        "LIVETICKER_DATABASE_URL": url,
        "LIVETICKER_WRITE_RATE_PER_MINUTE": "1000000",
        **env,
    }
    command = [sys.executable, "-m", "liveticker", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def prepare_database(url: str) -> str:
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="editor", password="correct horse battery", role="editor"
        )
        token = accounts.create_token(session, user=user)
        actor = accounts.Actor.of(user)
        blog = blogs.create_blog(
            session,
            actor=actor,
            data=BlogCreate(slug="storm", title="Storm"),
            default_language="en",
        )
        blogs.publish_blog(session, actor=actor, blog=blog)
    database.dispose()
    return token


def add_admin(url: str) -> str:
    """An admin account on a prepared database; returns its API token."""
    database = Database(url)
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="admin", password="correct horse battery", role="admin"
        )
        token = accounts.create_token(session, user=user)
    database.dispose()
    return token


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(
        *, workers: int = 1, env: dict[str, str] | None = None, url: str | None = None
    ) -> Server:
        url = url or f"sqlite:///{tmp_path}/live-{len(servers)}.db"
        token = prepare_database(url)
        port = free_port()
        log = tmp_path / f"server-{len(servers)}.log"
        env = {"LIVETICKER_HEARTBEAT_SECONDS": "1", "LIVETICKER_LOG_LEVEL": "info", **(env or {})}
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = spawn_server(url, port, workers=workers, env=env, output=output)
        server = Server(base=f"http://127.0.0.1:{port}", process=process, token=token, log=log)
        servers.append(server)
        deadline = time.monotonic() + 30
        ready: set[int] = set()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()}")
            try:
                status = httpx.get(server.base + "/api/v1/status", timeout=1)
                if status.status_code == 200:
                    ready.add(status.json()["worker"])
                    # Every worker must answer before a test spreads readers over them: a
                    # worker still importing (a loaded machine) would accept nothing yet.
                    if len(ready) >= workers:
                        return server
            except httpx.HTTPError:
                pass
            time.sleep(0.1 if not ready else 0.02)
        raise AssertionError(f"server did not start ({len(ready)} workers up): {log.read_text()}")

    yield start
    for server in servers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.stop()


@dataclass
class Stream:
    """An SSE reader on a raw socket in a thread, like EventSource without auto-reconnect.

    A raw socket, so that closing it from the test thread ends the reader at once and
    leaves nothing open behind.
    """

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    comments: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    ended_cleanly: bool = False
    error: BaseException | None = None
    raw: bytearray = field(default_factory=bytearray)
    status: int = 0

    def __post_init__(self) -> None:
        address = self.url.removeprefix("http://")
        host_port, _, path = address.partition("/")
        host, _, port = host_port.partition(":")
        self._sock = socket.create_connection((host, int(port)), timeout=30)
        lines = [f"GET /{path} HTTP/1.1", f"Host: {host_port}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._opened = threading.Event()
        self._closing = False
        self._parsed = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), f"stream did not open: {self.error}"

    def _recv(self) -> bytes:
        data = self._sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        return data

    def _run(self) -> None:
        buffer = b""
        try:
            while b"\r\n\r\n" not in buffer:
                buffer += self._recv()
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            self.status = int(status_line.split()[1])
            for line in header_lines:
                name, _, value = line.partition(":")
                self.response_headers[name.strip().lower()] = value.strip()
            self._opened.set()
            chunked = self.response_headers.get("transfer-encoding") == "chunked"
            body = _Body(self, buffer)
            for piece in body.chunks() if chunked else body.plain():
                self.raw += piece
                self._parse()
            self.ended_cleanly = chunked
        except BaseException as exc:
            if not self._closing:
                self.error = exc
        finally:
            self._opened.set()

    def _parse(self) -> None:
        """Read the complete `\\n\\n`-ended blocks that arrived since the last call."""
        end = self.raw.rfind(b"\n\n")
        if end < self._parsed:
            return
        text = bytes(self.raw[self._parsed : end]).decode()
        self._parsed = end + 2
        for block in text.split("\n\n"):
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
            if "event" in fields:
                data = json.loads(fields.get("data", "{}"))
                self.events.append((int(fields.get("id", "-1")), fields["event"], data))

    @property
    def ids(self) -> list[int]:
        return [seq for seq, _, _ in self.events]

    def wait_for(self, predicate: Callable[[Stream], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; events so far: {self.events}, error: {self.error}")

    def wait_ids(self, count: int, timeout: float = 10) -> list[int]:
        self.wait_for(lambda s: len(s.events) >= count, timeout)
        return self.ids

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)

    @property
    def ended(self) -> bool:
        return not self._thread.is_alive()


class _Body:
    """The response body after the headers: chunked (as streams are) or until close."""

    def __init__(self, stream: Stream, buffer: bytes) -> None:
        self.stream = stream
        self.buffer = buffer

    def _need(self, size: int) -> None:
        while len(self.buffer) < size:
            self.buffer += self.stream._recv()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self.buffer += self.stream._recv()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                return
            self._need(size + 2)
            piece, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
            yield piece

    def plain(self) -> Iterator[bytes]:
        if self.buffer:
            yield self.buffer
        while True:
            yield self.stream._recv()


def open_stream(
    server: Server, *, after: int | None = None, last_event_id: int | None = None
) -> Stream:
    url = f"{server.base}/blogs/{server.slug}/events"
    if after is not None:
        url += f"?after={after}"
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    return Stream(url, headers)


@functools.cache
def redis_url() -> str | None:
    """The variable's Redis, else the default address if a server answers PING there."""
    url = os.environ.get(REDIS_ENV, "").strip()
    if url.lower() == "off":
        return None
    if url:
        return url
    import redis

    client = redis.Redis.from_url(DEFAULT_REDIS, socket_connect_timeout=1, socket_timeout=1)
    try:
        return DEFAULT_REDIS if client.ping() else None
    except redis.RedisError:
        return None
    finally:
        client.close()


def require_redis() -> str:
    url = redis_url()
    if url is None:
        pytest.skip(
            f"Redis tests need a server: none answered at {DEFAULT_REDIS} "
            f"and {REDIS_ENV} is not set"
        )
    return url


def require_redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI"):
            raise AssertionError("redis-server is missing in CI")
        pytest.skip("the Redis outage test starts its own redis-server, which is not installed")
    return path
