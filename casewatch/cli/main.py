# PYTHON_ARGCOMPLETE_OK
"""The `casewatch` command: every action for scripts, bots and tests, and the board.

Exit codes: 0 success, 2 invalid input / not found / denied, 3 conflict. User errors print one
line on stderr and never a traceback. The subcommands are the table in `cli.subcommands`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import argcomplete
from pydantic import ValidationError

from casewatch.cli.spec import build_parser as _build
from casewatch.cli.subcommands import BOARD, GROUPS, SUBCOMMANDS
from casewatch.core.errors import CasewatchError, FileInvalid


def build_parser() -> argparse.ArgumentParser:
    return _build(__doc__.split("\n")[0] if __doc__ else "casewatch", BOARD, SUBCOMMANDS, GROUPS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argcomplete.autocomplete(parser)  # answers the shell's completion request and exits; else does nothing
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (already printed in one line) and --help
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.entry.main(args))
    except FileInvalid as exc:
        for problem in exc.problems:
            print(f"casewatch: {problem}", file=sys.stderr)
        return exc.exit_code
    except CasewatchError as exc:
        print(f"casewatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        print(f"casewatch: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
