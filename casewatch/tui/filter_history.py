"""The filter bar's history file (core.filter_history): read when the bar first opens, written
whole and atomically (a temporary file renamed over it) each time a filter is kept.

A file that cannot be read or is not a history is passed over with one notice, never a crash;
the next filter kept writes a good one in its place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from casewatch.core.errors import CasewatchError
from casewatch.core.filter_history import histories_text, read_histories, remembered


class FilterHistory:
    """One person's earlier filters, newest first, kept in `path` beside everyone else's on the machine."""

    def __init__(self, path: Path, person: str, warn: Callable[[str], None]):
        self.path = path
        self.person = person
        self._warn = warn  # says, once, that the file was passed over and why
        self._all: dict[str, list[str]] | None = None  # read on first use
        self._warned = False

    @property
    def filters(self) -> list[str]:
        return list(self._read().get(self.person, []))

    def keep(self, query: str) -> None:
        """`query` becomes the newest of the person's filters, on disk at once (read again first:
        another board on this machine may have kept filters since)."""
        self._all = None
        histories = self._read()
        newest = remembered(histories.get(self.person, []), query)
        if newest == histories.get(self.person, []):
            return
        histories[self.person] = newest
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
            partial.write_text(histories_text(histories), encoding="utf-8")
            partial.replace(self.path)  # never half a file: a reader sees the old one or the new one
        except OSError as exc:
            self._warn(f"cannot write {self.path}: {exc.strerror or exc}")

    def _read(self) -> dict[str, list[str]]:
        if self._all is None:
            self._all = {}
            try:
                self._all = read_histories(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                pass
            except (OSError, UnicodeDecodeError, CasewatchError) as exc:
                if not self._warned:
                    self._warned = True
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    self._warn(f"{self.path} was passed over ({why}); earlier filters start again from here")
        return self._all
