"""Content-hashed URLs of the static files, so that browsers may keep them for a year.

Each file's hash is taken once, at start, from its bytes: `asset_url("liveticker.css")` is
`/static/liveticker.<hash>.css`, served immutable, and a deploy that changes the file
changes its URL. The plain path (`/static/embed.js`, pasted by integrators) keeps working
with a short lifetime, and so does a stale hash, which a page cached before a deploy names.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from liveticker.web.caching import not_modified

STATIC = Path(__file__).parent / "static"
HASH_LENGTH = 10
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"

_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)$")


def compact(name: str, source: bytes) -> bytes:
    """Our own scripts and stylesheets as served: without the lines that are only a comment,
    blank lines and indentation. Every other line is kept whole, so nothing a statement
    needs can go (no line is joined to another, no comment after code is touched). The
    source stays readable in the repository; readers load about a fifth less."""
    if not name.endswith((".js", ".css")):
        return source
    kept = []
    in_comment = False
    for raw in source.decode().splitlines():
        line = raw.strip()
        if in_comment:
            in_comment = "*/" not in line
            continue
        if line.startswith("/*"):
            in_comment = "*/" not in line
            continue
        if not line or (name.endswith(".js") and line.startswith("//")):
            continue
        kept.append(line)
    return ("\n".join(kept) + "\n").encode()


class Manifest:
    """The hash of every file under a folder, keyed by its path there (`demo/x.svg`), and
    the compacted bytes of its scripts and stylesheets (what is served of them)."""

    def __init__(self, directory: Path) -> None:
        self.compacted = {
            path.relative_to(directory).as_posix(): compact(path.name, path.read_bytes())
            for path in sorted(directory.glob("*"))
            if path.suffix in (".js", ".css") and path.is_file()
        }
        self.hashes = {
            name: hashlib.sha256(self.compacted.get(name) or path.read_bytes()).hexdigest()[
                :HASH_LENGTH
            ]
            for path in sorted(directory.rglob("*"))
            if path.is_file() and (name := path.relative_to(directory).as_posix())
        }
        # One digest of them all: what a page that links them is made of (web/pages.py).
        self.version = hashlib.sha256(
            "\n".join(f"{name} {digest}" for name, digest in self.hashes.items()).encode()
        ).hexdigest()[:HASH_LENGTH]

    def path(self, name: str) -> str:
        """`liveticker.css` -> `liveticker.<hash>.css`; an unknown name is a template bug."""
        digest = self.hashes.get(name)
        if digest is None:
            raise LookupError(f"no static file {name!r}")
        stem, dot, suffix = name.rpartition(".")
        return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"

    def resolve(self, path: str) -> tuple[str, bool]:
        """The file a requested path names, and whether its hash is the current one
        (only then may it be cached for good)."""
        match = _HASHED.match(path)
        if match is not None:
            name = match["stem"] + match["suffix"]
            digest = self.hashes.get(name)
            if digest is not None:
                return name, digest == match["hash"]
        return path, False


MANIFEST = Manifest(STATIC)

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def compacted_response(name: str, body: bytes, scope: Scope, *, current: bool) -> Response:
    """A compacted script or stylesheet, with its hash as a strong validator (304 on a
    match) and the lifetime its URL earns: a year under the current hash, else minutes."""
    etag = f'"{MANIFEST.hashes[name]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE_CACHE if current else SHORT_CACHE,
    }
    if not_modified(Request(scope), etag):
        return Response(status_code=304, headers=headers)
    media_type = MEDIA_TYPES[Path(name).suffix]
    if scope.get("method") == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=media_type)
    return Response(body, headers=headers, media_type=media_type)


@jinja2.pass_context
def asset_url(context: Any, name: str) -> str:
    """The hashed URL of a static file, under the app's root path (behind a proxy)."""
    request = context.get("request")
    root = request.scope.get("root_path", "") if request is not None else ""
    return f"{root}/static/{MANIFEST.path(name)}"


def install(env: jinja2.Environment) -> None:
    env.globals["asset_url"] = asset_url
