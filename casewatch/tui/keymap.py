"""Which bindings a keymap may remap: every binding id of the app and of its screens."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding

from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.alerts import AlertHistoryScreen, SnoozePicker
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.event import EventScreen
from casewatch.tui.screens.evidence import EvidenceScreen, LeaveUnsaved
from casewatch.tui.screens.forms import Confirm, Form, UpdateForm
from casewatch.tui.screens.handoff import HandoffScreen, NotePrompt
from casewatch.tui.screens.help import HelpScreen
from casewatch.tui.screens.metrics import MetricsScreen
from casewatch.tui.screens.packet import PacketScreen
from casewatch.tui.screens.policy import PolicyScreen
from casewatch.tui.screens.quick_actions import TAKES_TURNS
from casewatch.tui.screens.template_pick import PickTemplate
from casewatch.tui.widgets.case_table import CaseTable
from casewatch.tui.widgets.filter_bar import FilterBar

# Form: every form's bindings; CaseTable: the board's cursor keys; FilterBar: the board's filter bar
SCREENS = (BoardScreen, CaseTable, FilterBar, CaseScreen, EvidenceScreen, LeaveUnsaved, PacketScreen,
           HandoffScreen, NotePrompt, HelpScreen, PolicyScreen, MetricsScreen, EventScreen, Form, Confirm,
           AlertHistoryScreen, UpdateForm, PickTemplate, SnoozePicker)


def binding_ids() -> set[str]:
    """Ids of the bindings the app and each screen (with its base classes) define: the [keymap] table's keys."""
    return {
        binding.id
        for owner in (CasewatchApp, *SCREENS)
        for klass in owner.__mro__
        for binding in vars(klass).get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }


def _own_bindings(owner: type) -> list[Binding]:
    return [binding for klass in owner.__mro__ for binding in vars(klass).get("BINDINGS", ())
            if isinstance(binding, Binding) and binding.id]


@dataclass(frozen=True)
class Clash:
    """One key two bindings of a screen would share: what to say, and the binding ids (the ones
    the keymap remapped are where the config file is wrong)."""

    text: str
    ids: frozenset[str]

    def __str__(self) -> str:
        return self.text


def keymap_clashes(keymap: Mapping[str, str]) -> list[Clash]:
    """Keys the keymap would give two of casewatch's bindings on one screen (the board with its
    tables): only one of them would ever run. A screen's key over an app-wide one is deliberate
    (`q` goes back on a case screen and quits on the board), so only one screen's own are compared;
    and pairs that take turns on one key (`TAKES_TURNS`) are meant to share it."""
    found = []
    for owner in SCREENS:
        group = _own_bindings(owner) + (_own_bindings(CaseTable) if owner is BoardScreen else [])
        by_key: dict[str, set[str]] = defaultdict(set)
        for binding in group:
            keys = keymap.get(binding.id or "", binding.key)
            for key in keys.split(","):
                by_key[key.strip()].add(binding.id or "")
        name = owner.__name__.removesuffix("Screen").lower()
        found += [Clash(f"{key!r} would do two things on the {name} screen: {' and '.join(sorted(ids))}",
                        frozenset(ids))
                  for key, ids in by_key.items() if len(ids) > 1 and frozenset(ids) not in TAKES_TURNS]
    return found
