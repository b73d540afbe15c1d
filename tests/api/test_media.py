"""Image uploads through the API: POST /api/v1/media, the stored files, and who may upload."""

from __future__ import annotations

import os
import re
import resource
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from liveticker.domain import accounts, media
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Media, User
from liveticker.web.app import create_app
from tests.conftest import Account
from tests.images import (
    assert_no_metadata,
    camera_jpeg,
    encode,
    png_header_only,
    reopen,
    tagged_png,
    two_colours,
)

UPLOAD = "/api/v1/media"
NAME = re.compile(r"^/media/([0-9a-f]{2})/(\1[0-9a-f]{30})-(\d+)\.(jpg|png|webp)$")


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def settings(database: Database, media_dir: Path) -> Settings:
    return Settings(
        database_url=database.url, write_rate_per_minute=10_000, media_dir=str(media_dir)
    )


def upload(
    client: TestClient, account: Account | None, data: bytes, name: str = "photo.jpg"
) -> Any:
    headers = account.headers if account else {}
    return client.post(UPLOAD, files={"file": (name, data, "image/jpeg")}, headers=headers)


def stored_files(media_dir: Path) -> list[Path]:
    return sorted(path for path in media_dir.rglob("*") if path.is_file())


def test_a_photo_is_stored_without_its_metadata(
    client: TestClient, editor: Account, media_dir: Path, database: Database
) -> None:
    data = camera_jpeg((2400, 1200))
    response = upload(client, editor, data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"url", "width", "height", "srcset"}
    assert (body["width"], body["height"]) == (1600, 800)
    assert [source["width"] for source in body["srcset"]] == [480, 960, 1600]
    assert body["url"] == body["srcset"][-1]["url"]
    keys = set()
    for source in body["srcset"]:
        match = NAME.match(source["url"])
        assert match is not None, source["url"]
        keys.add(match.group(2))
        assert (match.group(3), match.group(4)) == (str(source["width"]), "jpg")
    assert len(keys) == 1  # one upload, one random name
    files = stored_files(media_dir)
    assert len(files) == 3  # the three widths, and nothing of the upload as it was sent
    for path in files:
        stored = path.read_bytes()
        assert_no_metadata(stored)
        assert reopen(stored).width in (480, 960, 1600)
    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert_no_metadata(served.content)
    assert reopen(served.content).size == (1600, 800)
    with database.transaction(write=False) as session:
        row = session.scalars(select(Media)).one()
        uploader = session.get(User, row.uploaded_by)
        assert uploader is not None
        assert uploader.username == "editor"
        assert (row.format, row.source_format, row.width, row.height) == ("jpeg", "jpeg", 1600, 800)
        assert row.size_bytes == len(data)
        assert row.key in keys
        assert [r["width"] for r in row.renditions] == [480, 960, 1600]
        assert all((media_dir / r["file"]).stat().st_size == r["bytes"] for r in row.renditions)


def test_orientation_is_applied(client: TestClient, editor: Account) -> None:
    response = upload(client, editor, camera_jpeg((1200, 600), orientation=6))
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (600, 1200)
    assert reopen(client.get(response.json()["url"]).content).size == (600, 1200)


@pytest.mark.parametrize(
    ("data", "extension"),
    [
        (tagged_png(), "png"),
        (encode(two_colours((700, 350)), "WEBP"), "webp"),
        (encode(two_colours((700, 350)).convert("P"), "GIF"), "png"),
    ],
    ids=["png", "webp", "gif"],
)
def test_png_webp_and_gif_are_accepted(
    client: TestClient, editor: Account, media_dir: Path, data: bytes, extension: str
) -> None:
    response = upload(client, editor, data, name="whatever.jpg")  # the name is not the format
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"].endswith(f".{extension}")
    assert body["srcset"][0]["width"] == 480
    for path in stored_files(media_dir):
        assert_no_metadata(path.read_bytes())


def test_an_upload_larger_than_the_general_body_limit(
    client: TestClient, editor: Account, settings: Settings
) -> None:
    noise = Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3))
    data = encode(noise, "PNG")  # noise does not compress: ~2.4 MB
    assert len(data) > settings.max_body_bytes
    response = upload(client, editor, data)
    assert response.status_code == 201, response.text
    # Other routes keep their own limit.
    too_big = client.post(
        "/api/v1/blogs",
        json={"slug": "big", "title": "x" * (settings.max_body_bytes + 1)},
        headers=editor.headers,
    )
    assert too_big.status_code == 413


@pytest.mark.parametrize(
    "data",
    [b"Dear editor, the figures are attached.\n" * 50, b"\xff\xd8\xff" + b"\0" * 500],
    ids=["text", "jpeg-start-then-nothing"],
)
def test_what_is_not_an_image_is_refused(
    client: TestClient, editor: Account, media_dir: Path, database: Database, data: bytes
) -> None:
    response = upload(client, editor, data, name="photo.jpg")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "file"
    assert "JPEG" in error["message"]
    assert stored_files(media_dir) == []
    with database.transaction(write=False) as session:
        assert session.scalars(select(Media)).all() == []


def test_a_truncated_jpeg_is_refused(client: TestClient, editor: Account, media_dir: Path) -> None:
    whole = encode(Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3)), "JPEG")
    response = upload(client, editor, whole[: len(whole) * 2 // 3])
    assert response.status_code == 422
    assert "cannot be read" in response.json()["error"]["message"]
    assert stored_files(media_dir) == []


def test_too_many_pixels_are_refused(client: TestClient, editor: Account) -> None:
    response = upload(client, editor, encode(Image.new("1", (8000, 8000)), "PNG"))
    assert response.status_code == 413
    message = response.json()["error"]["message"]
    assert "8000×8000 pixels (64 megapixels)" in message
    assert "40 megapixels" in message


def test_a_decompression_bomb_is_refused_without_decoding(
    client: TestClient, editor: Account, media_dir: Path
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for side in (10_000, 50_000, 65_535):  # 100 MP to 4.3 GP: up to 13 GB decoded as RGB
        response = upload(client, editor, png_header_only(side, side), name="bomb.png")
        assert response.status_code == 413, response.text
        assert "megapixels" in response.json()["error"]["message"]
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 50 * 1024, f"the process grew by {grown} KiB"
    assert stored_files(media_dir) == []


def test_too_many_bytes_are_refused(editor: Account, database: Database) -> None:
    data = camera_jpeg((1600, 800))
    small = Settings(database_url=database.url, max_body_bytes=1000, media_max_bytes=len(data) - 1)
    with TestClient(create_app(small, database=database), raise_server_exceptions=False) as limited:
        response = upload(limited, editor, data)  # within the body limit, over the file limit
        assert response.status_code == 413
        assert response.json()["error"]["field"] == "file"
        message = response.json()["error"]["message"]
        assert re.fullmatch(
            rf"the image is larger than \d+\.\d KB \({len(data) - 1} bytes\)", message
        )
        padded = data + b"\0" * media.UPLOAD_OVERHEAD  # over the upload route's body limit
        response = upload(limited, editor, padded)
        assert response.status_code == 413
        assert "request body is larger than" in response.json()["error"]["message"]


def test_who_may_upload(
    client: TestClient, accounts_by_role: dict[str, Account], database: Database
) -> None:
    data = encode(two_colours((300, 200)), "PNG")
    response = upload(client, None, data)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]
    bad = client.post(
        UPLOAD, files={"file": ("a.png", data)}, headers={"Authorization": "Bearer lt_nope"}
    )
    assert bad.status_code == 401
    for role in ("admin", "editor", "contributor"):
        assert upload(client, accounts_by_role[role], data).status_code == 201, role
    with database.transaction() as session:
        accounts.get_user(session, "other").is_active = False
    assert upload(client, accounts_by_role["other"], data).status_code == 401
    with database.transaction(write=False) as session:
        assert len(session.scalars(select(Media)).all()) == 3


def test_a_request_without_a_file(client: TestClient, editor: Account) -> None:
    response = client.post(UPLOAD, data={"other": "x"}, headers=editor.headers)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    response = client.post(UPLOAD, json={"file": "x"}, headers=editor.headers)
    assert response.status_code == 422


def test_decoding_holds_no_write_transaction(
    client: TestClient, editor: Account, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large image takes a while to decode; other editors' writes must not wait for it
    (on SQLite, a write transaction holds the database's one write lock)."""
    original = media.prepare
    wrote: list[str] = []

    def prepare_while_someone_writes(data: bytes, **limits: int) -> media.Prepared:
        with database.transaction() as session:  # would wait 10 s, then fail, if locked
            accounts.create_user(session, username="meanwhile", password="x" * 12, role="editor")
        wrote.append("meanwhile")
        return original(data, **limits)

    monkeypatch.setattr(media, "prepare", prepare_while_someone_writes)
    response = upload(client, editor, encode(two_colours((300, 200)), "PNG"))
    assert response.status_code == 201, response.text
    assert wrote == ["meanwhile"]


def test_a_cdn_prefix(editor: Account, database: Database, tmp_path: Path) -> None:
    cdn = Settings(
        database_url=database.url,
        media_dir=str(tmp_path / "cdn"),
        media_url="https://cdn.example.org/live/",
    )
    with TestClient(
        create_app(cdn, database=database), raise_server_exceptions=False
    ) as behind_a_cdn:
        response = upload(behind_a_cdn, editor, camera_jpeg((1000, 500)))
        assert response.status_code == 201
        url = response.json()["url"]
        assert re.match(r"^https://cdn\.example\.org/live/[0-9a-f]{2}/[0-9a-f]{32}-1000\.jpg$", url)
        local = "/media/" + url.removeprefix("https://cdn.example.org/live/")
        assert behind_a_cdn.get(local).status_code == 404  # the CDN serves the folder
        assert (tmp_path / "cdn" / url.removeprefix("https://cdn.example.org/live/")).is_file()


def test_the_media_folder_may_not_exist_yet(client: TestClient, media_dir: Path) -> None:
    assert not media_dir.exists()
    assert client.get("/media/ab/" + "ab" * 16 + "-480.jpg").status_code == 404
    assert client.get("/media/../liveticker.db").status_code == 404
