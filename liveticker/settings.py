"""One settings object for the whole service, read from LIVETICKER_* environment variables.

Every setting has an embedded default, so the app boots with no variables set: SQLite in
a local file, listening on 127.0.0.1:8000. docs/configuration is generated from FIELDS.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

PREFIX = "LIVETICKER_"


def _meta(doc: str) -> dict[str, Any]:
    return {"doc": doc}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Typed, immutable configuration. Build with `Settings.from_env()` or directly in tests."""

    database_url: str = field(
        default="sqlite:///./liveticker.db",
        metadata=_meta("SQLAlchemy URL of the database: `sqlite:///path` or `postgresql://…`."),
    )
    redis_url: str = field(
        default="",
        metadata=_meta(
            "Redis URL (`redis://host:6379/0`) that joins the live streams of several processes "
            "or hosts; empty: one process delivers to its own readers."
        ),
    )
    live_buffer_bytes: int = field(
        default=65_536,
        metadata=_meta(
            "Unsent bytes a live reader may fall behind by before its stream is dropped "
            "(it reconnects and resumes where it was)."
        ),
    )
    replay_limit: int = field(
        default=1000,
        metadata=_meta("Most events replayed to a reconnecting reader; further behind: reload."),
    )
    heartbeat_seconds: int = field(
        default=15, metadata=_meta("Seconds between keep-alive comments on live streams.")
    )
    scheduler_seconds: float = field(
        default=1.0,
        metadata=_meta(
            "Seconds between a server process's checks for scheduled posts that are due "
            "(every process checks; the database has each post published once). 0: this "
            "process does not check."
        ),
    )
    host: str = field(default="127.0.0.1", metadata=_meta("Address `serve` listens on."))
    port: int = field(default=8000, metadata=_meta("Port `serve` listens on."))
    header_timeout_seconds: float = field(
        default=10.0,
        metadata=_meta(
            "Seconds a connection has to send a request's line and headers (from connecting, "
            "or from the first byte of the next request); slower ones are closed."
        ),
    )
    body_timeout_seconds: float = field(
        default=30.0,
        metadata=_meta(
            "Seconds a request body may pause between two pieces before the connection is "
            "closed (an upload on a slow phone keeps sending; a stalled one does not)."
        ),
    )
    max_connections_per_client: int = field(
        default=100,
        metadata=_meta(
            "Open connections one client address may hold to one server process (live "
            "readers hold one each); more are answered 503 and closed. Addresses in "
            "LIVETICKER_TRUSTED_PROXIES are not limited: limit at the proxy. 0: no limit."
        ),
    )
    trusted_proxies: str = field(
        default="127.0.0.1,::1",
        metadata=_meta(
            "Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto the server believes (uvicorn's forwarded_allow_ips); `*` for any."
        ),
    )
    public_url: str = field(
        default="",
        metadata=_meta(
            "Absolute base URL used in canonical links, feeds and JSON-LD, e.g. "
            "`https://live.example.org`. Empty: taken from each request (set it in production)."
        ),
    )
    site_name: str = field(default="Liveticker", metadata=_meta("Site name in pages and feeds."))
    embed_frame_ancestors: str = field(
        default="*",
        metadata=_meta(
            "Sites that may frame the embeddable live widget (`/blogs/{slug}/embed`): "
            "Content-Security-Policy frame-ancestors sources separated by spaces, e.g. "
            "`https://news.example.org https://*.example.com`; `*` for any. Every other "
            "page may never be framed."
        ),
    )
    themes_file: str = field(
        default="",
        metadata=_meta(
            "JSON file of the newsroom's own looks (site name, logo, colours, fonts, links; "
            "see docs/theming.md), checked at start; a blog picks one by name. Empty: the "
            "built-in `default` and `night-desk` only."
        ),
    )
    default_language: str = field(
        default="en",
        metadata=_meta(
            "Language (a BCP 47 tag: `en`, `de`, `uk`, `ru`, `ar`, `fa`, ...) of new blogs, "
            "the index and the error pages."
        ),
    )
    max_body_bytes: int = field(
        default=1_048_576, metadata=_meta("Largest request body accepted, in bytes (else 413).")
    )
    media_dir: str = field(
        default="",
        metadata=_meta(
            "Folder of uploaded images. Empty: `media` beside the SQLite database file, or "
            "`./media` with PostgreSQL."
        ),
    )
    media_url: str = field(
        default="/media",
        metadata=_meta(
            "URL prefix of uploaded images. A path (`/media`) is served by the app itself, "
            "cached for a year (names never change); a full URL "
            "(`https://cdn.example.org/media`) is a CDN or object store serving the folder."
        ),
    )
    media_max_bytes: int = field(
        default=15_728_640,
        metadata=_meta(
            "Largest image upload, in bytes (else 413); the upload route's body limit follows it."
        ),
    )
    media_max_pixels: int = field(
        default=40_000_000,
        metadata=_meta(
            "Largest image upload in pixels, width × height (else 413), checked before the "
            "image is decoded; at most 89,478,485 (Pillow's own limit)."
        ),
    )
    write_rate_per_minute: int = field(
        default=120,
        metadata=_meta(
            "Write requests allowed per account a minute; sign-ins get a tenth (≥ 5), per "
            "address and per account."
        ),
    )
    page_size: int = field(default=20, metadata=_meta("Posts on one page of the reader stream."))
    session_hours: int = field(
        default=12,
        metadata=_meta("Hours a desk sign-in lasts without use (a shift); at most 7 days in all."),
    )
    audit_retention_days: int = field(
        default=400,
        metadata=_meta(
            "Days the audit log of staff actions keeps an entry; the servers delete older "
            "ones once a day (with their scheduled-posts check), as does "
            "`liveticker audit prune`. 0: kept forever."
        ),
    )
    log_level: str = field(default="info", metadata=_meta("Log level of the server."))
    notes_writing_impact: int = field(
        default=5,
        metadata=_meta(
            "Rating impact a reader needs before writing community notes (X's threshold); "
            "0 lets every reader write, which a new site needs before anyone has impact."
        ),
    )
    notes_interval_seconds: int = field(
        default=300,
        metadata=_meta(
            "Seconds between the server's scoring runs of community notes (one process or "
            "host at a time; skipped when nothing changed); 0 turns them off."
        ),
    )
    notes_min_account_age_seconds: int = field(
        default=86_400,
        metadata=_meta(
            "Age a reader's account must reach before its ratings count in scoring (they "
            "wait until then): accounts made for an attack do not count during it."
        ),
    )
    notes_open_data_dir: str = field(
        default="",
        metadata=_meta(
            "Folder of the public daily download of community notes data (X's four TSV "
            "files, zipped), served at `/open-data/notes/`. Empty: `open-data` beside the "
            "media folder. With several hosts, a folder they share."
        ),
    )
    notes_per_day: int = field(
        default=10, metadata=_meta("Community notes one reader may write in 24 hours.")
    )
    ratings_per_hour: int = field(
        default=120, metadata=_meta("Ratings of notes one reader may give in an hour.")
    )
    signup_rate_per_hour: int = field(
        default=5,
        metadata=_meta("Reader accounts that may be made from one address in an hour."),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read LIVETICKER_<NAME> for every field; explicit overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _cast(f.name, raw, f.type)
        values.update(overrides)
        return cls(**values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_path(self) -> Path:
        """The folder of uploaded images: LIVETICKER_MEDIA_DIR, else beside the database."""
        if self.media_dir:
            return Path(self.media_dir)
        if self.is_sqlite:
            database = make_url(self.database_url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                return Path(database).parent / "media"
        return Path("media")


def _cast(name: str, raw: str, type_name: Any) -> Any:
    if type_name in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(
                f"{PREFIX}{name.upper()} must be a whole number, got {raw!r}"
            ) from None
    if type_name in (float, "float"):
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}")
        return number
    return raw


def documented_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting: the source of the docs table."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else ""
        rows.append((PREFIX + f.name.upper(), str(default), str(f.metadata.get("doc", ""))))
    return rows
