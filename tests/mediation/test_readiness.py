"""/readyz names the calendar years that fall back to Monday-Friday, without failing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from services.mediation.runtime import MediationRuntime, calendar_note
from tests.mediation.client import client_for


def test_a_year_the_holiday_package_does_not_know_is_reported_and_logged_once(
    mediation: MediationRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(mediation)  # the clock's year ends within the booking lookahead

    with caplog.at_level(logging.WARNING, logger="services.mediation.runtime"):
        first: Any = client.get("/readyz")
        second: Any = client.get("/readyz")

    assert first.status_code == 200, first.json
    assert first.json["status"] == "ok"
    note = first.json["checks"]["calendar"]
    assert note.startswith("fallback to Monday-Friday plus loaded dates for ") and "2027 (" in note
    assert second.json["checks"]["calendar"] == note
    logged = [r.getMessage() for r in caplog.records if "working calendar" in r.getMessage()]
    assert logged == [f"working calendar: {note}"]


def test_the_calendar_note_lists_each_year_with_its_loaded_dates() -> None:
    assert calendar_note({}) == "ok"
    assert calendar_note({2028: 0, 2027: 3}) == (
        "fallback to Monday-Friday plus loaded dates for "
        "2027 (3 dates loaded), 2028 (0 dates loaded)"
    )
