"""The wall's server without a browser: a websocket from another site's page is refused, and with
--interactive-read-only the keys reach the app (Enter opens a case; it still writes nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from casewatch.core import commands as c
from casewatch.core.demo import demo_plan
from casewatch.core.models import Person, Role
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target

CASEWATCH = str(Path(sys.executable).with_name("casewatch"))


async def _seed(path: Path) -> None:
    async with await Store.open(resolve_target(path), creator=Person(name="dana", role=Role.LEAD, tz="UTC")) as store:
        await write_demo(store, demo_plan(6, seed=3, now=datetime.now(UTC)), "dana")
        await store.execute(c.AddPerson(name="wall", role=Role.VIEWER, tz="UTC"), "dana")


async def _high_water(path: Path) -> int:
    async with await Store.open(resolve_target(path)) as store:
        return (await store.marks()).high_water


async def _read_until(ws: aiohttp.ClientWebSocketResponse, pattern: str, seen: list[str]) -> re.Match[str]:
    async with asyncio.timeout(15):
        while not (match := re.search(pattern, "".join(seen))):
            message = await ws.receive()
            if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                data = message.data
                seen.append(data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
            else:
                raise AssertionError(f"the websocket ended: {message.type}")
    return match


async def test_interactive_keys_reach_the_app_and_other_sites_are_refused(tmp_path):
    db = tmp_path / "wall.db"
    await _seed(db)
    before = await _high_water(db)
    server = await asyncio.create_subprocess_exec(
        CASEWATCH, "wall", "--db", str(db), "--as", "wall", "--port", "0", "--interactive-read-only",
        "--public-url", "https://wall.example.com/",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert server.stdout is not None
        async with asyncio.timeout(15):
            line = (await server.stdout.readline()).decode()
        address, public = re.search(r"serving on (http://\S+)/ for (\S+) as wall", line).groups()
        assert public == "https://wall.example.com/"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{address}/") as page:  # behind a proxy: the page names the public address
                assert 'data-session-websocket-url="wss://wall.example.com/ws"' in await page.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{address}/ws", headers={"Origin": "http://evil.example"})
            assert refused.value.status == 403
            async with http.ws_connect(f"{address}/ws?width=160&height=45", headers={"Origin": address}) as ws:
                seen: list[str] = []
                await _read_until(ws, r"CW-\d{4}", seen)
                assert "Timeline" not in "".join(seen)
                await ws.send_str(json.dumps(["stdin", "\r"]))  # Enter on the first deadline
                await _read_until(ws, "Timeline", seen)
                await ws.send_str(json.dumps(["ping", "after"]))
                await _read_until(ws, r'\["pong", "after"\]', seen)
    finally:
        server.terminate()
        await server.wait()
    assert await _high_water(db) == before  # navigating wrote nothing


@contextlib.asynccontextmanager
async def _wall(tmp_path: Path, *options: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A wall without a token on a port of its own: its address, and its log lines once it has stopped."""
    db = tmp_path / "wall.db"
    await _seed(db)
    server = await asyncio.create_subprocess_exec(
        CASEWATCH, "wall", "--db", str(db), "--as", "wall", "--port", "0", *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    logged: list[str] = []
    try:
        assert server.stdout is not None and server.stderr is not None
        async with asyncio.timeout(15):
            line = (await server.stdout.readline()).decode()
        yield re.search(r"serving on (http://\S+?)/? ", line).group(1), logged
    finally:
        server.terminate()
        _, err = await server.communicate()
        logged.extend(err.decode().splitlines())


async def test_a_wall_without_a_token_answers_only_to_its_own_address(tmp_path):
    """DNS rebinding: another site's name resolved to 127.0.0.1 gets neither the page nor the feed."""
    async with _wall(tmp_path, "--public-url", "https://wall.example.com/") as (address, _):
        port = address.rsplit(":", 1)[1]
        async with aiohttp.ClientSession() as http:
            for evil in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
                async with http.get(f"{address}/", headers={"Host": evil}) as page:
                    assert page.status == 403
                    assert "evil.example" not in await page.text()
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"{address}/ws", headers={"Host": evil, "Origin": f"http://{evil}"})
                assert refused.value.status == 403
            for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "wall.example.com"):
                async with http.get(f"{address}/", headers={"Host": own}) as page:
                    assert page.status == 200, own
            async with http.get(f"{address}/", headers={"Host": "localhost:1"}) as page:
                assert page.status == 403  # this machine's name, but not this wall's port


async def test_a_plain_get_of_the_websocket_is_a_bad_request_logged_once(tmp_path):
    async with _wall(tmp_path) as (address, logged), aiohttp.ClientSession() as http, \
            http.get(f"{address}/ws") as answer:
        assert answer.status == 400
        assert "open /" in await answer.text()
    about = [line for line in logged if "/ws" in line or "Traceback" in line or "failed" in line or "Error" in line]
    assert len(about) <= 1, logged
