"""Short, unguessable codes for the permalinks `/p/{code}` of blogs and posts.

Seven characters from an alphabet without look-alikes (no 0/o, 1/l/i) give 31^7 ≈ 2.8e10
codes: enough that guessing one of a newsroom's unpublished posts is hopeless, short
enough to read out on air.
"""

from __future__ import annotations

import secrets

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from liveticker.storage.models import Blog, Post

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 7


def new_code() -> str:
    """A random short code, unguessable, in the short-link alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_wellformed(code: str) -> bool:
    """Could this be a code we issued? (Checked before any query.)"""
    return 5 <= len(code) <= 8 and all(ch in ALPHABET for ch in code)


def unused_code(session: Session) -> str:
    """A code no blog or post holds yet; the unique constraints back this up."""
    for _ in range(20):
        code = new_code()
        taken = session.scalar(
            select(
                exists().where(Blog.short_code == code) | exists().where(Post.short_code == code)
            )
        )
        if not taken:
            return code
    raise RuntimeError("could not find a free short code")  # pragma: no cover - 31^7 space
