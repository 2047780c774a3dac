"""The footer of every casewatch screen: the keys that orient come first.

Textual's footer lists the focused widget's keys, then the screen's, then the app's, and cuts what
does not fit on the right: at 80 columns `?` (help) and `q` (quit, or back) were cut off. They
lead here, so they stay in view at any width; so does `u Undo` while an undo is offered.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.compose import compose
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

LEADING_ACTIONS = ("app.pop_screen", "dismiss", "quit", "help", "app.help", "undo", "keep", "clear")
"""Back (q or Esc on a screen over the board, or a dialog's), quit, help (the app's, or a dialog's own:
a dialog does not take the app's keys), undo (shown only for the few seconds it is offered), and the
filter bar's two ways out, Enter and Esc (its own keys came after the recall keys)."""


def _leading(key: object) -> int:
    if isinstance(key, FooterKey) and key.action in LEADING_ACTIONS:
        return LEADING_ACTIONS.index(key.action)
    return len(LEADING_ACTIONS)


class CasewatchFooter(Footer):
    _shown: tuple[object, ...] | None = None
    """What the keys on screen say: a focus change that keeps them (one pane to the next) keeps them."""

    def _keys_to_show(self) -> tuple[object, ...]:
        display = self.app.get_key_display
        return (self.compact, self.show_command_palette,
                *((key, binding, display(binding), enabled, tooltip)
                  for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()))

    async def recompose(self) -> None:
        """Textual's footer removes and mounts every key at each change of the keys in force, and
        each focus change is one; mounting them again when they say the same cost most of the
        footer's share of a keystroke."""
        keys = self._keys_to_show() if self.is_attached else None
        if keys is not None and keys == self._shown:
            return
        self._shown = keys  # a request that comes while these keys are mounted finds them shown
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._shown = self._keys_to_show() if self._bindings_ready and self.is_attached else None
        # Composed before they are sorted, so that a binding group's keys stay in their KeyGroup
        # (sorting what Textual's compose yields took them out of it, and its label from them).
        widgets = sorted(compose(self, super().compose()), key=_leading)  # stable: the rest keep their order
        for key in _keys(widgets):
            # Each key starts with the `compact` it will have: Textual's start at True and the
            # footer's binding sets them back, restyling every key twice, and the footer is
            # rebuilt at every focus change. The palette's key is not bound and stays compact.
            compact = True if key.has_class("-command-palette") else self.compact
            key.set_reactive(FooterKey.compact, compact)
            key.set_class(compact, "-compact", update=False)
        for part in _parts(widgets):
            part.__class__ = PLACED[type(part)]
        yield from widgets


class _PlacedOnce(Widget):
    """A footer part (key, group, label) whose first layout places it for good. Textual sets a
    new widget's virtual size in the layout that places it, and setting it asks for a layout
    and a repaint again: the footer, rebuilt at each change of the keys in force (`/` opening
    the filter bar), was laid out twice and drawn in a second frame just like the first. The
    parts hold no scrolled content, so their virtual size is their size and the layout that
    placed them has already drawn them."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


# (Textual's part first: its CSS, component classes included, follows the first base alone.)
class PlacedKey(FooterKey, _PlacedOnce):
    pass


class PlacedLabel(FooterLabel, _PlacedOnce):
    pass


class PlacedGroup(KeyGroup, _PlacedOnce):
    pass


PLACED: dict[type[Widget], type[Widget]] = {FooterKey: PlacedKey, FooterLabel: PlacedLabel, KeyGroup: PlacedGroup}
"""Textual's footer parts and what the footer makes of each as it composes them."""


def _parts(widgets: list[Widget]) -> Iterator[Widget]:
    """The footer's parts Textual composed, a binding group's keys (still to be mounted) among them."""
    for widget in widgets:
        if type(widget) in PLACED:
            yield widget
        if isinstance(widget, KeyGroup):
            yield from (key for key in widget._pending_children if type(key) in PLACED)


def _keys(widgets: list[Widget]) -> Iterator[FooterKey]:
    """The footer's keys, those of a binding group (in its KeyGroup, still to be mounted) among them."""
    for widget in widgets:
        if isinstance(widget, KeyGroup):
            yield from (key for key in widget._pending_children if isinstance(key, FooterKey))
        elif isinstance(widget, FooterKey):
            yield widget
