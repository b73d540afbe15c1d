"""Committed events between processes: Redis pub/sub when configured, else this process only.

Publishing never blocks or fails a write: when Redis is away the event is still in the
database log, and every process's hub fills the gap from there (on the next event, on its
periodic check, and as soon as its subscription is back). The desks' wake-up calls
(`live.desk`) travel on a second channel; one lost while Redis is away is made up by the
desk stream's own periodic check.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time

import redis
import redis.asyncio as aioredis

from liveticker.live.desk import DeskSignals
from liveticker.live.hub import Hub
from liveticker.live.wire import Message, decode_batch, encode_batch

log = logging.getLogger("liveticker.live")


def channel_name(database_url: str) -> str:
    """One channel per database: processes of one site share it, test runs don't."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return f"liveticker:{digest}:events"


def desk_channel_of(channel: str) -> str:
    return channel.removesuffix(":events") + ":desk"


RETRY_AFTER_FAILURE = 1.0  # seconds during which a failed Redis is not asked again


class RedisPublisher:
    """Publishes from the committing thread; a short timeout and a pause after failures."""

    def __init__(self, url: str, *, channel: str) -> None:
        self.channel = channel
        self.client = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
        )
        self._down_until = 0.0

    def publish(self, messages: list[Message]) -> None:
        self._send(self.channel, encode_batch(messages))

    def publish_desk(self, payload: bytes) -> None:
        self._send(desk_channel_of(self.channel), payload)

    def _send(self, channel: str, payload: bytes | str) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            self.client.publish(channel, payload)
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE
            log.warning("redis publish failed (%s); other processes catch up from the log", exc)

    def close(self) -> None:
        self.client.close()


class RedisSubscriber:
    """Feeds every event published by any process into this process's hub, and every
    desk wake-up call into its desk signals."""

    def __init__(
        self, url: str, hub: Hub, *, channel: str, desk: DeskSignals | None = None
    ) -> None:
        self.url = url
        self.channel = channel
        self.hub = hub
        self.desk = desk
        desk_channel = desk_channel_of(channel)
        self._desk_channels = (desk_channel, desk_channel.encode())
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.1
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if self.desk is not None:
                        await pubsub.subscribe(self._desk_channels[0])
                    self.connected.set()
                    delay = 0.1
                    # Anything published while we were away is in the log: catch up now.
                    await self.hub.sync()
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        if self.desk is not None and item.get("channel") in self._desk_channels:
                            self.desk.receive(item["data"])
                        else:
                            self._deliver(item["data"])
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                if self.connected.is_set():
                    log.warning("redis subscription lost (%s); retrying", exc)
                self.connected.clear()
            finally:
                await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _deliver(self, raw: bytes | str) -> None:
        try:
            messages = decode_batch(raw)
        except ValueError:
            log.warning("ignored a malformed message on %s", self.channel)
            return
        self.hub.receive(messages)
