"""The wall's web server: textual-serve's, with a door on it.

textual-serve starts one process per browser tab and pipes the tab's websocket to it. This
subclass adds what a screen on a network needs:

- every request and websocket passes `_guard` (the token cookie where one is required, else a Host
  that names this machine or --public-url, so a DNS-rebound name is refused; and a websocket only
  from the wall's own page: another site's page cannot open one);
- `_process_messages` forwards only resize and ping from the browser: keys never reach the
  app unless `--interactive-read-only`;
- at most `max_viewers` processes; a tab over the cap gets a page saying the wall is full;
- each viewer's process ends when its tab closes (killed if it does not quit in time);
- the access log names the path only: the token in `/?token=…` never reaches a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server

from casewatch.wall import CONFIG_ENV
from casewatch.wall.access import COOKIE, Access, addressed_to_us

log = logging.getLogger("casewatch.wall")

VIEWER_MODULE = "casewatch.wall.viewer"
QUIT_WAIT_S = 5.0  # a viewer asked to quit that has not ended by then is killed
HEARTBEAT_S = 15.0
STATIC = Path(textual_serve.__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
PASSED = frozenset({"resize", "ping"})  # what the browser may send; keys ("stdin") only when interactive


@dataclass(frozen=True)
class WallSettings:
    host: str
    port: int
    access: Access
    max_viewers: int
    font_size: int
    public_url: str | None
    interactive: bool
    viewer: dict[str, Any]  # the viewer process's configuration: database, person, zone, theme


class PathOnlyLog(AbstractAccessLogger):
    """One line per request without its query string, which may hold the token."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %d", request.remote, request.method, request.path, response.status)


class WallViewer(AppService):
    """One tab's process: the wall app, run directly (no shell), told its configuration in its environment."""

    def __init__(self, config: dict[str, Any], **kwargs: Any):
        super().__init__(f"{sys.executable} -m {VIEWER_MODULE}", **kwargs)
        self.config = config

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height)
        environment[CONFIG_ENV] = json.dumps(self.config)
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", VIEWER_MODULE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=environment)
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def end(self) -> None:
        """Ask the app to quit; kill it if it has not ended within QUIT_WAIT_S."""
        process = self._process
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.stop(), QUIT_WAIT_S)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


class WallServer(Server):
    def __init__(self, settings: WallSettings):
        super().__init__("casewatch wall", host=settings.host, port=settings.port, title="casewatch wall",
                         public_url=settings.public_url, statics_path=STATIC, templates_path=TEMPLATES)
        self.settings = settings
        self.viewers: dict[WallViewer, web.WebSocketResponse] = {}

    # ---------------------------------------------------------------- the app

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        access = self.settings.access
        if not access.required and not addressed_to_us(request.host, self.port, self.settings.public_url):
            return web.Response(status=403, text="403: this wall answers only to its own address\n")
        if request.path == "/ws" and not self._same_origin(request):
            return web.Response(status=403, text="403: the wall's websocket is only for the wall's own page\n")
        if not access.required or access.cookie_matches(request.cookies.get(COOKIE)):
            return await handler(request)
        if request.path == "/" and access.token_matches(request.query.get("token")):
            kept = {key: value for key, value in request.query.items() if key != "token"}
            response = web.HTTPFound(self._base_url(request) + request.rel_url.with_query(kept).path_qs)
            response.set_cookie(COOKIE, access.cookie_value, httponly=True, samesite="Strict", path="/",
                                secure=self._base_url(request).startswith("https:"))
            return response
        return web.Response(status=401, text="401: this wall needs its token. Open the address with "
                                             "?token=… you were given once; the browser keeps a cookie after that.\n")

    def _same_origin(self, request: web.Request) -> bool:
        """A browser names the page that opens a websocket (Origin): it must be the wall's own."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the token (where required) is the guard
        allowed = {request.host}
        if self.settings.public_url:
            allowed.add(urlsplit(self.settings.public_url).netloc)
        return urlsplit(origin).netloc in allowed

    def _base_url(self, request: web.Request) -> str:
        """Where browsers reach the wall: --public-url (behind a proxy), else the address they used."""
        return (self.settings.public_url or f"{request.scheme}://{request.host}").rstrip("/")

    # ----------------------------------------------------------------- pages

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if len(self.viewers) >= self.settings.max_viewers:
            return self._full(request)
        base = self._base_url(request)
        websocket = ("wss" if base.startswith("https:") else "ws") + ":" + base.split(":", 1)[1] + "/ws"
        font_size = self.settings.font_size
        with contextlib.suppress(ValueError):
            font_size = min(max(int(request.query.get("fontsize", font_size)), 6), 96)
        context = {"font_size": font_size, "app_websocket_url": websocket,
                   "config": {"static": {"url": f"{base}/static/"}}, "application": {"name": "casewatch wall"}}
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def _full(self, request: web.Request) -> web.StreamResponse:
        cap = self.settings.max_viewers
        return aiohttp_jinja2.render_template("full.html", request, {"max_viewers": cap}, status=503)

    # ------------------------------------------------------------- websocket

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if len(self.viewers) >= self.settings.max_viewers:
            return self._full(request)
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
        if not websocket.can_prepare(request).ok:  # a plain GET: no process to start, nothing to log
            return web.Response(status=400, text="400: /ws is the wall page's websocket; open / instead\n")
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        viewer = WallViewer(self.settings.viewer, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                            close=websocket.close, download_manager=self.download_manager)
        self.viewers[viewer] = websocket
        try:
            await websocket.prepare(request)
            await viewer.start(width, height)
            log.info("viewer started (pid %s, %d of %d)", viewer.pid, len(self.viewers), self.settings.max_viewers)
            await self._process_messages(websocket, viewer)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # noqa: BLE001 - one tab's failure is logged; the server goes on
            log.exception("viewer failed")
        finally:
            await viewer.end()
            del self.viewers[viewer]
            log.info("viewer ended (pid %s, %d left)", viewer.pid, len(self.viewers))
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """Only resize and ping from the browser; keys too with --interactive-read-only."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = json.loads(message.data)[:2]
            except (ValueError, TypeError):
                continue
            if kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(_int(data.get("width"), 80), _int(data.get("height"), 24))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "stdin" and self.settings.interactive and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8"))

    # ------------------------------------------------------------- lifecycle

    async def on_shutdown(self, app: web.Application) -> None:
        for websocket in list(self.viewers.values()):
            await websocket.close()
        await asyncio.gather(*(viewer.end() for viewer in list(self.viewers)))

    async def run(self, ready: Callable[[str], None]) -> None:
        """Serve until SIGINT or SIGTERM; `ready` gets the address bound (port 0 picks one) once it is."""
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log_class=PathOnlyLog)
        await runner.setup()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port)
            await site.start()
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            host, port = sockets[0].getsockname()[:2] if sockets else (self.settings.host, self.settings.port)
            self.port = port
            shown_host = f"[{host}]" if ":" in host else host
            ready(f"http://{shown_host}:{port}/")
            await stop.wait()
        finally:
            await runner.cleanup()


def _int(value: object, default: int) -> int:
    try:
        return max(1, min(int(value), 1000))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
