"""Modal forms. They validate inline and return a command via `dismiss`; the app performs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from casewatch.core.errors import CasewatchError

CANCEL = Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without changing anything")


class _Form(ModalScreen):
    """A titled dialog with an error line; Escape cancels."""

    BINDINGS = [CANCEL]

    def __init__(self, title: str):
        super().__init__()
        self.form_title = title

    def _frame(self) -> Vertical:
        frame = Vertical(classes="form")
        frame.border_title = self.form_title
        return frame

    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(Text(text))


class _Checked(Validator):
    """Adapts a core parser (raising CasewatchError) into an inline Input validator."""

    def __init__(self, parse: Callable[[str], object]):
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except CasewatchError as exc:
            return self.failure(str(exc))
        return self.success()


def match_names(typed: str, names: Sequence[str]) -> list[str]:
    """Roster names `typed` could mean: an exact name (any case), else every name it starts."""
    typed = typed.strip().casefold()
    exact = [name for name in names if name.casefold() == typed]
    return exact or [name for name in names if typed and name.casefold().startswith(typed)]


class PersonPrompt(_Form):
    """Pick a person from the roster: names autocomplete (→ accepts), Enter takes an exact name or
    a unique beginning, and a name nobody on the roster has is refused inline."""

    def __init__(self, title: str, names: Sequence[str], build: Callable[[str], object], *, role: bool = False):
        super().__init__(title)
        self.names = list(names)
        self.build = build
        self.ask_role = role

    def compose(self) -> ComposeResult:
        with self._frame():
            yield Label("Name (→ completes):")
            yield Input(placeholder="name", id="name", suggester=SuggestFromList(self.names, case_sensitive=False))
            if self.ask_role:
                yield Label("Case role (blank: their roster role):")
                yield Input(placeholder="e.g. incident-commander", id="role")
            yield Static(id="form-error", classes="form-error")

    @on(Input.Changed, "#name")
    def _live(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        self.show_error(f"nobody on the roster is called {typed}…" if typed and not match_names(typed, self.names)
                        else "")

    @on(Input.Submitted)
    def _submit(self) -> None:
        typed = self.query_one("#name", Input).value.strip()
        matches = match_names(typed, self.names)
        if len(matches) != 1:
            self.show_error(f"{typed or 'a name'} could be {', '.join(matches)}: type more" if matches
                            else f"{typed or 'a name'} is not on the roster")
            self.query_one("#name", Input).focus()
            return
        name = matches[0]
        role = self.query_one("#role", Input).value.strip() if self.ask_role else None
        self.dismiss(self.build(name, role) if self.ask_role else self.build(name))


class ChoicePrompt(_Form):
    """Pick one of a few values (severity, status), optionally with a required reason."""

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None,
                 build: Callable[..., object], *, reason: bool):
        super().__init__(title)
        self.choices = choices
        self.current = current
        self.build = build
        self.ask_reason = reason

    def compose(self) -> ComposeResult:
        with self._frame():
            options = [Option(Text(label), id=value, disabled=value == self.current) for value, label in self.choices]
            yield OptionList(*options, id="choices")
            if self.ask_reason:
                yield Label("Reason (required):")
                yield Input(placeholder="why", id="reason")
            yield Static(id="form-error", classes="form-error")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        for index, (value, _label) in enumerate(self.choices):
            if value != self.current:
                choices.highlighted = index
                break

    @on(OptionList.OptionSelected)
    def _picked(self) -> None:
        if self.ask_reason:
            self.query_one("#reason", Input).focus()
        else:
            self._submit()

    @on(Input.Submitted)
    def _submit(self) -> None:
        choices = self.query_one(OptionList)
        if choices.highlighted is None:
            self.show_error("pick a value first")
            return
        value = choices.get_option_at_index(choices.highlighted).id
        if value == self.current:
            self.show_error(f"it is already {value}")
            return
        if self.ask_reason:
            reason = self.query_one("#reason", Input).value.strip()
            if not reason:
                self.show_error("a reason is required")
                return
            self.dismiss(self.build(value, reason))
        else:
            self.dismiss(self.build(value))


class TextPrompt(_Form):
    """One or more labelled text fields, each checked by a core parser before submitting."""

    def __init__(self, title: str, fields: Sequence[tuple[str, str, str]], build: Callable[..., object],
                 parsers: dict[str, Callable[[str], object]] | None = None,
                 suggestions: dict[str, Sequence[str]] | None = None, optional: Sequence[str] = ()):
        super().__init__(title)
        self.fields = fields  # (id, label, placeholder)
        self.build = build
        self.parsers = parsers or {}
        self.suggestions = suggestions or {}
        self.optional = set(optional)

    def compose(self) -> ComposeResult:
        with self._frame():
            yield from self.compose_fields()
            yield Static(id="form-error", classes="form-error")

    def compose_fields(self) -> ComposeResult:
        for field_id, label, placeholder in self.fields:
            yield Label(label)
            suggester = None
            if field_id in self.suggestions:
                suggester = SuggestFromList(self.suggestions[field_id], case_sensitive=False)
            validators = [_Checked(self.parsers[field_id])] if field_id in self.parsers else []
            yield Input(placeholder=placeholder, id=field_id, suggester=suggester, validators=validators,
                        valid_empty=field_id in self.optional)

    def values(self) -> dict[str, str]:
        return {field_id: self.query_one(f"#{field_id}", Input).value.strip() for field_id, _, _ in self.fields}

    @on(Input.Changed)
    def _live(self, event: Input.Changed) -> None:
        result = event.validation_result
        self.show_error("; ".join(result.failure_descriptions) if result and not result.is_valid else "")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index < len(inputs) - 1:  # Enter moves on until the last field
            inputs[index + 1].focus()
            return
        values = self.values()
        for field_id, label, _ in self.fields:
            if not values[field_id] and field_id not in self.optional:
                self.show_error(f"{label.rstrip(':')} is required")
                self.query_one(f"#{field_id}", Input).focus()
                return
        try:
            for field_id, parse in self.parsers.items():
                if values[field_id]:
                    parse(values[field_id])
            command = self.build(**values)
        except CasewatchError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(command)


class UpdateForm(TextPrompt):
    """The structured customer update, with a live preview of the message that will be sent."""

    def __init__(self, title: str, build: Callable[..., object], preview: Callable[..., str],
                 parsers: dict[str, Callable[[str], object]]):
        super().__init__(
            title,
            [("known", "What we know:", "what is confirmed"),
             ("investigating", "What we are investigating:", "the open question"),
             ("next_milestone", "Next milestone:", "what the customer should expect next"),
             ("next_update_in", "Next update in (blank: policy cadence):", "e.g. 45m")],
            build, parsers=parsers, optional=("next_update_in",),
        )
        self.preview = preview

    def compose(self) -> ComposeResult:
        with self._frame():
            yield from self.compose_fields()
            yield Static(id="form-error", classes="form-error")
            yield Label("Preview:")
            yield Static(id="preview", classes="preview")

    def on_mount(self) -> None:
        self._refresh_preview()

    @on(Input.Changed)
    def _live(self, event: Input.Changed) -> None:
        super()._live(event)
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        try:
            text = self.preview(**self.values())
        except CasewatchError as exc:
            text = f"(no preview: {exc})"
        self.query_one("#preview", Static).update(Text(text))
