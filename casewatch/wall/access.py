"""Who may look at the wall: the token file, the cookie a browser keeps, and loopback (asked for by name).

The token is read once from a file only its owner may read. A browser presents it once
(`/?token=…`); the answer sets an HttpOnly cookie holding a keyed digest of the token (never the
token itself) and sends the browser on to `/` so the token leaves the address bar and history.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from casewatch.core.errors import InvalidInput

COOKIE = "casewatch_wall"
SHORTEST_TOKEN = 16  # characters: anything shorter is guessable over a network


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost" are only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def addressed_to_us(host_header: str, port: int, public_url: str | None) -> bool:
    """A request to a wall without a token must name it as this machine does (a loopback address or
    localhost, with the port it listens on) or as --public-url does. Another name that resolves
    here is a DNS rebinding: another site's page reaching the wall as if it were that site."""
    try:
        named = urlsplit(f"//{host_header}")
        name, named_port = named.hostname, named.port or 80
    except ValueError:
        return False
    if name is None:
        return False
    if public_url and name == urlsplit(public_url).hostname:
        return True
    return is_loopback(name) and named_port == port


def read_token(path: Path) -> str:
    """The token in `path`, refused unless the file is ours and nobody else may read or write it.
    Errors name the file, never its content."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"--token-file {path}: not a regular file")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise InvalidInput(f"--token-file {path}: owned by another user; it must be yours")
        if info.st_mode & 0o077:
            raise InvalidInput(f"--token-file {path}: others may read it (mode {stat.S_IMODE(info.st_mode):o}); "
                               f"`chmod 600 {path}`")
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInput(f"--token-file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"--token-file {path}: not UTF-8 text") from None
    if len(token) < SHORTEST_TOKEN or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise InvalidInput(f"--token-file {path}: the token must be one word of at least {SHORTEST_TOKEN} "
                           "printable characters (e.g. `openssl rand -hex 24`)")
    return token


@dataclass(frozen=True)
class Access:
    """The token a browser must present, or None where none is required (loopback, no --token-file)."""

    token: str | None

    @property
    def required(self) -> bool:
        return self.token is not None

    @property
    def cookie_value(self) -> str:
        """What the cookie holds: a digest keyed by the token, so a leaked cookie is not the token."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"casewatch-wall-cookie", hashlib.sha256).hexdigest()

    def token_matches(self, presented: str | None) -> bool:
        return self.token is not None and presented is not None and hmac.compare_digest(
            presented.encode(), self.token.encode())

    def cookie_matches(self, presented: str | None) -> bool:
        return self.token is not None and presented is not None and hmac.compare_digest(
            presented.encode(), self.cookie_value.encode())


def access_for(host: str, token_file: Path | None) -> Access:
    """Loopback without a token file is open to this machine; any other host needs the token."""
    if token_file is not None:
        return Access(read_token(token_file))
    if not is_loopback(host):
        raise InvalidInput(f"--host {host} is reachable from other machines: give --token-file FILE "
                           "(a token only its owner may read)")
    return Access(None)
