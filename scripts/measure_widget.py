"""Prints the chat widget's size (bytes, gzip) and its time to interactive on the demo portal.

Usage: ``.venv/bin/python scripts/measure_widget.py [--loads 9]``. Starts the service on a free
127.0.0.1 port with a temporary database, loads ``/`` in Debian's Chromium several times with an
empty cache, and reports the median time from navigation start until the chat bubble is clickable
(the widget's ``govchat:ready`` mark, confirmed by clicking the bubble open).
"""

import argparse
import gzip
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.migrate import upgrade  # noqa: E402

STATIC = ROOT / "channels" / "web" / "static"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY_MARK = "() => (performance.getEntriesByName('govchat:ready')[0] || {}).startTime"
NAVIGATION = "() => { const n = performance.getEntriesByType('navigation')[0];" \
             " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"


def free_port() -> int:
    """Finds a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gz(data: bytes) -> int:
    """Size of data gzipped at the level the service uses."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def start_service(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the service with a fresh database; returns the process and its URL."""
    database_url = f"sqlite:///{workdir / 'service.db'}"
    upgrade(database_url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "RASA_URL": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(url + "/widget.js", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the service did not start")


def print_sizes(url: str) -> None:
    """Prints source and served sizes of the widget."""
    for name in ("widget.js", "widget-dom.js", "widget-view.js", "widget.css"):
        data = (STATIC / name).read_bytes()
        print(f"source {name:<14} {len(data):>7} bytes  {gz(data):>6} gzip")
    plain = httpx.get(url + "/widget.js", headers={"Accept-Encoding": "identity"}).content
    zipped = httpx.get(url + "/widget.js", headers={"Accept-Encoding": "gzip"})
    wire = int(zipped.headers.get("content-length", len(zipped.content)))
    print(f"served /widget.js     {len(plain):>7} bytes  {wire:>6} gzip on the wire (one request: script, styles, texts)")


def measure_tti(url: str, loads: int) -> None:
    """Loads the demo portal repeatedly and prints the median time to an interactive bubble."""
    from playwright.sync_api import sync_playwright

    ready, dcl, load = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(loads + 1):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(url + "/")
            bubble = page.get_by_test_id("govchat-bubble")
            bubble.wait_for(state="visible")
            mark = page.evaluate(READY_MARK)
            timings = page.evaluate(NAVIGATION)
            bubble.click()
            page.get_by_test_id("govchat-panel").wait_for(state="visible")
            context.close()
            ready.append(mark)
            dcl.append(timings["dcl"])
            load.append(timings["load"])
        browser.close()
    # The first load warms up the browser process itself; it is not counted.
    ready, dcl, load = ready[1:], dcl[1:], load[1:]
    print(f"time to interactive (navigation start -> bubble clickable), {loads} cold loads: "
          f"median {statistics.median(ready):.0f} ms, min {min(ready):.0f} ms, max {max(ready):.0f} ms")
    print(f"  for reference: DOMContentLoaded median {statistics.median(dcl):.0f} ms, "
          f"load event median {statistics.median(load):.0f} ms")


def main() -> None:
    """Runs the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        process, url = start_service(Path(workdir))
        try:
            print_sizes(url)
            measure_tti(url, args.loads)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
