"""The smallest complete ASGI response, for code that answers below the framework."""

from __future__ import annotations

from starlette.types import Send

# The security headers of a response that is not a page (JSON, a file, an event stream):
# it runs nothing and frames nothing, is never sniffed, and names no page to other sites.
# Pages get their full policy from web/middleware.py; responses made below the framework
# (the live stream) carry these themselves.
NOT_A_PAGE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


async def send_whole(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *NOT_A_PAGE_HEADERS,
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
