"""Setting up a team database on PostgreSQL (`casewatch team init`) and letting people in.

The administrator who runs `team init` creates the roles, has the owner role run the migrations,
grants members what they need, and names the first lead with that lead's login. From then on
every login acts as the roster person it is mapped to, and the server stamps who wrote each event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from casewatch.core.errors import CasewatchError, InvalidInput, NotFound
from casewatch.core.models import Person, Role
from casewatch.storage import roles
from casewatch.storage.failures import is_database_failure, reason, sqlstate, translate
from casewatch.storage.migrate import take_turns, upgrade_to_head
from casewatch.storage.schema import logins, people
from casewatch.storage.store import Clock, Store, system_clock
from casewatch.storage.target import Target


@dataclass(frozen=True)
class TeamReady:
    lead: str
    login: str
    database: str
    member: str  # the role every login of this database is in


async def init_team(target: Target, lead: Person, login: str, clock: Clock = system_clock) -> TeamReady:
    """Make `target` a team database led by `lead`, who connects as `login`; refuses one that is a
    team database already. Roles and schema first (one transaction), then the first lead."""
    if target.is_sqlite:
        raise InvalidInput("team mode needs PostgreSQL (--db postgresql://…): an SQLite database keeps "
                           "self-asserted identity")
    engine = create_async_engine(target.url)
    try:
        async with engine.begin() as conn:
            await take_turns(conn)
            await _check_caller(conn, login)
            tables = await roles.existing_tables(conn)
            if logins.name in tables and (await conn.execute(select(func.count()).select_from(logins))).scalar():
                raise InvalidInput(f"{target.describe()} is a team database already: its leads let people in "
                                   "with `casewatch team grant NAME --login LOGIN`")
            if people.name in tables:
                await _check_lead(conn, lead.name)
            owner, member = await roles.create_roles(conn)
            await roles.hand_to_owner(conn, tables, owner)
            await conn.execute(text(f"SET LOCAL ROLE {roles.quote_role(owner)}"))
            await conn.run_sync(upgrade_to_head, target.describe())
            await roles.grant_member_privileges(conn)
            await conn.execute(text("RESET ROLE"))
            await roles.grant_membership(conn, login, member)
    except CasewatchError:
        raise
    except Exception as exc:
        if not is_database_failure(exc):
            raise
        if sqlstate(exc) == "42501":
            raise InvalidInput(f"team init on {target.describe()} was refused ({reason(exc)}); nothing was changed: "
                               "run it as the database's owner or a superuser") from None
        raise translate(exc, target.describe(), writing=True) from None
    finally:
        await engine.dispose()
    async with await Store.open(target, clock=clock, creator=lead) as store:
        await store.first_login(lead, login)
    return TeamReady(lead=lead.name, login=login, database=target.describe(), member=member)


async def _check_lead(conn: AsyncConnection, name: str) -> None:
    """On a database with a roster already, the first lead must be one of its leads (checked before
    anything changes; `Store.first_login` checks again as it writes)."""
    found = (await conn.execute(select(people.c.role).where(people.c.name == name))).first()
    if found is None and (await conn.execute(select(func.count()).select_from(people))).scalar():
        raise InvalidInput(f"{name} is not on the roster: the first lead of a team database must be a lead")
    if found is not None and found.role != Role.LEAD.value:
        raise InvalidInput(f"{name} is on the roster as {found.role}: the first lead of a team database must be a lead")


async def _check_caller(conn: AsyncConnection, login: str) -> None:
    me, may_create = (await conn.execute(text(
        "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"))).one()
    if not may_create:
        raise InvalidInput(f"team init needs a PostgreSQL role that may create roles (CREATEROLE); you are "
                           f"connected as {me}: ask the database administrator to run it")
    can_login = (await conn.execute(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :login"),
                                    {"login": login})).scalar()
    if can_login is None:
        raise NotFound(f"the server has no login {login!r}: create it first "
                       f"(CREATE ROLE {roles.quote_role(login)} LOGIN PASSWORD '…')")
    if not can_login:
        raise InvalidInput(f"{login!r} is a role that cannot log in; name the lead's login role")
