"""Docs that cannot drift: generated references are current and every API route is listed."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute

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
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            for method in route.methods - {"HEAD"}:
                assert (method, route.path) in documented, (
                    f"{method} {route.path} is not in docs/api.md"
                )
