"""gzip for pages, feeds, JSON and assets, as pure ASGI, for readers on slow networks.

Only responses of a known length are compressed, decided from the response's start
(type, length, status) and the request (Accept-Encoding, credentials), so a HEAD gets the
headers its GET would; a large file is compressed piece by piece as it is read. Never
compressed: answers to credentials (BREACH: a secret and reflected input in one
compressed body), streams without a length (Server-Sent Events among them: never
buffered), 304s. A gzip body's strong ETag gets a suffix, which If-None-Match loses on the
way in, so the routes' own validators still answer 304.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveticker.web.deps import SESSION_COOKIE

MINIMUM_SIZE = 500  # below a packet's worth, gzip's header and the CPU buy nothing
LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its time
SUFFIX = b"-gzip"

_TEXT_TYPES = frozenset(
    {
        b"application/javascript",
        b"application/json",
        b"application/xml",
        b"application/manifest+json",
        b"image/svg+xml",
    }
)
Headers = list[tuple[bytes, bytes]]

_SESSION = f"{SESSION_COOKIE}=".encode()
_UNCOMPRESSED_STATUS = frozenset({204, 206, 304})


def accepts_gzip(value: bytes) -> bool:
    """Does an Accept-Encoding value allow gzip (by name or `*`, with a q above 0)?"""
    named: dict[bytes, bool] = {}
    for item in value.lower().split(b","):
        coding, _, params = item.strip().partition(b";")
        allowed = True
        for param in params.split(b";"):
            key, _, q = param.strip().partition(b"=")
            if key == b"q":
                try:
                    allowed = float(q) > 0
                except ValueError:
                    allowed = False
        named[coding.strip()] = allowed
    if b"gzip" in named:
        return named[b"gzip"]
    return named.get(b"x-gzip", named.get(b"*", False))


def compressible(content_type: bytes) -> bool:
    """Text that gzip shrinks: html, css, js, json, atom and other xml, svg (not a stream)."""
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"text/event-stream":
        return False
    return media.startswith(b"text/") or media in _TEXT_TYPES or media.endswith((b"+json", b"+xml"))


def _credentialed(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(
        name == b"authorization" or (name == b"cookie" and _SESSION in value)
        for name, value in headers
    )


def _strip_suffix(header: bytes) -> tuple[bytes, set[bytes]]:
    """If-None-Match without our suffix, and the (plain) tags the client named with it."""
    tags = []
    suffixed = set()
    for candidate in header.split(b","):
        tag = candidate.strip()
        opaque = tag.removeprefix(b"W/")
        if opaque.endswith(SUFFIX + b'"'):
            plain = opaque[: -len(SUFFIX) - 1] + b'"'
            suffixed.add(plain)
            tag = tag[: len(tag) - len(opaque)] + plain
        tags.append(tag)
    return b", ".join(tags), suffixed


def _with_suffix(etag: bytes) -> bytes:
    """`"abc"` -> `"abc-gzip"` (weak ones keep their W/)."""
    if not etag.endswith(b'"') or etag.endswith(SUFFIX + b'"'):
        return etag
    return etag[:-1] + SUFFIX + b'"'


def _add_vary(headers: Headers) -> Headers:
    for index, (name, value) in enumerate(headers):
        if name == b"vary":
            fields = {field.strip().lower() for field in value.split(b",")}
            if b"accept-encoding" not in fields and b"*" not in fields:
                headers[index] = (name, value + b", Accept-Encoding")
            return headers
    return [*headers, (b"vary", b"Accept-Encoding")]


class Compression:
    """gzip the responses that a reader's slow connection waits for (see the module)."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers: Headers = scope["headers"]
        accepted = any(
            name == b"accept-encoding" and accepts_gzip(value) for name, value in request_headers
        )
        suffixed: set[bytes] = set()
        named_all = False
        if accepted:
            # Also with credentials: a copy kept from a gzip answer is the same page, which
            # a reader who has signed in since may revalidate (the 304 names it as sent).
            rewritten = []
            for name, value in request_headers:
                if name == b"if-none-match":
                    value, suffixed = _strip_suffix(value)
                    named_all = value.strip() == b"*"
                rewritten.append((name, value))
            scope = {**scope, "headers": rewritten}
            extensions = scope.get("extensions") or {}
            if "http.response.pathsend" in extensions:
                # A file handed to the server by its path would bypass the gzip below.
                extensions = {k: v for k, v in extensions.items() if k != "http.response.pathsend"}
                scope["extensions"] = extensions
        responder = _Responder(
            send,
            # Credentials: not compressed, and no Vary: the answer is the account's alone.
            credentialed=_credentialed(request_headers),
            gzip_ok=accepted,
            suffixed=suffixed,
            named_all=named_all,
            minimum_size=self.minimum_size,
        )
        await self.app(scope, receive, responder.send)


class _Responder:
    """One response on its way out: passed through, or gzipped as its body arrives."""

    def __init__(
        self,
        send: Send,
        *,
        credentialed: bool,
        gzip_ok: bool,
        suffixed: set[bytes],
        named_all: bool,
        minimum_size: int,
    ) -> None:
        self._send = send
        self.credentialed = credentialed
        self.gzip_ok = gzip_ok and not credentialed
        self.suffixed = suffixed
        self.named_all = named_all
        self.minimum_size = minimum_size
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None  # set while a body is being gzipped

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body" and self.compressor is not None:
            await self._on_body(message)
        else:
            await self._send(message)

    async def _on_start(self, message: Message) -> None:
        status: int = message["status"]
        headers = [(name.lower(), value) for name, value in message.get("headers", ())]
        found = dict(headers)
        if status == 304:
            await self._send({**message, "headers": self._not_modified_headers(headers)})
            return
        length = found.get(b"content-length")
        candidate = (
            not self.credentialed
            and status not in _UNCOMPRESSED_STATUS
            and compressible(found.get(b"content-type", b""))
            and b"content-encoding" not in found
            and b"content-range" not in found
            and length is not None  # a stream of unknown length is never held back
            and length.isdigit()
            and int(length) >= self.minimum_size
        )
        if not candidate:
            await self._send(message)
            return
        headers = _add_vary(headers)
        if not self.gzip_ok:
            await self._send({**message, "headers": headers})
            return
        headers = [
            (name, _with_suffix(value) if name == b"etag" else value)
            for name, value in headers
            if name != b"content-length"
        ]
        self.start = {**message, "headers": [*headers, (b"content-encoding", b"gzip")]}
        # wbits 16 + 15: the gzip container, not bare zlib.
        self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def _not_modified_headers(self, headers: Headers) -> Headers:
        """A 304 names the representation the client holds: the gzip one if it sent that
        tag (or `*`, and would be sent gzip)."""
        out = []
        for name, value in headers:
            if name == b"etag" and (
                value.removeprefix(b"W/") in self.suffixed or (self.named_all and self.gzip_ok)
            ):
                value = _with_suffix(value)
            out.append((name, value))
        if self.credentialed or not any(name == b"etag" for name, _ in out):
            return out
        return _add_vary(out)

    async def _on_body(self, message: Message) -> None:
        assert self.compressor is not None
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        start, self.start = self.start, None
        if start is not None and not more:
            if body:
                # The whole body at once (Response, small files): its length is known.
                data = self.compressor.compress(body) + self.compressor.flush()
                start["headers"].append((b"content-length", str(len(data)).encode()))
            else:
                # A HEAD of a file (no body): the gzip length is unknown, and omitted.
                data = b""
            await self._send(start)
            await self._send({**message, "body": data})
            self.compressor = None
            return
        if start is not None:
            await self._send(start)  # a large file in pieces: sent chunked, piece by piece
        data = self.compressor.compress(body)
        if not more:
            data += self.compressor.flush()
            self.compressor = None
        await self._send({**message, "body": data, "more_body": more})
