"""What the CLI reads from the world: environment, config file, OS user and zone."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfoNotFoundError

import tzlocal
from pydantic import Field

from casewatch import paths
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.identity import acting_name
from casewatch.core.models import check_zone
from casewatch.core.toml_file import Text, TomlTable, read_toml, rule, string


def _zone_name(value: object) -> str:
    return check_zone(string(value))


class Config(TomlTable):
    """The config file: who I am, which database, how the board looks, which keys do what."""

    user: Annotated[str | None, rule(string)] = None
    db: Annotated[str | None, rule(string)] = None
    theme: Annotated[str | None, rule(string)] = None
    tz: Annotated[str | None, rule(_zone_name)] = None
    keymap: dict[str, Text] = Field(default_factory=dict)  # binding id -> keys, e.g. "case.assign" = "o"

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        if kind == "not_a_table" and key == "keymap":
            return 'must be a table of binding id = "keys", e.g. "case.assign" = "o"'
        return super().explain(kind, key)


def load_config(path: Path | None = None) -> Config:
    """The config file's settings (none when there is no file); every problem with its line."""
    path = path or paths.config_path()
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return read_toml(Config, text, str(path))


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
