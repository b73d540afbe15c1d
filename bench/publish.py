"""Write-path benchmark: an editor's publish, edit and delete, as the API round trip.

Each write commits its change and its event (and empties the entity's earlier events)
before it answers, so this is the fixed cost every live post pays before the fan-out.
The blog's log is filled first with a long history (posts edited many times), as after
a long day of coverage. The server runs from the code that `import liveticker` finds,
so a baseline checkout can be measured in the same session:

    .venv/bin/python bench/publish.py                          # this checkout
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/publish.py
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: `liveticker` may come from another checkout

import liveticker  # noqa: E402
from liveticker.domain import accounts, blogs, posts  # noqa: E402
from liveticker.domain.inputs import BlogCreate, PostCreate, PostUpdate  # noqa: E402
from liveticker.storage.database import Database  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str, *, history_posts: int, edits: int) -> str:
    """An editor with a token, and a live blog whose log holds a long history."""
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="editor", password="correct horse battery", role="editor"
        )
        token = accounts.create_token(session, user=user)
        actor = accounts.Actor.of(user)
        blog = blogs.create_blog(session, actor=actor, data=BlogCreate(slug="storm", title="Storm"))
        blogs.publish_blog(session, actor=actor, blog=blog)
        for n in range(history_posts):
            post = posts.create_post(
                session, actor=actor, blog=blog, data=PostCreate(body=f"History {n}.")
            )
            for k in range(edits):
                posts.update_post(
                    session, actor=actor, post=post, data=PostUpdate(body=f"History {n}, v{k}.")
                )
    database.dispose()
    return token


def timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 201), response.text
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--writes", type=int, default=200, help="posts, then as many edits")
    parser.add_argument("--history", type=int, default=300, help="posts in the prior history")
    parser.add_argument("--edits", type=int, default=5, help="edits of each history post")
    args = parser.parse_args()
    code = Path(liveticker.__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        token = prepare(url, history_posts=args.history, edits=args.edits)
        port = free_port()
        environment = {
            **os.environ,
            "LIVETICKER_DATABASE_URL": url,
            "LIVETICKER_WRITE_RATE_PER_MINUTE": "1000000",
            "LIVETICKER_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "liveticker", "serve", "--port", str(port)],
            env=environment,
            cwd=code,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
            ) as client:
                for _ in range(100):
                    try:
                        client.get("/api/v1/status")
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                created: list[int] = []
                publish: list[float] = []
                for n in range(args.writes):
                    started = time.perf_counter()
                    response = client.post("/api/v1/blogs/storm/posts", json={"body": f"P{n}"})
                    publish.append((time.perf_counter() - started) * 1000)
                    created.append(response.json()["id"])
                edit = [
                    timed(client, "PATCH", f"/api/v1/blogs/storm/posts/{pid}", json={"body": "E"})
                    for pid in created
                ]
                delete = [
                    timed(client, "DELETE", f"/api/v1/blogs/storm/posts/{pid}")
                    for pid in created[: args.writes // 4]
                ]
        finally:
            server.terminate()
            server.wait(10)
    events = args.history * (args.edits + 1)
    lines = [
        f"code: {code}",
        f"log before the run: {events:,} events ({args.history} posts, each edited {args.edits}x)",
    ]
    for name, values in (("publish", publish), ("edit", edit), ("delete", delete)):
        ordered = sorted(values)
        p90 = ordered[int(len(ordered) * 0.9) - 1]
        lines.append(
            f"{name}: n={len(values)} median {statistics.median(values):.2f} ms, p90 {p90:.2f} ms"
        )
    lines.append(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
