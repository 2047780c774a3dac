"""Modal forms. They validate inline and hand on what they built: a form that writes stays open
until the app has performed its command, so a refusal or a conflict shows beside the user's text."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from casewatch.core.commands import Command, OnCase
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.text import visible
from casewatch.tui.messages import ActionDone
from casewatch.tui.screens.base import CasewatchModal
from casewatch.tui.widgets.cells import literal
from casewatch.tui.widgets.plain_paste import PlainInput, PlainTextArea

Result = TypeVar("Result")

CANCEL = Binding("escape", "cancel", "Cancel", id="form.cancel",
                 tooltip="Close without changing anything (asking first if it would throw away typed text)")
SUBMIT = Binding("ctrl+s", "submit", "Submit", id="form.submit",
                 tooltip="Submit the form (Enter does too, from a one-line field)")


class Form(CasewatchModal[Result | None], Generic[Result]):
    """A titled dialog with an error line; Escape cancels (None), ctrl+s submits (a `Result`).

    Without `writes` the form closes with its result. With it (a case action), the form hands the
    command to `writes` and stays open until the app says how the write went (`ActionDone`): done
    closes it; a refusal or a conflict is shown in the error line, the typed text stays, and the
    next submit is made against the version the conflict brought (`seen_version`)."""

    BINDINGS = [CANCEL, SUBMIT]

    def __init__(self, title: str, *, disposable: bool = False):
        super().__init__()
        self.form_title = title
        self.disposable = disposable  # what is typed is cheap to type again (a filter): Esc never asks
        self.writes: Callable[[Result], None] | None = None
        self.seen_version: int | None = None  # after a conflict: the version the user has now been told about
        self.sending = False  # a write is under way: another submit waits for its answer
        self.written: str | None = None  # the case the write went to, once it is done (a new case's id)
        self._error: str | None = None  # what the error line shows (None: nothing set yet)

    def _frame(self) -> VerticalScroll:
        """The dialog's frame: it scrolls (to the focused field) when the fields do not fit the terminal."""
        frame = VerticalScroll(classes="form", can_focus=False)
        frame.border_title = literal(self.form_title)  # it names the case, its customer
        return frame

    @on(events.DescendantFocus)
    def _first_field_with_its_label(self, event: events.DescendantFocus) -> None:
        """Focusing the first field scrolled a tall form (80×24) just past its first label: on the
        first field, the form shows from its top."""
        fields = [w for w in self.query("Input, TextArea") if w.focusable]
        if fields and event.widget is fields[0]:
            for frame in self.query("VerticalScroll.form"):
                frame.call_after_refresh(frame.scroll_home, animate=False)

    def action_cancel(self) -> None:
        """A form asks before it throws away what the user typed: one Esc too many must not cost a
        long note. n or Esc keeps the form and the text."""
        if self.disposable or not self.typed():
            self.dismiss(None)
            return
        ask_before_discarding(self, self.form_title)

    def typed(self) -> bool:
        """Whether closing the form would throw away text the user typed (forms start empty)."""
        return (any(field.value.strip() for field in self.query(Input))
                or any(area.text.strip() for area in self.query(TextArea)))

    def action_submit(self) -> None:
        self.submit()

    def submit(self) -> None:
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        """Called at every key typed: the line is only set (a layout of the whole dialog) when it changes."""
        if text == self._error:
            return
        self._error = text
        error = self.query_one("#form-error", Static)
        error.update(Text(visible(text)))
        if text:  # below the fold of a tall form at 80×24: bring it into view
            self.call_after_refresh(error.scroll_visible, animate=False)

    def send(self, result: Result) -> None:
        """Hand on what the form built (see the class docstring)."""
        if self.writes is None:
            self.dismiss(result)
            return
        if self.sending:
            return
        if isinstance(result, OnCase) and self.seen_version is not None:
            result = result.model_copy(update={"expect_version": self.seen_version})
        self.sending = True
        self.show_error("")
        self.writes(result)

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        self.sending = False
        if message.ok:
            self.written = message.case_id
            self.dismiss(None)
        elif message.conflict:
            self.seen_version = message.version
            self.show_error(f"{message.text}. Your text is kept: check it against that change and submit again "
                            "(ctrl+s), or Esc to leave it.")
        else:
            self.show_error(f"Not done: {message.text}")


def _text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Field:
    """One text field of a form: everything the form needs to show it, check it and read it."""

    id: str
    label: str
    placeholder: str = ""
    parse: Callable[[str], object] = _text  # the one check: a core parser, raising CasewatchError
    optional: bool = False  # blank is allowed and reads as None
    suggestions: Sequence[str] = ()
    multiline: bool = False  # a TextArea: Enter starts a new line, ctrl+s submits
    value: str = ""  # what the field holds when the form opens (the filter in force)

    @property
    def name(self) -> str:
        return self.label.rstrip(":")


class TextPrompt(Form[Result]):
    """Labelled text fields. Each value is read through its field's parser, in `read`, both for the
    inline error line and on submit; `build` gets the parsed values by field id."""

    def __init__(self, title: str, fields: Sequence[Field], build: Callable[..., Result], *,
                 disposable: bool = False):
        super().__init__(title, disposable=disposable)
        self.fields = tuple(fields)
        self.build = build

    def compose(self) -> ComposeResult:
        with self._frame():
            yield from self.compose_fields()
            yield Static(id="form-error", classes="form-error")

    def compose_fields(self) -> ComposeResult:
        for field in self.fields:
            yield Label(field.label)
            if field.multiline:
                yield PlainTextArea(id=field.id, placeholder=field.placeholder or "ctrl+s submits",
                               soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
            else:
                suggester = SuggestFromList(field.suggestions, case_sensitive=False) if field.suggestions else None
                yield PlainInput(field.value, placeholder=field.placeholder, id=field.id, suggester=suggester)

    def text_of(self, field: Field) -> str:
        widget = self.query_one(f"#{field.id}")
        return (widget.text if isinstance(widget, TextArea) else self.query_one(f"#{field.id}", Input).value).strip()

    def read(self, field: Field) -> object:
        """The field's value as its parser reads it (None when optional and blank); CasewatchError if invalid."""
        text = self.text_of(field)
        if not text:
            if field.optional:
                return None
            raise InvalidInput(f"{field.name} is required")
        return field.parse(text)

    def values(self) -> dict[str, object]:
        """Every field's value, None where a field is blank or invalid (for previews)."""
        values: dict[str, object] = {}
        for field in self.fields:
            try:
                values[field.id] = self.read(field) if self.text_of(field) else None
            except CasewatchError:
                values[field.id] = None
        return values

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _typing(self, event: Input.Changed | TextArea.Changed) -> None:
        """While a field is being typed, its earlier refusal goes: a value is checked when the field
        is left with Enter and on submit, not at every keystroke (`unknown team 'd'`)."""
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if widget.has_class("-invalid"):
            widget.remove_class("-invalid")
            self.show_error("")

    def _checked(self, field: Field, widget: Input) -> bool:
        """Complete a unique beginning of one of the field's suggestions (`conf` → `config-change`),
        then check the value: False, with the error shown, when it is refused."""
        typed = widget.value.strip()
        if typed and field.suggestions:
            matches = [s for s in field.suggestions if s.casefold().startswith(typed.casefold())]
            if len(matches) == 1 and matches[0] != typed:
                widget.value = matches[0]
        if not self.text_of(field):
            return True  # a blank field is only refused on submit
        try:
            self.read(field)
        except CasewatchError as exc:
            widget.add_class("-invalid")
            self.show_error(str(exc))
            return False
        return True

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter checks the field (completing a unique beginning), then moves on to the next field,
        and submits from the last one."""
        ids = [field.id for field in self.fields]
        index = ids.index(event.input.id or "")
        if not self._checked(self.fields[index], event.input):
            return
        if index < len(ids) - 1:
            self.query_one(f"#{ids[index + 1]}").focus()
        else:
            self.submit()

    def submit(self) -> None:
        values = {}
        for field in self.fields:
            try:
                values[field.id] = self.read(field)
            except CasewatchError as exc:
                self.show_error(str(exc))
                self.query_one(f"#{field.id}").focus()
                return
        try:
            command = self.build(**values)
        except CasewatchError as exc:
            self.show_error(str(exc))
            return
        self.send(command)


class UpdateForm(TextPrompt[Command]):
    """The structured customer update, with a live preview of the message that will be sent.
    `templates`: the policy's for the case, by name, already filled in (field id -> text); ctrl+t
    picks one."""

    BINDINGS = [Binding("ctrl+t", "template", "Template", id="update.template",
                        tooltip="Start from one of the policy's customer-update templates for this severity")]

    def __init__(self, title: str, fields: Sequence[Field], build: Callable[..., Command],
                 preview: Callable[[Mapping[str, object]], str],
                 templates: Sequence[tuple[str, Mapping[str, str]]] = ()):
        super().__init__(title, fields, build)
        self.preview = preview
        self.templates = list(templates)

    def action_template(self) -> None:
        from casewatch.tui.screens.template_pick import PickTemplate

        if not self.templates:
            self.app.notify("The policy has no customer-update template for this severity ([[templates]])",
                            severity="warning")
            return
        self.app.push_screen(PickTemplate([name for name, _ in self.templates]), self._use_template)

    def _use_template(self, index: int | None) -> None:
        if index is None:
            return
        for field_id, text in self.templates[index][1].items():
            widget = self.query_one(f"#{field_id}")
            if isinstance(widget, TextArea):
                widget.load_text(text)
            elif isinstance(widget, Input):
                widget.value = text

    def compose(self) -> ComposeResult:
        with self._frame():
            yield from self.compose_fields()
            yield Static(id="form-error", classes="form-error")
            yield Label("Preview (Tab to it, ↑↓ scroll):")
            with VerticalScroll(id="preview-scroll", classes="preview"):  # a long message, a short terminal
                yield Static(id="preview")

    def on_mount(self) -> None:
        self._refresh_preview()

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _refresh_preview(self) -> None:
        try:
            text = self.preview(self.values())
        except CasewatchError as exc:
            text = f"(no preview: {exc})"
        self.query_one("#preview", Static).update(Text(text))


def match_names(typed: str, names: Sequence[str]) -> list[str]:
    """Roster names `typed` could mean: an exact name (any case), else every name it starts."""
    typed = typed.strip().casefold()
    exact = [name for name in names if name.casefold() == typed]
    return exact or [name for name in names if typed and name.casefold().startswith(typed)]


class PersonPrompt(Form[Result]):
    """Pick a person from the roster: names autocomplete (→ accepts), Enter takes an exact name or
    a unique beginning, and a name nobody on the roster has is refused inline. With `roles`, the
    form also asks for a case role, offering those (the policy's) or any typed one: Enter in the
    name field moves on to it, and the form only submits once a role is given; `build` gets it."""

    def __init__(self, title: str, names: Sequence[str], build: Callable[..., Result], *,
                 roles: Sequence[str] | None = None, refusal: Callable[[str], str | None] | None = None):
        super().__init__(title)
        self.names = list(names)
        self.build = build
        self.roles = roles
        self.refusal = refusal  # why a name typed is not offered (someone on the roster who may not be chosen)

    def compose(self) -> ComposeResult:
        with self._frame():
            yield Label("Name (→ completes):")
            yield PlainInput(placeholder="name", id="name", suggester=SuggestFromList(self.names, case_sensitive=False))
            if self.roles is not None:
                offered = ", ".join(self.roles) or "none listed"
                yield Label(Content(visible(f"Case role (→ completes; the policy's: {offered}; or type one):")))
                yield PlainInput(placeholder="e.g. incident-commander", id="role",
                            suggester=SuggestFromList(self.roles, case_sensitive=False))
            yield Static(id="form-error", classes="form-error")

    @on(Input.Changed, "#name")
    def _live(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        self.show_error(self._not_offered(typed, live=True) if typed and not match_names(typed, self.names) else "")

    def _not_offered(self, typed: str, *, live: bool = False) -> str:
        """Why nobody offered matches `typed`: the refusal for that person, or that nobody has the name."""
        reason = self.refusal(typed) if self.refusal is not None and typed else None
        if reason:
            return reason
        return f"nobody on the roster is called {typed}…" if live else f"{typed or 'a name'} is not on the roster"

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter in the name field moves on to the role, when there is one; elsewhere it submits."""
        if event.input.id == "name" and self.roles is not None:
            if self._chosen_name() is not None:
                self.query_one("#role", Input).focus()
            return
        self.submit()

    def _chosen_name(self) -> str | None:
        """The one roster name typed, or None with the error line saying why."""
        typed = self.query_one("#name", Input).value.strip()
        matches = match_names(typed, self.names)
        if len(matches) != 1:
            self.show_error(f"{typed or 'a name'} could be {', '.join(matches)}: type more" if matches
                            else self._not_offered(typed))
            self.query_one("#name", Input).focus()
            return None
        self.show_error("")
        return matches[0]

    def submit(self) -> None:
        name = self._chosen_name()
        if name is None:
            return
        try:
            if self.roles is None:
                result = self.build(name)
            elif not (role := self.query_one("#role", Input).value.strip()):
                self.query_one("#role", Input).focus()
                raise InvalidInput(f"choose a case role for {name}: one of the policy's or type one")
            else:
                result = self.build(name, role)
        except CasewatchError as exc:
            self.show_error(str(exc))
            return
        self.send(result)


class ChoicePrompt(Form[Command]):
    """Pick one of a few values (severity, status), optionally with a required reason."""

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None,
                 build: Callable[..., Command], *, reason: bool):
        super().__init__(title)
        self.choices = choices
        self.current = current
        self.build = build
        self.ask_reason = reason

    def compose(self) -> ComposeResult:
        with self._frame():
            options = [Option(Text(f"{label}  (current)" if value == self.current else label), id=value)
                       for value, label in self.choices]
            yield OptionList(*options, id="choices")
            if self.ask_reason:
                yield Label("Reason (required):")
                yield PlainInput(placeholder="why", id="reason")
            yield Static(id="form-error", classes="form-error")

    def on_mount(self) -> None:
        """The cursor starts on the current value, so ↓ moves one level from it."""
        values = [value for value, _label in self.choices]
        self.query_one(OptionList).highlighted = values.index(self.current) if self.current in values else 0

    @on(OptionList.OptionSelected)
    def _picked(self) -> None:
        if self.ask_reason:
            self.query_one("#reason", Input).focus()
        else:
            self.submit()

    @on(Input.Submitted)
    def submit(self) -> None:
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
            self.send(self.build(value, reason))
        else:
            self.send(self.build(value))


class Confirm(CasewatchModal[bool]):
    """An action that is hard to take back asks first: y (or Enter) goes ahead, n (or Esc) does not."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Leave it as it is"),
    ]

    def __init__(self, title: str, question: str):
        super().__init__()
        self.confirm_title = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="form") as frame:
            frame.border_title = literal(self.confirm_title)
            yield Label(Content(visible(self.question)))
            yield Label(Content("y goes ahead, n leaves it as it is."))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def ask_before_discarding(dialog: ModalScreen[Any], title: str) -> None:
    """Esc on a dialog holding typed text: y closes it (the dialog's result is None), n or Esc keeps it."""
    def answered(discard: bool | None) -> None:
        if discard:
            dialog.dismiss(None)

    dialog.app.push_screen(Confirm(title, "Close the form and discard what you typed?"), answered)
