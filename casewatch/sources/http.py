"""Our thin client for trackers' JSON APIs (httpx underneath): basic auth sent to the configured
host only, retries that wait as the tracker asks, and errors that never carry the token.

- 429 waits `Retry-After` (capped), then asks again; 5xx and dropped connections are retried with
  backoff a few times; then `TrackerUnavailable` (exit 4).
- 401/403 is `TrackerDenied` (exit 2), naming the source and where its token comes from.
- A redirect is followed only on the same scheme, host and port; elsewhere it is refused, so the
  auth header never leaves the tracker's host.
- `sleep` is injected: the tests' waits are recorded, not slept.
"""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from casewatch.core.errors import InvalidInput, Unavailable
from casewatch.core.text import visible

Sleep = Callable[[float], Awaitable[None]]
RETRIES = 4  # attempts after the first, for 5xx and dropped connections
SYNC_KEPT = "what was synced before is kept, try again later"  # what a sync that gives up leaves
LONGEST_RETRY_AFTER = 300.0  # seconds: a longer Retry-After ends the pass instead
RATE_LIMITED = 10  # 429s in a row for one request before the pass ends (never a loop)
REDIRECTS = 3


class TrackerDenied(InvalidInput):
    """The tracker refused our credential (401/403); `status` is which."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class TrackerUnavailable(Unavailable):
    """The tracker could not answer after the retries, or answered what we cannot read."""


class TrackerStatus(TrackerUnavailable):
    """The tracker answered an error status (`status`): a 4xx, or a 5xx a write is not retried on;
    `detail` is the start of what it said (without the token)."""

    def __init__(self, message: str, status: int, detail: str = ""):
        super().__init__(message)
        self.status, self.detail = status, detail


class TrackerUnanswered(TrackerUnavailable):
    """A write got no answer (a timeout, a dropped connection): the tracker may or may not have it."""


@dataclass(frozen=True)
class Credential:
    """Who the sync is at the tracker; `where` says where the token came from, for messages."""

    email: str
    token: str
    where: str

    def scrub(self, text: str) -> str:
        """`text` without the token, in any form it may travel in."""
        for secret in (self.token, _basic(f"{self.email}:{self.token}"), _basic(f"{self.email}/token:{self.token}")):
            if secret:
                text = text.replace(secret, "[token]")
        return text


def _basic(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def read_token(source: str, token_env: str | None, token_file: str | None,
               environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The token and where it came from: the variable, or a file only its owner may read."""
    if token_env:
        token = environ.get(token_env, "").strip()
        if not token:
            raise InvalidInput(f"source {source}: the environment variable {token_env} (its token_env) is not set")
        return token, f"the variable {token_env}"
    if token_file:
        path = Path(token_file).expanduser()
        try:
            found = path.stat()
            mode = found.st_mode
            if found.st_uid != os.getuid():
                raise InvalidInput(f"source {source}: token_file {path} is not yours; it must be a file only you "
                                   "may read")
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InvalidInput(f"source {source}: token_file {path} may be read by others "
                                   f"(mode {stat.S_IMODE(mode):o}); `chmod 600 {path}` it")
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidInput(f"source {source}: cannot read token_file {path}: {exc.strerror or exc}") from None
        if not token:
            raise InvalidInput(f"source {source}: token_file {path} is empty")
        return token, f"token_file {path}"
    raise InvalidInput(f"source {source}: set token_env (a variable holding its API token) or token_file")


class TrackerClient:
    """GETs and POSTs of JSON against one tracker, with the retry and redirect rules above."""

    def __init__(self, source: str, base_url: str, username: str, credential: Credential, *,
                 sleep: Sleep = asyncio.sleep, timeout: float = 30.0, retries: int = RETRIES,
                 kept: str | None = SYNC_KEPT):
        """`retries` and `kept` (what the caller keeps when the client gives up, said after why) are a
        sync's by default; the write-back sender retries by itself and says its own words."""
        self.source, self.base_url, self.credential, self.sleep = source, base_url.rstrip("/"), credential, sleep
        self.retries, self.kept = retries, kept
        self._origin = _origin(self.base_url)
        self._auth = "Basic " + _basic(f"{username}:{credential.token}")
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                         headers={"Accept": "application/json", "User-Agent": "casewatch-sync"})
        self.requests = 0

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._request("GET", path, params=params)

    async def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return await self._request("POST", path, json=body)

    async def write(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """A write that is not safe to repeat (a comment): sent once. A 429 is waited out (the
        tracker took nothing); no answer is `TrackerUnanswered` and a 5xx `TrackerStatus`, for the
        caller to look before it sends again."""
        return await self._request(method, path, once=True, json=body)

    async def _request(self, method: str, path: str, *, once: bool = False, **options: Any) -> Any:
        url, failures, limited = urljoin(self.base_url + "/", path.lstrip("/")), 0, 0
        while True:
            try:
                response = await self._follow(method, url, **options)
            except httpx.TransportError as exc:
                if once:
                    raise TrackerUnanswered(self._clean(f"source {self.source}: no answer from {method} {path} "
                                                        f"({type(exc).__name__})")) from None
                failures = await self._retry(failures, f"{type(exc).__name__} talking to {self.base_url}")
                continue
            if response.status_code == 429:
                limited += 1
                if limited > RATE_LIMITED:
                    raise self._gave_up(f"still rate limited after {RATE_LIMITED} waits")
                await self.sleep(self._retry_after(response))
                continue
            if response.status_code >= 500 and once:
                raise TrackerStatus(f"source {self.source}: HTTP {response.status_code} from {method} {path}",
                                    response.status_code)
            if response.status_code >= 500:
                failures = await self._retry(failures, f"HTTP {response.status_code} from {self.base_url}")
                continue
            if response.status_code in (401, 403):
                raise TrackerDenied(f"source {self.source}: HTTP {response.status_code} from {self.base_url}: check "
                                    f"the email and the API token in {self.credential.where}",
                                    response.status_code)
            if response.status_code >= 400:
                detail = self._clean(response.text[:200])
                raise TrackerStatus(f"source {self.source}: HTTP {response.status_code} from {method} {path}: "
                                    f"{detail}", response.status_code, detail)
            if response.status_code == 204 or not response.content:
                return None  # (Jira answers a transition with no content)
            try:
                return response.json()
            except ValueError:
                raise TrackerUnavailable(f"source {self.source}: {method} {path} did not answer JSON") from None

    async def _follow(self, method: str, url: str, **options: Any) -> httpx.Response:
        for _ in range(REDIRECTS + 1):
            self.requests += 1
            response = await self._client.request(method, url, headers={"Authorization": self._auth}, **options)
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers.get("Location", ""))
            if _origin(target) != self._origin:
                raise TrackerUnavailable(self._clean(f"source {self.source}: refused a redirect to "
                                                     f"{_origin(target) or 'nowhere'}: the token goes only to "
                                                     f"{self._origin}"))
            url = target
        raise TrackerUnavailable(f"source {self.source}: more than {REDIRECTS} redirects from {self.base_url}")

    async def _retry(self, failures: int, what: str) -> int:
        if failures >= self.retries:
            raise self._gave_up(f"{what}, {failures + 1} times" if failures else what)
        await self.sleep(min(30.0, 0.5 * 2 ** failures))
        return failures + 1

    def _gave_up(self, why: str) -> TrackerUnavailable:
        return TrackerUnavailable(self._clean(f"source {self.source}: {why}" + (f"; {self.kept}" if self.kept else "")))

    def _retry_after(self, response: httpx.Response) -> float:
        try:
            wait = float(response.headers.get("Retry-After", "60"))
        except ValueError:
            wait = 60.0
        if wait > LONGEST_RETRY_AFTER:
            raise TrackerUnavailable(f"source {self.source}: rate limited for {wait:.0f} s; try again later")
        return max(0.0, wait)

    def _clean(self, text: str) -> str:
        return visible(self.credential.scrub(text))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}:{port}" if parts.hostname else ""
