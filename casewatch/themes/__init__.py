"""casewatch's Textual themes. Severity and clock-state colours are theme variables, so every
widget (and the .tcss) asks for `$sev1` or `$clock-breached` instead of a literal colour.
tests/tui/test_themes.py checks that every theme defines them all."""

from __future__ import annotations

from textual.theme import Theme

from casewatch.core.errors import InvalidInput

DEFAULT_THEME = "casewatch-dark"

THEMES: dict[str, Theme] = {
    "casewatch-dark": Theme(
        name="casewatch-dark", primary="#5fa8d3", secondary="#8fb8de", accent="#f2a541",
        foreground="#e0e4ea", background="#14181f", surface="#1c222b", panel="#262e3a",
        success="#6cc551", warning="#f2c14e", error="#ef5b5b", dark=True,
        variables={
            "sev1": "#ff5f5f", "sev2": "#ffa657", "sev3": "#e3c567", "sev4": "#7fa7c9",
            "clock-running": "#9fb3c8", "clock-warning": "#f2c14e", "clock-breached": "#ff5f5f",
            "clock-paused": "#a78bfa", "clock-met": "#6cc551", "clock-stopped": "#6b7785", "flag": "#f2a541",
        },
    ),
    "casewatch-light": Theme(
        name="casewatch-light", primary="#1d5f8a", secondary="#3b6e99", accent="#b35900",
        foreground="#1d232b", background="#f6f7f9", surface="#ffffff", panel="#e4e8ee",
        success="#2e7d32", warning="#9a6700", error="#c62828", dark=False,
        variables={
            "sev1": "#c62828", "sev2": "#c25100", "sev3": "#8a6d00", "sev4": "#1d5f8a",
            "clock-running": "#3d4a5a", "clock-warning": "#9a6700", "clock-breached": "#c62828",
            "clock-paused": "#6a3fc9", "clock-met": "#2e7d32", "clock-stopped": "#7a8594", "flag": "#b35900",
        },
    ),
    "casewatch-high-contrast": Theme(
        name="casewatch-high-contrast", primary="#00ffff", secondary="#ffffff", accent="#ffff00",
        foreground="#ffffff", background="#000000", surface="#000000", panel="#1a1a1a",
        success="#00ff00", warning="#ffff00", error="#ff0000", dark=True,
        variables={
            "sev1": "#ff0000", "sev2": "#ff8800", "sev3": "#ffff00", "sev4": "#00ffff",
            "clock-running": "#ffffff", "clock-warning": "#ffff00", "clock-breached": "#ff0000",
            "clock-paused": "#ff00ff", "clock-met": "#00ff00", "clock-stopped": "#aaaaaa", "flag": "#ffff00",
        },
    ),
}


def resolve_theme(name: str | None) -> str:
    """The theme to use; an unknown name is a one-line input error listing the choices."""
    if name is None:
        return DEFAULT_THEME
    if name not in THEMES:
        raise InvalidInput(f"unknown theme {name!r}: choose {', '.join(THEMES)}")
    return name
