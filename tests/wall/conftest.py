"""The CLI fixture the wall's tests share with the CLI's."""

from tests.cli.conftest import run_cli  # noqa: F401 - a fixture, used by name
