"""`refinery explore` end to end: the command serves a drop of real documents on a free port, headless Chromium
(Debian's, driven by playwright: no browser download) opens it, the map is drawn (coloured points on the canvas),
the page counts the records and shows their text, and every request the page made went to our server."""
from __future__ import annotations

import io
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.explore.conftest import DROP

CHROMIUM = "/usr/bin/chromium"
# without the background-networking flags Chromium dials out (updates, sync, field trials) and, on a closed
# network, waits on refused connections
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM}: Debian's chromium package "
                                "(scripts/setup.sh installs it when run as root)")


def _serve(root: Path):
    """`refinery explore <drop> --port 0 --no-browser` in its own process; (process, URL, records shown)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "explore", DROP, "--root", str(root),
                             "--port", "0", "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen, records = [], None
    while True:
        try:
            line = lines.get(timeout=240)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"no URL from refinery explore within 240 s: {seen}")
        seen.append(line)
        if m := re.search(r": ([\d,]+) records;", line):
            records = int(m.group(1).replace(",", ""))
        if m := re.search(r"Embedding Atlas: (http://\S+)", line):
            return proc, m.group(1), records
        if proc.poll() is not None and lines.empty():
            pytest.fail(f"refinery explore exited {proc.returncode}: {''.join(seen)}")


def _coloured_pixels(png: bytes) -> tuple[int, int]:
    """(pixels of some colour, distinct coarse hues among them): the points (pale, drawn translucent), not the white
    background or the grey axis text."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = [p for p in image.getdata() if max(p) - min(p) > 25]
    return len(pixels), len({(r // 64, g // 64, b // 64) for r, g, b in pixels})


def test_the_page_draws_the_map_of_a_drop_offline(explore_root, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    proc, url, records = _serve(explore_root)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
                viewport={"width": 1280, "height": 800})
            try:
                page = browser.new_page()
                requested: list[str] = []
                page.on("request", lambda r: requested.append(r.url))
                page.goto(url, wait_until="networkidle", timeout=120_000)
                page.get_by_text(f"{records} / {records} points").wait_for(timeout=60_000)
                canvas = page.locator("canvas").first
                box = canvas.bounding_box()
                # the map alone: not the colour menu above it, the status line under it, the legend on the right
                map_only = {"x": box["x"], "y": box["y"] + 50, "width": box["width"] - 300, "height": box["height"] - 80}
                for _ in range(40):  # the map is drawn a moment after the count appears
                    coloured, hues = _coloured_pixels(page.screenshot(clip=map_only))
                    if coloured > 10 * records:
                        break
                    page.wait_for_timeout(500)
                page.screenshot(path=str(tmp_path / "explore.png"))  # kept with the test's tmp files
                body = page.inner_text("body")
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert records and records > 20
    assert coloured > 10 * records and hues >= 3, (coloured, hues)  # points of several folders' colours
    assert "folder" in body and "format" in body  # the charts to filter by
    assert f"{DROP}/" in body  # records' ids and sources in the table under the map
    host = urlparse(url).netloc
    outside = {u for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != host}
    assert not outside, outside  # nothing from the network: frontend, fonts and queries all from our server
