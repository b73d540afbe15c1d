"""Scheduled posts on real servers: published once at their time, by whichever worker.

Two worker processes check every half second, each on its own; the database has each post
published exactly once. A post that falls due while the server is down goes out after
the restart. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from liveticker.domain import accounts, blogs, posts
from liveticker.domain.inputs import PostCreate
from liveticker.storage.database import Database
from tests.conftest import throwaway_postgres
from tests.live.conftest import Server, Stream, free_port, open_stream, redis_url, spawn_server

CHECK_SECONDS = "0.5"
# Due time → published: a check (0.5 s), then a reader on the other worker gets the event
# at once over Redis, or from the log within the hub's 2 s sync without it.
LATENESS = timedelta(seconds=4)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/schedule.db"
    else:
        with throwaway_postgres("liveticker_schedule") as url:
            yield url


def _env() -> dict[str, str]:
    env = {"LIVETICKER_SCHEDULER_SECONDS": CHECK_SECONDS}
    redis = redis_url()
    if redis is not None:
        env["LIVETICKER_REDIS_URL"] = redis
    return env


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _streams_on_both_workers(server: Server) -> list[Stream]:
    start = server.version()
    streams: list[Stream] = []
    for _ in range(60):
        streams.append(open_stream(server, after=start))
        if len({s.response_headers["x-liveticker-worker"] for s in streams}) == 2:
            return streams
    for stream in streams:
        stream.close()
    raise AssertionError("the connections did not reach both workers")


def _history(server: Server, post_id: int) -> list[dict[str, Any]]:
    response = server.call("GET", f"/api/v1/blogs/{server.slug}/posts/{post_id}/revisions")
    assert response.status_code == 200, response.text
    return list(response.json())


def _log_lines(server: Server, post_id: int) -> list[str]:
    assert server.log is not None
    marker = f"scheduled post {post_id} of blog"
    return [line for line in server.log.read_text().splitlines() if marker in line]


def test_each_post_is_published_once_at_its_time(
    live_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server(workers=2, url=live_url, env=_env())
    streams = _streams_on_both_workers(server)
    try:
        base = datetime.now(UTC) + timedelta(seconds=4)  # room for four API calls under load
        # Two posts share a time, so both workers' checks find them due together.
        times = [base, base, base + timedelta(seconds=0.7), base + timedelta(seconds=1.4)]
        scheduled = {}
        for n, at in enumerate(times):
            post = server.post(f"Scheduled update {n}.", publish_at=_iso(at))
            assert post["status"] == "scheduled"
            scheduled[post["id"]] = at
        assert all(stream.events == [] for stream in streams)  # nothing shows before its time

        for stream in streams:
            stream.wait_for(lambda s: len(s.events) >= len(times), timeout=15)
        time.sleep(1.5)  # a duplicate would arrive by now
        for stream in streams:
            assert stream.error is None
            ids = stream.ids
            assert len(ids) == len(set(ids)) == len(times), stream.events
            assert ids == list(range(ids[0], ids[0] + len(ids)))
            assert [kind for _, kind, _ in stream.events] == ["post"] * len(times)
            assert sorted(data["id"] for _, _, data in stream.events) == sorted(scheduled)

        for post_id, at in scheduled.items():
            post = server.call("GET", f"/api/v1/blogs/{server.slug}/posts/{post_id}").json()
            assert post["status"] == "published"
            published_at = datetime.fromisoformat(post["published_at"])
            assert at <= published_at <= at + LATENESS, (post_id, at, published_at)
            actions = [revision["action"] for revision in _history(server, post_id)]
            assert actions == ["created", "published"]
            assert len(_log_lines(server, post_id)) == 1  # one worker published it
    finally:
        for stream in streams:
            stream.close()


def _restart(server: Server, url: str, tmp_path: Path) -> Server:
    """The same database, a new server process (the old one is stopped)."""
    port = free_port()
    log = tmp_path / "restarted.log"
    with log.open("wb") as output:
        process = spawn_server(url, port, workers=2, env=_env(), output=output)
    again = Server(base=f"http://127.0.0.1:{port}", process=process, token=server.token, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(again.base + "/api/v1/status", timeout=1).status_code == 200:
                return again
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    again.stop()
    raise AssertionError(f"server did not start: {log.read_text()}")


def test_a_post_due_while_the_server_was_down_goes_out_after_the_restart(
    live_url: str, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(workers=2, url=live_url, env=_env())
    version = server.version()
    assert server.stop() == 0

    # Scheduled with the server down, due a moment later. In-process, not through the
    # command line: a busy machine can take longer to start the command than the moment
    # lasts (scheduling from the command line is tested in tests/test_cli.py).
    database = Database(live_url)
    try:
        with database.transaction() as session:
            actor = accounts.Actor.of(accounts.get_user(session, "editor"))
            blog = blogs.get_blog(session, slug=server.slug, actor=actor)
            at = datetime.now(UTC) + timedelta(seconds=1)
            made = posts.create_post(
                session,
                actor=actor,
                blog=blog,
                data=PostCreate.model_validate(
                    {"body": "Written before the restart.", "publish_at": _iso(at)}
                ),
            )
            assert made.status == "scheduled"
            post_id = made.id
    finally:
        database.dispose()
    while datetime.now(UTC) < at + timedelta(seconds=1):
        time.sleep(0.1)  # due now, and no server is running

    starting = datetime.now(UTC)
    again = _restart(server, live_url, tmp_path)
    started = datetime.now(UTC)
    stream = open_stream(again, after=version)
    try:
        stream.wait_for(lambda s: len(s.events) >= 1, timeout=10)
        time.sleep(1.5)
        assert [(kind, data["id"]) for _, kind, data in stream.events] == [("post", post_id)]
        assert stream.ids == [version + 1]
        post = again.call("GET", f"/api/v1/blogs/{again.slug}/posts/{post_id}").json()
        assert post["status"] == "published"
        published_at = datetime.fromisoformat(post["published_at"])
        assert starting <= published_at <= started + LATENESS
        assert [r["action"] for r in _history(again, post_id)] == ["created", "published"]
        assert len(_log_lines(again, post_id)) == 1
    finally:
        stream.close()
        again.stop()
