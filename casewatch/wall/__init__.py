"""The wall display served to browsers (`casewatch wall`): textual-serve with a token, an input
filter and a viewer cap. The app each browser tab runs is `casewatch.tui.wall_app`."""

CONFIG_ENV = "CASEWATCH_WALL"
"""The environment variable that tells a viewer process its configuration (JSON: database, person,
zone, theme, interactive); never the token."""
