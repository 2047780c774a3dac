"""A configured live source (a Zendesk or Jira `[sources.NAME]` table) and its client, shared by
`casewatch sync` and the write-back sender; and a wait that `--follow`'s stop ends early."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime

from casewatch.cli import environment as env
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Person, Severity
from casewatch.core.sync import Page
from casewatch.core.tracker import LIVE, Source, SourceSettings
from casewatch.sources import jira, zendesk
from casewatch.sources.http import RETRIES, SYNC_KEPT, Credential, Sleep, TrackerClient, read_token
from casewatch.sources.jira import jira_dropped, jira_pages
from casewatch.sources.zendesk import first_cursor, zendesk_pages
from casewatch.storage.store import Store
from casewatch.storage.sync import linked_open_ids


class PassStopped(Exception):
    """--follow was told to stop while a pass waited on the tracker (between transactions)."""


def stoppable(stop: asyncio.Event) -> Sleep:
    """A wait that ends early, raising PassStopped, when `stop` is set."""
    async def sleep(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set():
            raise PassStopped
    return sleep


@dataclass(frozen=True)
class LiveSource:
    """A configured live source: its mapping tables and where its tracker is."""

    source: Source
    settings: SourceSettings

    @classmethod
    def of(cls, name: str, config: env.Config, roster: dict[str, Person]) -> LiveSource:
        source = env.configured_source(config, name, roster)
        settings = config.sources[name]
        if settings.kind not in LIVE:
            raise InvalidInput(f"source {name} is of kind {settings.kind}: only zendesk and jira sources sync "
                               f"(a csv source is imported with `casewatch import csv`)")
        for key in ("url", "email"):
            if not getattr(settings, key):
                raise InvalidInput(f"source {name}: set {key} in [sources.{name}]")
        if settings.kind == "jira" and not settings.jql:
            raise InvalidInput(f"source {name}: set jql in [sources.{name}] (the query of its escalations)")
        if source.default_severity is None:  # a synced escalation is never refused for an empty priority
            source = replace(source, default_severity=Severity.SEV3)
        return cls(source, settings)

    @property
    def name(self) -> str:
        return self.source.name

    def client(self, sleep: Sleep, timeout: float = 30.0, retries: int = RETRIES,
               kept: str | None = SYNC_KEPT) -> TrackerClient:
        token, where = read_token(self.name, self.settings.token_env, self.settings.token_file)
        email = self.settings.email or ""
        username = f"{email}/token" if self.settings.kind == "zendesk" else email
        assert self.settings.url is not None
        return TrackerClient(self.name, self.settings.url, username, Credential(email, token, where), sleep=sleep,
                             timeout=timeout, retries=retries, kept=kept)

    def cursor_doubt(self, cursor: str, now: datetime) -> str | None:
        """Why a saved cursor cannot be one this source's sync saved, or None."""
        return (zendesk if self.settings.kind == "zendesk" else jira).cursor_doubt(cursor, now)

    async def pages(self, client: TrackerClient, cursor: str | None, store: Store) -> AsyncIterator[Page]:
        if self.settings.kind == "zendesk":
            start = cursor or first_cursor(store.clock())
            async for page in zendesk_pages(client, start, self.settings.escalated_tags):
                yield page
            return
        jql, now = self.settings.jql or "", store.clock()
        if cursor is not None:  # linked issues that left the query since the last sync
            async for page in jira_dropped(client, jql, await linked_open_ids(store, self.name), cursor, now,
                                           self.settings.status):
                yield page
        async for page in jira_pages(client, jql, cursor, now, self.settings.status):
            yield page
