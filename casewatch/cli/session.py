"""Resolved options for one invocation: where the database is, who acts, which zone to show."""

from __future__ import annotations

import argparse

from casewatch import paths
from casewatch.cli import environment as env
from casewatch.core.models import Person, Role
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target


class Session:
    def __init__(self, args: argparse.Namespace, config: env.Config | None = None):
        self.args = args
        self.config = config or env.load_config()
        self.actor = env.actor_name(getattr(args, "actor", None), self.config)
        flag_db = getattr(args, "db", None)
        location = env.database_location(flag_db, self.config)
        if not flag_db and location == str(paths.default_db_path()):
            paths.data_dir().mkdir(parents=True, exist_ok=True)
        self.target = resolve_target(location)
        self._tz = getattr(args, "tz", None) or self.config.tz

    def creator(self) -> Person:
        return Person(name=self.actor, role=Role.LEAD, tz=self._tz or env.system_zone())

    async def open(self) -> Store:
        return await Store.open(self.target, creator=self.creator())

    async def zone(self, store: Store) -> str:
        if self._tz:
            return self._tz
        person = (await store.roster()).get(self.actor)
        return person.tz if person else env.system_zone()
