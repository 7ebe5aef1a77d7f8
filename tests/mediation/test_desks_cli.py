"""`fengqiao desks …` and `fengqiao calendar …` on the test's mediation database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from services.cli import main
from services.mediation.desks import service as desks
from services.mediation.runtime import MediationRuntime
from tests.mediation.desk_helpers import desk_like


@pytest.fixture
def cli(mediation: MediationRuntime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `fengqiao` command, configured for the test's mediation database."""
    monkeypatch.setenv("MEDIATION_DATABASE_URL", mediation.settings.database_url)
    monkeypatch.setenv("BROKER_URL", mediation.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(mediation.settings.var_dir))
    return CliRunner()


def test_desks_list_shows_every_desk_and_its_hours(cli: CliRunner) -> None:
    result = cli.invoke(main, ["desks", "list"])

    assert result.exit_code == 0, result.output
    assert "驻所律师办  on Tue, Thu when they are working days, 09:00–11:30" in result.output
    assert "19:00议事厅  every day, 19:00–20:30" in result.output


def test_set_hours_changes_only_what_is_given(cli: CliRunner, mediation: MediationRuntime) -> None:
    code = desk_like(mediation, "lawyer_desk")

    result = cli.invoke(
        main, ["desks", "set-hours", code, "--weekdays", "1,3,5", "--parallel", "2"]
    )

    assert result.exit_code == 0, result.output
    with mediation.db.sessions() as session:
        desk = desks.get_desk(session, code)
        assert (desk.weekdays, desk.parallel, desk.opens) == ([1, 3, 5], 2, "09:00")
    shown = cli.invoke(main, ["desks", "show", code, "--days", "14"])
    assert "on Mon, Wed, Fri when they are working days" in shown.output
    assert "free slots in the next 14 days" in shown.output


def test_set_hours_refuses_unusable_hours_and_unknown_desks_clearly(
    cli: CliRunner, mediation: MediationRuntime
) -> None:
    code = desk_like(mediation, "mediation_room")

    backwards = cli.invoke(main, ["desks", "set-hours", code, "--closes", "08:00"])
    unknown = cli.invoke(main, ["desks", "show", "nowhere"])
    nameless = cli.invoke(main, ["desks", "set-hours", "brand-new", "--parallel", "1"])

    assert backwards.exit_code != 0
    assert "closes after it opens" in backwards.output
    assert unknown.exit_code != 0
    assert "no desk 'nowhere'" in unknown.output
    assert "needs a name" in nameless.output


def test_calendar_add_day_and_show_a_year_the_package_does_not_know(
    cli: CliRunner, mediation: MediationRuntime
) -> None:
    added = cli.invoke(
        main, ["calendar", "add-day", "2028-01-03", "--holiday", "--note", "元旦调休"]
    )
    worked = cli.invoke(main, ["calendar", "add-day", "2028-01-08", "--working"])
    try:
        shown = cli.invoke(main, ["calendar", "show", "2028"])
    finally:
        for day in ("2028-01-03", "2028-01-08"):
            assert cli.invoke(main, ["calendar", "remove-day", day]).exit_code == 0

    assert added.exit_code == 0, added.output
    assert "2028-01-03 (Mon) is now a holiday" in added.output
    assert "2028-01-08 (Sat) is now a working day" in worked.output
    assert "NOT known" in shown.output
    assert "2028-01-03 Mon  holiday      (loaded: 元旦调休)" in shown.output
    assert "2028-01-08 Sat  working day  (loaded)" in shown.output
    assert shown.output.count("\n  ") == 2  # nothing else differs from Monday to Friday


def test_calendar_show_lists_the_official_holidays_and_adjusted_weekends(cli: CliRunner) -> None:
    shown = cli.invoke(main, ["calendar", "show", "2026"])

    assert shown.exit_code == 0, shown.output
    assert "2026: the official calendar is known" in shown.output
    assert "2026-10-06 Tue  holiday      (official)" in shown.output
    assert "2026-10-10 Sat  working day  (official)" in shown.output
    assert "2026-09-20 Sun  working day  (official)" in shown.output


def test_add_day_needs_working_or_holiday(cli: CliRunner) -> None:
    result = cli.invoke(main, ["calendar", "add-day", "2028-01-03"])

    assert result.exit_code != 0
    assert "--working" in result.output
