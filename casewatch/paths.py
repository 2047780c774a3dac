"""Every file location casewatch uses, in one place."""

from pathlib import Path

import platformdirs

APP_NAME = "casewatch"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def default_db_path() -> Path:
    return data_dir() / "casewatch.db"


def config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def marks_path(person: str) -> Path:
    """One person's unread marks, acknowledged alerts and snoozes on this machine (casewatch.local_marks)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in person).lstrip(".") or "_"
    return platformdirs.user_config_path(APP_NAME) / "marks" / f"{safe}.json"


def filter_history_path() -> Path:
    """The board's earlier filters, per person (see core.filter_history): beside the config file."""
    return config_path().with_name("filter-history.json")
