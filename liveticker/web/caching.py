"""HTTP validators shared by the pages and the polling API."""

from __future__ import annotations

from starlette.requests import Request


def not_modified(request: Request, etag: str) -> bool:
    """Does If-None-Match name this ETag (weak or strong, in a list, or `*`)?"""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
