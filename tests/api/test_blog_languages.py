"""A blog's language, its sibling blogs in other languages and its look, through the JSON
API: stored as sent (the tag in its canonical case), shown, changed with a revision, an
audit entry and a new version, and refused with 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Revision
from liveticker.web.app import create_app
from tests.conftest import Account


def test_create_stores_language_translations_and_theme(client: TestClient, editor: Account) -> None:
    response = client.post(
        "/api/v1/blogs",
        json={
            "slug": "sturm",
            "title": "Sturm Idris",
            "language": "DE-at",
            "translations": ["storm", "burya"],
            "theme": "night-2",
        },
        headers=editor.headers,
    )
    assert response.status_code == 201, response.text
    blog = response.json()
    assert (blog["language"], blog["translations"], blog["theme"]) == (
        "de-AT",
        ["storm", "burya"],
        "night-2",
    )
    shown = client.get("/api/v1/blogs/sturm", headers=editor.headers).json()
    assert (shown["language"], shown["translations"], shown["theme"]) == (
        "de-AT",
        ["storm", "burya"],
        "night-2",
    )


def test_without_a_language_a_blog_speaks_the_sites_default(
    client: TestClient, editor: Account, settings: Settings, database: Database
) -> None:
    made = client.post(
        "/api/v1/blogs", json={"slug": "storm", "title": "Storm"}, headers=editor.headers
    ).json()
    assert (made["language"], made["translations"], made["theme"]) == ("en", [], "")

    ukrainian = Settings(
        database_url=settings.database_url, write_rate_per_minute=10_000, default_language="uk"
    )
    with TestClient(create_app(ukrainian, database=database)) as other:
        made = other.post(
            "/api/v1/blogs", json={"slug": "burya", "title": "Буря"}, headers=editor.headers
        ).json()
        assert made["language"] == "uk"
        chosen = other.post(
            "/api/v1/blogs",
            json={"slug": "sturm", "title": "Sturm", "language": "de"},
            headers=editor.headers,
        ).json()
        assert chosen["language"] == "de"


def test_a_change_is_a_new_version_with_its_revision_and_audit_entry(
    client: TestClient,
    make_blog: Any,
    editor: Account,
    accounts_by_role: dict[str, Account],
    database: Database,
) -> None:
    before = make_blog("storm")
    changed = client.patch(
        "/api/v1/blogs/storm",
        json={"language": "ar", "translations": ["storm-en", "sturm"], "theme": "desert"},
        headers=editor.headers,
    )
    assert changed.status_code == 200, changed.text
    blog = changed.json()
    assert (blog["language"], blog["translations"], blog["theme"]) == (
        "ar",
        ["storm-en", "sturm"],
        "desert",
    )
    assert blog["version"] > before["version"]

    # Readers following the blog get the blog's fields again, in its new language.
    events = client.get(f"/api/v1/blogs/storm/changes?after={before['version']}").json()
    assert [event["data"]["language"] for event in events["events"]] == ["ar"]

    for field, value in (("theme", ""), ("translations", [])):
        version = blog["version"]
        blog = client.patch(
            "/api/v1/blogs/storm", json={field: value}, headers=editor.headers
        ).json()
        assert blog[field] == value
        assert blog["version"] == version + 1
    # The same values again change nothing, and make no new version.
    same = client.patch("/api/v1/blogs/storm", json={"language": "ar"}, headers=editor.headers)
    assert same.json()["version"] == blog["version"]

    with database.transaction(write=False) as session:
        edits = session.scalars(
            select(Revision)
            .where(Revision.post_id.is_(None), Revision.action == "edited")
            .order_by(Revision.id)
        ).all()
        assert [edit.changes for edit in edits] == [
            {
                "language": ["en", "ar"],
                "translations": [[], ["storm-en", "sturm"]],
                "theme": ["", "desert"],
            },
            {"theme": ["desert", ""]},
            {"translations": [["storm-en", "sturm"], []]},
        ]
    admin = accounts_by_role["admin"].headers
    audit = client.get("/api/v1/audit?action=blog.update&blog=storm", headers=admin).json()
    assert [entry["reason"] for entry in audit] == [
        "translations",
        "theme",
        "language, theme, translations",
    ]


REFUSED: list[tuple[str, Any, str]] = [
    ("language", "xx-!!", "must be a language tag"),
    ("language", "klingon", "'klingon' is not a language we know"),
    ("language", "de-" + "a" * 40, "at most 35 characters"),
    ("language", "", "must be a language tag"),
    ("language", 49, "must be text"),
    ("translations", ["storm"], "'storm' is this blog itself"),
    ("translations", ["Sturm Idris"], "is not a blog's address"),
    ("translations", ["sturm", "sturm"], "each blog at most once"),
    ("translations", [f"blog-{i}" for i in range(21)], "at most 20 items"),
    ("translations", "sturm", "must be a list"),
    ("theme", "Dark", "must be a theme's name"),
    ("theme", "night mode", "must be a theme's name"),
    ("theme", "<script>", "must be a theme's name"),
    ("theme", "x" * 41, "at most 40 characters"),
]


@pytest.mark.parametrize(("field", "value", "problem"), REFUSED)
def test_bad_values_are_refused_naming_the_field(
    client: TestClient, make_blog: Any, editor: Account, field: str, value: Any, problem: str
) -> None:
    before = make_blog("storm")
    for method, url, body in (
        ("PATCH", "/api/v1/blogs/storm", {field: value}),
        ("POST", "/api/v1/blogs", {"slug": "storm", "title": "Again", field: value}),
    ):
        response = client.request(method, url, json=body, headers=editor.headers)
        assert response.status_code == 422, (method, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["field"].split(".")[0] == field
        assert problem in error["message"]
    after = client.get("/api/v1/blogs/storm", headers=editor.headers).json()
    assert after == before


@pytest.mark.parametrize("field", ["language", "translations", "theme"])
def test_null_is_refused_on_update(
    client: TestClient, make_blog: Any, editor: Account, field: str
) -> None:
    make_blog("storm")
    response = client.patch("/api/v1/blogs/storm", json={field: None}, headers=editor.headers)
    assert response.status_code == 422
    assert f"{field} cannot be null" in response.json()["error"]["message"]


def test_siblings_may_be_named_before_they_exist(
    client: TestClient, make_blog: Any, editor: Account
) -> None:
    """Two desks link each other in either order: a slug is not checked against the blogs."""
    make_blog("storm", translations=["sturm"])
    sturm = make_blog("sturm", language="de", translations=["storm"], live=False)
    assert sturm["translations"] == ["storm"]
    assert client.get("/api/v1/blogs/storm").json()["translations"] == ["sturm"]
