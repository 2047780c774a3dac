# PYTHON_ARGCOMPLETE_OK
"""The `casewatch` command: every action for scripts, bots and tests, and the board.

Exit codes: 0 done, 2 invalid / not found / denied / damaged, 3 conflict, 4 unavailable (worth
retrying; a full disk too).
Failures print one line on stderr and never a traceback. The subcommands are the table in
`cli.subcommands`.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from functools import cache
from typing import NoReturn

from pydantic import ValidationError

from casewatch.cli.spec import build_parser as _build
from casewatch.cli.subcommands import BOARD, GROUPS, SUBCOMMANDS
from casewatch.cli.terminal import check_arguments, guarded_output
from casewatch.core.errors import CasewatchError, FileInvalid, InvalidInput
from casewatch.core.text import visible


@cache
def build_parser() -> argparse.ArgumentParser:
    """Built once per process: parsing never changes it, and a process that runs many commands (a
    bot, the tests) would otherwise pay for every subcommand's parser each time."""
    return _build(__doc__.split("\n")[0] if __doc__ else "casewatch", BOARD, SUBCOMMANDS, GROUPS)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (argcomplete answers and exits)
        import argcomplete  # only then: loading it was 2 % of every command's start

        argcomplete.autocomplete(parser)
    with guarded_output():
        try:
            check_arguments(argv)
            args = parser.parse_args(argv)
        except InvalidInput as exc:
            print(f"casewatch: {exc}", file=sys.stderr)
            return exc.exit_code
        except SystemExit as exc:  # usage errors (already printed in one line) and --help
            return exc.code if isinstance(exc.code, int) else 2
        if args.entry is not BOARD:
            return _run(args)
    return _run(args)  # the board owns the terminal


def _run(args: argparse.Namespace) -> int:
    """Run the subcommand; any expected failure becomes one line on stderr and its exit code."""
    try:
        return int(args.entry.main(args))
    except FileInvalid as exc:
        for problem in exc.problems:
            print(f"casewatch: {visible(problem)}", file=sys.stderr)
        return exc.exit_code
    except CasewatchError as exc:
        print(f"casewatch: {visible(str(exc))}", file=sys.stderr)  # one line, whatever it quotes
        return exc.exit_code
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        print(f"casewatch: {visible(where)}: {visible(error['msg'])}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The console script: `main` in a process that ends with it. What the imports built (most of
    the objects there will ever be) lives as long as the process, so the cyclic collector stops
    rescanning it (`gc.freeze`); so does what is left at the end, which spares the interpreter's
    last collection on the way out. About 0.1 s of every command."""
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
