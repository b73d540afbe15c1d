"""ASGI middleware that must see requests before any route does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveticker.asgi import NOT_A_PAGE_HEADERS, send_whole
from liveticker.exceptions import Misconfigured
from liveticker.web.deps import SESSION_COOKIE

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 before a route parses them.

    The body is read up front (it is bounded) so an oversized upload is refused whether
    or not it announced its Content-Length, and the route sees an ordinary body. The
    paths in `larger` (image uploads) have limits of their own instead.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "bad_request", "invalid Content-Length header")
                    return
                if declared > limit:
                    await _too_large(send, limit)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, "payload_too_large", f"the request body is larger than {limit} bytes")


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send_whole(
        send,
        status,
        payload,
        content_type=b"application/json",
        extra_headers=[(b"connection", b"close")],
    )


# What a page may load and run: only this site's own files, no inline script (the JSON-LD
# block is data, which CSP does not execute or block), no plugins, no framing. Images may
# also come over https from elsewhere: the API lets a desk name a wire photo by its URL.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_SESSION_COOKIE = f"{SESSION_COOKIE}=".encode()
HSTS = b"max-age=31536000"  # a year; not includeSubDomains: other hosts are not ours to bind


# What a frame-ancestors source may be: `*`, a keyword, a scheme, or a host with optional
# scheme, wildcard subdomain, port and path. Nothing that could end the directive.
_FRAME_SOURCE = re.compile(
    r"""\* | '(self|none)' | [a-z][a-z0-9+.-]*:
    | ([a-z][a-z0-9+.-]*://)? (\*\.)? [a-z0-9.-]+ (:(\d+|\*))? (/[^\s;,']*)?""",
    re.IGNORECASE | re.VERBOSE,
)


def framable_policy(ancestors: str) -> str:
    """The page policy for a page other sites may frame (the embed): `ancestors` is a
    space-separated frame-ancestors source list (the operator's `embed_frame_ancestors`).
    Misconfigured for anything else, which could smuggle in a directive of its own."""
    sources = ancestors.split()
    if not sources or not all(_FRAME_SOURCE.fullmatch(source) for source in sources):
        raise Misconfigured(
            "LIVETICKER_EMBED_FRAME_ANCESTORS must be frame-ancestors sources separated by "
            f"spaces (`*`, `'self'`, `https://news.example.org`), got {ancestors!r}"
        )
    return PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(sources))


def _frames_nothing(policy: bytes) -> bool:
    """Does this Content-Security-Policy forbid all framing (or not speak of it)? Only a
    policy that names its own frame ancestors may go without X-Frame-Options: DENY."""
    for directive in policy.split(b";"):
        name, _, value = directive.strip().partition(b" ")
        if name.lower() == b"frame-ancestors":
            return value.strip() == b"'none'"
    return True


def security_headers(scope: Scope, send: Send) -> Send:
    """`send`, adding the security headers to the response start where a route did not
    set its own: every response of the site, streams and error pages included."""
    path: str = scope.get("path", "")
    policy = PAGE_POLICY.encode()
    https = scope.get("scheme") == "https"
    # A response to credentials is that account's alone: no cache may keep it.
    authenticated = path.startswith("/api/") and any(
        name == b"authorization" or (name == b"cookie" and _SESSION_COOKIE in value)
        for name, value in scope.get("headers", ())
    )

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(n.lower(), v) for n, v in message.get("headers", ())]
            present = {name for name, _ in headers}
            html = any(n == b"content-type" and v.startswith(b"text/html") for n, v in headers)
            added: list[tuple[bytes, bytes]] = []

            def add(name: bytes, value: bytes) -> None:
                if name not in present:
                    added.append((name, value))
                    present.add(name)  # the first one set wins: a page's own policy

            if html:
                add(b"content-security-policy", policy)
            for name, value in NOT_A_PAGE_HEADERS:
                add(name, value)
            # Old browsers know only X-Frame-Options; a page that lets others frame it (the
            # embed) says so in its own policy, which DENY would overrule.
            own_policy = next((v for n, v in headers if n == b"content-security-policy"), None)
            if html and (own_policy is None or _frames_nothing(own_policy)):
                add(b"x-frame-options", b"DENY")
            if https:
                add(b"strict-transport-security", HSTS)
            if authenticated:
                headers = [(n, v) for n, v in headers if n != b"cache-control"]
                added.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers + added}
        await send(message)

    return send_with_headers
