"""A year like the seed's: 63 disputes at the lawyer desk, none rebounded, in the figures."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main
from services.common.clock import STATION_TZ
from services.mediation.cases.stats import case_stats
from services.mediation.demo_year import SEED_DISPUTES, load_year
from services.mediation.models import OutboxMessage
from services.mediation.runtime import MediationRuntime


def _outbox_rows(mediation: MediationRuntime) -> int:
    with mediation.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_a_loaded_year_gives_the_seeds_figures_and_loads_once(
    mediation: MediationRuntime,
) -> None:
    year = 2000 + secrets.randbelow(12)  # a past year of this test's own (no upcoming sessions)
    outbox = _outbox_rows(mediation)

    assert load_year(mediation, year=year) == SEED_DISPUTES
    assert load_year(mediation, year=year) == 0  # again: nothing more

    since = datetime(year, 1, 1, tzinfo=STATION_TZ)
    until = datetime(year + 1, 1, 1, tzinfo=STATION_TZ)
    with mediation.db.sessions() as session:
        figures: dict[str, Any] = case_stats(session, since=since, until=until)
    assert figures["cases"] == SEED_DISPUTES == 63
    assert figures["by_status"] == {"closed": 63}
    assert figures["sessions_by_desk"] == {"lawyer_desk": 63}
    assert figures["cases_by_desk"] == {"lawyer_desk": 63}
    assert figures["rebounds_by_desk"] == {"lawyer_desk": 0}
    assert (figures["resolved"], figures["rebounded"]) == (63, 0)
    assert sum(m["cases"] for m in figures["months"]) == 63
    assert [m["period"] for m in figures["months"]] == [f"{year}-{m:02d}" for m in range(1, 13)]
    assert figures["resolution_rate"] == 1.0
    assert figures["rebound_rate"] == 0.0
    assert figures["deadlines_breached"] == 0
    assert 1 <= figures["median_days_to_resolution"] <= 14  # booked at the next Tue/Thu
    assert _outbox_rows(mediation) == outbox  # a year already lived tells nobody


def test_the_cli_loads_a_year_and_prints_its_figures(
    mediation: MediationRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", mediation.settings.database_url)
    monkeypatch.setenv("BROKER_URL", mediation.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(mediation.settings.var_dir))
    year = 2012 + secrets.randbelow(12)  # a past year, not the other test's
    cli = CliRunner()

    loaded = cli.invoke(main, ["demo-year", "cases", "--year", str(year)])
    shown = cli.invoke(main, ["stats", "cases", "--from", f"{year}-01-01", "--to", f"{year}-12-31"])
    backwards = cli.invoke(
        main, ["stats", "cases", "--from", f"{year}-02-01", "--to", f"{year}-01-01"]
    )

    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.splitlines()[-1] == f"{year}: 63 disputes loaded"  # after any warnings
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"cases opened {year}-01-01 – {year}-12-31: 63"
    assert "by status: closed 63" in lines
    assert "sessions by desk: lawyer_desk 63" in lines
    assert "resolution rate: 100.0%" in lines and "rebound rate: 0.0%" in lines
    assert "deadlines breached: 0" in lines
    assert backwards.exit_code != 0 and "must not be before --from" in backwards.output
