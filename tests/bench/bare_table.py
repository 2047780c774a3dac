"""The fair bare-table floor as a program of its own, for the pty figures: the same rows as the same
cells in one plain DataTable (app_runs.bare_app), run in the terminal it is started in, with the
real clock. Leave with ctrl+q.

    python tests/bench/bare_table.py DATABASE
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime

from app_runs import bare_app

if __name__ == "__main__":
    bare_app(sys.argv[1], datetime.now(UTC), width=shutil.get_terminal_size().columns, announce=True).run()
