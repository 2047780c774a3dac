"""Which bindings a keymap may remap: every binding id of the app and of its screens."""

from __future__ import annotations

from textual.binding import Binding

from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.alerts import AlertHistoryScreen
from casewatch.tui.screens.board import BoardScreen
from casewatch.tui.screens.case import CaseScreen
from casewatch.tui.screens.event import EventScreen
from casewatch.tui.screens.evidence import EvidenceScreen, LeaveUnsaved
from casewatch.tui.screens.forms import Confirm, Form
from casewatch.tui.screens.handoff import HandoffScreen, NotePrompt
from casewatch.tui.screens.help import HelpScreen
from casewatch.tui.screens.metrics import MetricsScreen
from casewatch.tui.screens.packet import PacketScreen
from casewatch.tui.screens.policy import PolicyScreen
from casewatch.tui.widgets.case_table import CaseTable

# Form: every form's bindings; CaseTable: the board's cursor keys
SCREENS = (BoardScreen, CaseTable, CaseScreen, EvidenceScreen, LeaveUnsaved, PacketScreen, HandoffScreen, NotePrompt,
           HelpScreen, PolicyScreen, MetricsScreen, EventScreen, Form, Confirm, AlertHistoryScreen)


def binding_ids() -> set[str]:
    """Ids of the bindings the app and each screen (with its base classes) define: the [keymap] table's keys."""
    return {
        binding.id
        for owner in (CasewatchApp, *SCREENS)
        for klass in owner.__mro__
        for binding in vars(klass).get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }
