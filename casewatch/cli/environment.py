"""What the CLI reads from the world: environment, config file, OS user and zone."""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

import tzlocal

from casewatch import paths
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.identity import acting_name
from casewatch.core.models import check_zone

CONFIG_KEYS = {"user", "db", "theme", "tz", "keymap"}


@dataclass(frozen=True)
class Config:
    user: str | None = None
    db: str | None = None
    theme: str | None = None
    tz: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. "case.assign" = "o"


def load_config(path: Path | None = None) -> Config:
    path = path or paths.config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        raise InvalidInput(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(CONFIG_KEYS))})")
    keymap = data.pop("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise InvalidInput(f'{path}: keymap must be a table of binding id = "keys", e.g. "case.assign" = "o"')
    for key, value in data.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{path}: {key} must be a string")
    return Config(**data, keymap=keymap)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_name(flag: str | None, config: Config) -> str:
    return acting_name(flag, os.environ.get("CASEWATCH_USER"), config.user, os_user())


def system_zone() -> str:
    """The machine's IANA zone as tzlocal finds it ($TZ, /etc/localtime, distribution files), else UTC."""
    try:
        return check_zone(tzlocal.get_localzone_name() or "UTC")
    except (CasewatchError, ZoneInfoNotFoundError):  # tzlocal raises when the machine's settings conflict
        return "UTC"


def database_location(flag: str | None, config: Config) -> str:
    return flag or os.environ.get("CASEWATCH_DB") or config.db or str(paths.default_db_path())
