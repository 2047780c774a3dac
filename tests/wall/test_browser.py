"""`casewatch wall` in a real browser: Debian's Chromium, driven by playwright, against the real
server on a free port, on SQLite and PostgreSQL.

The board is drawn on a canvas, so the page's HTML holds no case text: what the wall shows is read
from the terminal stream the browser receives over /ws (and the screenshot).
Set CASEWATCH_WALL_SCREENSHOT=docs/wall.png to keep this run's screenshot (the README's picture).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.models import Person, Role
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CASEWATCH = str(Path(sys.executable).with_name("casewatch"))
TOKEN = "wall-token-" + "7f3a9c" * 4
CASE_ID = re.compile(r"CW-\d{4}")
SOON_S = 3.0  # a case written through the CLI shows on the wall within this

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="no Chromium found (apt-get install -y chromium; .ci/run does it)")

COUNT_COLOURS = """async (data) => {
    const image = new Image();
    image.src = "data:image/png;base64," + data;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width; canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    const seen = new Set();
    for (let i = 0; i < pixels.length; i += 4 * 7) seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    return seen.size;
}"""


async def _seed(url: str) -> None:
    async with await Store.open(resolve_target(url), creator=Person(name="dana", role=Role.LEAD,
                                                                    tz="Europe/Berlin")) as store:
        await write_demo(store, demo_plan(24, seed=7, now=datetime.now(UTC)), "dana")
        await store.execute(c.AddPerson(name="wall", role=Role.VIEWER, tz="Europe/Berlin"), "dana")
        await store.execute(c.StartShift(), "dana")


async def _read_marks(url: str) -> tuple[int, dict[str, int]]:
    async with await Store.open(resolve_target(url)) as store:
        marks = await store.marks()
        return marks.high_water, dict(marks.cases)


def _log_marks(url: str) -> tuple[int, dict[str, int]]:
    """The newest event id and the open cases' versions (in a thread: playwright's loop owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _read_marks(url)).result()


class Lines:
    """A process's output, line by line, as it comes (read in a thread: no sleeps to wait on it)."""

    def __init__(self, stream) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                if match := re.search(pattern, line):
                    self.seen.remove(line)
                    return match
            try:
                self.seen.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in {self.seen}") from None

    def text(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@pytest.fixture
def wall(db_url, tmp_path):
    """The wall served on a free port with a token and at most one viewer; yields (address, logs)."""
    asyncio.run(_seed(db_url))
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    server = subprocess.Popen(
        [CASEWATCH, "wall", "--db", db_url, "--as", "wall", "--port", "0", "--token-file", str(token_file),
         "--max-viewers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = Lines(server.stdout), Lines(server.stderr)
    try:
        address = out.wait_for(r"serving on (http://\S+/)").group(1)
        yield address, out, err
    finally:
        server.terminate()
        server.wait(timeout=15)
        assert TOKEN not in out.text() + err.text(), "the token reached a log line"


def _status(address: str, path: str, headers: dict[str, str] | None = None) -> int:
    host, port = address.removeprefix("http://").rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait(page, condition, timeout: float, what: str) -> None:
    """Until `condition` holds, letting playwright deliver the page's events meanwhile (a plain
    sleep would block them: the sync API dispatches them only inside its own calls)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        page.wait_for_timeout(50)


@pytest.mark.slow
def test_the_wall_in_a_browser(wall, db_url):
    from playwright.sync_api import sync_playwright

    address, _out, err = wall
    assert _status(address, "/") == 401
    assert _status(address, "/ws", {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                    "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode()}) == 401
    assert _status(address, "/static/js/textual.js") == 401

    stream: list[str] = []
    sent: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.on("websocket", lambda ws: (
                ws.on("framereceived", lambda frame: stream.append(
                    frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame)),
                ws.on("framesent", lambda frame: sent.append(frame if isinstance(frame, str) else ""))))
            assert page.goto(address).status == 401

            response = page.goto(f"{address}?token={TOKEN}")
            assert response is not None and response.status == 200
            assert page.url == address  # the token left the address bar
            (cookie,) = context.cookies()
            assert cookie["httpOnly"] and TOKEN not in cookie["value"]
            pid = int(err.wait_for(r"viewer started \(pid (\d+)").group(1))

            # the app draws: a real case id in the stream, and a screenshot that is not one flat colour
            _wait(page, lambda: CASE_ID.search("".join(stream)), 15, "a case id on the wall")
            shown = set(CASE_ID.findall("".join(stream)))
            _high_water, held = _log_marks(db_url)
            size = next(json.loads(frame)[1] for frame in sent if frame.startswith('["resize"'))
            assert size["width"] >= 160 and size["height"] >= 45  # 1920×1080 at 20px: the snapshot's 160×45 fits
            assert shown <= set(held)
            picture = page.screenshot()
            assert page.evaluate(COUNT_COLOURS, base64.b64encode(picture).decode()) > 8
            if keep := os.environ.get("CASEWATCH_WALL_SCREENSHOT"):
                Path(keep).write_bytes(picture)

            # a second tab is over the cap of one
            other = context.new_page()
            full = other.goto(address)
            assert full is not None and full.status == 503 and "The wall is full" in other.content()
            other.close()

            # typed keys reach nothing: the write after them is the only one in the log
            before, _ = _log_marks(db_url)
            page.keyboard.type("aNnqdana")
            for key in ("Enter", "Control+p", "Tab", "Escape", "q"):
                page.keyboard.press(key)
            typed = len(stream)
            at = (datetime.now(UTC) - timedelta(minutes=14, seconds=30)).isoformat()  # its owner clock: due in 30s
            new = subprocess.run([CASEWATCH, "case", "new", "--db", db_url, "--as", "dana", "--title", "Printer on fire",
                                  "--customer", "Initech", "--severity", "SEV1", "--at", at],
                                 capture_output=True, text=True, check=True).stdout.strip()
            written = time.monotonic()
            _wait(page, lambda: new in "".join(stream[typed:]), SOON_S, f"{new} on the wall")
            assert time.monotonic() - written < SOON_S
            after, cases = _log_marks(db_url)
            assert after == before + 1 and new in cases  # the CLI's one event, nothing from the keys
            assert _alive(pid)  # q did not quit it either

            # closing the tab ends its process
            page.close()
            err.wait_for(rf"viewer ended \(pid {pid}\b")
            assert not _alive(pid)
        finally:
            browser.close()
