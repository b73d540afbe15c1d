"""Slow and greedy clients against a real `liveticker serve`: they lose their connections,
honest readers keep being served (the outside probe's slow-headers attack, scaled down)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from liveticker.web.protocol import raise_open_files_limit
from tests.live.conftest import Server

ATTACKER = "127.0.0.2"  # all of 127/8 is loopback on Linux: a second client address
LIMITS = {
    "LIVETICKER_HEADER_TIMEOUT_SECONDS": "1",
    "LIVETICKER_BODY_TIMEOUT_SECONDS": "1",
    "LIVETICKER_MAX_CONNECTIONS_PER_CLIENT": "10",
    "LIVETICKER_TRUSTED_PROXIES": "",  # nobody is exempt from the cap in this test
}


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server(env=LIMITS)


@contextlib.contextmanager
def attacker_sockets(server: Server, count: int, payload: bytes) -> Iterator[list[socket.socket]]:
    port = int(server.base.rsplit(":", 1)[1])
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.settimeout(5)
            sock.bind((ATTACKER, 0))
            sock.connect(("127.0.0.1", port))
            if payload:
                sock.sendall(payload)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing (or so far), or None if it sent nothing and is
    still open after `within`."""
    sock.settimeout(min(0.2, within))
    received = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received + b"<reset>"
        if not chunk:
            return received
        received += chunk
    return received or None  # still open (what came so far is not lost)


def test_slow_headers_are_cut_off_and_honest_readers_still_served(server: Server) -> None:
    half_a_request = b"GET / HTTP/1.1\r\nHost: x\r\nX-a: "
    with attacker_sockets(server, 30, half_a_request) as socks:
        started = time.monotonic()
        time.sleep(0.3)
        answers = [closed_by_server(sock, within=0.01) for sock in socks]
        # Over the cap: answered 503 and closed at once (the rest wait for their deadline,
        # which a very loaded machine may already have reached: 408).
        refused = [a for a in answers if a is not None and a.startswith(b"HTTP/1.1 503")]
        assert len(refused) == 20, answers
        assert all(a is None or a.startswith(b"HTTP/1.1 408") for a in answers if a not in refused)
        # An honest reader from another address is served meanwhile, quickly.
        page = httpx.get(server.base + "/", timeout=5)
        assert page.status_code == 200
        assert time.monotonic() - started < 3
        held = [s for s, a in zip(socks, answers, strict=True) if a is None]
        # The ten within the cap get 408 when their header deadline passes.
        for sock in held:
            answer = closed_by_server(sock, within=5)
            assert answer is not None, answers
            assert answer.startswith(b"HTTP/1.1 408"), (answer, answers)
    # Their slots are free again: the address may connect and is served.
    time.sleep(0.3)  # the server notices the closed sockets
    with attacker_sockets(server, 1, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n") as (sock,):
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_a_silent_connection_is_closed(server: Server) -> None:
    with attacker_sockets(server, 1, b"") as (sock,):
        assert closed_by_server(sock, within=5) is not None


def test_a_stalled_body_is_closed_and_a_slow_one_is_not(server: Server) -> None:
    head = (
        "POST /api/v1/blogs/storm/posts HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {server.token}\r\nContent-Type: application/json\r\n"
    )
    body = b'{"body": "slow but steady"}'
    request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode()
    with attacker_sockets(server, 2, request) as (stalled, slow):
        stalled.sendall(body[:5])
        for byte in body:  # one byte every 0.1 s: slower than any real phone, never silent
            slow.sendall(bytes([byte]))
            time.sleep(0.1 if byte % 3 else 0.3)
        assert closed_by_server(stalled, within=5) is not None
        slow.settimeout(10)
        answer = slow.recv(4096)
        assert answer.startswith(b"HTTP/1.1 201"), answer


def test_keep_alive_then_a_slow_second_request_is_cut(server: Server) -> None:
    with attacker_sockets(server, 1, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n") as (sock,):
        sock.settimeout(5)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        rest = closed_by_server(sock, within=0.3)  # the rest of it; the connection stays
        assert rest is None or rest.startswith(b"{"), rest
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        answer = closed_by_server(sock, within=5)
        assert answer is not None
        assert b"408" in answer


def test_the_open_files_limit_is_raised_to_the_hard_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        raised = raise_open_files_limit()
        assert raised == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if hard != resource.RLIM_INFINITY:
            assert raised == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
