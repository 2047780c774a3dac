"""Who is acting: --as, then CASEWATCH_USER, then the config file, then the OS user name."""

from __future__ import annotations


def acting_name(flag: str | None, env: str | None, config: str | None, os_user: str) -> str:
    for candidate in (flag, env, config, os_user):
        if candidate and candidate.strip():
            return candidate.strip()
    return os_user
