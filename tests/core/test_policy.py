import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casewatch.core.errors import PolicyInvalid
from casewatch.core.models import Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML, Severities, default_policy, parse_policy


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as info:
        parse_policy(text, "team.toml")
    return info.value.problems


def test_default_policy_is_valid_and_complete():
    policy = default_policy()
    assert set(policy.severities) == set(Severity)
    assert policy[Severity.SEV1].route == "incident"
    assert policy[Severity.SEV1].customer_update_every.total_seconds() == 20 * 60
    assert policy[Severity.SEV3].pause_updates_while_waiting is True


def test_the_policy_is_shown_as_the_team_wrote_it():
    text = DEFAULT_POLICY_TOML.replace("[calendars.business]", "# office hours, Berlin\n[calendars.business]")
    assert parse_policy(text).to_toml() == text


def test_every_severity_has_a_table():
    assert list(Severities.model_fields) == [s.value for s in Severity]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('owner_within = "15m"', 'owner_within = "15x"', "team.toml:6: severities.SEV1.owner_within: bad duration '15x'"),
    ('label = "High"', 'label = "High"\ncolour = "red"', "team.toml:17: severities.SEV2.colour: unknown key"),
    ('timezone = "UTC"', 'timezone = "Mars/Olympus"', "calendars.business.timezone: unknown time zone 'Mars/Olympus'"),
    ('holidays = []', 'holidays = []\nholidays_country = "XX"', "calendars.business.holidays_country: unknown holiday country 'XX'"),
    ('hours = ["09:00-17:00"]', 'hours = ["09:00-13:00", "12:00-17:00"]', "calendars.business.hours: overlapping hours 09:00-13:00 and 12:00-17:00"),
    ('hours = ["09:00-17:00"]', 'hours = ["09:00-09:00"]', "calendars.business.hours: empty hours '09:00-09:00'"),
    ('hours = ["09:00-17:00"]', 'hours = []', "calendars.business.hours: required"),
    ('days = ["mon", "tue", "wed", "thu", "fri"]', 'days = []', "calendars.business: has zero working hours in a week"),
    ('calendar = "business"\npause_updates_while_waiting = true\nwarn_at = 0.2\n\n[severities.SEV4]',
     'calendar = "nine-to-five"\npause_updates_while_waiting = true\nwarn_at = 0.2\n\n[severities.SEV4]',
     "team.toml:33: severities.SEV3.calendar: calendar 'nine-to-five' is referenced but not defined"),
    ('route = "incident"\nmust_involve = ["lead", "incident-commander"]', 'must_involve = ["lead", "incident-commander"]',
     "severities.SEV1.route: required field is missing"),
    ('warn_at = 0.25', 'warn_at = 1.5', "severities.SEV1.warn_at: must be a number from 0 to 1, got 1.5"),
    ('route = "incident"', 'route = "escalations"', "severities.SEV1.route: unknown route 'escalations'"),
    ('[severities.SEV4]', '[severities.SEV5]', "severities.SEV5: unknown severity"),
])
def test_each_problem_names_file_line_or_key_and_what_is_wrong(old, new, expected):
    assert old in DEFAULT_POLICY_TOML
    problems = problems_of(DEFAULT_POLICY_TOML.replace(old, new, 1))
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_reported_not_just_the_first():
    text = DEFAULT_POLICY_TOML.replace('"15m"', '"soon"').replace('warn_at = 0.25', 'warn_at = -1', 1)
    text = text.replace('timezone = "UTC"', 'timezone = "Nowhere/City"')
    problems = problems_of(text)
    assert len(problems) == 3
    assert all(problem.startswith("team.toml:") for problem in problems)


def test_problems_come_in_the_order_of_the_file_and_control_characters_stay_escaped():
    text = DEFAULT_POLICY_TOML.replace('timezone = "UTC"', 'timezone = "Nowhere/City"\n"a\\u001bb" = 1')
    text = text.replace('warn_at = 0.25', 'warn_at = 7', 1)
    problems = problems_of(text)
    assert [p.split(":")[1] for p in problems] == ["13", "48", "49"]  # an escaped key: its table's line
    assert problems[1] == ("team.toml:48: calendars.business.'a\\x1bb': unknown key "
                           "(expected one of days, holidays, holidays_country, hours, timezone)")


def test_keys_inside_optional_tables_and_arrays_of_tables_are_worded_and_located_by_their_own_table():
    text = DEFAULT_POLICY_TOML.split("[[evidence.items]]")[0] + (
        '[evidence]\ncolour = 1\n\n[[evidence.items]]\nkey = "impact"\nlabel = "Impact"\n\n'
        '[[evidence.items]]\nkey = "x"\nlabel = "X"\nbogus = 2\n')
    lines = text.splitlines()
    problems = problems_of(text)
    assert problems == [
        f"team.toml:{lines.index('colour = 1') + 1}: evidence.colour: unknown key (expected one of items)",
        f"team.toml:{lines.index('bogus = 2') + 1}: evidence.items.bogus: unknown key "
        "(expected one of hint, key, label, required_for, required_for_routes)",
    ]


def test_syntax_errors_say_where():
    problems = problems_of("[severities.SEV1\nlabel = 1")
    assert problems[0].startswith("team.toml: not valid TOML:") and "line 1" in problems[0]


def test_missing_severity_is_a_problem():
    text = DEFAULT_POLICY_TOML.split("[severities.SEV4]")[0] + "[calendars.business]" + \
        DEFAULT_POLICY_TOML.split("[calendars.business]")[1]
    assert any("severities.SEV4: missing" in p for p in problems_of(text))


toml_values = st.recursive(
    st.one_of(st.text(max_size=12), st.integers(-5, 10**6), st.floats(allow_nan=False), st.booleans()),
    lambda children: st.lists(children, max_size=4), max_leaves=6,
)
keys = st.sampled_from(["label", "owner_within", "route", "calendar", "warn_at", "hours", "timezone", "days",
                        "must_involve", "holidays", "holidays_country", "x"]) | st.text(min_size=1, max_size=6)


def _toml_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    return repr(value)


@st.composite
def random_policies(draw):
    tables = draw(st.lists(st.sampled_from(["severities.SEV1", "severities.SEV2", "severities.SEV3",
                                            "severities.SEV4", "calendars.business", "calendars.x", "other"]),
                           max_size=5))
    lines = []
    for table in tables:
        lines.append(f"[{table}]")
        for key, value in draw(st.dictionaries(keys, toml_values, max_size=5)).items():
            lines.append(f'"{key}" = {_toml_literal(value)}')
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=20)))  # sometimes plain garbage
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_policies())
def test_random_toml_never_escapes_as_an_exception(text):
    try:
        parse_policy(text, "fuzz.toml")
    except PolicyInvalid as exc:
        assert exc.problems and all(p.startswith("fuzz.toml") for p in exc.problems)


def test_a_clock_its_calendar_cannot_bring_due_is_refused():
    """One working minute each Monday: 8h43m of working time in 3,660 days (523 Mondays), so SEV4's
    8h owner clock plans but its 24h update and 40h review clocks could not, nor SEV3's 16h review."""
    thin = DEFAULT_POLICY_TOML.replace('hours = ["09:00-17:00"]', 'hours = ["09:00-09:01"]').replace(
        'days = ["mon", "tue", "wed", "thu", "fri"]', 'days = ["mon"]')
    problems = problems_of(thin)
    assert [p.split(": ")[1] for p in problems] == [
        "severities.SEV3.internal_review_every", "severities.SEV4.customer_update_every",
        "severities.SEV4.internal_review_every"]
    review_line = thin.splitlines().index('internal_review_every = "40h"') + 1
    assert problems[2] == (f"team.toml:{review_line}: severities.SEV4.internal_review_every: 1d16h of working time "
                           "takes calendar 'business' more than 10 years (8h43m in all); give it more hours or the "
                           "clock less time")


EVIDENCE_ITEM = '\n[[evidence.items]]\nkey = "impact"\nlabel = "{label}"\nhint = "{hint}"\n'


def with_item(label: str, hint: str = "") -> str:
    """The default policy with its checklist replaced by one item of this label and hint."""
    head = DEFAULT_POLICY_TOML.split("[[evidence.items]]")[0].split("[evidence]")[0]
    return head + "[evidence]" + EVIDENCE_ITEM.format(label=label, hint=hint) + \
        '\n[review]\ncauses = ["unknown"]\n'


@pytest.mark.parametrize(("label", "hint", "expected"), [
    ("Impact\\u001b]0;x\\u0007", "", "evidence.items.label: control character U+001B at position 7 is not allowed"),
    ("Imp\\u202eact", "", "evidence.items.label: bidirectional override U+202E at position 4 is not allowed"),
    ("AC\\u200bME impact", "", "evidence.items.label: invisible character U+200B at position 3 is not allowed"),
    ("Impact\\nsecond line", "", "evidence.items.label: control character U+000A at position 7 is not allowed (it is a single line)"),
    ("L" * 81, "", "evidence.items.label: too long (81 characters; the limit is 80)"),
    ("Impact", "h" * 501, "evidence.items.hint: too long (501 characters; the limit is 500)"),
    ("Impact", "see \\u001b[2J", "evidence.items.hint: control character U+001B at position 5 is not allowed"),
])
def test_policy_text_follows_the_rules_of_typed_text(label, hint, expected):
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(with_item(label, hint), "p.toml")
    [found] = caught.value.problems
    assert found.startswith("p.toml:") and found.endswith(expected), found


def test_policy_text_within_the_rules_passes_and_a_stored_policy_reads_back_as_written():
    assert parse_policy(with_item("L" * 80, "line one\\nline two\\t" + "h" * 480), "p.toml").evidence[0].label == "L" * 80
    stored = parse_policy(with_item("Old \\u001b label"), "policy v2", version=2)  # written by an older casewatch
    assert stored.evidence[0].label == "Old \x1b label"
    severity_label = DEFAULT_POLICY_TOML.replace('label = "Critical"', 'label = "' + "C" * 81 + '"')
    with pytest.raises(PolicyInvalid, match=r"severities\.SEV1\.label: too long \(81 characters"):
        parse_policy(severity_label, "p.toml")
    role = DEFAULT_POLICY_TOML.replace('"incident-commander"', '"ic\\u2060"')
    with pytest.raises(PolicyInvalid, match=r"must_involve: role .*invisible character U\+2060"):
        parse_policy(role, "p.toml")


def test_a_policy_file_over_1_mb_is_refused_in_one_line():
    big = DEFAULT_POLICY_TOML + "# " + "x" * (1024 * 1024) + "\n"
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(big, "big.toml")
    assert caught.value.problems == [
        f"big.toml: too large ({len(big.encode()):,} bytes; a policy or config file may hold at most 1 MB)"]
