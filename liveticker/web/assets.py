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

STATIC = Path(__file__).parent / "static"
HASH_LENGTH = 10
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"

_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)$")


class Manifest:
    """The hash of every file under a folder, keyed by its path there (`demo/x.svg`)."""

    def __init__(self, directory: Path) -> None:
        self.hashes = {
            path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[
                :HASH_LENGTH
            ]
            for path in sorted(directory.rglob("*"))
            if path.is_file()
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


@jinja2.pass_context
def asset_url(context: Any, name: str) -> str:
    """The hashed URL of a static file, under the app's root path (behind a proxy)."""
    request = context.get("request")
    root = request.scope.get("root_path", "") if request is not None else ""
    return f"{root}/static/{MANIFEST.path(name)}"


def install(env: jinja2.Environment) -> None:
    env.globals["asset_url"] = asset_url
