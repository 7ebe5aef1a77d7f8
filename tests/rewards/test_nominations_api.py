"""The nominations API: who sees what, transitions with 200/409/422/403/404, repeats, roles."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.common.staff_auth import ROLES, StaffMember, StationDirectory
from services.common.station import load_station
from services.rewards.access import ROLES_FOR, Endpoint
from services.rewards.runtime import RewardsRuntime
from tests.factories import fresh_number
from tests.rewards.nominations_helpers import (
    APPROVER,
    BOTH,
    act,
    as_role,
    client_for,
    headers,
    load,
    open_nomination,
)


def staff_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "brave_act",
        "summary": "Stopped a runaway tractor at the school gate",
        "village": "weicun-7",
        "act_at": "2026-11-20T08:10:00+08:00",
        "nominee": {"name": "李师傅", "phone": fresh_number()},
        "nominator": {"name": "李师傅", "phone": fresh_number(), "relation": "actor"},
    }
    body.update(overrides)
    return body


def test_lists_show_what_the_caller_may_see_with_phones_masked(
    rewards: RewardsRuntime,
) -> None:
    nomination_id = open_nomination(rewards, "good_deed")
    code = load(rewards, nomination_id).tracking_code
    client = client_for(rewards)
    query = f"/v1/nominations?tracking_code={code}"

    reviewer: Any = client.get(query, headers=as_role(rewards, "reviewer"))
    mo: Any = client.get(query + "&kind=good_deed", headers=as_role(rewards, "officer"))
    guo: Any = client.get(query, headers=headers(rewards, "officer-guo", "officer"))
    other_kind: Any = client.get(query + "&kind=brave_act", headers=as_role(rewards, "leader"))
    one: Any = client.get(f"/v1/nominations/{nomination_id}", headers=as_role(rewards, "reviewer"))

    [row] = reviewer.json
    assert row["id"] == str(nomination_id) and row["status"] == "submitted"
    assert "X-Pagination" in reviewer.headers
    assert "****" in row["nominee"]["phone"] and "****" in row["nominator"]["phone"]
    assert "+86" not in reviewer.get_data(as_text=True)
    assert [r["id"] for r in mo.json] == [str(nomination_id)]  # weicun-7 is his
    assert guo.json == [] and other_kind.json == []
    assert (
        client.get(
            f"/v1/nominations/{nomination_id}", headers=headers(rewards, "officer-guo", "officer")
        ).status_code
        == 404
    )
    assert one.json["allowed_actions"] == ["review"]
    assert one.json["due_kind"] == "decision" and one.json["history"][0]["to"] == "submitted"


def test_a_transition_answers_the_nomination_and_errors_say_what_is_wrong(
    rewards: RewardsRuntime,
) -> None:
    nomination_id = open_nomination(rewards)
    client, reviewer = client_for(rewards), as_role(rewards, "reviewer")
    url = f"/v1/nominations/{nomination_id}/transitions"

    bad: Any = client.post(url, json={"action": "review", "recommend": "maybe"}, headers=reviewer)
    unknown: Any = client.post(url, json={"action": "fly"}, headers=reviewer)
    illegal: Any = client.post(url, json={"action": "pay"}, headers=as_role(rewards, "finance"))
    forbidden: Any = client.post(
        url,
        json={"action": "review", "recommend": False, "reason": "x"},
        headers=as_role(rewards, "approver"),
    )
    missing: Any = client.post(
        f"/v1/nominations/{uuid.uuid4()}/transitions", json={"action": "review"}, headers=reviewer
    )
    ok: Any = client.post(
        url,
        json={"action": "review", "recommend": True, "tier": "merit", "reason": "seen"},
        headers=reviewer,
    )

    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"recommend", "reason"}
    assert unknown.status_code == 422 and "action" in unknown.json["errors"]["json"]
    assert illegal.status_code == 409
    assert illegal.json["code"] == "illegal_transition"
    assert (illegal.json["status"], illegal.json["action"]) == ("submitted", "pay")
    assert illegal.json["allowed"] == []  # finance may do nothing yet
    assert forbidden.status_code == 403
    assert missing.status_code == 404
    assert ok.status_code == 200 and ok.json["status"] == "under_review"
    assert ok.json["allowed_actions"] == ["publish_notice", "skip_notice"]
    assert ok.json["history"][-1]["by"] == "reviewer-zhang"


def test_self_approval_is_not_offered_and_is_refused(rewards: RewardsRuntime) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=False, reason="unclear")
    client = client_for(rewards)
    station = StationDirectory(load_station(rewards.settings.station_file))

    class Both:
        def lookup(self, staff_id: str) -> StaffMember | None:
            return BOTH if staff_id == BOTH.id else station.lookup(staff_id)

    client.application.extensions["staff_directory"] = Both()
    as_approver = headers(rewards, "reviewer-zhang", "approver")

    shown: Any = client.get(f"/v1/nominations/{nomination_id}", headers=as_approver)
    tried: Any = client.post(
        f"/v1/nominations/{nomination_id}/transitions",
        json={"action": "reject", "reason": "mine"},
        headers=as_approver,
    )

    assert "reject" not in shown.json["allowed_actions"]
    assert tried.status_code == 403
    assert load(rewards, nomination_id).status == "awaiting_approval"


def test_an_idempotency_key_answers_a_repeat_without_a_second_step(
    rewards: RewardsRuntime,
) -> None:
    nomination_id = open_nomination(rewards)
    client, leader = client_for(rewards), as_role(rewards, "leader")
    url = f"/v1/nominations/{nomination_id}/transitions"
    body = {"action": "extend", "reason": "the hospital's report is late"}

    first: Any = client.post(url, json=body, headers={**leader, "Idempotency-Key": "k1"})
    repeat: Any = client.post(url, json=body, headers={**leader, "Idempotency-Key": "k1"})
    other: Any = client.post(
        url, json={**body, "reason": "x"}, headers={**leader, "Idempotency-Key": "k1"}
    )

    assert first.status_code == repeat.status_code == 200
    assert repeat.json == first.json
    assert [h["action"] for h in repeat.json["history"]].count("extend") == 1
    assert other.status_code == 422


def test_staff_nominate_within_a_year_of_the_act(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    client, officer = client_for(rewards), as_role(rewards, "officer")

    made: Any = client.post("/v1/nominations", json=staff_body(), headers=officer)
    old: Any = client.post(
        "/v1/nominations", json=staff_body(act_at="2025-11-01T08:00:00+08:00"), headers=officer
    )
    bad: Any = client.post(
        "/v1/nominations",
        json=staff_body(nominator={"name": "x", "relation": "cousin"}, kind="medal"),
        headers=officer,
    )
    not_his: Any = client.post(
        "/v1/nominations", json=staff_body(village="weicun-1"), headers=officer
    )

    assert made.status_code == 201, made.json
    assert made.json["status"] == "submitted" and made.json["report_id"] is None
    assert made.json["tracking_code"].startswith("NM")
    assert made.json["decide_by"] == (clock.now() + timedelta(days=30)).isoformat()
    assert made.json["nominator"]["relation"] == "actor"
    assert old.status_code == 422 and set(old.json["errors"]["json"]) == {"act_at"}
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"kind", "nominator"}
    assert not_his.status_code == 422 and set(not_his.json["errors"]["json"]) == {"village"}


def test_the_honour_roll_of_a_year(rewards: RewardsRuntime, clock: FrozenClock) -> None:
    nomination_id = open_nomination(rewards, "good_deed")
    act(rewards, nomination_id, "review", recommend=True, reason="the whole village agrees")
    act(rewards, nomination_id, "honour", by=APPROVER)
    client, reviewer = client_for(rewards), as_role(rewards, "reviewer")

    this_year: Any = client.get("/v1/honours?year=2026", headers=reviewer)
    last_year: Any = client.get("/v1/honours?year=2025", headers=reviewer)
    no_year: Any = client.get("/v1/honours", headers=reviewer)

    assert this_year.status_code == 200 and this_year.json["year"] == 2026
    assert str(nomination_id) in [h["id"] for h in this_year.json["honours"]]
    assert str(nomination_id) not in [h["id"] for h in last_year.json["honours"]]
    assert "phone" not in this_year.get_data(as_text=True)
    assert no_year.status_code == 422


def test_unknown_staff_is_401_and_a_role_not_held_403(rewards: RewardsRuntime) -> None:
    client = client_for(rewards)

    nobody = client.get("/v1/nominations", headers=headers(rewards, "nobody", "reviewer"))
    not_held = client.get("/v1/nominations", headers=headers(rewards, "reviewer-zhang", "leader"))

    assert nobody.status_code == 401 and not_held.status_code == 403
    assert client.get("/v1/nominations").status_code == 401


ENDPOINTS: list[tuple[str, str, Endpoint, dict[str, Any] | None]] = [
    ("GET", "/v1/nominations", Endpoint.NOMINATIONS_READ, None),
    ("GET", "/v1/nominations/{id}", Endpoint.NOMINATIONS_READ, None),
    ("POST", "/v1/nominations", Endpoint.NOMINATIONS_CREATE, {"kind": "brave_act"}),
    (
        "POST",
        "/v1/nominations/{id}/transitions",
        Endpoint.NOMINATIONS_TRANSITION,
        {"action": "pay"},
    ),
    ("GET", "/v1/honours?year=2026", Endpoint.HONOURS_READ, None),
]


@pytest.mark.parametrize("role", ROLES)
def test_the_role_table_every_endpoint_by_every_role(rewards: RewardsRuntime, role: str) -> None:
    nomination_id = open_nomination(rewards)
    client, auth = client_for(rewards), as_role(rewards, role)

    for method, path, endpoint, body in ENDPOINTS:
        answer = client.open(path.format(id=nomination_id), method=method, json=body, headers=auth)
        if role in ROLES_FOR[endpoint]:
            assert answer.status_code != 403, (method, path, role, answer.json)
            assert answer.status_code < 500
        else:
            assert answer.status_code == 403, (method, path, role, answer.status_code)
