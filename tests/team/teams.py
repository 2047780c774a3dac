"""Team databases for the team-mode tests: `Team`, and the pool that sets one up once per test process.

Setting a team up (`team init`, a lead's and an agent's logins, a grant) on a new copy of the
schema, then dropping its roles and its database, cost the server a `CREATE DATABASE` and a
`DROP DATABASE` (150–400 ms of CPU each) and the test process four casewatch commands, for every
team-mode test: about a third of all the PostgreSQL work of a run. A team database a test is done
with is instead put back as its set-up left it (tests/pg_pool.py: rows, sequences) and handed to the
next test of the same process, with the same logins.

It is reused only while nothing a row cannot hold has changed: its catalogs (the same fingerprint
as the pool's: grants, row-level policies, owners, functions…), and, since roles belong to the whole
server, its own roles and logins (their attributes, settings and memberships, either way). Logins a
test added are dropped first; any difference or failure, and the team's roles and database are
dropped instead, as before.
"""

from __future__ import annotations

import asyncio
import atexit
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import asyncpg
from sqlalchemy.engine import make_url

from casewatch.storage.roles import member_role, owner_role
from tests.conftest import _pg_admin, _pg_pool, pg_admin_url, pg_connect
from tests.pg_pool import Snapshot, put_back, snapshot

ROLES = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT concat_ws(':', 'role', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
                     rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolconfig::text)
      FROM pg_roles WHERE rolname = ANY($1::text[])
    UNION ALL
    SELECT concat_ws(':', 'member', r.rolname, m.rolname, a.admin_option, g.rolname)
      FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
      LEFT JOIN pg_roles g ON g.oid = a.grantor
     WHERE r.rolname = ANY($1::text[]) OR m.rolname = ANY($1::text[])
    UNION ALL
    SELECT concat_ws(':', 'setting', s.setdatabase, r.rolname, s.setconfig::text)
      FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = ANY($1::text[])
) AS shared(item)
"""


@dataclass
class Team:
    """A team database and the logins the test made; `url(login)` connects as one of them."""

    admin_url: str
    logins: dict[str, str] = field(default_factory=dict)  # what the test calls it -> the role's real name

    @property
    def member(self) -> str:
        """The role every login of this team database is in."""
        return member_role(make_url(self.admin_url).database)

    def url(self, who: str) -> str:
        return make_url(self.admin_url).set(username=self.logins[who], password=None).render_as_string(
            hide_password=False)

    def add_login(self, who: str, *options: str) -> str:
        name = f"cw_{who}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(f'CREATE ROLE "{name}" LOGIN {" ".join(options)}'))
        self.logins[who] = name
        return name

    def forget(self) -> None:
        """Drop the logins and this database's own roles (what they own here goes with them)."""
        database = make_url(self.admin_url).database
        roles = [owner_role(database), member_role(database)]
        present = self.sql("admin", "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", roles)
        if present:
            quoted = ", ".join(f'"{row["rolname"]}"' for row in present)
            self.sql("admin", f"DROP OWNED BY {quoted}")
            for row in present:
                asyncio.run(_pg_admin(f'DROP ROLE IF EXISTS "{row["rolname"]}"'))
        for name in self.logins.values():
            asyncio.run(_pg_admin(f'DROP ROLE IF EXISTS "{name}"'))

    def sql(self, who: str, statement: str, *args, first: tuple[str, ...] = ()):
        """Run one statement on the team database as `who` ("admin" is the server's administrator),
        after the statements `first` on the same connection."""
        url = make_url(self.admin_url if who == "admin" else self.url(who))

        async def run():
            connection = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                               password=url.password, database=url.database)
            try:
                for earlier in first:
                    await connection.execute(earlier)
                return await connection.fetch(statement, *args)
            finally:
                await connection.close()

        return asyncio.run(run())


@dataclass(frozen=True)
class _Kept:
    """A team database as its set-up left it."""

    admin_url: str
    logins: dict[str, str]
    state: Snapshot
    roles: str  # the ROLES fingerprint of its own roles and logins

    @property
    def role_names(self) -> list[str]:
        database = make_url(self.admin_url).database
        return sorted([owner_role(database), member_role(database), *self.logins.values()])


class TeamPool:
    """The team databases of one test process."""

    def __init__(self) -> None:
        self._free: list[_Kept] = []
        self._lent: dict[str, _Kept] = {}
        _pg_pool()  # made first, so that at exit its databases are dropped after these teams' roles
        atexit.register(self.forget_all)

    def take(self, set_up: Callable[[str], Team]) -> Team:
        """A team as `set_up` made it: a kept one, or `set_up` on a new database from the pool."""
        if self._free:
            kept = self._free.pop()
        else:
            name = _pg_pool().take()
            try:
                made = set_up(make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False))
            except BaseException:
                _pg_pool().give_back(name)
                raise
            kept = asyncio.run(self._keep(made))
        self._lent[kept.admin_url] = kept
        return Team(admin_url=kept.admin_url, logins=dict(kept.logins))

    def give_back(self, team: Team) -> None:
        kept = self._lent.pop(team.admin_url)
        added = {login for login in team.logins.values() if login not in kept.logins.values()}
        try:
            for login in sorted(added):
                asyncio.run(_pg_admin(f'DROP ROLE IF EXISTS "{login}"'))
            reused = asyncio.run(self._put_back(kept))
        except Exception:  # any doubt: a new team is cheaper than a test reading another's leftovers
            reused = False
        if reused:
            self._free.append(kept)
        else:
            self._drop(kept, added)

    def forget_all(self) -> None:
        while self._free:
            self._drop(self._free.pop(), set())

    def _drop(self, kept: _Kept, added: set[str]) -> None:
        logins = {**kept.logins, **{login: login for login in added}}
        try:
            Team(admin_url=kept.admin_url, logins=logins).forget()
        finally:
            _pg_pool().give_back(make_url(kept.admin_url).database)  # its catalogs differ: dropped

    @staticmethod
    async def _keep(made: Team) -> _Kept:
        connection = await pg_connect(make_url(made.admin_url).database)
        try:
            kept = _Kept(made.admin_url, dict(made.logins), await snapshot(connection), "")
            return _Kept(kept.admin_url, kept.logins, kept.state,
                         await connection.fetchval(ROLES, kept.role_names))
        finally:
            await connection.close()

    @staticmethod
    async def _put_back(kept: _Kept) -> bool:
        connection = await pg_connect(make_url(kept.admin_url).database)
        try:
            if await connection.fetchval(ROLES, kept.role_names) != kept.roles:
                return False
            return await put_back(connection, kept.state)
        finally:
            await connection.close()


@cache
def team_pool() -> TeamPool:
    """This test process's team databases."""
    return TeamPool()
