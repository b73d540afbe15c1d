"""Docs that cannot drift: generated references are current and every API route is listed."""

from __future__ import annotations

import re
from pathlib import Path

from liveticker.docs import ROOT, cli_reference, with_settings_table
from liveticker.settings import Settings
from liveticker.web.app import create_app


def test_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == cli_reference(), "run: .venv/bin/python -m liveticker.docs"


def test_readme_settings_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_settings_table(readme), "run: .venv/bin/python -m liveticker.docs"


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    documented = set(
        re.findall(
            r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)`",
            (ROOT / "docs" / "api.md").read_text(),
            re.M,
        )
    )
    # From the OpenAPI document: how routers nest in app.routes changes between FastAPI
    # releases (a walk of app.routes once found nothing and so checked nothing).
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]
    assert len(routes) >= 15
    for method, path in routes:
        assert (method, path) in documented, f"{method} {path} is not in docs/api.md"


def test_cache_lifetimes_in_the_docs_are_the_ones_served() -> None:
    """docs/api.md promises how long a deleted post can linger in caches."""
    from liveticker.web import api, pages

    documented = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for value in (pages.LIVE_CACHE, pages.CLOSED_CACHE, pages.SHORT_LINK_CACHE, api.CHANGES_CACHE):
        assert f"`{value}`" in documented, value


def _architecture_tree() -> set[str]:
    """The paths named in docs/architecture.md's tree, folders ending in "/"."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```text\nliveticker/\n", 1)[1].split("```", 1)[0]
    paths: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        parents = [*parents[: depth - 1], name]
        paths.add("".join(parents))
    return paths


def test_architecture_names_every_module() -> None:
    package = ROOT / "liveticker"
    modules = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and "versions" not in path.parts
    }
    folders = {
        str(path.relative_to(package)) + "/"
        for path in package.rglob("*")
        if path.is_dir() and any(path.glob("*.py")) and path.name != "__pycache__"
    }
    named = _architecture_tree()
    assert "domain/events.py" in named  # the tree was read
    assert sorted(modules - named) == [], "modules missing from docs/architecture.md"
    assert sorted(named - modules - folders) == [], "docs/architecture.md names no such module"
