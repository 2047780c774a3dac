"""The casewatch Textual app: owns the store, the one clock tick and the change feed.

Screens never write to storage themselves: they ask the app (`perform`), which runs the write in
an app-level worker so a dismissed modal can never cut a transaction short. Every worker runs
with `exit_on_error=False`, and one handler (`_report_failed_worker`) turns an unexpected error
into a notification and a log line, so nothing fails silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Provider
from textual.notifications import Notification, SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from casewatch import paths
from casewatch.alert_command import TIMEOUT_S, run_alert_command
from casewatch.bulk_load import bulk_allocation
from casewatch.core.alerts import (
    Alert,
    AlertPace,
    AlertSettings,
    Scope,
    delivery_alerts,
    summary_environment,
    summary_text,
)
from casewatch.core.clocks import ClockState
from casewatch.core.commands import AcknowledgeAlert, Command, CustomerUpdate, OnCase
from casewatch.core.errors import CasewatchError, Conflict
from casewatch.core.handoff import LeadView
from casewatch.core.models import Case, Person, Role
from casewatch.core.saved_views import SavedView
from casewatch.core.sync import SourceState
from casewatch.core.text import visible
from casewatch.core.views import describe_event
from casewatch.core.write_back import Delivery, WriteBack
from casewatch.storage import outbox
from casewatch.storage.audit_marks import load_mark, save_mark
from casewatch.storage.feed import ChangeFeed, FeedState, FeedStatus, Update, feed_for
from casewatch.storage.store import Clock, Store, system_clock
from casewatch.storage.sync import source_states_now
from casewatch.storage.target import Target
from casewatch.themes import DEFAULT_THEME, THEMES
from casewatch.tui.alert_watch import AlertWatch
from casewatch.tui.clipboard import copy_with_a_tool
from casewatch.tui.filter_history import FilterHistory
from casewatch.tui.messages import (
    ActionDone,
    BulkDone,
    CasesChanged,
    ClockTick,
    LeadChanged,
    MarksChanged,
    OutboxChanged,
)
from casewatch.tui.person_marks import PersonMarks
from casewatch.tui.state import AppState
from casewatch.tui.widgets.cells import Colours

TICK_SECONDS = 1.0
SOURCES_EVERY_S = 15.0  # how often the status line's tracker syncs are read again
HANGUP_AND_TERMINATE = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
ALERTS_AT_ONCE = 3  # more clocks turning in one look than this make one summary, not a toast each
OPENED_KEPT = 20  # how far back ctrl+o goes through the cases opened
FUNCTION_KEY = re.compile(r"(?<![a-z])f(\d{1,2})\b")  # "f1", "^f5", "shift+f12" as Textual shows them
ALERT_TOAST_S = 15  # seconds; the alert history keeps them all
ALERT_PACE_S = 5  # seconds between two looks at the alerts (toasts, bell, command): core.alerts.AlertPace
ALERT_TOASTS_SHOWN = ALERTS_AT_ONCE + 1  # alert toasts on screen at once (one look's all show): the oldest gives way
log = logging.getLogger(__name__)


def _casewatch_commands() -> type[Provider]:
    """The palette's provider, loaded when the palette opens (it imports the screens, which import this module)."""
    from casewatch.tui.command_palette import CasewatchCommands

    return CasewatchCommands


class CasewatchApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "casewatch"
    COMMANDS = App.COMMANDS | {_casewatch_commands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave casewatch"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Keys and what the clock marks mean"),
        Binding("ctrl+p", "command_palette", "Commands", id="palette", show=False,
                tooltip="Search every action, the policy and cases"),
        Binding("ctrl+o", "back_through_cases", "Previous case", id="back", show=False,
                tooltip="Back through the cases opened: the one opened before this one (the last 20)"),
    ]

    KEEPS_MARKS = True  # the person's unread marks, acknowledgements and snoozes (the wall keeps none)

    connection: reactive[FeedStatus | None] = reactive(None, init=False)
    quarantined: reactive[int] = reactive(0, init=False)  # a lead's count of events `db audit` lists
    """The change feed's state (live, reconnecting… and why): watch it to show it. None: not following."""

    def __init__(self, target: Target, actor: str, zone: str = "UTC", theme: str = DEFAULT_THEME,
                 clock: Clock = system_clock, live: bool = True, keymap: dict[str, str] | None = None,
                 remember_theme: Callable[[str], None] | None = None, replay_at: datetime | None = None,
                 alerts: AlertSettings | None = None, alert_timeout_s: float = TIMEOUT_S,
                 write_back: Mapping[str, WriteBack] | None = None, views: tuple[SavedView, ...] = (),
                 filter_history: Path | None = None):
        super().__init__()
        self.write_back = dict(write_back or {})  # which sources' tickets get updates, notes, owners (the config's)
        self.saved_views = views  # the config file's [views], in its order: F1 to F9 on the board
        self.filter_history = FilterHistory(filter_history or paths.filter_history_path(), actor,
                                            lambda text: self.notify(text, title="Filter history", severity="warning",
                                                                     markup=False))
        self.replay_at = replay_at  # a read-only board as it stood then: its clock stands still there
        self.alert_settings = alerts or AlertSettings()
        self.alert_timeout_s = alert_timeout_s  # how long the alert command may run before it is killed
        self._alert_watch: AlertWatch | None = None
        self._marks: PersonMarks | None = None
        self._alert_command_failing = False  # a failing command is reported once, not at every alert
        self.opened: list[str] = []  # the cases opened, oldest first, for ctrl+o
        self._alert_toasts: deque[Notification] = deque()  # the alert toasts raised, oldest first
        self._alert_pace = AlertPace(timedelta(seconds=ALERT_PACE_S))
        self._loaded_at: datetime | None = None
        self._sources: tuple[SourceState, ...] = ()  # the tracker syncs, as last read
        self.undelivered: dict[str, list[Delivery]] = {}  # failed write-back deliveries by case, as last read
        self._told: set[tuple[str, int]] = set()  # (case id, event id) of the failed deliveries alerted here
        self.remember_theme = remember_theme  # keeps a theme chosen on the board (the config file)
        self.target = target
        self.actor = actor
        self.zone = ZoneInfo(zone)
        self.clock: Clock = clock if replay_at is None else (lambda: replay_at)
        self.live = live and replay_at is None  # tests of still pictures turn the timers off
        self._store: Store | None = None
        self._state: AppState | None = None
        self.feed: ChangeFeed | None = None
        self.colours: Colours = {}
        for definition in THEMES.values():
            self.register_theme(definition)
        self.theme = theme
        for name in set(self.available_themes) - set(THEMES):
            # Textual's own themes lack the severity and clock colours the styles use: choosing one
            # from the palette would crash the board, so only casewatch's are offered
            self.unregister_theme(name)
        if keymap:
            self.set_keymap(keymap)

    def get_key_display(self, binding: Binding) -> str:
        """Function keys as keyboards print them (F1; Textual says f1), in help, footer and palette."""
        return FUNCTION_KEY.sub(lambda found: f"F{found[1]}", super().get_key_display(binding))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Of Textual's own palette entries only the theme (casewatch's themes): its Keys panel
        did not close on Esc, and its Quit and Screenshot are not casewatch's to offer."""
        yield SystemCommand("Theme", "Change the theme", self.action_change_theme)

    @property
    def store(self) -> Store:
        """The open store: there is one from the moment the app has started until it stops."""
        if self._store is None:
            raise RuntimeError("the store opens when the app starts")
        return self._store

    @property
    def alert_watch(self) -> AlertWatch:
        """Every open case's clock states and the alerts since the board opened."""
        if self._alert_watch is None:
            raise RuntimeError("the alert watch starts with the app state")
        return self._alert_watch

    @property
    def marks(self) -> PersonMarks:
        """The person's unread marks, acknowledged alerts and snoozes on this machine."""
        if self._marks is None:
            raise RuntimeError("the marks are read with the app state")
        return self._marks

    @property
    def refreshed_at(self) -> datetime | None:
        """When the board last had the database's word: the feed's last poll, notification or catch-up
        (on PostgreSQL an idle board hears only every SAFETY_NET_S), else when the board loaded."""
        checked = self.feed.checked_at if self.feed is not None else None
        return checked or self._loaded_at

    @property
    def state(self) -> AppState:
        """What the screens show: loaded before the first screen is pushed."""
        if self._state is None:
            raise RuntimeError("the app state is loaded when the app starts")
        return self._state

    # ---------------------------------------------------------------- start-up

    def first_screen(self) -> Screen:
        """The screen the app opens on: the board (the wall display opens on its own)."""
        from casewatch.tui.screens.board import BoardScreen  # screens import this module for its type

        return BoardScreen()

    async def on_mount(self) -> None:
        self._pin_console_size()
        self._exit_on_signals()
        try:
            self._store = store = await Store.open(self.target, clock=self.clock)
            store.write_back = self.write_back
            if store.team is not None and store.team.person is not None:  # the server says who this login is
                self.actor = self.filter_history.person = store.team.person
            roster = await store.roster()
            with bulk_allocation(freeze=False):  # the board freezes after its first build
                if self.replay_at is None:
                    cases, policy, lead = await store.open_cases(), await store.policy(), await store.lead_view()
                else:
                    cases, policy = await store.open_cases_as_of(self.replay_at)
                    lead = LeadView.of(await store.current_shift(self.replay_at), None)
                state = AppState(policy=policy, roster=roster, lead=lead)
                for case in cases:
                    state.put(case)
        except CasewatchError as exc:
            self.exit(return_code=exc.exit_code, message=Text(str(exc)))
            return
        self._state = state
        self._marks = (PersonMarks.load(state, self.actor, self.target.describe(), self.now(), self._warn)
                       if self.KEEPS_MARKS and self.replay_at is None else PersonMarks(state, self.actor, self._warn))
        quiet = AlertSettings(cases=Scope.NONE)  # a replay of the past raises no alerts
        self._alert_watch = AlertWatch(state, self.actor, self.alert_settings if self.replay_at is None else quiet)
        self._loaded_at = now = self.now()
        missed = self.alert_watch.start(now)
        self._read_colours()
        await self.push_screen(self.first_screen())
        self._summarise(missed)
        me = self.me
        if me is not None and me.role is Role.LEAD:
            self.run_worker(self._count_quarantined(), name="Audit", exit_on_error=False)
        await self.read_deliveries()
        if self.live:
            self.set_interval(TICK_SECONDS, lambda: self.tick(self.clock()), name="tick")
            await self._read_sources()
            self.set_interval(SOURCES_EVERY_S, self._read_sources, name="sources")
            self.set_interval(SOURCES_EVERY_S, self.read_deliveries, name="deliveries")
        if self.live and self.target.immutable:
            self.notify(f"{self.target.describe()} is in a directory or on a disk that cannot be written, so it is "
                        "read as it is now: no live follow (changes by others are not shown), and nothing can be "
                        "written", title="Read-only database", severity="warning", timeout=30)
        elif self.live:
            self.feed = feed_for(store, self._take_update, self._connection_changed)
            self.feed.start({cid: case.version for cid, case in state.cases.items()}, policy.version)

    def on_resize(self) -> None:
        self._pin_console_size()

    def _pin_console_size(self) -> None:
        """Tell rich the size Textual already knows. DataTable measures every cell through
        `console.options`, and an unsized console asks the OS for the terminal size each time:
        three system calls per cell, thousands of cells per board."""
        self.console.size = (self.size.width, self.size.height)

    def _exit_on_signals(self, install: bool = True) -> None:
        """SIGTERM and SIGHUP (a closed terminal window) end the board as `q` does: the terminal is
        restored and whoever ran it cleans up after it (the demo's temporary database)."""
        loop = asyncio.get_running_loop()
        for signum in HANGUP_AND_TERMINATE:
            try:
                if install:
                    loop.add_signal_handler(signum, self.exit, None, 128 + signum)
                else:
                    loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):  # no signals there (Windows, another thread)
                return

    async def on_unmount(self) -> None:
        self._exit_on_signals(install=False)
        if self.feed is not None:
            await self.feed.stop()
        if self._store is not None:
            await self._store.close()

    @property
    def me(self) -> Person | None:
        return self.state.roster.get(self.actor)

    def now(self) -> datetime:
        return self.clock()

    def _read_colours(self) -> None:
        variables = self.get_css_variables()
        self.colours = {name: variables.get(name, "") for name in THEMES[DEFAULT_THEME].variables}

    def watch_theme(self, theme: str) -> None:
        if self.is_running and self.remember_theme is not None:
            try:
                self.remember_theme(theme)
            except CasewatchError as exc:
                self.notify(str(exc), title="Theme not remembered", severity="warning")
        self._read_colours()
        if self._state is not None:
            self._broadcast(frozenset(), frozenset(), everything=True)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications show their text literally: names, titles and errors carry what people
        typed, and "[b]ACME" must never be read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # ------------------------------------------------------------ clock, feed

    def tick(self, now: datetime) -> None:
        """One clock tick: clocks that turned alert; every screen that can be seen redraws its
        countdowns as deadline minus `now`, the board or case screen under a dialog, the palette or
        help as much as the one in front."""
        alerts, turned = self.alert_watch.tick(now)
        self._alert(alerts)
        for screen in reversed(self.screen_stack):
            screen.post_message(ClockTick(now, frozenset(turned)))
            if not screen.is_modal:  # a full screen hides what is under it
                break

    async def _count_quarantined(self) -> None:
        """A lead learns, on the status line, that the log holds events the rules kept out."""
        try:
            mark = await self.store.audit_since(load_mark(self.target))
        except CasewatchError as exc:
            self.notify(str(exc), title="Audit failed", severity="warning", markup=False)
            return
        save_mark(self.target, mark)
        self.quarantined = mark.count

    async def _read_sources(self) -> None:
        """The tracker syncs' states, for the status line (a failing read keeps the last ones)."""
        try:
            self._sources = tuple(sorted((await source_states_now(self.store)).values(), key=lambda s: s.name))
        except CasewatchError:
            return

    async def read_deliveries(self) -> None:
        """The write-back deliveries that failed: their cases' rows are flagged, each enters the
        alert history of its watchers' boards, and rings once (the first board to ring marks it in
        the outbox). A replay shows none: the outbox holds how deliveries stand now, not then."""
        if self.replay_at is not None:
            return
        try:
            found = await outbox.undelivered(self.store)
        except CasewatchError:
            return
        before, self.undelivered = self.undelivered, found
        changed = frozenset(cid for cid in set(found) | set(before) if found.get(cid) != before.get(cid))
        if changed:
            self._broadcast(changed, frozenset())
        listed = delivery_alerts(found, self.state.cases, viewer=self.actor, shift_lead=self.state.shift_lead,
                                 settings=self.alert_settings, now=self.now(), told=self._told)
        self._told.update((alert.case_id, alert.delivery.event_id) for alert in listed)
        self.alert_watch.record(listed)  # every watcher's `!` lists it
        alerts = [alert for alert in listed if not alert.rung_elsewhere]
        for alert in alerts:
            self._alert_toast(alert.text(), "Update not delivered", "error")
            self._run_alert_command(alert.environment())
        if alerts:
            self._ring()
            with contextlib.suppress(CasewatchError):  # (read-only: this board still alerts only once)
                await outbox.mark_alerted(self.store, {alert.delivery.event_id for alert in alerts})

    async def _outbox_moved(self) -> None:
        """A sender recorded how a delivery went: rows, alerts and open case screens follow now."""
        await self.read_deliveries()
        for screen in self.screen_stack:
            screen.post_message(OutboxChanged())

    def source_labels(self) -> tuple[tuple[str, bool], ...]:
        """`zd ✓ 40s ago` or `zd ✖ 401 since 14:02 CET` per source, and whether it is failing."""
        now = self.clock()
        return tuple((state.label(now, self._hour(state.failing_since)), state.failure is not None)
                     for state in self._sources)

    def _hour(self, at: datetime | None) -> str | None:
        return f"{at.astimezone(self.zone):%H:%M %Z}" if at else None

    def _take_update(self, update: Update) -> None:
        """Another writer's changes, from the feed (every committed one; see storage.feed)."""
        state = self.state
        everything = False
        if update.policy is not None and update.policy.version != state.policy.version:
            state.replan(update.policy)
            everything = True
        if update.roster is not None and update.roster != state.roster:
            state.roster = update.roster
            everything = True
        changed: set[str] = set()
        removed: set[str] = set()
        for case in update.cases:
            if state.put(case):
                (changed if case.id in state.cases else removed).add(case.id)
        for case_id in update.gone:
            if state.drop(case_id):
                removed.add(case_id)
        if update.lead is not None and update.lead != state.lead:
            self._take_lead(update.lead)
        if update.outbox:
            self.run_worker(self._outbox_moved(), name="Deliveries", group="deliveries", exit_on_error=False)
        if changed or removed or everything:
            looked_at = set(state.cases) | removed if everything else changed | removed
            alerts, _ = self.alert_watch.cases_changed(looked_at, self.now())
            self._alert(alerts)
            self._broadcast(frozenset(changed), frozenset(removed), everything)

    def _take_lead(self, lead: LeadView) -> None:
        self.state.lead = lead
        for screen in self.screen_stack:
            screen.post_message(LeadChanged())

    def _connection_changed(self, status: FeedStatus) -> None:
        """Connecting or reconnecting, the board holds its alerts; live again (caught up), one summary."""
        if status.state is FeedState.LIVE:
            self._summarise(self.alert_watch.back(self.now()))
        elif status.state is not FeedState.STOPPED:
            self.alert_watch.away()
        self.connection = status

    def _broadcast(self, changed: frozenset[str], removed: frozenset[str], everything: bool = False) -> None:
        """Tell every screen on the stack (a message can be posted once, so one each). A case
        changing under the eyes of whoever has it open stays read."""
        looking = getattr(self.screen, "case_id", None)
        if looking in changed:
            self.marks.saw([looking], self.now())
        for screen in self.screen_stack:
            screen.post_message(CasesChanged(changed, removed, everything))

    # ------------------------------------------------------------------ writes

    def perform(self, command: Command, *, copy_message: bool = False, reply_to: Screen | None = None,
                quiet: bool = False) -> Worker[None]:
        """Run a command as the acting person in an app-level worker (never exclusive: a write is
        never cancelled half-way). How it went (`ActionDone`) goes to `reply_to` (default: the
        screen in front now) while that screen is open, else to the one in front then. `quiet`: no
        "Done" toast (the caller sums up several writes in one); a refusal is still said."""
        return self.run_worker(self._perform(command, copy_message, reply_to or self.screen, quiet), name="Write",
                               group="write", exit_on_error=False)

    @property
    def read_only(self) -> str | None:
        """Why this app never writes (a replay of the past), or None when it may."""
        return "This board is a replay of the past: it is read-only." if self.replay_at is not None else None

    def refuse_read_only(self) -> bool:
        """True (and says why) when this app never writes: checked before any form opens, and again
        before any command runs."""
        if self.read_only is not None:
            self.notify(self.read_only, title="Read-only", severity="warning")
        return self.read_only is not None

    async def _perform(self, command: Command, copy_message: bool, reply_to: Screen, quiet: bool = False) -> None:
        case_id = command.case_id if isinstance(command, OnCase) else None

        def reply(done: ActionDone) -> None:
            (reply_to if reply_to in self.screen_stack else self.screen).post_message(done)

        def toast(text: str, title: str, timeout: float) -> None:
            """A refusal a form shows beside the user's text needs no toast over the screen too."""
            from casewatch.tui.screens.forms import Form  # screens import this module for its type

            if not (isinstance(reply_to, Form) and reply_to in self.screen_stack):
                self.notify(visible(text), title=title, severity="error", timeout=timeout, markup=False)

        if self.refuse_read_only():
            reply(ActionDone(False, "read-only", case_id, command=command))
            return
        try:
            outcome = await self.store.execute(command, self.actor)
        except Conflict as exc:
            toast(str(exc), "Conflict — nothing written", 10)
            try:
                fresh = await self.store.get_case(case_id) if case_id else None
            except CasewatchError:
                fresh = None  # the next submit meets the conflict again, and reads it then
            if fresh is not None:
                self.take_case(fresh)
            reply(ActionDone(False, str(exc), case_id, command=command, conflict=True,
                             version=fresh.version if fresh else None))
            return
        except CasewatchError as exc:
            toast(str(exc), "Not done", 8)
            reply(ActionDone(False, str(exc), case_id, command=command))
            return
        except Exception as exc:  # unexpected: the worker-error handler reports it; a form must not wait on
            reply(ActionDone(False, f"{type(exc).__name__}: {exc}", case_id, command=command))
            raise
        text = f"{outcome.event.case_id or ''} {describe_event(outcome.event)}".strip()
        if outcome.case is not None:
            self.take_case(outcome.case)
        else:  # the roster, policy, shift lead or a handoff changed: the header shows the lead at once
            self._take_lead(await self.store.lead_view())
        if not quiet:
            self.notify(visible(text), title="Done", markup=False)
        reply(ActionDone(True, text, outcome.event.case_id, command=command))
        if copy_message and isinstance(command, CustomerUpdate):
            await self._copy(outcome.event.payload["message"], f"The {command.case_id} customer message")

    def perform_each(self, commands: list[OnCase], reply_to: Screen, refused_are: str = "still marked") -> Worker[None]:
        """A bulk action (see `Store.execute_each`): each case its own event in one transaction; a
        case that refuses is listed with its reason in a notice (`refused_are` says what became of
        them), and `reply_to` hears which went through."""
        return self.run_worker(self._perform_each(commands, reply_to, refused_are), name="Write", group="write",
                               exit_on_error=False)

    async def _perform_each(self, commands: list[OnCase], reply_to: Screen, refused_are: str) -> None:
        if self.refuse_read_only():
            return
        try:
            results = await self.store.execute_each(commands, self.actor)
        except CasewatchError as exc:
            self.notify(visible(str(exc)), title="Not done", severity="error", timeout=10, markup=False)
            return
        done, refused = [], {}
        for command, result in zip(commands, results, strict=True):
            if isinstance(result, CasewatchError):
                refused[command.case_id] = str(result)
            elif result.case is not None:
                done.append(command.case_id)
                self.take_case(result.case)
        if done:
            self.notify(f"{len(done)} of {len(commands)} cases changed", title="Done")
        if refused:
            lines = "\n".join(visible(f"{case_id}: {reason}") for case_id, reason in refused.items())
            self.notify(f"{len(refused)} not done ({refused_are}):\n{lines}",
                        title="Not done", severity="error", timeout=20, markup=False)
        if reply_to in self.screen_stack:
            reply_to.post_message(BulkDone(tuple(done), refused))

    def copy_text(self, text: str, what: str) -> None:
        """Copy `text` (`what` names it in the notice that says where it went): by OSC 52 at once,
        and by a clipboard tool in a worker, which alone can say the text was copied."""
        self.copy_to_clipboard(text)
        self.run_worker(self._tell_where_it_went(text, what), name="Copy", group="copy", exit_on_error=False)

    async def _copy(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text)
        await self._tell_where_it_went(text, what)

    async def _tell_where_it_went(self, text: str, what: str) -> None:
        if await copy_with_a_tool(text):
            self.notify(f"{what} copied to the clipboard")
        else:
            self.notify(f"{what} sent to the terminal's clipboard (OSC 52: whether the terminal took it "
                        "cannot be confirmed)", timeout=8)

    def take_case(self, case: Case) -> None:
        """Show a case as just read from storage (after our own write, or a reload after a conflict)."""
        if self.feed is not None:
            self.feed.saw(case)
        state = self.state
        if state.put(case):
            gone = case.id not in state.cases
            changed, removed = (frozenset(), frozenset({case.id})) if gone else (frozenset({case.id}), frozenset())
            alerts, _ = self.alert_watch.cases_changed({case.id}, self.now())
            self._alert(alerts)
            self._broadcast(changed, removed)

    # ----------------------------------------------------------------- alerts

    def _alert(self, alerts: list[Alert]) -> None:
        """A toast, the bell and the alert command for each clock that turned (a summary for many),
        paced (core.alerts.AlertPace); a snoozed case's alerts are in the history only."""
        alerts = self._alert_pace.look(self._ringing(alerts), self.now())
        if len(alerts) > ALERTS_AT_ONCE:
            self._summarise(alerts, when="just now")
            return
        for alert in alerts:
            breached = alert.state is ClockState.BREACHED
            self._alert_toast(alert.text(self.zone), f"Clock {alert.state.value}", "error" if breached else "warning")
            self._run_alert_command(alert.environment(self.zone))
        if alerts:
            self._ring()

    def _summarise(self, alerts: list[Alert], when: str | None = None) -> None:
        """One toast for many clocks (at start-up, after a reconnect, or a burst); the history lists them."""
        alerts = self._ringing(alerts)
        text = summary_text(alerts) if when is None else summary_text(alerts, when)
        if text is None:
            return
        breached = any(alert.state is ClockState.BREACHED for alert in alerts)
        self._alert_toast(f"{text} — the alert history lists them", "Alerts", "error" if breached else "warning")
        self._ring()
        self._run_alert_command(summary_environment(alerts, text))

    def _alert_toast(self, text: str, title: str, severity: SeverityLevel) -> None:
        """An alert's toast (shown literally). A floor of thousands turns a clock every second or
        so: kept for ALERT_TOAST_S each, a dozen toasts would stack past the screen's edge, and every
        one coming or going lays the whole stack out again (most of an idle board's CPU). So the
        oldest alert toast gives way to the newest past ALERT_TOASTS_SHOWN; `!` lists every alert."""
        notification = Notification(text, title, severity, ALERT_TOAST_S, markup=False)
        raised = self._alert_toasts
        raised.append(notification)
        self._notifications.add(notification)  # what Textual's Notify message does, here and now, so that
        while raised and (raised[0].has_expired or len(raised) > ALERT_TOASTS_SHOWN):
            oldest = raised.popleft()
            if not oldest.has_expired and oldest in self._notifications:
                self._unnotify(oldest, refresh=False)  # Textual's own withdrawal (no public one in 8.2)
        self._refresh_notifications()  # the oldest leaves as the newest comes, in one look at the toast rack

    def _ringing(self, alerts: list[Alert]) -> list[Alert]:
        now = self.now()
        return [alert for alert in alerts if self.marks.rings(alert, now)]

    def acknowledge(self, alert: Alert) -> None:
        """The person has the alert in hand (their marks). The shift lead on a team database says so
        to every board too: an `alert_acknowledged` event, a timeline line "ack by NAME"."""
        self.marks.acknowledge(alert, self.now())
        shift = self.state.lead.shift
        if self._store is not None and self.store.team is not None and shift is not None and shift.lead == self.actor:
            self.perform(AcknowledgeAlert(case_id=alert.case_id, clock=alert.clock, state=alert.state.value),
                         quiet=True)

    def _warn(self, text: str, title: str) -> None:
        self.notify(text, title=title, severity="warning", timeout=10)

    def mark_read(self, case_ids: list[str]) -> int:
        """The person has seen these cases as they are now: their unread marks go (how many went)."""
        gone = self.marks.saw(case_ids, self.now())
        if gone:
            for screen in self.screen_stack:
                screen.post_message(MarksChanged(frozenset(gone)))
        return len(gone)

    def _ring(self) -> None:
        if self.alert_settings.bell:
            self.bell()

    def _run_alert_command(self, variables: dict[str, str]) -> None:
        if self.alert_settings.command:
            self.run_worker(self._alert_command(variables), name="Alert command", group="alert-command",
                            exit_on_error=False)

    async def _alert_command(self, variables: dict[str, str]) -> None:
        failure = await run_alert_command(self.alert_settings.command, variables, self.alert_timeout_s,
                                          passed=self.alert_settings.env)
        if failure is None:
            self._alert_command_failing = False
            return
        log.warning("alert command failed: %s", failure)
        if not self._alert_command_failing:  # once, until it works again
            self._alert_command_failing = True
            self.notify(failure, title="Alert command failed", severity="error", timeout=15)

    # ----------------------------------------------------------------- errors

    @on(Worker.StateChanged)
    def _report_failed_worker(self, event: Worker.StateChanged) -> None:
        """The one place an unexpected worker error surfaces: a notification and a log line.
        Screens pass their workers' state changes up here (the message does not bubble)."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        log.error("%s failed", event.worker.name or "a background task", exc_info=error)
        self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.name or 'Background task'} failed",
                    severity="error", timeout=15)

    # ---------------------------------------------------------------- actions

    def action_help(self) -> None:
        from casewatch.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(list(self.screen.active_bindings.values())))

    def open_case(self, case_id: str) -> None:
        """The case screen of `case_id`, over the screen in front (from the board, the palette anywhere)."""
        from casewatch.tui.screens.case import CaseScreen

        if not self.opened or self.opened[-1] != case_id:
            self.opened = [*self.opened, case_id][-OPENED_KEPT:]
        self.mark_read([case_id])
        self.push_screen(CaseScreen(case_id))

    def action_back_through_cases(self) -> None:
        """ctrl+o: on a case screen, the case opened before it (in its place); elsewhere, the case
        opened last. Cases no longer open are passed over."""
        from casewatch.tui.screens.case import CaseScreen

        on_case = self.screen.case_id if isinstance(self.screen, CaseScreen) else None
        earlier = self.opened[:-1] if on_case is not None and self.opened[-1:] == [on_case] else self.opened
        earlier = [case_id for case_id in earlier if case_id in self.state.cases]
        if not earlier:
            self.notify("No case opened before this one")
            return
        self.opened = earlier
        if on_case is not None:
            self.pop_screen()
        self.mark_read([earlier[-1]])
        self.push_screen(CaseScreen(earlier[-1]))
