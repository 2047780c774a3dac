"""ctrl+t in the customer-update form: pick one of the policy's templates for the case's severity."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from casewatch.core.text import visible
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.widgets.cells import literal


class PickTemplate(CasewatchModal[int]):
    """The templates by name; Enter takes the highlighted one (its index), Esc none."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="template.cancel", tooltip="Keep the form as it is")]

    def __init__(self, names: Sequence[str]):
        super().__init__()
        self.names = list(names)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form") as frame:
            frame.border_title = literal("Start from a template")
            yield Label(Content("Enter fills in the form (what you typed there is replaced)."))
            yield OptionList(*(Option(Content(visible(name)), id=str(index)) for index, name in enumerate(self.names)))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)
