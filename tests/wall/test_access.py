"""Who may open the wall: the token file's rules, the cookie, loopback, and `casewatch wall`'s
refusals (one line, exit 2, before anything is served)."""

from __future__ import annotations

import re

import pytest

from casewatch.core.errors import InvalidInput
from casewatch.wall.access import Access, access_for, addressed_to_us, is_loopback, read_token

TOKEN = "0123456789abcdef-wall"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.1.5", True), ("::1", True),
                                                ("localhost", True), ("0.0.0.0", False), ("::", False),
                                                ("192.168.1.10", False), ("wall.example.com", False)])
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("host", "ours"), [
    ("127.0.0.1:8080", True), ("localhost:8080", True), ("LOCALHOST:8080", True), ("[::1]:8080", True),
    ("wall.example.com", True), ("wall.example.com:443", True), ("evil.example:8080", False),
    ("localhost:8081", False), ("localhost", False), ("[::1", False), ("", False), ("localhost:port", False)])
def test_a_wall_without_a_token_answers_to_its_own_names_only(host, ours):
    assert addressed_to_us(host, 8080, "https://wall.example.com/") is ours
    assert addressed_to_us("evil.example:8080", 8080, None) is False


def test_a_token_from_an_owner_only_file(token_file):
    assert read_token(token_file) == TOKEN


@pytest.mark.parametrize(("mode", "said"), [(0o644, "others may read it (mode 644)"), (0o640, "mode 640"),
                                            (0o602, "mode 602")])
def test_a_file_others_may_read_is_refused_without_quoting_it(token_file, mode, said):
    token_file.chmod(mode)
    with pytest.raises(InvalidInput, match=re.escape(said)) as refused:
        read_token(token_file)
    assert TOKEN not in str(refused.value)


@pytest.mark.parametrize("content", ["short", "two words of a token here", "", "tab\tinside-a-long-token"])
def test_a_weak_or_odd_token_is_refused(token_file, content):
    token_file.write_text(content)
    with pytest.raises(InvalidInput, match="at least 16 printable characters"):
        read_token(token_file)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInput, match="No such file"):
        read_token(tmp_path / "nope")


def test_only_loopback_goes_without_a_token(token_file):
    assert not access_for("127.0.0.1", None).required
    assert access_for("127.0.0.1", token_file).required  # a token file given is always required
    with pytest.raises(InvalidInput, match="--host 0.0.0.0 is reachable from other machines: give --token-file"):
        access_for("0.0.0.0", None)
    assert access_for("0.0.0.0", token_file).token == TOKEN


def test_the_cookie_is_not_the_token():
    access = Access(TOKEN)
    assert TOKEN not in access.cookie_value
    assert access.cookie_matches(access.cookie_value) and not access.cookie_matches(TOKEN)
    assert access.token_matches(TOKEN) and not access.token_matches(TOKEN[:-1]) and not access.token_matches(None)
    assert not Access(None).cookie_matches("anything")


def test_the_wall_refuses_bad_settings_in_one_line(run_cli, token_file):
    assert run_cli("people", "add", "wall", "--role", "viewer", "--tz", "Europe/Berlin")[0] == 0
    cases = [
        (("--host", "0.0.0.0"), "give --token-file"),
        (("--max-viewers", "0"), "--max-viewers must be 1 to 64"),
        (("--font-size", "2"), "--font-size must be 6 to 96"),
        (("--public-url", "wall.example.com"), "--public-url must start with http:// or https://"),
        (("--as", "dana"), "dana is on the roster as lead: the wall runs as a viewer of its own"),
        (("--as", "nobody"), "nobody is not on the roster"),
    ]
    for flags, said in cases:
        code, out, err = run_cli("wall", "--as", "wall", *flags)
        assert (code, out) == (2, ""), flags
        assert said in err and err.count("\n") == 1, err
    token_file.chmod(0o644)
    code, _out, err = run_cli("wall", "--as", "wall", "--host", "0.0.0.0", "--token-file", str(token_file))
    assert code == 2 and "chmod 600" in err and TOKEN not in err
