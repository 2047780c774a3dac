"""Bad database locations are refused with one line, before anything is created."""

import pytest

from casewatch.core.errors import InvalidInput
from casewatch.storage.target import resolve_target


def test_missing_directory(tmp_path):
    with pytest.raises(InvalidInput, match=f"directory {tmp_path / 'nope'} does not exist"):
        resolve_target(tmp_path / "nope" / "cases.db")
    assert not (tmp_path / "nope").exists()


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(InvalidInput, match="is a directory"):
        resolve_target(tmp_path)


def test_not_a_sqlite_file_is_left_untouched(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    with pytest.raises(InvalidInput, match="is not a SQLite database"):
        resolve_target(notes)
    assert notes.read_text() == "shopping list\n"


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql+asyncpg://user:secret@host:notaport/db", "malformed database URL"),
    ("mysql://root@localhost/cases", "unsupported database URL scheme 'mysql'"),
    ("sqlite+aiosqlite://", "needs a file path"),
    ("postgresql+asyncpg://user@host/", "names no database"),
])
def test_bad_urls(url, message):
    with pytest.raises(InvalidInput, match=message) as info:
        resolve_target(url)
    assert "secret" not in str(info.value)


def test_sync_urls_get_the_async_driver(tmp_path):
    assert resolve_target(f"sqlite:///{tmp_path}/x.db").url.drivername == "sqlite+aiosqlite"
    assert resolve_target("postgresql://u@h/db").url.drivername == "postgresql+asyncpg"
