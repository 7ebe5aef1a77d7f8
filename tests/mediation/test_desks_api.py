"""The desks and calendar API: reading for any staff, changes for the leader and ops."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.mediation.runtime import MediationRuntime
from tests.mediation.desk_client import client_for, staff_headers
from tests.mediation.desk_helpers import desk_like, loaded_days
from tests.mediation.test_desk_booking import book, local


def test_staff_list_the_desks_with_their_hours(mediation: MediationRuntime) -> None:
    answer: Any = client_for(mediation).get("/v1/desks", headers=staff_headers(mediation, "desk"))

    assert answer.status_code == 200
    room = next(d for d in answer.json if d["code"] == "mediation_room")
    assert room["name"] == "魏民调解室"
    assert (room["opens"], room["closes"], room["parallel"]) == ("09:00", "17:00", 2)
    assert room["hours"] == "on working days, 09:00–17:00, sessions of 60 minutes, 2 at a time"
    lawyer = next(d for d in answer.json if d["code"] == "lawyer_desk")
    assert lawyer["weekdays"] == [2, 4]


@pytest.mark.parametrize("path", ["/v1/desks", "/v1/desks/mediation_room", "/v1/calendar"])
def test_without_a_staff_token_it_is_401(mediation: MediationRuntime, path: str) -> None:
    assert client_for(mediation).get(path).status_code == 401


def test_an_unknown_desk_is_a_404(mediation: MediationRuntime) -> None:
    client, headers = client_for(mediation), staff_headers(mediation, "officer")
    slots = "/v1/desks/nowhere/slots?from=2026-10-12T00:00:00%2B08:00&to=2026-10-13T00:00:00Z"

    assert client.get("/v1/desks/nowhere", headers=headers).status_code == 404
    assert client.get(slots, headers=headers).status_code == 404
    assert (
        client.patch(
            "/v1/desks/nowhere", json={"parallel": 3}, headers=staff_headers(mediation, "ops")
        ).status_code
        == 404
    )


def test_slots_show_free_places_in_utc(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    book(mediation, room, now=local(2026, 10, 10, 8))
    query = {"from": "2026-10-10T00:00:00+08:00", "to": "2026-10-10T11:00:00+08:00"}

    answer: Any = client_for(mediation).get(
        f"/v1/desks/{room}/slots", query_string=query, headers=staff_headers(mediation, "desk")
    )

    assert answer.status_code == 200
    assert answer.json == [
        {
            "starts_at": "2026-10-10T01:00:00+00:00",
            "ends_at": "2026-10-10T02:00:00+00:00",
            "capacity": 2,
            "remaining": 1,
        },
        {
            "starts_at": "2026-10-10T02:00:00+00:00",
            "ends_at": "2026-10-10T03:00:00+00:00",
            "capacity": 2,
            "remaining": 2,
        },
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-10-13T00:00:00Z"}, "from"),
        ({"from": "2026-10-13T00:00:00Z"}, "to"),
        ({"from": "2026-10-13T00:00:00Z", "to": "2026-10-12T00:00:00Z"}, "to"),
        ({"from": "2026-10-13T00:00:00Z", "to": "2026-10-13T00:00:00Z"}, "to"),
        ({"from": "2026-10-12T00:00:00", "to": "2026-10-13T00:00:00Z"}, "from"),
        ({"from": "next tuesday", "to": "2026-10-13T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}, "to"),
        ({"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:00:00Z"}, "from"),
    ],
)
def test_bad_from_or_to_is_a_422_naming_it(
    mediation: MediationRuntime, query: dict[str, str], field: str
) -> None:
    answer: Any = client_for(mediation).get(
        "/v1/desks/mediation_room/slots",
        query_string=query,
        headers=staff_headers(mediation, "desk"),
    )

    assert answer.status_code == 422
    assert list(answer.json["errors"]["query"]) == [field]


def test_ops_create_and_change_a_desk_others_may_not(mediation: MediationRuntime) -> None:
    client = client_for(mediation)
    code = desk_like(mediation, "council_hall")
    body = {
        "name": "周末议事厅",
        "calendar": "weekdays",
        "weekdays": [7, 6],
        "opens": "14:00",
        "closes": "16:00",
        "session_minutes": 60,
        "parallel": 1,
    }

    refused = client.put(
        f"/v1/desks/{code}", json=body, headers=staff_headers(mediation, "officer")
    )
    put: Any = client.put(f"/v1/desks/{code}", json=body, headers=staff_headers(mediation, "ops"))
    patched: Any = client.patch(
        f"/v1/desks/{code}", json={"parallel": 3}, headers=staff_headers(mediation, "leader")
    )
    shown: Any = client.get(f"/v1/desks/{code}", headers=staff_headers(mediation, "desk"))

    assert refused.status_code == 403
    assert put.status_code == 200
    assert put.json["weekdays"] == [6, 7]
    assert patched.status_code == 200
    assert shown.json["parallel"] == 3
    assert shown.json["hours"] == (
        "on Sat, Sun when they are working days, 14:00–16:00, sessions of 60 minutes, 3 at a time"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"closes": "08:00"}, "closes"),
        ({"session_minutes": 600}, "session_minutes"),
        ({"calendar": "weekdays"}, "weekdays"),
        ({"opens": "9am"}, "opens"),
        ({"parallel": 0}, "parallel"),
        ({"calendar": "fortnightly"}, "calendar"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_unusable_hours_are_a_422_naming_the_field(
    mediation: MediationRuntime, changes: dict[str, Any], field: str
) -> None:
    code = desk_like(mediation, "mediation_room")

    answer: Any = client_for(mediation).patch(
        f"/v1/desks/{code}", json=changes, headers=staff_headers(mediation, "ops")
    )

    assert answer.status_code == 422
    assert field in answer.json["errors"]["json"]


def test_a_desk_code_is_short_lowercase_and_plain(mediation: MediationRuntime) -> None:
    body = {
        "name": "x",
        "calendar": "daily",
        "opens": "09:00",
        "closes": "10:00",
        "session_minutes": 60,
        "parallel": 1,
    }

    answer: Any = client_for(mediation).put(
        f"/v1/desks/{'Room' * 20}", json=body, headers=staff_headers(mediation, "ops")
    )

    assert answer.status_code == 422
    assert list(answer.json["errors"]["path"]) == ["code"]


def test_a_new_desk_needs_every_field(mediation: MediationRuntime) -> None:
    answer: Any = client_for(mediation).put(
        "/v1/desks/half-a-desk", json={"name": "?"}, headers=staff_headers(mediation, "ops")
    )

    assert answer.status_code == 422
    assert {"calendar", "opens", "closes"} <= set(answer.json["errors"]["json"])


def test_the_leader_loads_dates_of_a_year_the_package_does_not_know(
    mediation: MediationRuntime,
) -> None:
    client = client_for(mediation)
    body = {
        "days": [
            {"date": "2027-01-01", "working": False, "note": "元旦"},
            {"date": "2027-01-09", "working": True},
        ]
    }

    refused = client.put("/v1/calendar/days", json=body, headers=staff_headers(mediation, "desk"))
    loaded: Any = client.put(
        "/v1/calendar/days", json=body, headers=staff_headers(mediation, "leader")
    )
    try:
        year: Any = client.get(
            "/v1/calendar/days?year=2027", headers=staff_headers(mediation, "officer")
        )
        status: Any = client.get("/v1/calendar", headers=staff_headers(mediation, "officer"))
    finally:
        for day in ("2027-01-01", "2027-01-09"):
            gone = client.delete(
                f"/v1/calendar/days/{day}", headers=staff_headers(mediation, "ops")
            )
            assert gone.status_code == 204

    assert refused.status_code == 403
    assert loaded.status_code == 200
    assert year.json == {
        "year": 2027,
        "official": False,
        "days": [
            {"date": "2027-01-01", "working": False, "note": "元旦"},
            {"date": "2027-01-09", "working": True, "note": ""},
        ],
    }
    assert status.json["official_years"][-1] == 2026
    assert {"year": 2027, "loaded_days": 2} in status.json["unknown_years_in_use"]


def test_this_years_calendar_is_official_by_default(mediation: MediationRuntime) -> None:
    with loaded_days(mediation, {date(2026, 12, 26): True}):
        answer: Any = client_for(mediation).get(
            "/v1/calendar/days", headers=staff_headers(mediation, "desk")
        )

    assert answer.json["year"] == 2026
    assert answer.json["official"] is True
    assert {"date": "2026-12-26", "working": True, "note": ""} in answer.json["days"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": []}, "days"),
        ({"days": [{"date": "2027-02-30", "working": True}]}, "days"),
        (
            {
                "days": [
                    {"date": "2027-02-03", "working": True},
                    {"date": "2027-02-03", "working": False},
                ]
            },
            "days",
        ),
        ({}, "days"),
    ],
)
def test_bad_calendar_days_are_a_422(
    mediation: MediationRuntime, body: dict[str, Any], field: str
) -> None:
    answer: Any = client_for(mediation).put(
        "/v1/calendar/days", json=body, headers=staff_headers(mediation, "ops")
    )

    assert answer.status_code == 422
    assert field in answer.json["errors"]["json"]


def test_forgetting_a_date_not_loaded_is_a_404_and_a_bad_date_a_422(
    mediation: MediationRuntime,
) -> None:
    client, headers = client_for(mediation), staff_headers(mediation, "ops")

    assert client.delete("/v1/calendar/days/2031-05-05", headers=headers).status_code == 404
    assert client.delete("/v1/calendar/days/tomorrow", headers=headers).status_code == 422
