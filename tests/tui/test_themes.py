"""Every theme can be chosen: it defines every semantic colour and every variable the styles use."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

import casewatch.tui
from casewatch.core.clocks import ClockState
from casewatch.core.models import Severity
from casewatch.themes import THEMES

# The domain's colours: a pane and badge per severity, a countdown colour per clock state, the ⚑ mark.
SEMANTIC = {s.value.lower() for s in Severity} | {f"clock-{state.value}" for state in ClockState} | {"flag"}


def app_styles() -> list[tuple[str, str]]:
    """(where, css) for every .tcss file and every DEFAULT_CSS of a casewatch widget or screen."""
    root = Path(casewatch.tui.__file__).parent
    styles = [(str(path), path.read_text(encoding="utf-8")) for path in sorted(root.rglob("*.tcss"))]
    for module in pkgutil.walk_packages(casewatch.tui.__path__, "casewatch.tui."):
        for name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.name and "DEFAULT_CSS" in vars(cls):
                styles.append((f"{module.name}.{name}", cls.DEFAULT_CSS))
    return styles


def test_the_styles_are_found():
    assert any(where.endswith("app.tcss") for where, _ in app_styles())


@pytest.mark.parametrize("name", list(THEMES))
def test_every_theme_defines_every_semantic_colour(name):
    variables = THEMES[name].variables
    assert set(variables) >= SEMANTIC, f"{name} lacks {sorted(SEMANTIC - set(variables))}"
    assert all(variables[v].startswith("#") for v in SEMANTIC)


def test_every_theme_defines_the_same_variables():
    """A colour added to one theme and forgotten in another would crash the app when that one is chosen."""
    names = {name: set(theme.variables) for name, theme in THEMES.items()}
    first = next(iter(names.values()))
    assert all(found == first for found in names.values()), names


@pytest.mark.parametrize("name", list(THEMES))
def test_every_variable_the_styles_use_resolves_under_every_theme(name):
    """Parse the app's real styles with exactly what Textual gives them under this theme."""
    theme = THEMES[name]
    stylesheet = Stylesheet(variables={**theme.to_color_system().generate(), **theme.variables})
    for where, css in app_styles():
        stylesheet.add_source(css, read_from=(where, ""))
    stylesheet.parse()  # raises StylesheetParseError naming the undefined $variable
