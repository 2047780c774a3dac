"""The metrics screen (M): the five escalation metrics for a window a lead picks, broken down by
severity, with an eight-week trend per metric and the operating model's failure signal for each
metric going the wrong way. Computed by the store in one pass over the log, off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Static

from casewatch.core.durations import format_countdown
from casewatch.core.errors import CasewatchError
from casewatch.core.metric_trends import FAILURE_SIGNALS, LABELS, METRICS, going_wrong_way, headline, weekly_windows
from casewatch.core.metric_trends import windows as metric_windows
from casewatch.core.metrics import Metrics, Report
from casewatch.core.models import Severity
from casewatch.core.zones import zone_named_once
from casewatch.tui.screens.base import CasewatchScreen
from casewatch.tui.widgets.footer import CasewatchFooter

WEEKS = 8
NARROW = 110  # columns: below this the table keeps its counts to the All column and the trends stack
WINDOW_KEYS = {"today": "t", "shift": "s", "7 days": "7", "30 days": "3"}


def _duration(seconds: int | None) -> str:
    return "—" if seconds is None else format_countdown(seconds)


def _owner(field: str) -> Callable[[Metrics], str]:
    return lambda metrics: _duration(metrics.as_dict()["time_to_named_owner"][field])


def _rate(name: str) -> Callable[[Metrics, bool], str]:
    def text(metrics: Metrics, counted: bool) -> str:
        rate = getattr(metrics, name)
        share = "—" if rate.rate is None else f"{rate.rate:.0%}"
        return f"{share} ({rate.numerator}/{rate.denominator})" if counted else share
    return text


def _plain(text: Callable[[Metrics], str]) -> Callable[[Metrics, bool], str]:
    return lambda metrics, counted: text(metrics)


_SHORT = {"customer_update_miss_rate": "Update misses", "escalation_rework_rate": "Rework",
          "severity_mismatch_rate": "Severity mismatch", "avoidable_escalation_rate": "Avoidable"}

ROWS: tuple[tuple[str, str, str, Callable[[Metrics, bool], str]], ...] = (
    ("owner_median", "Time to named owner, median", "Owner time, median", _plain(_owner("median_s"))),
    ("owner_p90", "Time to named owner, p90", "Owner time, p90", _plain(_owner("p90_s"))),
    ("unowned", "Still without an owner", "Without an owner", _plain(lambda m: str(m.unowned))),
    *((name, LABELS[name], _SHORT[name], _rate(name)) for name in METRICS[1:]),
)
"""The table's rows: a key, what the lead reads (in full, and where the screen is narrow), and the
cell text of one population, with or without the counts a rate is out of (a narrow screen keeps
them to the All column, so that SEV4 stays on it)."""


BARS = "▁▂▃▄▅▆▇█"


def trend_line(series: list[float | None], width: int = 3) -> str:
    """`width` characters a week, from 0 (lowest bar) to the largest value (the highest). A week
    with nothing to measure shows "·": a rate of no escalations is not 0 %, and a chart that drew
    it as 0 made an empty week look like a perfect one."""
    top = max((value for value in series if value is not None), default=0.0)

    def week(value: float | None) -> str:
        if value is None:
            return "·".center(width)
        return BARS[0 if top <= 0 else round(value / top * (len(BARS) - 1))] * width
    return "".join(week(value) for value in series)


def trend_text(series: list[float | None], name: str) -> str:
    def one(value: float | None) -> str:
        if value is None:
            return "—"
        return format_countdown(int(value)) if name == "time_to_named_owner" else f"{value:.0%}"
    return " ".join(one(value) for value in series)


class MetricsScreen(CasewatchScreen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="metrics.back", tooltip="Back to the board"),
        Binding("t", "window('today')", "Today", id="metrics.today",
                tooltip="Escalations since midnight in your zone"),
        Binding("s", "window('shift')", "Shift", id="metrics.shift",
                tooltip="Escalations since the current shift started"),
        Binding("7", "window('7 days')", "7 days", id="metrics.week", tooltip="Escalations of the last 7 days"),
        Binding("3", "window('30 days')", "30 days", id="metrics.month", tooltip="Escalations of the last 30 days"),
    ]

    window: reactive[str] = reactive("7 days", init=False)

    def __init__(self) -> None:
        super().__init__()
        self.reports: dict[str, Report] = {}
        self.weekly: list[Report] = []
        self.as_of: datetime | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="metrics-body"):
            yield Static(id="metrics-head")
            table: DataTable[Text] = DataTable(id="metrics-table", cursor_type="none", zebra_stripes=True)
            yield table
            yield Label(f"Weekly trend, the last {WEEKS} weeks (oldest first):", id="trend-label")
            for name in METRICS:
                with Horizontal(classes="trend"):  # stacked on a narrow screen: the name above its series
                    yield Label(LABELS[name], classes="trend-name")
                    with Horizontal(classes="trend-series"):
                        yield Static(id=f"trend-{name}", classes="trend-chart")
                        yield Static(id=f"trend-values-{name}", classes="trend-values")
            yield Static(id="metrics-signals")
        yield CasewatchFooter()

    def on_mount(self) -> None:
        table = self.query_one("#metrics-table", DataTable)
        table.add_column("Metric", key="metric")
        table.add_column("All", key="all")
        for severity in Severity:
            table.add_column(severity.value, key=severity.value)
        self.query_one("#metrics-head", Static).update(Text("Computing the metrics from the event log…"))
        self.load()

    @work(name="Load metrics", group="metrics-load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        app = self.app
        now = app.now()
        shift = app.state.lead.shift
        windows = metric_windows(now, app.zone.key, shift.started_at if shift else None)
        weeks = weekly_windows(now, WEEKS)
        try:
            reports = await app.store.metrics([*windows.values(), *weeks], now)
        except CasewatchError as exc:
            app.notify(str(exc), title="Metrics", severity="error", markup=False)
            return
        self.reports = dict(zip(windows, reports[: len(windows)], strict=True))
        self.weekly, self.as_of = reports[len(windows):], now
        self.show()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.has_class("narrow"):
            self.set_class(narrow, "narrow")
            report = self.reports.get(self.window)
            if report is not None:
                self._show_table(report)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "window" and parameters and self.reports and parameters[0] not in self.reports:
            return None  # no shift started: the key shows disabled
        return True

    def action_window(self, name: str) -> None:
        if name in self.reports:
            self.window = name

    def watch_window(self) -> None:
        self.show()

    def show(self) -> None:
        report = self.reports.get(self.window)
        if report is None or self.as_of is None:
            return
        self._show_head(report)
        self._show_table(report)
        self._show_trends()
        self.refresh_bindings()

    def _show_head(self, report: Report) -> None:
        zone = self.app.zone
        since = report.since.astimezone(zone).strftime("%a %d %b %H:%M") if report.since else "the beginning"
        until = self.as_of.astimezone(zone).strftime("%a %d %b %H:%M") if self.as_of else "now"
        head = Text()
        head.append(f" {self.window} ", style="bold reverse")
        owned, unowned = len(report.overall.owner_times_s), report.overall.unowned
        named = zone_named_once(zone, self.app.now())
        head.append(f"  {owned + unowned} escalations from {since} to {until} ({named}): {owned} owned, "
                    f"{unowned} still without an owner")
        keys = "  ".join(f"{key} {name}" for name, key in WINDOW_KEYS.items() if name in self.reports)
        head.append(f"\n  {keys}", style="dim")
        self.query_one("#metrics-head", Static).update(head)  # only when the window changes: its height may too

    def _show_table(self, report: Report) -> None:
        table = self.query_one("#metrics-table", DataTable)
        narrow = self.has_class("narrow")
        with self.app.batch_update():
            table.clear()
            for key, label, short, text in ROWS:
                cells = [Text(short if narrow else label, style="bold"), Text(text(report.overall, True))]
                cells += [Text(text(report.by_severity[s.value], not narrow)) if s.value in report.by_severity
                          else Text("—", style="dim") for s in Severity]
                table.add_row(*cells, key=key)

    def _show_trends(self) -> None:
        signals = Text()
        for name in METRICS:
            series = [headline(week.overall, name) for week in self.weekly]
            self.query_one(f"#trend-{name}", Static).update(Text(trend_line(series)), layout=False)
            self.query_one(f"#trend-values-{name}", Static).update(Text(trend_text(series, name)), layout=False)
            if going_wrong_way(series):
                signals.append(f"▲ {LABELS[name]} is going the wrong way: ", style="bold")
                signals.append(f"{FAILURE_SIGNALS[name]}.\n")
        if not signals:
            signals.append("No metric is going the wrong way over the last weeks.", style="dim")
        self.query_one("#metrics-signals", Static).update(signals)
