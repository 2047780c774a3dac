"""What the CLI reads from the world: environment, config file, OS user and zone."""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfoNotFoundError

import tzlocal
from pydantic import Field

from casewatch import paths
from casewatch.core.alerts import AlertSettings
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.identity import acting_name
from casewatch.core.models import Person, check_zone
from casewatch.core.saved_views import check_view_filter, check_view_name
from casewatch.core.text import check_source_name, visible
from casewatch.core.toml_file import Text, TomlTable, locate, read_toml, rule, string
from casewatch.core.tracker import LIVE, Source, SourceSettings
from casewatch.core.write_back import WriteBack


def _zone_name(value: object) -> str:
    return check_zone(string(value))


class Config(TomlTable):
    """The config file: who I am, which database, how the board looks, which keys do what, what
    alerts me, and my saved views."""

    user: Annotated[str | None, rule(string)] = None
    db: Annotated[str | None, rule(string)] = None
    theme: Annotated[str | None, rule(string)] = None
    tz: Annotated[str | None, rule(_zone_name)] = None
    keymap: dict[str, Text] = Field(default_factory=dict)  # binding id -> keys, e.g. "case.assign" = "O"
    alerts: AlertSettings = Field(default_factory=AlertSettings)  # which clock turns alert, and how
    sources: dict[Annotated[str, rule(check_source_name)], SourceSettings] = Field(default_factory=dict)
    views: dict[Annotated[str, rule(check_view_name)], Annotated[str, rule(check_view_filter)]] = Field(
        default_factory=dict)  # name -> filter, in the file's order: F1 to F9 on the board

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        if kind == "not_a_table" and key == "keymap":
            return 'must be a table of binding id = "keys", e.g. "case.assign" = "O"'
        if kind == "not_a_table" and key == "views":
            return 'must be a table of name = "filter", e.g. triage = "sev:1,2 is:unowned"'
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


def keymap_problem(config: Config, problem: str, ids: Iterable[str], path: Path | None = None) -> str:
    """A [keymap] problem in one line, at the `file:line` of the first of `ids` the file remaps."""
    path = path or paths.config_path()
    remapped = sorted(set(ids) & set(config.keymap))
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() and remapped else []
    line = locate(lines, ("keymap", remapped[0])) if lines else None
    return f"{path}:{line}: keymap: {problem}" if line else f"config keymap: {problem}"


def configured_source(config: Config, name: str, roster: dict[str, Person], path: Path | None = None) -> Source:
    """The `[sources.NAME]` table, its people checked against the roster (one line naming
    `file:line` and the key of the first handle nobody on the roster has)."""
    path = path or paths.config_path()
    settings = config.sources.get(name)
    if settings is None:
        known = ", ".join(sorted(config.sources)) or "none"
        raise InvalidInput(f"no source {name!r} in {path}: add a [sources.{name}] table with its kind "
                           f"(configured: {known})")
    for user, handle in settings.people.items():
        if handle not in roster:
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            line = locate(lines, ("sources", name, "people", user))
            raise InvalidInput(f"{path}:{line}: sources.{name}.people.{visible(user)}: no person {handle!r} on the "
                               "roster (see `casewatch people list`)")
    return Source.of(name, settings)


def write_back_rules(config: Config) -> dict[str, WriteBack]:
    """The live sources whose tickets get something back (`[sources.NAME.write_back]`)."""
    return {name: settings.write_back for name, settings in config.sources.items()
            if settings.kind in LIVE and settings.write_back.on}


def remember_setting(key: str, value: str, path: Path | None = None) -> None:
    """Set one top-level string key of the config file (created if missing), keeping every other
    line as it was: the board remembers the theme chosen from its palette this way."""
    path = path or paths.config_path()
    line = f"{key} = {json.dumps(value)}"  # a JSON string is a valid TOML basic string
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        top = next((i for i, text in enumerate(lines) if text.lstrip().startswith("[")), len(lines))
        found = next((i for i in range(top) if re.match(rf"\s*{re.escape(key)}\s*=", lines[i])), None)
        if found is None:
            lines.insert(0, line)
        else:
            lines[found] = line
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(path)  # nothing half-written
    except (OSError, UnicodeDecodeError) as exc:
        raise CasewatchError(f"cannot write {path}: {exc}") from None


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_name(flag: str | None, config: Config) -> str:
    return acting_name(flag, os.environ.get("CASEWATCH_USER"), config.user, os_user())


def claimed_name(flag: str | None) -> str | None:
    """Who the invocation itself says acts (--as, then CASEWATCH_USER): on a team database it must
    be the person the login is mapped to. The config file and the OS user are only defaults."""
    return acting_name(flag, os.environ.get("CASEWATCH_USER"), None, "") or None


def system_zone() -> str:
    """The machine's IANA zone as tzlocal finds it ($TZ, /etc/localtime, distribution files), else UTC."""
    try:
        return check_zone(tzlocal.get_localzone_name() or "UTC")
    except (CasewatchError, ZoneInfoNotFoundError):  # tzlocal raises when the machine's settings conflict
        return "UTC"


def database_location(flag: str | None, config: Config) -> str:
    """`--db` as given (even empty, which is an error), else the environment, the config, the default."""
    if flag is not None:
        return flag
    return os.environ.get("CASEWATCH_DB") or config.db or str(paths.default_db_path())
