"""The stream on servers that expose no transport: a bounded queue per reader instead."""

from __future__ import annotations

import asyncio
from typing import Any

from liveticker.live.hub import Hub
from liveticker.live.stream import QUEUE_FRAMES, serve_events
from liveticker.live.wire import Message
from liveticker.storage.database import Database
from tests.live.conftest import prepare_database


def _render(snapshot: dict[str, Any]) -> str:
    return f"<article>{snapshot['id']}</article>"


def _hub(tmp_path: Any) -> Hub:
    url = f"sqlite:///{tmp_path}/fallback.db"
    prepare_database(url)
    return Hub(database=Database(url), fragments={"post": _render}, heartbeat_seconds=60)


def _scope(after: int) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/blogs/storm/events",
        "query_string": f"after={after}".encode(),
        "headers": [],
    }


def test_queue_reader_delivers_in_order_and_ends_on_disconnect(tmp_path: Any) -> None:
    async def scenario() -> list[dict[str, Any]]:
        hub = _hub(tmp_path)
        await hub.start()
        sent: list[dict[str, Any]] = []
        disconnect = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:  # a plain function: no transport
            sent.append(message)

        info = await hub.lookup("storm")
        assert info is not None
        task = asyncio.create_task(serve_events(hub, "storm", _scope(info.version), receive, send))
        while hub.figures().readers == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        head = info.version
        hub.receive([Message(info.id, head + 2, "remove", {"id": 7})])  # out of order…
        hub.receive([Message(info.id, head + 1, "post", {"id": 7})])  # …put right
        await asyncio.sleep(0.05)
        disconnect.set()
        await asyncio.wait_for(task, 5)
        assert hub.figures().readers == 0
        await hub.stop()
        hub.database.dispose()
        return sent

    sent = asyncio.run(scenario())
    assert sent[0]["status"] == 200
    bodies = b"".join(m.get("body", b"") for m in sent[1:])
    assert bodies.index(b"id: ") < bodies.index(b"event: post")
    assert bodies.index(b"event: post") < bodies.index(b"event: remove")


def test_queue_reader_is_dropped_when_it_falls_behind(tmp_path: Any) -> None:
    async def scenario() -> tuple[int, bool]:
        hub = _hub(tmp_path)
        await hub.start()
        release = asyncio.Event()
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # the client never leaves on its own
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if len(messages) > 2:
                await release.wait()  # a stalled client: sends block

        info = await hub.lookup("storm")
        assert info is not None
        task = asyncio.create_task(serve_events(hub, "storm", _scope(info.version), receive, send))
        while hub.figures().readers == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        for n in range(QUEUE_FRAMES + 10):
            hub.receive([Message(info.id, info.version + 1 + n, "post", {"id": n})])
        release.set()
        await asyncio.wait_for(task, 5)  # the overflowing reader's stream was ended
        ended = messages[-1].get("more_body") is False
        count = hub.figures().readers
        await hub.stop()
        hub.database.dispose()
        return count, ended

    count, ended = asyncio.run(scenario())
    assert count == 0
    assert ended


def test_garbage_position_means_reload(tmp_path: Any) -> None:
    async def scenario() -> bytes:
        hub = _hub(tmp_path)
        await hub.start()
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = _scope(0) | {"headers": [(b"last-event-id", b"not-a-number")]}
        await serve_events(hub, "storm", scope, receive, send)
        await hub.stop()
        hub.database.dispose()
        return b"".join(m.get("body", b"") for m in sent[1:])

    assert b"event: reload" in asyncio.run(scenario())
