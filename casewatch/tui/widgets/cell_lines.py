"""A one-line table cell's text drawn into segments as DataTable draws it, minus Rich's layers.

DataTable draws a cell as `console.render_lines(Styled(Padding(text, (0, padding)), pre, post))`:
the text wrapped and rendered, cropped or padded to the room inside the padding, padded, styled
and cropped to the cell. Rich goes there through generic layers (options copied at each level,
renderables cast and checked segment by segment) that cost as much again as the text's own
rendering: a filter keystroke that brings forty rows into view draws some two hundred cells anew.
Here the same Rich steps run in the same order, for the cells they fit (Textual 8.2.8 and Rich
as pinned; tests/tui/test_case_table.py holds the two to the same segments).
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import DEFAULT_JUSTIFY, DEFAULT_OVERFLOW, Text
from textual._types import SegmentLines


def text_cell_lines(console: Console, options: ConsoleOptions, cell: Text, padding: int,
                    pre_style: Style, post_style: Style) -> SegmentLines | None:
    """The cell at `options.max_width` in a one-line row, as DataTable draws it with these
    styles; None for a cell this does not draw (a line break or a tab in it, a cell that asks to
    wrap, no room inside the padding): DataTable draws those."""
    width = options.max_width
    inner = width - 2 * padding
    plain = cell.plain
    if inner < 1 or cell.no_wrap is False or "\n" in plain or "\t" in plain:
        return None
    # Text.__rich_console__, at the width inside the padding (Padding's options)
    wrapped = cell.wrap(console, inner, justify=cell.justify or options.justify or DEFAULT_JUSTIFY,
                        overflow=cell.overflow or options.overflow or DEFAULT_OVERFLOW,
                        tab_size=(console.tab_size if cell.tab_size is None else cell.tab_size) or 8, no_wrap=True)
    rendered = Text("\n").join(wrapped).render(console, end=cell.end)
    # Padding: its first line (its height is the row's, one), padded with its null style
    blank = Style.null()
    lines = iter(Segment.split_and_crop_lines(rendered, inner, style=blank, pad=True, include_new_lines=False))
    line = next(lines, None)
    if line is None:
        return None
    side = [Segment(" " * padding, blank)] if padding else []
    framed = [*side, *line, *side, Segment.line()]
    # Styled, then the outer render_lines: one line at the cell's width
    styled = Segment.apply_style(framed, style=pre_style, post_style=post_style)
    drawn = next(iter(Segment.split_and_crop_lines(styled, width, pad=True, include_new_lines=False)), None)
    return None if drawn is None else [drawn]
