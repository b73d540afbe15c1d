"""The application factory: one app per settings object (and per test database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from liveticker import __version__
from liveticker.domain import events, notes
from liveticker.domain.media import Library
from liveticker.domain.ratelimit import RateLimiter
from liveticker.live import notes_runner, presence, scheduler, stream
from liveticker.live.bus import RedisPublisher, RedisSubscriber, channel_name
from liveticker.live.desk import DeskSignals
from liveticker.live.hub import Hub
from liveticker.live.wire import Message
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Event
from liveticker.web import (
    api,
    api_docs,
    api_notes,
    assets,
    desk,
    desk_blogs,
    desk_live,
    embed,
    errors,
    i18n,
    open_data,
    pages,
    pages_notes,
    themes,
)
from liveticker.web.compression import Compression
from liveticker.web.middleware import BodyLimit, security_headers
from liveticker.web.services import Services

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


class CachedStatic(StaticFiles):
    """Static files: a year of caching under their current hashed names (web/assets.py),
    minutes under their plain ones."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        name, current = assets.MANIFEST.resolve(path)
        body = assets.MANIFEST.compacted.get(name)
        if body is not None:  # our scripts and stylesheets, compacted once at start
            return assets.compacted_response(name, body, scope, current=current)
        response = await super().get_response(name, scope)
        if response.status_code in (200, 304):
            cache = assets.IMMUTABLE_CACHE if current else assets.SHORT_CACHE
            response.headers["Cache-Control"] = cache
        return response


class MediaFiles(StaticFiles):
    """Uploaded images: their names never change, so caches may keep them for a year."""

    async def check_config(self) -> None:
        # Until the first upload the folder may not exist: that is 404s, not an error.
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 206, 304):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class Liveticker(FastAPI):
    """FastAPI, with the live streams answered before the middleware stack.

    A stream is served with the server's own `send`, which lets the hub write frames
    straight to the connection (see liveticker.live.hub); everything else is FastAPI's.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = stream.PATH.match(scope["path"])
            services: Services | None = getattr(self.state, "services", None)
            if match is not None and services is not None:
                # The server's own `send`: the hub writes to its transport (its headers
                # are the stream's own, NOT_A_PAGE_HEADERS among them).
                await stream.serve_events(services.hub, match.group(1), scope, receive, send)
                return
            send = security_headers(scope, send)
        await super().__call__(scope, receive, send)


def _configure_logging(level: str) -> None:
    """Our own messages at the server's log level, in every worker process."""
    logger = logging.getLogger("liveticker")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Liveticker:
    settings = settings or Settings.from_env()
    _configure_logging(settings.log_level)
    owns_database = database is None
    database = database or Database(settings.database_url)
    templates = Jinja2Templates(directory=TEMPLATES)
    i18n.install(templates.env)
    assets.install(templates.env)
    looks = themes.load(settings.themes_file)
    # The look of pages that name none (the index, errors, the desk): the site's default.
    templates.env.globals["site_theme"] = looks.default
    hub = Hub(
        database=database,
        fragments={
            events.POST: pages.PostFragments(templates),
            notes.NOTES: pages.NotesFragments(templates),
        },
        max_buffer=settings.live_buffer_bytes,
        replay_limit=settings.replay_limit,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    channel = channel_name(database.url)
    process = presence.process_name()
    desk_signals = DeskSignals(origin=process)
    media = Library(
        directory=settings.media_path.absolute(),
        url=settings.media_url,
        max_bytes=settings.media_max_bytes,
        max_pixels=settings.media_max_pixels,
    )
    publisher = RedisPublisher(settings.redis_url, channel=channel) if settings.redis_url else None

    def on_commit(committed: list[Event]) -> None:
        messages = [Message.of(event) for event in committed]
        hub.publish_threadsafe(messages)  # this process's readers, without a round trip
        if publisher is not None:
            publisher.publish(messages)

    def on_change(blog_ids: set[int]) -> None:
        desk_signals.notify_threadsafe(blog_ids)  # this process's desks
        if publisher is not None:
            publisher.publish_desk(desk_signals.encode(blog_ids))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        desk_signals.start()
        hub.on_close.append(desk_signals.close_all)
        subscriber = (
            RedisSubscriber(settings.redis_url, hub, channel=channel, desk=desk_signals)
            if settings.redis_url
            else None
        )
        if subscriber is not None:
            subscriber.start()
        database.commit_listeners.append(on_commit)
        database.change_listeners.append(on_change)
        reports = asyncio.create_task(
            presence.run(database, hub, process=process, seconds=settings.heartbeat_seconds)
        )
        # Every process checks for scheduled posts; the database has each published once.
        checks = (
            asyncio.create_task(
                scheduler.run(
                    database,
                    seconds=settings.scheduler_seconds,
                    audit_retention_days=settings.audit_retention_days,
                )
            )
            if settings.scheduler_seconds > 0
            else None
        )
        # Every process tries; a database lease lets one process or host at a time score.
        scoring = (
            asyncio.create_task(notes_runner.run(database, settings=settings))
            if settings.notes_interval_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if scoring is not None:  # a run under way finishes, and its events reach the hub
                scoring.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scoring
            if checks is not None:  # first: what a check under way publishes reaches the hub
                checks.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checks
            reports.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reports
            database.commit_listeners.remove(on_commit)
            database.change_listeners.remove(on_change)
            if subscriber is not None:
                await subscriber.stop()
            await hub.stop()
            if publisher is not None:
                publisher.close()
            if owns_database:  # a database handed in belongs to the caller (tests share one)
                database.dispose()

    app = Liveticker(
        title="Liveticker",
        version=__version__,
        description="Live blogs for newsrooms. Write calls need `Authorization: Bearer <token>`.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by web.api_docs from our own files, not FastAPI's CDN page
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings,
        database=database,
        templates=templates,
        hub=hub,
        desk_signals=desk_signals,
        write_limiter=RateLimiter(per_minute=settings.write_rate_per_minute),
        # Logins are tried per address; a tenth of the write rate still lets a desk sign in.
        login_limiter=RateLimiter(per_minute=max(settings.write_rate_per_minute // 10, 5)),
        account_login_limiter=RateLimiter(per_minute=max(settings.write_rate_per_minute // 10, 5)),
        media=media,
        themes=looks,
    )
    errors.install(app)
    app.include_router(api.router)
    app.include_router(api_notes.router)
    app.include_router(api_docs.router)
    app.include_router(open_data.router)
    app.include_router(pages.router)
    app.include_router(embed.router)  # before /static: it serves the loader, /static/embed.js
    app.include_router(pages_notes.router)
    app.include_router(themes.router)
    app.include_router(desk.router)
    app.include_router(desk_blogs.router)
    app.include_router(desk_live.router)
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    if media.served_here:
        app.mount(
            media.url.rstrip("/"), MediaFiles(directory=media.directory, check_dir=False), "media"
        )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={
            path: max(media.body_limit, settings.max_body_bytes)
            for path in (api.MEDIA_PATH, desk_blogs.UPLOAD_PATH)
        },
    )
    app.add_middleware(Compression)  # gzip for readers on slow networks; not for streams
    return app
