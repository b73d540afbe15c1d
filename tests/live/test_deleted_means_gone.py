"""Deleted means gone: no public endpoint serves what a reader cannot see on the page now.

Each scenario hides marker text ("SECRET-…") the way a newsroom does (delete, unpublish,
an edit, new key points, a new title, the draft period, a purge) on a blog of its own,
while readers follow the blog on both workers of a two-worker server joined by Redis.
Then every public endpoint is read: the polling answer and the SSE replay after every id
on each worker, the page and its older pages, single-post pages, short links (JSON-LD and
Open Graph are in the pages), the index and the public API. None may hold a marker, and
a replay from every earlier position must lead to exactly the page's present state.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import throwaway_postgres
from tests.live.conftest import Server, Stream, add_admin, open_stream, require_redis

State = dict[str, Any]


@dataclass
class Api:
    """The newsroom's side: an editor and an admin writing to one blog over HTTP."""

    server: Server
    admin_token: str
    slug: str
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by the test's own name

    def call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> Any:
        token = self.admin_token if admin else self.server.token
        response = httpx.request(
            method,
            self.server.base + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kwargs,
        )
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        return response.json()

    @property
    def blog_path(self) -> str:
        return f"/api/v1/blogs/{self.slug}"

    def create_blog(self, **fields: Any) -> None:
        body = {"slug": self.slug, "title": f"Live: {self.slug}", **fields}
        self.call("POST", "/api/v1/blogs", json=body)

    def publish(self) -> None:
        self.call("POST", f"{self.blog_path}/publish")

    def post(self, name: str, body: str, **fields: Any) -> None:
        self.posts[name] = self.call(
            "POST", f"{self.blog_path}/posts", json={"body": body, **fields}
        )

    def edit(self, name: str, **fields: Any) -> None:
        self.call("PATCH", f"{self.blog_path}/posts/{self.posts[name]['id']}", json=fields)

    def delete(self, name: str) -> None:
        self.call("DELETE", f"{self.blog_path}/posts/{self.posts[name]['id']}")

    def purge(self, name: str, reason: str) -> None:
        path = f"{self.blog_path}/posts/{self.posts[name]['id']}/purge"
        self.call("POST", path, admin=True, json={"reason": reason})

    def key_points(self, *items: str) -> None:
        self.call("PUT", f"{self.blog_path}/key-points", json={"items": list(items)})

    def retitle(self, **fields: Any) -> None:
        self.call("PATCH", self.blog_path, json=fields)

    def fillers(self) -> None:
        """Enough posts that the page has older pages (the server shows two a page)."""
        for n in range(3):
            self.post(f"filler {n}", f"Filler post {n}, PRESENT-FILLER.")


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[Api], None]  # creates and publishes the blog
    steps: list[Callable[[Api], None]]  # while readers follow (after some filler posts)
    secrets: list[str]  # must be absent everywhere afterwards
    present: list[str]  # must be on the pages afterwards: the absence checks read real ones


def _live(api: Api, **fields: Any) -> None:
    api.create_blog(**fields)
    api.publish()


def _draft_period(api: Api) -> None:
    api.create_blog(title="SECRET-DRAFT-TITLE", standfirst="SECRET-DRAFT-STANDFIRST")
    api.post("deleted", "SECRET-DRAFT-DELETED body", headline="SECRET-DRAFT-DELETED-H")
    api.delete("deleted")
    api.post("edited", "SECRET-DRAFT-EDIT body")
    api.edit("edited", body="PRESENT-DRAFT-EDIT body")
    api.post("unpublished", "SECRET-DRAFT-UNPUBLISHED body")
    api.edit("unpublished", status="draft")
    api.key_points("SECRET-DRAFT-KP")
    api.key_points("PRESENT-DRAFT-KP")
    api.retitle(title="PRESENT-DRAFT-TITLE", standfirst="PRESENT-DRAFT-STANDFIRST")
    api.publish()


SCENARIOS: dict[str, Scenario] = {
    "delete": Scenario(
        setup=_live,
        steps=[
            lambda api: api.post(
                "secret", "SECRET-DEL-B body", headline="SECRET-DEL-H", pinned=True
            ),
            lambda api: api.post("kept", "PRESENT-DEL body"),
            lambda api: api.delete("secret"),
        ],
        secrets=["SECRET-DEL-B", "SECRET-DEL-H"],
        present=["PRESENT-DEL"],
    ),
    "unpublish": Scenario(
        setup=_live,
        steps=[
            lambda api: api.post("secret", "SECRET-UNPUB-B body", headline="SECRET-UNPUB-H"),
            lambda api: api.post("kept", "PRESENT-UNPUB body"),
            lambda api: api.edit("secret", status="draft"),
        ],
        secrets=["SECRET-UNPUB-B", "SECRET-UNPUB-H"],
        present=["PRESENT-UNPUB"],
    ),
    "edit": Scenario(
        setup=_live,
        steps=[
            lambda api: api.post(
                "edited", "The gauge reads 4 m. SECRET-EDIT-B was named.", headline="SECRET-EDIT-H"
            ),
            lambda api: api.edit(
                "edited", body="The gauge reads 4 m. PRESENT-EDIT-B.", headline="PRESENT-EDIT-H"
            ),
            lambda api: api.post("later", "A later post."),
        ],
        secrets=["SECRET-EDIT-B", "SECRET-EDIT-H"],
        present=["PRESENT-EDIT-B", "PRESENT-EDIT-H"],
    ),
    "key-points": Scenario(
        setup=_live,
        steps=[
            lambda api: api.key_points("SECRET-KP-ONE was named", "Second point"),
            lambda api: api.post("between", "Between the key points."),
            lambda api: api.key_points("PRESENT-KP point"),
        ],
        secrets=["SECRET-KP-ONE"],
        present=["PRESENT-KP"],
    ),
    "title": Scenario(
        setup=_live,
        steps=[
            lambda api: api.retitle(title="SECRET-TITLE", standfirst="SECRET-STANDFIRST"),
            lambda api: api.post("between", "Between the titles."),
            lambda api: api.retitle(title="PRESENT-TITLE", standfirst="PRESENT-STANDFIRST"),
        ],
        secrets=["SECRET-TITLE", "SECRET-STANDFIRST"],
        present=["PRESENT-TITLE", "PRESENT-STANDFIRST"],
    ),
    "draft-period": Scenario(
        setup=_draft_period,
        steps=[
            lambda api: api.post("live one", "PRESENT-LIVE-ONE body"),
            lambda api: api.post("live two", "PRESENT-LIVE-TWO body"),
        ],
        secrets=[
            "SECRET-DRAFT-TITLE",
            "SECRET-DRAFT-STANDFIRST",
            "SECRET-DRAFT-DELETED",
            "SECRET-DRAFT-EDIT",
            "SECRET-DRAFT-UNPUBLISHED",
            "SECRET-DRAFT-KP",
        ],
        present=["PRESENT-DRAFT-TITLE", "PRESENT-DRAFT-EDIT", "PRESENT-DRAFT-KP"],
    ),
    "purge": Scenario(
        setup=_live,
        steps=[
            lambda api: api.post("secret", "SECRET-PURGE-B body", headline="SECRET-PURGE-H"),
            lambda api: api.edit("secret", body="SECRET-PURGE-EDITED body", pinned=True),
            lambda api: api.post("kept", "PRESENT-PURGE body"),
            lambda api: api.purge("secret", "Court order 17/2026"),
        ],
        secrets=["SECRET-PURGE-B", "SECRET-PURGE-H", "SECRET-PURGE-EDITED"],
        present=["PRESENT-PURGE"],
    ),
}


# -- the reader's side -----------------------------------------------------------------


def apply(state: State, kind: str, data: dict[str, Any]) -> None:
    """What the page's script does with an event, on a model of the page."""
    if kind == "post":
        state["posts"][data["id"]] = (data["headline"], data["body_html"], data["pinned"])
    elif kind == "remove":
        state["posts"].pop(data["id"], None)
    elif kind == "key-points":
        state["key_points"] = data["items"]
    elif kind == "blog":
        state["blog"] = (data["title"], data["standfirst"], data["status"])
    else:
        raise AssertionError(f"an event of kind {kind!r} reached a reader")


def present_state(server: Server, slug: str) -> State:
    """The page's state, read through the public API."""
    blog = httpx.get(f"{server.base}/api/v1/blogs/{slug}", timeout=10).json()
    listed = httpx.get(f"{server.base}/api/v1/blogs/{slug}/posts?limit=100", timeout=10).json()
    return {
        "posts": {p["id"]: (p["headline"], p["body_html"], p["pinned"]) for p in listed["posts"]},
        "key_points": blog["key_points_html"],
        "blog": (blog["title"], blog["standfirst"], blog["status"]),
    }


def stream_on(server: Server, worker: str, **position: int) -> Stream:
    """A stream served by the given worker process (connections land on either)."""
    for _ in range(60):
        stream = open_stream(server, **position)
        if stream.response_headers.get("x-liveticker-worker") == worker:
            return stream
        stream.close()
    raise AssertionError(f"no connection reached worker {worker}")


def workers_of(server: Server, slug: str) -> list[str]:
    seen: set[str] = set()
    for _ in range(60):
        stream = Stream(f"{server.base}/blogs/{slug}/events")
        seen.add(stream.response_headers["x-liveticker-worker"])
        stream.close()
        if len(seen) == 2:
            return sorted(seen)
    raise AssertionError(f"connections did not spread over two workers: {seen}")


def replay(server: Server, slug: str, worker: str, after: int, head: int) -> Stream:
    """A reader resuming at `after`: by `?after=` or, every other id, `Last-Event-ID`."""
    server.slug = slug
    position = {"last_event_id": after} if after % 2 else {"after": after}
    stream = stream_on(server, worker, **position)
    if after == head:
        time.sleep(0.1)  # nothing is due: give a wrong frame the chance to arrive
    else:
        stream.wait_for(lambda s: head in s.ids or any(k == "reload" for _, k, _ in s.events))
    stream.close()
    return stream


# -- everything public -----------------------------------------------------------------


def public_texts(server: Server, api: Api, head: int) -> dict[str, str]:
    """Every public answer about the blog, by a name that says where it came from."""
    base, slug = server.base, api.slug
    texts: dict[str, str] = {}

    def get(name: str, path: str) -> httpx.Response:
        response = httpx.get(base + path, timeout=10, follow_redirects=True)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        texts[name] = response.text
        return response

    get("index", "/")
    page = get("page", f"/blogs/{slug}")
    assert page.status_code == 200
    assert "application/ld+json" in page.text
    older = 0
    while (match := re.search(r'href="\?before=([^"]+)"', page.text)) and older < 20:
        older += 1
        page = get(f"older page {older}", f"/blogs/{slug}?before={match.group(1)}")
    assert older >= 1, "the scenario should have older pages"
    blog = httpx.get(f"{base}/api/v1/blogs/{slug}", timeout=10).json()
    get("blog short link", f"/p/{blog['short_code']}")
    get("api blog", f"/api/v1/blogs/{slug}")
    get("api posts", f"/api/v1/blogs/{slug}/posts?limit=100")
    for name, post in api.posts.items():
        get(f"post page {name}", f"/blogs/{slug}/posts/{post['id']}")
        get(f"post short link {name}", f"/p/{post['short_code']}")
        get(f"api post {name}", f"/api/v1/blogs/{slug}/posts/{post['id']}")
    for after in range(head + 1):
        get(f"changes after {after}", f"/api/v1/blogs/{slug}/changes?after={after}")
    return texts


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/gone.db"
    else:
        with throwaway_postgres("liveticker_live") as url:
            yield url


def test_deleted_means_gone(live_url: str, start_server: Callable[..., Server]) -> None:
    redis = require_redis()
    server = start_server(
        workers=2, url=live_url, env={"LIVETICKER_REDIS_URL": redis, "LIVETICKER_PAGE_SIZE": "2"}
    )
    admin_token = add_admin(live_url)
    for name, scenario in SCENARIOS.items():
        check_scenario(server, admin_token, name, scenario)


def check_scenario(server: Server, admin_token: str, name: str, scenario: Scenario) -> None:
    api = Api(server=server, admin_token=admin_token, slug=f"gone-{name}")
    scenario.setup(api)
    server.slug = api.slug
    first, second = workers_of(server, api.slug)
    start = server.version()
    at_start = present_state(server, api.slug)
    # A witness on one worker from the start; a reader on the other joins after the first
    # step, so that worker replays the early ids from the database, the later from memory.
    witness = stream_on(server, first, after=start)
    late: Stream | None = None
    try:
        api.fillers()
        for number, step in enumerate(scenario.steps):
            step(api)
            if number == 0:
                late = stream_on(server, second, after=server.version())
        head = server.version()
        witness.wait_for(lambda s: head in s.ids)
        assert late is not None
        late.wait_for(lambda s: head in s.ids)
        # Both readers stay connected while the replays are read: their channels keep
        # each worker's in-memory ring, which must have forgotten the past as well.
        check_replays(server, name, scenario, witness, (first, second), at_start, start, head)
    finally:
        witness.close()
        if late is not None:
            late.close()

    texts = public_texts(server, api, head)
    for where, text in texts.items():
        for secret in scenario.secrets:
            assert secret not in text, f"{name}: {where} serves {secret}"
    pages = "".join(text for where, text in texts.items() if "page" in where)
    for marker in scenario.present:
        assert marker in pages, f"{name}: {marker} is missing from the pages"
    if name == "purge":
        check_purged(server, api)


def check_replays(
    server: Server,
    name: str,
    scenario: Scenario,
    witness: Stream,
    workers: tuple[str, str],
    at_start: State,
    start: int,
    head: int,
) -> None:
    slug = server.slug
    # Connected readers got every change live, in order, as it happened.
    assert witness.ids == list(range(start + 1, head + 1)), name
    states = {start: at_start}
    state = copy.deepcopy(at_start)
    for seq, kind, data in witness.events:
        apply(state, kind, data)
        states[seq] = copy.deepcopy(state)
    final = present_state(server, slug)
    assert state == final, f"{name}: the live reader does not show the page's state"

    # Readers that resume from any position end with exactly the page's state.
    for after in range(head + 1):
        for worker in workers:
            stream = replay(server, slug, worker, after, head)
            where = f"{name}: replay after {after} on worker {worker}"
            for secret in scenario.secrets:
                assert secret not in stream.raw.decode(), f"{where} serves {secret}"
            if after < start:  # from before the blog went live, which no page ever showed
                assert [kind for _, kind, _ in stream.events] == ["reload"], where
                continue
            resumed = copy.deepcopy(states[after])
            for _, kind, data in stream.events:
                apply(resumed, kind, data)
            assert resumed == final, where
            assert stream.ids == sorted(set(stream.ids)), f"{where}: duplicates or disorder"


def check_purged(server: Server, api: Api) -> None:
    """The purged post answers 410 Gone; its history keeps who, when and why only."""
    post = api.posts["secret"]
    for path in (
        f"/blogs/{api.slug}/posts/{post['id']}",
        f"/p/{post['short_code']}",
        f"/api/v1/blogs/{api.slug}/posts/{post['id']}",
    ):
        assert httpx.get(server.base + path, timeout=10).status_code == 410, path
    history = api.call("GET", f"{api.blog_path}/posts/{post['id']}/revisions")
    assert [entry["action"] for entry in history] == ["created", "edited", "purged"]
    assert all(entry["user"] for entry in history)
    assert "SECRET" not in repr(history)
    assert history[-1]["changes"] == {"reason": "Court order 17/2026"}
    audit = api.call("GET", "/api/v1/audit", admin=True)
    assert "SECRET" not in repr(audit)  # no text of a post anywhere in the log
    purges = api.call("GET", "/api/v1/audit?action=post.purge", admin=True)
    assert [(e["action"], e["target"], e["user"]) for e in purges] == [
        ("post.purge", f"post:{post['id']}", "admin")
    ]


def test_purge_from_the_command_line_reaches_a_running_server(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A purge through the CLI, which no bus carries: the running server still stops
    serving the post at once, also to a reader who resumes from before it on a blog
    whose last reader had left (an idle channel must not keep old frames)."""
    server = start_server()
    url = f"sqlite:///{tmp_path}/live-0.db"
    add_admin(url)
    start = server.version()
    reader = open_stream(server, after=start)
    post = server.post("SECRET-CLI-PURGE body", headline="SECRET-CLI-PURGE-H")
    server.post("PRESENT-CLI body")
    reader.wait_ids(2)
    reader.close()  # the blog has no reader now
    environment = {**os.environ, "LIVETICKER_DATABASE_URL": url}
    command = [sys.executable, "-m", "liveticker", "post", "purge", "storm", str(post["id"])]
    done = subprocess.run(
        [*command, "--reason", "Court order 18/2026", "--as", "admin"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"purged post {post['id']} of storm"
    time.sleep(1.1)  # past the one second a slug lookup is shared between readers
    resumed = open_stream(server, after=start)
    try:
        head = server.version()
        resumed.wait_for(lambda s: head in s.ids)
        assert "SECRET-CLI-PURGE" not in resumed.raw.decode()
        assert [kind for _, kind, _ in resumed.events] == ["post", "remove"]
    finally:
        resumed.close()
    refused = subprocess.run(
        [*command, "--reason", "again", "--as", "editor"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error: only admins may do this"
