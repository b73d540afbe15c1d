"""The application factory: one FastAPI app per settings object (and per test database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import Scope

from liveticker import __version__
from liveticker.domain.ratelimit import RateLimiter
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.web import api, errors, pages
from liveticker.web.middleware import BodyLimit

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


class CachedStatic(StaticFiles):
    """Static files with a day of caching; pages link them with ?v=<version> to bust it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    owns_database = database is None
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:  # a database handed in belongs to the caller (tests share one)
            database.dispose()

    app = FastAPI(
        title="Liveticker",
        version=__version__,
        description="Live blogs for newsrooms. Write calls need `Authorization: Bearer <token>`.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.state.write_limiter = RateLimiter(per_minute=settings.write_rate_per_minute)
    # Logins are tried per address; a tenth of the write rate still lets a desk sign in.
    app.state.login_limiter = RateLimiter(per_minute=max(settings.write_rate_per_minute // 10, 5))
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
