"""A real server for browser tests: uvicorn in a thread, on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.web.app import create_app

ADMIN_PASSWORD = "chief's long password"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class LiveServer:
    url: str
    editor_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.editor_token}"}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """uvicorn serving `app` in a thread on a free port of 127.0.0.1; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        hub = app.state.services.hub
        if hub.loop is not None:  # end open streams, as the stop signal does in production
            hub.loop.call_soon_threadsafe(hub.close_all)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("live") / "liveticker.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="desk", password="correct horse battery", role="editor"
        )
        token = accounts.create_token(session, user=user)
        accounts.create_user(session, username="chief", password=ADMIN_PASSWORD, role="admin")
    settings = Settings(database_url=database.url, write_rate_per_minute=100_000)
    try:
        with serving(create_app(settings, database=database)) as url:
            yield LiveServer(url=url, editor_token=token)
    finally:
        database.dispose()


@dataclass(frozen=True)
class Site:
    """A live server whose database the test reaches too (the notes tests record and score
    in it), with the editor's and the admin's API headers."""

    url: str
    database: Database
    editor: dict[str, str]
    admin: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("notes-live") / "liveticker.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        editor = accounts.create_user(session, username="desk", password=PASSWORD, role="editor")
        admin = accounts.create_user(session, username="chief", password=PASSWORD, role="admin")
        tokens = [accounts.create_token(session, user=user) for user in (editor, admin)]
    # No scoring loop of its own: the tests run the scorer themselves, at chosen times.
    settings = Settings(
        database_url=database.url,
        write_rate_per_minute=100_000,
        signup_rate_per_hour=100,
        notes_interval_seconds=0,
    )
    try:
        with serving(create_app(settings, database=database)) as url:
            yield Site(
                url=url,
                database=database,
                editor={"Authorization": f"Bearer {tokens[0]}"},
                admin={"Authorization": f"Bearer {tokens[1]}"},
            )
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
