"""Time to the first post on a slow connection: the demo blog in Chromium, cold cache, with
the network throttled through the DevTools protocol to 400 ms and 400 kbit/s each way.

Each run is a fresh browser context (an empty cache). The first post counts as visible
once it is in the document and the page has painted (the later of the two), from the
moment the browser sent the page's request. The baseline asks for `Accept-Encoding:
identity`: the same page without compression. The server runs from the code
`import liveticker` finds, so a baseline checkout can be measured alike:

    .venv/bin/python bench/slow_network.py [--runs 5]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/slow_network.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: `liveticker` may come from another checkout

import liveticker  # noqa: E402
from liveticker.domain import demo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LATENCY_MS = 400
BYTES_PER_SECOND = 400_000 // 8  # 400 kbit/s
FIRST_POST = "[role=feed] > article"
VIEWPORT = {"width": 390, "height": 844}  # a phone's

# Runs before the page's own code (Playwright's init scripts are not subject to its CSP):
# the moment the first post enters the document, on the page's own clock.
WATCH_FIRST_POST = (
    "new MutationObserver((_, observer) => {"
    f"  if (document.querySelector({json.dumps(FIRST_POST)})) {{"
    "    window.__firstPostInDocument = performance.now();"
    "    observer.disconnect();"
    "  }"
    "}).observe(document, {childList: true, subtree: true});"
)

MEASURE = """() => ({
  origin: performance.timeOrigin,
  inDocument: window.__firstPostInDocument,
  firstPaint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
})"""


@dataclass(frozen=True)
class Run:
    visible_ms: float  # the first post in the document and painted
    first_paint_ms: float
    html_bytes: int  # on the wire, headers included
    total_bytes: int  # everything the page had loaded when the first post showed
    encoding: str  # of the page itself


def first_post(browser: Any, url: str, *, compressed: bool = True) -> Run:
    """One cold load of `url` over 400 ms and 400 kbit/s each way; `compressed=False`
    asks for `Accept-Encoding: identity`. Times run from the moment the browser sent the
    page's request (a DevTools timestamp: the page's own clock starts a little later)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        sent: dict[str, float] = {}
        received: dict[str, int] = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda event: sent.setdefault(event["requestId"], event["wallTime"] * 1000),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda event: received.setdefault(event["requestId"], int(event["encodedDataLength"])),
        )
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LATENCY_MS,
                "downloadThroughput": BYTES_PER_SECOND,
                "uploadThroughput": BYTES_PER_SECOND,
            },
        )
        if not compressed:
            cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
        page.add_init_script(WATCH_FIRST_POST)
        response = page.goto(url, wait_until="commit", timeout=60_000)
        page.wait_for_selector(FIRST_POST, state="visible", timeout=60_000)
        page.wait_for_function(
            "() => performance.getEntriesByName('first-contentful-paint').length > 0",
            timeout=60_000,
        )
        times = page.evaluate(MEASURE)
        visible = times["origin"] + max(times["inDocument"], times["firstPaint"])
        document = next(iter(sent))  # the first request is the page's
        return Run(
            visible_ms=visible - sent[document],
            first_paint_ms=times["origin"] + times["firstPaint"] - sent[document],
            html_bytes=received.get(document, 0),
            total_bytes=sum(received.values()),
            encoding=(response.header_value("content-encoding") if response else None)
            or "identity",
        )
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per case (median)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **os.environ,
            "LIVETICKER_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "LIVETICKER_LOG_LEVEL": "warning",
            "LIVETICKER_MEDIA_DIR": f"{folder}/media",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "liveticker", "serve", "--port", str(port), "--demo"],
            env=env,
            cwd=folder,  # `-m` puts the working folder first: it must not hold a checkout
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120  # a loaded machine imports slowly
            while True:
                try:
                    httpx.get(f"{base}/api/v1/status", timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the demo server did not start") from None
                    time.sleep(0.2)
            url = f"{base}/blogs/{demo.LIVE_BLOG.blog.slug}"
            results: dict[str, list[Run]] = {"gzip": [], "identity": []}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    first_post(browser, url, compressed=True)  # the server's first render
                    for _ in range(args.runs):
                        for case, compressed in (("gzip", True), ("identity", False)):
                            results[case].append(first_post(browser, url, compressed=compressed))
                finally:
                    browser.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"liveticker from {Path(liveticker.__file__).parent}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"{url.removeprefix(base)} at {VIEWPORT['width']}x{VIEWPORT['height']}, cold cache, "
        f"{LATENCY_MS} ms latency, {BYTES_PER_SECOND * 8 // 1000} kbit/s each way; "
        f"median of {args.runs} runs"
    )
    print(
        f"  {'':10}{'first post (min-max)':>24}{'first paint':>13}{'html bytes':>12}"
        f"{'all bytes':>11}"
    )
    for case, runs in results.items():
        encodings = {run.encoding for run in runs}
        if encodings != {case}:
            raise SystemExit(f"the {case} runs were served as {sorted(encodings)}")
        print(
            f"  {case:10}"
            f"{statistics.median(r.visible_ms for r in runs):10.0f}ms"
            f" ({min(r.visible_ms for r in runs):4.0f}-{max(r.visible_ms for r in runs):4.0f})"
            f"{statistics.median(r.first_paint_ms for r in runs):11.0f}ms"
            f"{statistics.median(r.html_bytes for r in runs):12.0f}"
            f"{statistics.median(r.total_bytes for r in runs):11.0f}"
        )


if __name__ == "__main__":
    main()
