"""gzip on the way out (web/compression.py) and content-hashed assets (web/assets.py)."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.web import assets
from liveticker.web.compression import Compression, accepts_gzip, compressible
from tests.conftest import Account

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def storm(make_blog: Callable[..., Any], make_post: Callable[..., Any]) -> dict[str, Any]:
    make_blog("storm")
    return make_post("storm", "The river is rising. " * 30)


def vary(response: Any) -> set[str]:
    return {field.strip().lower() for field in response.headers.get("vary", "").split(",")}


def wire_length(response: Any) -> int:
    return int(response.headers["content-length"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("*;q=0, gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=nonsense", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(header: str, expected: bool) -> None:
    assert accepts_gzip(header.encode()) is expected


def test_text_types_are_compressible_and_streams_are_not() -> None:
    for media in (
        "text/html; charset=utf-8",
        "text/css",
        "text/javascript",
        "application/json",
        "application/problem+json",
        "application/atom+xml; charset=utf-8",
        "image/svg+xml",
    ):
        assert compressible(media.encode()), media
    for media in ("text/event-stream; charset=utf-8", "image/jpeg", "application/zip", ""):
        assert not compressible(media.encode()), media


def test_pages_are_gzipped_with_their_own_etag(client: TestClient, storm: dict[str, Any]) -> None:
    zipped = client.get("/blogs/storm", headers=GZIP)
    plain = client.get("/blogs/storm", headers=IDENTITY)
    assert zipped.status_code == plain.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.text == plain.text  # httpx has decoded it
    assert wire_length(zipped) < wire_length(plain) / 2
    assert "accept-encoding" in vary(zipped)
    assert "accept-encoding" in vary(plain)
    assert re.fullmatch(r'"[0-9a-f]+"', plain.headers["etag"])
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    # The other headers are the page's own.
    for name in ("cache-control", "content-type", "content-security-policy"):
        assert zipped.headers[name] == plain.headers[name], name


def test_each_representation_revalidates_with_its_own_etag(
    client: TestClient, storm: dict[str, Any]
) -> None:
    zipped_tag = client.get("/blogs/storm", headers=GZIP).headers["etag"]
    plain_tag = client.get("/blogs/storm", headers=IDENTITY).headers["etag"]
    for headers, sent, answered in (
        (GZIP, zipped_tag, zipped_tag),
        (GZIP, f"W/{zipped_tag}", zipped_tag),
        (GZIP, plain_tag, plain_tag),  # a cache that holds the plain body keeps it
        (GZIP, "*", zipped_tag),
        (IDENTITY, plain_tag, plain_tag),
    ):
        again = client.get("/blogs/storm", headers={**headers, "If-None-Match": sent})
        assert again.status_code == 304, (headers, sent)
        assert again.headers["etag"] == answered, (headers, sent)
        assert "content-encoding" not in again.headers
        assert again.content == b""
    # A gzip tag does not validate the plain body.
    mixed = client.get("/blogs/storm", headers={**IDENTITY, "If-None-Match": zipped_tag})
    assert mixed.status_code == 200
    assert "content-encoding" not in mixed.headers


def test_head_has_the_headers_of_get(client: TestClient, storm: dict[str, Any]) -> None:
    for path in ("/blogs/storm", "/blogs/storm/feed.atom", f"/blogs/storm/posts/{storm['id']}"):
        for headers in (GZIP, IDENTITY):
            got = client.get(path, headers=headers)
            head = client.head(path, headers=headers)
            assert head.status_code == got.status_code == 200
            assert head.content == b""
            assert dict(head.headers) == dict(got.headers), (path, headers)


def test_credentials_are_never_compressed(
    client: TestClient, storm: dict[str, Any], editor: Account
) -> None:
    for headers in (
        {**GZIP, **editor.headers},
        {**GZIP, "Cookie": "theme=dark; lt_session=anything"},
    ):
        for path in ("/blogs/storm", "/api/v1/blogs/storm/posts"):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert wire_length(response) > 500, path  # big enough to be compressed otherwise
            assert "content-encoding" not in response.headers, (path, headers)
            assert not response.headers.get("etag", "").endswith('-gzip"'), path
    # A copy kept from before signing in is still the same page: it revalidates as it was.
    zipped_tag = client.get("/blogs/storm", headers=GZIP).headers["etag"]
    cookie = {"Cookie": "lt_session=anything"}
    kept = client.get("/blogs/storm", headers={**GZIP, **cookie, "If-None-Match": zipped_tag})
    assert kept.status_code == 304
    assert kept.headers["etag"] == zipped_tag
    assert "accept-encoding" not in vary(kept)
    # The same API answer without credentials is gzipped: it is the credentials that count.
    anonymous = client.get("/api/v1/blogs/storm/posts", headers=GZIP)
    assert anonymous.headers["content-encoding"] == "gzip"
    assert anonymous.headers["content-type"].startswith("application/json")


def test_small_answers_are_left_alone(client: TestClient) -> None:
    status = client.get("/api/v1/status", headers=GZIP)
    assert status.status_code == 200
    assert wire_length(status) < 500
    assert "content-encoding" not in status.headers


def test_the_live_stream_is_not_compressed(client: TestClient, storm: dict[str, Any]) -> None:
    headers = {**GZIP, "Last-Event-ID": "0"}
    with client.stream("GET", "/blogs/storm/events", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers


def test_assets_have_hashed_names_cached_for_a_year(
    client: TestClient, storm: dict[str, Any]
) -> None:
    page = client.get("/blogs/storm").text
    hashed = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    names = ("liveticker.css", "liveticker.js")
    assert set(hashed) == {f"/static/{assets.MANIFEST.path(name)}" for name in names}
    for url in hashed:
        name = re.sub(r"\.[0-9a-f]{10}\.", ".", url.removeprefix("/static/"))
        source = assets.compact(name, (assets.STATIC / name).read_bytes())
        digest = re.search(r"\.([0-9a-f]{10})\.", url)
        assert digest is not None
        zipped = client.get(url, headers=GZIP)
        assert zipped.status_code == 200
        assert zipped.content == source
        assert zipped.headers["cache-control"] == IMMUTABLE
        assert zipped.headers["content-encoding"] == "gzip"
        assert wire_length(zipped) < len(source) / 2
        assert zipped.headers["etag"].endswith('-gzip"')
        again = client.get(url, headers={**GZIP, "If-None-Match": zipped.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["etag"] == zipped.headers["etag"]
        assert again.headers["cache-control"] == IMMUTABLE
        # A HEAD of a file has no body to measure: the same headers, less the length.
        head = client.head(url, headers=GZIP)
        assert head.status_code == 200
        expected = {k: v for k, v in zipped.headers.items() if k != "content-length"}
        assert dict(head.headers) == expected
        # The plain name still works, for minutes: what integrators paste must not break.
        plain = client.get(f"/static/{name}", headers=IDENTITY)
        assert plain.content == source
        assert plain.headers["cache-control"] == assets.SHORT_CACHE


def test_a_stale_hash_gets_the_current_file_briefly(client: TestClient) -> None:
    current = client.get("/static/liveticker.css", headers=IDENTITY)
    stale = client.get("/static/liveticker.0123456789.css", headers=IDENTITY)
    assert stale.status_code == 200
    assert stale.content == current.content
    assert stale.headers["cache-control"] == assets.SHORT_CACHE  # never a year of the wrong file
    assert client.get("/static/nothing.0123456789.css").status_code == 404


def test_a_changed_file_changes_its_url(tmp_path: Any) -> None:
    (tmp_path / "site.css").write_text("body{color:red}")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "map.svg").write_text("<svg/>")
    before = assets.Manifest(tmp_path)
    (tmp_path / "site.css").write_text("body{color:blue}")
    after = assets.Manifest(tmp_path)
    assert re.fullmatch(r"site\.[0-9a-f]{10}\.css", before.path("site.css"))
    assert before.path("site.css") != after.path("site.css")
    assert before.version != after.version
    assert before.path("demo/map.svg") == after.path("demo/map.svg")
    assert after.resolve(after.path("site.css")) == ("site.css", True)
    assert after.resolve(before.path("site.css")) == ("site.css", False)
    assert after.resolve("site.css") == ("site.css", False)
    with pytest.raises(LookupError):
        after.path("missing.css")


# -- the middleware alone, on hand-made ASGI apps ----------------------------------------------


def run(app: Any, *, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    asyncio.run(Compression(app)(scope, receive, send))
    return sent


def test_a_stream_without_length_passes_through_unbuffered() -> None:
    seen_before_second: list[int] = []
    sent: list[dict[str, Any]] = []

    async def stream(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"data: one\n\n" * 100, "more_body": True}
        )
        seen_before_second.append(len(sent))
        await send({"type": "http.response.body", "body": b"data: two\n\n", "more_body": False})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"accept-encoding", b"gzip")],
    }
    asyncio.run(Compression(stream)(scope, receive, send))
    assert seen_before_second == [2]  # the start and the first frame were already out
    assert sent[1]["body"] == b"data: one\n\n" * 100
    assert all(name != b"content-encoding" for name, _ in sent[0]["headers"])


def test_a_large_file_is_gzipped_piece_by_piece() -> None:
    pieces = [bytes(f"line {n}\n" * 2000, "ascii") for n in range(3)]

    async def file(scope: Any, receive: Any, send: Any) -> None:
        headers = [
            (b"content-type", b"text/javascript"),
            (b"content-length", str(sum(map(len, pieces))).encode()),
            (b"etag", b'"abc"'),
            (b"vary", b"Origin"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, piece in enumerate(pieces):
            more = index < len(pieces) - 1
            await send({"type": "http.response.body", "body": piece, "more_body": more})

    sent = run(file, headers=[(b"accept-encoding", b"gzip, br")])
    start = dict(sent[0]["headers"])
    assert start[b"content-encoding"] == b"gzip"
    assert start[b"etag"] == b'"abc-gzip"'
    assert start[b"vary"] == b"Origin, Accept-Encoding"
    assert b"content-length" not in start  # sent chunked: its length is known only at the end
    assert len(sent) == 1 + len(pieces)
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]
    body = b"".join(m["body"] for m in sent[1:])
    assert gzip.decompress(body) == b"".join(pieces)
    assert len(body) < sum(map(len, pieces)) / 10


def test_a_changed_asset_changes_the_pages_etags(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveticker.web import pages

    assert pages._asset_version() == pages.ASSET_VERSION
    (tmp_path / "liveticker.css").write_text("body{color:red}")
    monkeypatch.setattr(assets, "MANIFEST", assets.Manifest(tmp_path))
    before = pages._asset_version()
    (tmp_path / "liveticker.css").write_text("body{color:blue}")
    monkeypatch.setattr(assets, "MANIFEST", assets.Manifest(tmp_path))
    assert pages._asset_version() != before


def test_files_are_not_handed_to_the_server_by_path_when_gzip_may_follow() -> None:
    seen: list[set[str]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(set(scope.get("extensions", {})))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    extensions = {"http.response.pathsend": {}, "http.response.trailers": {}}
    for accept, expected in ((b"gzip", {"http.response.trailers"}), (b"identity", set(extensions))):
        scope = {"type": "http", "method": "GET", "path": "/", "extensions": extensions}
        scope["headers"] = [(b"accept-encoding", accept)]

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        asyncio.run(Compression(app)(scope, receive, send))
        assert seen.pop() == expected, accept


def test_scripts_and_stylesheets_are_served_compacted() -> None:
    source = (
        b"/* A header comment\n   over lines. */\n(() => {\n  // why this is so\n"
        b'  const url = "https://example.org"; // kept: after code\n\n'
        b"  /* one line */\n  run(url);\n})();\n"
    )
    assert assets.compact("x.js", source) == (
        b'(() => {\nconst url = "https://example.org"; // kept: after code\nrun(url);\n})();\n'
    )
    css = b"/* theme */\n:root{--a:#fff}\n  a{color:red}\n"
    assert assets.compact("x.css", css) == b":root{--a:#fff}\na{color:red}\n"
    assert assets.compact("x.svg", b"  <svg/>  ") == b"  <svg/>  "
    # What is served is what was compacted, and a fifth or more smaller for our script.
    served = assets.MANIFEST.compacted["liveticker.js"]
    original = (assets.STATIC / "liveticker.js").read_bytes()
    assert served == assets.compact("liveticker.js", original)
    assert len(served) < 0.85 * len(original)
