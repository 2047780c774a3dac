"""Resolved options for one invocation: where the database is, who acts, which zone to show."""

from __future__ import annotations

import argparse

from casewatch import paths
from casewatch.cli import environment as env
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Person, Role, check_zone
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target


def _zone(where: str, name: str | None) -> str | None:
    """Every zone a viewer gives is checked, on every command, before anything runs."""
    if name is None:
        return None
    try:
        return check_zone(name)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from None


class Session:
    def __init__(self, args: argparse.Namespace, config: env.Config | None = None):
        self.args = args
        self.config = config or env.load_config()
        self.actor = env.actor_name(getattr(args, "actor", None), self.config)
        self.claimed = env.claimed_name(getattr(args, "actor", None))
        flag_db = getattr(args, "db", None)
        location = env.database_location(flag_db, self.config)
        if flag_db is None and location == str(paths.default_db_path()):
            paths.data_dir().mkdir(parents=True, exist_ok=True)
        self.target = resolve_target(location)
        self._tz = _zone("--tz", getattr(args, "tz", None)) or _zone("config tz", self.config.tz)

    def creator(self) -> Person:
        return Person(name=self.actor, role=Role.LEAD, tz=self._tz or env.system_zone())

    async def open(self, *, create: bool = True) -> Store:
        """The store, and on a team database the acting person the server maps our login to (a
        different --as or CASEWATCH_USER is refused before anything runs). On a new database the
        acting person becomes its first lead, unless not `create` (the wall, which only looks)."""
        store = await Store.open(self.target, creator=self.creator() if create else None)
        store.write_back = env.write_back_rules(self.config)
        if store.team is not None and store.team.person is not None:
            if self.claimed is not None and self.claimed != store.team.person:
                await store.close()
                raise store.team.refuse(self.claimed)
            self.actor = store.team.person
        return store

    async def zone(self, store: Store) -> str:
        if self._tz:
            return self._tz
        person = (await store.roster()).get(self.actor)
        return person.tz if person else env.system_zone()
