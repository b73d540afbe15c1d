"""Ids in page paths: a number no row can have is an ordinary 404 on every database.

On PostgreSQL ids are 32-bit; a larger number used to reach the query and fail it (500).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveticker.domain.inputs import MAX_ROW_ID
from liveticker.web.deps import _up_to
from tests.conftest import Account
from tests.web.test_desk_accounts import sign_in


@pytest.mark.parametrize("limit", [1, 9, 10, 99, 205, 1000, 4096, MAX_ROW_ID])
def test_the_id_pattern_matches_exactly_one_to_the_limit(limit: int) -> None:
    pattern = re.compile(_up_to(limit) + "$")
    samples = {*range(0, 2100), limit - 1, limit, limit + 1, limit * 10, 10 ** len(str(limit))}
    for number in samples:
        assert bool(pattern.match(str(number))) == (1 <= number <= limit), number
    assert not pattern.match("0" + str(limit)[-1:])  # no leading zeros


def test_page_routes_refuse_ids_no_row_can_have(
    client: TestClient,
    accounts_by_role: dict[str, Account],
    make_blog: Any,
    make_post: Any,
) -> None:
    make_blog("storm")
    make_post("storm")
    assert sign_in(client, "admin").status_code == 303
    from liveticker.web import desk, desk_blogs, desk_live, pages, pages_notes

    routes = [
        (method, route.path)
        for module in (desk, desk_blogs, desk_live, pages, pages_notes)
        for route in module.router.routes
        if ":row_id}" in getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", ()) or ())
        if method != "HEAD"
    ]
    assert len(routes) >= 10, routes
    for method, template in routes:
        for number, expected in (
            (MAX_ROW_ID, None),
            (MAX_ROW_ID + 1, 404),
            (10**30, 404),
        ):
            path = re.sub(r"\{(\w+):row_id\}", str(number), template)
            path = path.replace("{slug}", "storm").replace("{action}", "disable")
            response = client.request(method, path, follow_redirects=False)
            if expected is None:
                assert response.status_code < 500, (method, path, response.status_code)
            else:
                assert response.status_code == expected, (method, path, response.status_code)
