"""The case API: who sees what, transitions with their 200/409/422/403, repeats, the role table."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import STATION_TZ, FrozenClock
from services.common.staff_auth import ROLES
from services.mediation.cases.access import ROLES_FOR, Endpoint
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.client import as_role, client_for, headers

GUO = ("officer-guo", "officer")
LIU = ("officer-liu", "officer")


def test_an_officer_sees_his_villages_cases_and_others_do_not(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    client = client_for(mediation)

    mine: Any = client.get(
        f"/v1/cases?report_id={_report(mediation, case_id)}", headers=headers(mediation, *GUO)
    )
    theirs: Any = client.get(
        f"/v1/cases?report_id={_report(mediation, case_id)}", headers=headers(mediation, *LIU)
    )
    desk: Any = client.get(f"/v1/cases/{case_id}", headers=as_role(mediation, "desk"))
    leader: Any = client.get(f"/v1/cases/{case_id}", headers=as_role(mediation, "leader"))

    [row] = mine.json
    assert row["id"] == str(case_id) and row["status"] == "awaiting_acceptance"
    assert "X-Pagination" in mine.headers
    assert all("****" in p["phone"] for p in row["parties"])
    assert "+86" not in mine.get_data(as_text=True)
    assert theirs.json == []
    assert client.get(f"/v1/cases/{case_id}", headers=headers(mediation, *LIU)).status_code == 404
    assert desk.status_code == 404  # not booked at the mediation room
    assert leader.status_code == 200
    assert leader.json["allowed_actions"] == ["accept", "reassign", "decline"]
    assert leader.json["history"][0]["to"] == "awaiting_acceptance"
    assert leader.json["due_kind"] == "acceptance"


def _report(runtime: MediationRuntime, case_id: uuid.UUID) -> str:
    return str(load(runtime, case_id).report_id)


def test_a_transition_answers_the_case_and_errors_name_what_is_wrong(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    client, guo = client_for(mediation), headers(mediation, *GUO)
    url = f"/v1/cases/{case_id}/transitions"

    bad: Any = client.post(url, json={"action": "accept", "risk_grade": "Z", "x": 1}, headers=guo)
    unknown: Any = client.post(url, json={"action": "fly"}, headers=guo)
    illegal: Any = client.post(url, json={"action": "close"}, headers=guo)
    ok: Any = client.post(url, json={"action": "accept", "risk_grade": "B"}, headers=guo)
    again: Any = client.post(url, json={"action": "accept", "risk_grade": "B"}, headers=guo)
    verifier: Any = client.post(
        url, json={"action": "close"}, headers=as_role(mediation, "verifier")
    )

    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"risk_grade", "x"}
    assert unknown.status_code == 422 and "action" in unknown.json["errors"]["json"]
    assert illegal.status_code == 409
    assert illegal.json["code"] == "illegal_transition"
    assert (illegal.json["status"], illegal.json["action"]) == ("awaiting_acceptance", "close")
    assert illegal.json["allowed"] == ["accept", "reassign", "decline"]
    assert ok.status_code == 200
    assert (ok.json["status"], ok.json["risk_grade"], ok.json["owner"]) == (
        "local_mediation",
        "B",
        "officer-guo",
    )
    assert ok.json["history"][-1] | {"at": None} == {
        "at": None,
        "by": "officer-guo",
        "action": "accept",
        "from": "awaiting_acceptance",
        "to": "local_mediation",
        "note": "",
        "detail": {"risk_grade": "B"},
    }
    assert "escalate" in ok.json["allowed_actions"]
    assert again.status_code == 409 and again.json["status"] == "local_mediation"
    assert verifier.status_code == 403


def test_an_idempotency_key_answers_a_repeat_without_a_second_step(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    client, guo = client_for(mediation), headers(mediation, *GUO)
    url, body = f"/v1/cases/{case_id}/transitions", {"action": "escalate", "desk": "mediation_room"}

    first: Any = client.post(url, json=body, headers={**guo, "Idempotency-Key": "k1"})
    repeat: Any = client.post(url, json=body, headers={**guo, "Idempotency-Key": "k1"})
    other: Any = client.post(
        url, json={**body, "note": "x"}, headers={**guo, "Idempotency-Key": "k1"}
    )

    assert first.status_code == repeat.status_code == 200
    assert repeat.json == first.json
    assert len([s for s in first.json["sessions"] if not s["cancelled"]]) == 1
    assert [h["action"] for h in repeat.json["history"]].count("escalate") == 1
    assert other.status_code == 422


def test_unknown_staff_is_401_and_a_role_not_held_403(mediation: MediationRuntime) -> None:
    client = client_for(mediation)

    assert (
        client.get("/v1/cases", headers=headers(mediation, "officer-nobody", "officer")).status_code
        == 401
    )
    assert (
        client.get("/v1/cases", headers=headers(mediation, "officer-guo", "leader")).status_code
        == 403
    )
    assert client.get("/v1/cases").status_code == 401


ENDPOINTS: list[tuple[str, str, Endpoint, dict[str, Any] | None]] = [
    ("GET", "/v1/cases", Endpoint.CASES_READ, None),
    ("GET", "/v1/cases/{case}", Endpoint.CASES_READ, None),
    ("POST", "/v1/cases/{case}/transitions", Endpoint.CASES_TRANSITION, {"action": "close"}),
    ("GET", "/v1/officers", Endpoint.OFFICERS_READ, None),
    ("POST", "/v1/officers", Endpoint.OFFICERS_WRITE, {"id": "x"}),
    ("PUT", "/v1/officers/officer-mo", Endpoint.OFFICERS_WRITE, {"name": "莫警官"}),
    ("GET", "/v1/villages", Endpoint.VILLAGES_READ, None),
    ("POST", "/v1/villages", Endpoint.VILLAGES_WRITE, {"code": "x"}),
    ("PUT", "/v1/villages/weicun-8", Endpoint.VILLAGES_WRITE, {"name": "魏村八组"}),
    (
        "GET",
        "/v1/stats?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        Endpoint.STATS_READ,
        None,
    ),
]


@pytest.mark.parametrize("role", ROLES)
def test_the_role_table_every_endpoint_by_every_role(
    mediation: MediationRuntime, role: str
) -> None:
    case_id = open_case(mediation)
    client, auth = client_for(mediation), as_role(mediation, role)

    for method, path, endpoint, body in ENDPOINTS:
        answer = client.open(path.format(case=case_id), method=method, json=body, headers=auth)
        if role in ROLES_FOR[endpoint]:
            assert answer.status_code != 403, (method, path, role, answer.json)
            assert answer.status_code < 500
        else:
            assert answer.status_code == 403, (method, path, role, answer.status_code)


def test_leaders_manage_officers_and_villages(mediation: MediationRuntime) -> None:
    client, leader = client_for(mediation), as_role(mediation, "leader")
    staff_id = f"officer-{uuid.uuid4().hex[:6]}"
    village = f"v-{uuid.uuid4().hex[:6]}"

    added: Any = client.post(
        "/v1/officers",
        json={"id": staff_id, "name": "新警官", "phone": "13951909999", "roles": ["officer"]},
        headers=leader,
    )
    placed: Any = client.post(
        "/v1/villages", json={"code": village, "name": "新村", "officer": staff_id}, headers=leader
    )
    listed: Any = client.get("/v1/officers", headers=leader)
    token = headers(mediation, staff_id, "officer")
    sees: Any = client.get("/v1/cases", headers=token)
    left: Any = client.put(f"/v1/officers/{staff_id}", json={"active": False}, headers=leader)

    assert added.status_code == 201 and added.json["phone"] == "139****9999"
    assert placed.status_code == 201 and placed.json["officer"] == staff_id
    [me] = [o for o in listed.json if o["id"] == staff_id]
    assert me["villages"] == [village]
    assert sees.status_code == 200
    assert left.status_code == 200
    assert client.get("/v1/cases", headers=token).status_code == 401  # gone from the roster


def test_stats_count_a_window_of_cases(mediation: MediationRuntime, clock: FrozenClock) -> None:
    clock.advance(timedelta(days=3000 + secrets.randbelow(1000)))  # a window of this test's own
    start = clock.now()
    resolved, declined, waiting = (open_case(mediation) for _ in range(3))
    act(mediation, resolved, "accept", risk_grade="C")
    act(mediation, declined, "decline", party="claimant", reason="no")
    clock.advance(timedelta(days=2))
    act(mediation, resolved, "record_session", outcome="resolved", note="ok")
    clock.advance(timedelta(days=1))
    act(mediation, waiting, "take_over", by=None)  # as the sweep does (no global sweep here)
    client = client_for(mediation)
    window = {"from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}

    answer: Any = client.get("/v1/stats", query_string=window, headers=as_role(mediation, "leader"))
    reversed_window = {"from": window["to"], "to": window["from"]}
    bad: Any = client.get(
        "/v1/stats", query_string=reversed_window, headers=as_role(mediation, "leader")
    )

    assert answer.status_code == 200, answer.json
    assert answer.json["cases"] == 3
    assert answer.json["by_status"] == {
        "resolved": 1,
        "declined": 1,
        "awaiting_acceptance": 1,
    }
    assert answer.json["resolution_rate"] == round(1 / 3, 4)
    assert answer.json["median_days_to_resolution"] == 2.0
    assert answer.json["deadlines_breached"] == 1
    assert bad.status_code == 422


def test_stats_give_weeks_months_and_each_desks_cases_and_rebounds(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=5000 + secrets.randbelow(1000)))  # a window of this test's own
    start = clock.now()
    resolved, booked = open_case(mediation), open_case(mediation)
    act(mediation, resolved, "accept", risk_grade="C")
    act(mediation, resolved, "record_session", outcome="resolved", note="ok")
    act(mediation, booked, "accept", risk_grade="C")
    act(mediation, booked, "escalate", desk="lawyer_desk")
    clock.advance(timedelta(days=7))
    party = load(mediation, resolved).parties[0]
    again = [{"name": party.name, "phone": party.phone, "role": "claimant"}]
    rebound = open_case(mediation, parties=again)
    assert load(mediation, rebound).rebound_of == resolved
    end = clock.now() + timedelta(hours=1)
    window = {"from": start.isoformat(), "to": end.isoformat()}

    answer: Any = client_for(mediation).get(
        "/v1/stats", query_string=window, headers=as_role(mediation, "leader")
    )

    assert answer.status_code == 200, answer.json
    figures = answer.json
    assert (figures["cases"], figures["resolved"], figures["rebounded"]) == (3, 1, 1)
    assert figures["cases_by_desk"] == {"lawyer_desk": 1}
    assert figures["rebounds_by_desk"] == {"lawyer_desk": 0}
    first, last = (at.astimezone(STATION_TZ).isocalendar() for at in (start, end))
    weeks = {w["period"]: w for w in figures["weeks"]}
    assert f"{first.year:04d}-W{first.week:02d}" == figures["weeks"][0]["period"]
    assert f"{last.year:04d}-W{last.week:02d}" == figures["weeks"][-1]["period"]
    assert len(weeks) in (2, 3)  # the hour after the last case may fall in a third week
    opened_first = weeks[figures["weeks"][0]["period"]]
    assert (opened_first["cases"], opened_first["resolved"], opened_first["rebounded"]) == (2, 1, 1)
    assert opened_first["resolution_rate"] == 0.5
    assert opened_first["rebound_rate"] == 1.0
    assert sum(w["cases"] for w in figures["weeks"]) == 3
    assert sum(m["cases"] for m in figures["months"]) == 3
    assert [m["period"] for m in figures["months"]] == sorted(
        {m["period"] for m in figures["months"]}
    )
    assert figures["months"][0]["period"] == start.astimezone(STATION_TZ).strftime("%Y-%m")


def test_the_list_filters_by_each_parameter(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    waiting, escalated = open_case(mediation), open_case(mediation)
    act(mediation, escalated, "accept", risk_grade="C")
    act(mediation, escalated, "escalate", desk="council_hall")
    code = load(mediation, waiting).tracking_code
    client, leader = client_for(mediation), as_role(mediation, "leader")
    soon = (clock.now() + timedelta(hours=25)).isoformat()
    since = clock.now() - timedelta(seconds=1)

    def ids(**query: str) -> set[str]:
        answer: Any = client.get(
            "/v1/cases", query_string={**query, "page_size": 100}, headers=leader
        )
        assert answer.status_code == 200, answer.json
        return {row["id"] for row in answer.json if row["created_at"] >= since.isoformat()}

    assert ids(tracking_code=code) == {str(waiting)}
    assert ids(status="session_scheduled", owner="officer-guo") >= {str(escalated)}
    assert str(waiting) not in ids(status="session_scheduled")
    assert ids(desk="council_hall") >= {str(escalated)}
    assert str(waiting) not in ids(desk="council_hall")
    assert str(waiting) in ids(due_before=soon, village="weicun-3")
    assert client.get("/v1/cases?status=lost", headers=leader).status_code == 422
