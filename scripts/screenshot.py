"""Take docs/screenshot.png: the demo live blog in Debian's Chromium, 1280 px wide.

    .venv/bin/python scripts/screenshot.py [--width 1280] [--full-page] [--out docs/screenshot.png]
        [--notes]   # the first post with readers' context, at the top
        [--arabic]  # the demo's Arabic blog (right to left, the night-desk look)

Starts the app on a throw-away SQLite database with the demo content, on a free port of
127.0.0.1, and never downloads a browser.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from liveticker.domain.demo import create_demo
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument(
        "--notes", action="store_true", help="scroll to the first post with a notes box"
    )
    parser.add_argument("--arabic", action="store_true", help="the demo's Arabic blog")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/demo.db")
        database.upgrade()
        with database.transaction() as session:
            demo = create_demo(session)
            slug = demo.arabic_blog_slug if args.arabic else demo.blog_slug
        app = create_app(Settings(database_url=database.url), database=database)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/blogs/{slug}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(
                    viewport={"width": args.width, "height": args.height},
                    color_scheme="dark" if args.dark else "light",
                )
                page.goto(url)
                page.wait_for_load_state("networkidle")
                if args.notes:
                    box = page.locator("article:has(aside.notes)").first
                    box.evaluate("el => el.scrollIntoView({block: 'start', behavior: 'instant'})")
                    page.wait_for_timeout(300)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=args.full_page)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            database.dispose()
    print(f"saved {args.out} ({url})")


if __name__ == "__main__":
    main()
