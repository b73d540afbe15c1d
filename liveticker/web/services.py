"""What one app holds for its lifetime, as one typed object: settings, the database, the
templates, the live hub with its fragment renderers, the desks' wake-up calls, the rate
limiters, the media library and the site's looks.

`create_app` builds it; routes reach it through the `AppServices` dependency (web.deps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from liveticker.domain.media import Library
from liveticker.domain.ratelimit import RateLimiter
from liveticker.live.desk import DeskSignals
from liveticker.live.hub import Hub
from liveticker.settings import Settings
from liveticker.storage.database import Database

if TYPE_CHECKING:  # web.themes serves its CSS through these services
    from liveticker.web.themes import Themes


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    templates: Jinja2Templates
    hub: Hub
    desk_signals: DeskSignals  # wakes the desk streams of a blog that changed
    write_limiter: RateLimiter  # per account
    login_limiter: RateLimiter  # sign-in attempts per address
    account_login_limiter: RateLimiter  # sign-in attempts per account, from any address
    media: Library  # where uploaded images go, and their limits
    themes: Themes  # the site's looks (LIVETICKER_THEMES_FILE and the built-in ones)


def services_of(connection: HTTPConnection) -> Services:
    """The services of the app serving this request."""
    services: Services = connection.app.state.services
    return services
