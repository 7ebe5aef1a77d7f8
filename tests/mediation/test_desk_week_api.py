"""The reads a desk's week is drawn from: its booked sessions with their cases, and each
date of the calendar with why it is (or is not) a working day."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, open_case
from tests.mediation.desk_client import client_for, staff_headers
from tests.mediation.desk_helpers import loaded_days


def _sessions(mediation: MediationRuntime, role: str, desk: str, **query: str) -> Any:
    window = {"from": "2026-11-28T00:00:00+08:00", "to": "2026-12-12T00:00:00+08:00"} | query
    return client_for(mediation).get(
        f"/v1/desks/{desk}/sessions", query_string=window, headers=staff_headers(mediation, role)
    )


def _escalated(mediation: MediationRuntime, desk: str) -> uuid.UUID:
    """A case of 郭警官's accepted and escalated to `desk` (its next free slot)."""
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    act(mediation, case_id, "escalate", desk=desk)
    return case_id


def test_the_desk_sees_each_booked_session_with_its_case(mediation: MediationRuntime) -> None:
    case_id = _escalated(mediation, "mediation_room")
    case: Any = client_for(mediation).get(
        f"/v1/cases/{case_id}", headers=staff_headers(mediation, "desk")
    )
    booked = case.json["sessions"][0]

    answer = _sessions(mediation, "desk", "mediation_room")

    assert answer.status_code == 200
    assert answer.json == [
        {
            "id": booked["id"],
            "case_id": str(case_id),
            "tracking_code": case.json["tracking_code"],
            "case_status": "session_scheduled",
            "starts_at": booked["starts_at"],
            "ends_at": booked["ends_at"],
            "outcome": None,
        }
    ]


def test_sessions_of_cases_the_caller_may_not_see_are_absent(mediation: MediationRuntime) -> None:
    _escalated(mediation, "lawyer_desk")  # desk-mediator sits at the mediation room

    assert _sessions(mediation, "desk", "lawyer_desk").json == []
    assert _sessions(mediation, "verifier", "lawyer_desk").json == []
    assert len(_sessions(mediation, "leader", "lawyer_desk").json) == 1
    assert len(_sessions(mediation, "officer", "lawyer_desk").json) == 1  # his village's case


def test_a_cancelled_session_is_not_listed(mediation: MediationRuntime) -> None:
    case_id = _escalated(mediation, "mediation_room")
    act(mediation, case_id, "decline", party="陈二弟", reason="不愿调解")

    assert _sessions(mediation, "leader", "mediation_room").json == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-11-27T00:00:00+08:00"}, "to"),
        ({"to": "2027-03-01T00:00:00+08:00"}, "to"),
    ],
)
def test_a_bad_window_is_a_422_naming_the_field(
    mediation: MediationRuntime, query: dict[str, str], field: str
) -> None:
    answer = _sessions(mediation, "desk", "mediation_room", **query)

    assert answer.status_code == 422
    assert field in answer.json["errors"]["query"]


def test_an_unknown_desk_has_no_sessions_but_a_404(mediation: MediationRuntime) -> None:
    assert _sessions(mediation, "desk", "nowhere").status_code == 404


def _range(mediation: MediationRuntime, first: str, last: str) -> Any:
    return client_for(mediation).get(
        "/v1/calendar/range",
        query_string={"from": first, "to": last},
        headers=staff_headers(mediation, "desk"),
    )


def test_the_range_says_why_each_date_is_or_is_not_a_working_day(
    mediation: MediationRuntime,
) -> None:
    answer = _range(mediation, "2026-10-05", "2026-10-12")

    assert answer.status_code == 200
    by_date = {d["date"]: d for d in answer.json}
    assert len(by_date) == 8
    assert by_date["2026-10-06"] == {
        "date": "2026-10-06",
        "working": False,
        "kind": "holiday",
        "holiday": "National Day",
        "holiday_zh": "国庆节",
        "note": "",
    }
    assert by_date["2026-10-09"]["kind"] == "working_day"
    assert by_date["2026-10-10"]["kind"] == "adjusted_working_day"  # the 调休 Saturday
    assert by_date["2026-10-10"]["working"] is True
    assert by_date["2026-10-11"]["kind"] == "rest_day"
    assert by_date["2026-10-11"]["holiday"] is None


def test_a_loaded_date_overrides_the_notice_and_shows_its_note(
    mediation: MediationRuntime,
) -> None:
    with loaded_days(mediation, {date(2026, 12, 3): False}):
        answer = _range(mediation, "2026-12-03", "2026-12-03")

    assert answer.json == [
        {
            "date": "2026-12-03",
            "working": False,
            "kind": "holiday",
            "holiday": None,
            "holiday_zh": None,
            "note": "",
        }
    ]


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-10-12", "2026-10-05", "to"),
        ("2026-10-01", "2026-12-31", "to"),
        ("1999-12-31", "2000-01-01", "from"),
        ("13 October", "2026-10-14", "from"),
    ],
)
def test_a_bad_range_is_a_422_naming_the_field(
    mediation: MediationRuntime, first: str, last: str, field: str
) -> None:
    answer = _range(mediation, first, last)

    assert answer.status_code == 422
    assert field in answer.json["errors"]["query"]
