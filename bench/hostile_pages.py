"""Page views of a blog whose posts are hostile Markdown, against a calm blog, uncached.

The outside probe's case: 17 posts of 20,000 "[" (the parser's slow case) on one blog,
random query strings so no cache helps, and four clients fetching that blog while a
fifth reads another page. Before the summaries were stored at write time, each view
re-parsed every body for its titles and JSON-LD (4–4.5 s a page). The server runs from
the code `import liveticker` finds, so a baseline checkout can be measured alike:

    .venv/bin/python bench/hostile_pages.py
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/hostile_pages.py
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: `liveticker` may come from another checkout

import liveticker  # noqa: E402
from liveticker.domain import accounts, blogs, posts  # noqa: E402
from liveticker.domain.inputs import BlogCreate, PostCreate  # noqa: E402
from liveticker.storage.database import Database  # noqa: E402

POSTS = 17
HOSTILE = "[" * 20_000
VIEWS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str) -> None:
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        user = accounts.create_user(
            session, username="editor", password="correct horse battery", role="editor"
        )
        actor = accounts.Actor.of(user)
        for slug, body in (("calm", "A calm update, a few words long."), ("hostile", HOSTILE)):
            blog = blogs.create_blog(session, actor=actor, data=BlogCreate(slug=slug, title=slug))
            blogs.publish_blog(session, actor=actor, blog=blog)
            for _ in range(POSTS):
                posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body=body))
    database.dispose()


def view(client: httpx.Client, slug: str) -> float:
    started = time.perf_counter()
    response = client.get(f"/blogs/{slug}", params={"r": secrets.token_hex(4)})
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        prepare(url)
        port = free_port()
        env = {**os.environ, "LIVETICKER_DATABASE_URL": url, "LIVETICKER_LOG_LEVEL": "warning"}
        server = subprocess.Popen(
            [sys.executable, "-m", "liveticker", "serve", "--port", str(port)],
            env=env,
            cwd=folder,  # `-m` puts the working folder first: it must not hold a checkout
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(100):
                    try:
                        client.get("/api/v1/status")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                view(client, "calm")
                view(client, "hostile")
                calm = [view(client, "calm") for _ in range(VIEWS)]
                hostile = [view(client, "hostile") for _ in range(VIEWS)]
                stop = threading.Event()

                def flood() -> None:
                    with httpx.Client(base_url=base, timeout=60) as own:
                        while not stop.is_set():
                            view(own, "hostile")

                flooders = [threading.Thread(target=flood) for _ in range(4)]
                for thread in flooders:
                    thread.start()
                time.sleep(0.5)
                try:
                    under_flood = [view(client, "calm") for _ in range(VIEWS)]
                finally:
                    stop.set()
                    for thread in flooders:
                        thread.join(60)
        finally:
            server.terminate()
            server.wait(10)
    print(f"liveticker from {Path(liveticker.__file__).parent}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"{POSTS} posts per blog, {VIEWS} uncached views each (median, ms)")
    print(f"  calm blog page:                     {statistics.median(calm):8.1f}")
    print(f"  hostile blog page (20,000 '[' each): {statistics.median(hostile):8.1f}")
    print(f"  calm page while 4 clients flood:    {statistics.median(under_flood):8.1f}")


if __name__ == "__main__":
    main()
