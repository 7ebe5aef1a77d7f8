"""Setting console passwords: the CLI command, and the demo station's first passwords."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.common.db import Database
from services.console.models import StaffPassword
from services.console.passwords import check_password
from services.console.settings import ConsoleSettings
from services.console.setup import demo_passwords, migrate

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> ConsoleSettings:
    made = ConsoleSettings(
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        mediation_url="http://127.0.0.1:9",
        var_dir=tmp_path,
    )
    migrate(made)
    return made


def _checks(settings: ConsoleSettings, staff_id: str, password: str) -> bool:
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            return check_password(session, staff_id=staff_id, password=password)
    finally:
        db.dispose()


def test_the_cli_sets_a_password(
    settings: ConsoleSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CONSOLE_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(
        main, ["staff", "password", "officer-liu"], input="liu-secret-99\nliu-secret-99\n"
    )
    assert result.exit_code == 0, result.output
    assert _checks(settings, "officer-liu", "liu-secret-99")
    assert not _checks(settings, "officer-liu", "liu-secret-98")


def test_the_cli_refuses_a_short_password_and_an_unknown_id(
    settings: ConsoleSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CONSOLE_DATABASE_URL", settings.database_url)
    short = CliRunner().invoke(main, ["staff", "password", "officer-liu", "--password", "short"])
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    unknown = CliRunner().invoke(
        main, ["staff", "password", "officer-nobody", "--password", "long-enough-1"]
    )
    assert unknown.exit_code != 0
    assert "no staff member 'officer-nobody'" in unknown.output


def test_the_demo_station_gets_passwords_once(settings: ConsoleSettings) -> None:
    made = demo_passwords(settings, now=NOW)
    assert "officer-guo" in made
    assert len(set(made.values())) == len(made)  # each its own
    assert _checks(settings, "officer-guo", made["officer-guo"])
    assert demo_passwords(settings, now=NOW) == {}  # second start: none printed or changed
    assert _checks(settings, "officer-guo", made["officer-guo"])
    db = Database(settings.database_url)
    with db.sessions() as session:
        stored = session.get_one(StaffPassword, "officer-guo").hash
    db.dispose()
    assert made["officer-guo"] not in stored  # only the hash is kept


def test_a_real_station_gets_no_demo_passwords(settings: ConsoleSettings, tmp_path: Path) -> None:
    station = tmp_path / "station.toml"
    station.write_text('[station]\nname = "测试所"\n\n[[staff]]\nid = "a"\nname = "甲"\n')
    assert demo_passwords(replace(settings, station_file=station), now=NOW) == {}
