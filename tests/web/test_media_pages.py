"""Uploaded images on the reader's page: their size reserved (no layout shift) and a srcset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.settings import Settings
from liveticker.storage.database import Database
from tests.conftest import Account
from tests.images import camera_jpeg
from tests.web.htmltree import Node
from tests.web.test_pages import assert_accessible_structure, get_page

SIZES = (
    "(min-width: 46rem) 44rem, (min-resolution: 2.5dppx) calc((100vw - 2rem) * 2 / 3), "
    "calc(100vw - 2rem)"
)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url, write_rate_per_minute=10_000, media_dir=str(tmp_path / "media")
    )


def uploaded(client: TestClient, editor: Account, size: tuple[int, int]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/media",
        files={"file": ("photo.jpg", camera_jpeg(size), "image/jpeg")},
        headers=editor.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def image_in(node: Node, url: str) -> Node:
    found = [img for img in node.find_all("img") if img.get("src") == url]
    assert len(found) == 1, url
    return found[0]


def srcset_of(image: dict[str, Any]) -> str:
    return ", ".join(f"{source['url']} {source['width']}w" for source in image["srcset"])


def test_a_post_and_a_lead_image_from_uploads(
    client: TestClient, make_blog: Any, make_post: Any, editor: Account
) -> None:
    lead = uploaded(client, editor, (3000, 2000))
    photo = uploaded(client, editor, (1200, 900))
    make_blog("storm", lead_image={**lead, "alt": "The harbour", "credit": "Staff"})
    post = make_post("storm", images=[{**photo, "alt": "The bridge", "caption": "At dawn"}])
    assert post["images"][0]["width"] == 1200
    assert post["images"][0]["srcset"] == photo["srcset"]
    _, tree = get_page(client, "/blogs/storm")
    assert_accessible_structure(tree)
    lead_img = image_in(tree, lead["url"])
    assert (lead_img.get("width"), lead_img.get("height")) == ("1600", "1067")
    assert lead_img.get("srcset") == srcset_of(lead)
    assert lead_img.get("sizes") == SIZES
    assert lead_img.get("alt") == "The harbour"
    img = image_in(tree, photo["url"])
    assert (img.get("width"), img.get("height")) == ("1200", "900")
    assert img.get("srcset").endswith("-1200.jpg 1200w")
    assert [part.split()[-1] for part in img.get("srcset").split(", ")] == [
        "480w",
        "960w",
        "1200w",
    ]
    assert img.get("sizes") == SIZES
    assert img.get("loading") == "lazy"
    # The post's own page and the live fragment use the same markup.
    _, single = get_page(client, f"/blogs/storm/posts/{post['id']}")
    assert image_in(single, photo["url"]).get("srcset") == srcset_of(photo)
    for source in photo["srcset"]:
        assert client.get(source["url"]).status_code == 200


def test_an_image_without_a_size_keeps_the_default_box(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("storm")
    post = make_post("storm", images=[{"url": "https://example.org/a.jpg", "alt": "A"}])
    assert post["images"][0] == {
        "url": "https://example.org/a.jpg",
        "alt": "A",
        "caption": "",
        "credit": "",
        "width": None,
        "height": None,
        "srcset": [],
    }
    _, tree = get_page(client, "/blogs/storm")
    img = image_in(tree, "https://example.org/a.jpg")
    assert (img.get("width"), img.get("height")) == ("1200", "675")
    assert "srcset" not in img.attrs
    assert "sizes" not in img.attrs


@pytest.mark.parametrize(
    ("image", "field"),
    [
        ({"width": 1200}, "images.0"),
        ({"width": 1200, "height": "900"}, "images.0.height"),
        ({"width": 0, "height": 900}, "images.0.width"),
        ({"srcset": [{"url": "/media/a,b.jpg", "width": 480}]}, "images.0.srcset.0.url"),
        ({"srcset": [{"url": "javascript:alert(1)", "width": 480}]}, "images.0.srcset.0.url"),
        (
            {"srcset": [{"url": "/a.jpg", "width": 480}, {"url": "/b.jpg", "width": 480}]},
            "images.0",
        ),
        ({"srcset": [{"url": "/a.jpg"}]}, "images.0.srcset.0.width"),
    ],
)
def test_image_sizes_are_checked(
    client: TestClient, make_blog: Any, editor: Account, image: dict[str, Any], field: str
) -> None:
    make_blog("storm")
    response = client.post(
        "/api/v1/blogs/storm/posts",
        json={"body": "x", "images": [{"url": "/media/a.jpg", "alt": "A", **image}]},
        headers=editor.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_alt_text_is_still_required(client: TestClient, make_blog: Any, editor: Account) -> None:
    make_blog("storm")
    photo = uploaded(client, editor, (800, 400))
    for image in (photo, {**photo, "alt": "  "}):
        response = client.post(
            "/api/v1/blogs/storm/posts",
            json={"body": "x", "images": [image]},
            headers=editor.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "images.0.alt"
