"""Wire formats: an event becomes one SSE frame, encoded once for all of its readers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from liveticker.storage.models import Event

# An event kind's HTML fragment, rendered once per event for all of its readers, which
# insert it as it is: a post's <article> today; notes and key points plug in the same way.
FragmentRenderer = Callable[[dict[str, Any]], str]
Fragments = Mapping[str, FragmentRenderer]  # by event kind; kinds without one send data only

RETRY_MILLISECONDS = 2000
OPENING = f"retry: {RETRY_MILLISECONDS}\n:ok\n\n".encode()
HEARTBEAT = b":\n\n"
RELOAD = b"event: reload\ndata: {}\n\n"
# The empty chunk that ends a chunked HTTP/1.1 body: a clean end of the stream.
LAST_CHUNK = b"0\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Message:
    """A committed event as it travels between processes: plain data, no ORM state."""

    blog_id: int
    seq: int
    kind: str
    data: dict[str, Any]
    entity: str = ""  # what it shows (see domain.events.supersedes)

    @classmethod
    def of(cls, event: Event) -> Message:
        return cls(
            blog_id=event.blog_id,
            seq=event.seq,
            kind=event.kind,
            data=event.data,
            entity=event.entity,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"b": self.blog_id, "s": self.seq, "k": self.kind, "d": self.data, "e": self.entity}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Message:
        return cls(
            blog_id=int(value["b"]),
            seq=int(value["s"]),
            kind=str(value["k"]),
            data=value["d"],
            entity=str(value.get("e", "")),
        )


def encode_batch(messages: list[Message]) -> str:
    return json.dumps([message.to_dict() for message in messages], separators=(",", ":"))


def decode_batch(raw: str | bytes) -> list[Message]:
    """Messages from the bus; ValueError for anything that isn't a list of them."""
    try:
        items = json.loads(raw)
        return [Message.from_dict(item) for item in items]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed event batch: {exc}") from None


def client_payload(message: Message, fragments: Fragments) -> dict[str, Any]:
    """What the page receives: the snapshot, plus the kind's HTML fragment if it has one."""
    data = dict(message.data)
    render = fragments.get(message.kind)
    if render is not None:
        data["html"] = render(message.data)
    return data


def sse_frame(message: Message, fragments: Fragments) -> bytes:
    """The event as one SSE frame: its id, its kind as the event name, its payload."""
    payload = json.dumps(client_payload(message, fragments), separators=(",", ":"))
    # json.dumps never emits a raw newline, so the data fits one `data:` line.
    return f"id: {message.seq}\nevent: {message.kind}\ndata: {payload}\n\n".encode()


def chunk(frame: bytes) -> bytes:
    """Frame bytes wrapped as one HTTP/1.1 chunk, for writing straight to a transport."""
    return b"%x\r\n%b\r\n" % (len(frame), frame)
