"""Saved views: `[views] name = "sev:1,2 is:unowned"` in the config file, each a named filter.

They keep the file's order: the first nine are on F1 to F9, and every one is in the command
palette and in `casewatch cases --view NAME`. A view's filter is read as the board's `/` reads it
(core.case_filter), when the config file is read: a bad one is that file's `file:line` error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casewatch.core.case_filter import parse_filter
from casewatch.core.errors import InvalidInput
from casewatch.core.text import check_text

VIEW_KEYS = 9  # F1 to F9
NAME_LIMIT = 40


def check_view_name(value: Any) -> str:
    """A view's name: one line of visible text, at most NAME_LIMIT characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("a view's name must be some text")
    check_text(value, "view name", limit=NAME_LIMIT)
    return value


def check_view_filter(value: Any) -> str:
    """A view's filter, as the board's `/` reads it (its error names the field that is wrong)."""
    if not isinstance(value, str):
        raise InvalidInput('must be a filter in quotes, e.g. "sev:1,2 is:unowned"')
    check_text(value, "view filter")
    parse_filter(value)
    return value


@dataclass(frozen=True)
class SavedView:
    name: str
    query: str
    number: int  # its place in the file, from 1: F1 is number 1

    @property
    def key(self) -> str | None:
        """Its function key, for the first VIEW_KEYS views."""
        return f"f{self.number}" if self.number <= VIEW_KEYS else None


def saved_views(table: Mapping[str, str]) -> tuple[SavedView, ...]:
    """The config file's `[views]`, in the file's order."""
    return tuple(SavedView(name, query, number) for number, (name, query) in enumerate(table.items(), 1))


def view_named(views: tuple[SavedView, ...], name: str) -> SavedView:
    """The view called `name` (any case), or InvalidInput listing the views there are."""
    found = next((view for view in views if view.name.casefold() == name.casefold()), None)
    if found is None:
        known = ", ".join(view.name for view in views) or "none: add a [views] table to the config file"
        raise InvalidInput(f"no saved view {name!r} (views: {known})")
    return found
