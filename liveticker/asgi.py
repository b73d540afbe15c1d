"""The smallest complete ASGI response, for code that answers below the framework."""

from __future__ import annotations

from starlette.types import Send


async def send_whole(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
