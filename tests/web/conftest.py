"""A real server for browser tests: uvicorn in a thread, on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.web.app import create_app

ADMIN_PASSWORD = "chief's long password"


@dataclass(frozen=True)
class LiveServer:
    url: str
    editor_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.editor_token}"}


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
    app = create_app(settings, database=database)
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
        yield LiveServer(url=f"http://127.0.0.1:{port}", editor_token=token)
    finally:
        hub = app.state.services.hub
        if hub.loop is not None:  # end open streams, as the stop signal does in production
            hub.loop.call_soon_threadsafe(hub.close_all)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()
