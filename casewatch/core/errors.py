"""Errors a user can cause. Each maps to a CLI exit code and a one-line message."""


class CasewatchError(Exception):
    """Base for every expected failure; `exit_code` is what the CLI returns."""

    exit_code = 2


class InvalidInput(CasewatchError):
    """The input is malformed or breaks a rule of the domain."""


class NotFound(CasewatchError):
    """A case, person or file named by the user does not exist."""


class PermissionDenied(CasewatchError):
    """The acting person may not perform the action; the message names the rule."""


class Conflict(CasewatchError):
    """The case changed since the caller read it; nothing was written."""

    exit_code = 3


class ProjectionsDiffer(CasewatchError):
    """`db verify` found projection rows that differ from a replay of the log."""

    exit_code = 1


class Unavailable(CasewatchError):
    """The database could not serve the command right now (busy, lock timeout, server gone);
    retrying later may succeed."""

    exit_code = 4


class FileInvalid(InvalidInput):
    """A TOML file (policy, config) has problems; `problems` lists every one, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(problems))


class PolicyInvalid(FileInvalid):
    """A severity policy has problems; nothing of it is applied."""
