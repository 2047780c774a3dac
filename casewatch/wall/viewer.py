"""One browser tab's process: the wall app, configured by the server through its environment.

`python -m casewatch.wall.viewer`, started by `casewatch.wall.server` only (textual-serve's web
driver speaks to it over stdin and stdout).
"""

from __future__ import annotations

import json
import os
import sys

from casewatch.storage.target import resolve_target
from casewatch.tui.wall_app import WallApp
from casewatch.wall import CONFIG_ENV


def main() -> int:
    config = json.loads(os.environ[CONFIG_ENV])
    app = WallApp(resolve_target(config["db"]), config["actor"], zone=config["zone"], theme=config["theme"],
                  interactive=config["interactive"])
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
