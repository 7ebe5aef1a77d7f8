"""The rewards staff API: claims, transitions (200/409/422/403/404), repeats, the ledger,
budgets, the finance export, stats, and the role table walked for every role."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.common.staff_auth import ROLES
from services.rewards.access import ROLES_FOR, Endpoint
from services.rewards.runtime import RewardsRuntime
from tests.factories import fresh_number
from tests.rewards.claims_helpers import as_role, client_for, open_claim
from tests.rewards.ledger_helpers import move_to_own_month
from tests.rewards.test_nominations_api import ENDPOINTS as NOMINATION_ENDPOINTS


@pytest.fixture(autouse=True)
def own_month(clock: FrozenClock) -> str:
    return move_to_own_month(clock)


def transition(client: Any, claim_id: Any, auth: dict[str, str], **body: Any) -> Any:
    return client.post(f"/v1/claims/{claim_id}/transitions", json=body, headers=auth)


def test_claims_are_listed_with_masked_phones_and_filtered(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    phone = fresh_number()
    mine = []
    for _ in range(3):
        mine.append(open_claim(rewards, phone=phone))
        clock.advance(timedelta(minutes=1))  # listed oldest first
    client, auth = client_for(rewards), as_role(rewards, "verifier")

    page: Any = client.get(
        "/v1/claims", query_string={"reporter": phone[3:], "page_size": 2}, headers=auth
    )
    assert page.status_code == 200
    assert [c["id"] for c in page.json] == [str(c) for c in mine[:2]]
    assert page.json[0]["reporter"]["phone"] == f"{phone[3:6]}****{phone[-4:]}"
    assert phone[3:] not in page.get_data(as_text=True)
    assert '"total": 3' in page.headers["X-Pagination"]
    bad: Any = client.get("/v1/claims", query_string={"status": "lost"}, headers=auth)
    assert bad.status_code == 422 and "status" in bad.json["errors"]["query"]


def test_a_transition_answers_the_claim_and_errors_name_what_is_wrong(
    rewards: RewardsRuntime,
) -> None:
    claim_id = open_claim(rewards)
    client = client_for(rewards)
    verifier, finance = as_role(rewards, "verifier"), as_role(rewards, "finance")

    shown: Any = client.get(f"/v1/claims/{claim_id}", headers=verifier)
    assert shown.json["allowed_actions"] == ["verify"]
    as_finance: Any = client.get(f"/v1/claims/{claim_id}", headers=finance)
    assert as_finance.json["allowed_actions"] == []

    missing: Any = transition(client, claim_id, verifier, action="verify", confirmed=True)
    assert missing.status_code == 422
    assert missing.json["errors"]["json"] == {"severity": ["required when the hazard is confirmed"]}
    early: Any = transition(client, claim_id, finance, action="pay")
    assert early.status_code == 409
    assert early.json | {"message": ""} == {
        "code": "illegal_transition",
        "status": "awaiting_verification",
        "action": "pay",
        "allowed": [],
        "message": "",
    }
    wrong: Any = transition(
        client, claim_id, finance, action="verify", confirmed=True, severity="low"
    )
    assert wrong.status_code == 403
    ok: Any = transition(
        client, claim_id, verifier, action="verify", confirmed=True, severity="medium"
    )
    assert ok.status_code == 200
    assert (ok.json["status"], ok.json["amount_fen"]) == ("approved", 1000)
    assert ok.json["history"][0] | {"at": None} == {
        "at": None,
        "by": "grid-wang",
        "action": "verify",
        "from": "awaiting_verification",
        "to": "approved",
        "note": "",
        "detail": {"confirmed": True, "severity": "medium", "reason": None, "duplicate_of": None},
    }
    nowhere: Any = transition(client, uuid.uuid4(), finance, action="pay")
    assert nowhere.status_code == 404
    assert client.get(f"/v1/claims/{uuid.uuid4()}", headers=finance).status_code == 404


def test_an_idempotency_key_answers_a_repeat_without_a_second_step(
    rewards: RewardsRuntime,
) -> None:
    claim_id = open_claim(rewards)
    client = client_for(rewards)
    verifier = as_role(rewards, "verifier")
    keyed = {**verifier, "Idempotency-Key": "verify-1"}
    body = {"action": "verify", "confirmed": True, "severity": "high"}

    first: Any = client.post(f"/v1/claims/{claim_id}/transitions", json=body, headers=keyed)
    again: Any = client.post(f"/v1/claims/{claim_id}/transitions", json=body, headers=keyed)
    other: Any = client.post(
        f"/v1/claims/{claim_id}/transitions", json={**body, "severity": "low"}, headers=keyed
    )
    unkeyed: Any = client.post(f"/v1/claims/{claim_id}/transitions", json=body, headers=verifier)

    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert len(again.json["history"]) == 1
    assert other.status_code == 422
    assert unkeyed.status_code == 409


def test_budgets_the_ledger_the_export_and_stats(rewards: RewardsRuntime, own_month: str) -> None:
    client = client_for(rewards)
    leader, finance = as_role(rewards, "leader"), as_role(rewards, "finance")
    verifier = as_role(rewards, "verifier")
    granted: Any = client.post(
        "/v1/budgets", json={"month": own_month, "amount_fen": 3000}, headers=leader
    )
    assert granted.status_code == 201 and granted.json["kind"] == "budget_grant"
    bad: Any = client.post(
        "/v1/budgets", json={"month": "2026-13", "amount_fen": 0}, headers=leader
    )
    assert bad.status_code == 422 and set(bad.json["errors"]["json"]) == {"month", "amount_fen"}

    phone = fresh_number()
    claim_id = open_claim(rewards, phone=phone)
    transition(client, claim_id, verifier, action="verify", confirmed=True, severity="high")
    paid: Any = transition(client, claim_id, finance, action="pay")
    assert paid.status_code == 200 and paid.json["status"] == "paid"

    now = rewards.clock.now()
    hour = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    entries: Any = client.get("/v1/ledger", query_string=hour, headers=finance)
    assert [(e["kind"], e["amount_fen"]) for e in entries.json if e["period"] == own_month] == [
        ("budget_grant", 3000),
        ("payout", 2000),
    ]
    assert phone[3:] not in entries.get_data(as_text=True)  # masked
    correction: Any = client.post(
        f"/v1/ledger/{entries.json[-1]['id']}/corrections",
        json={"amount_fen": -100, "note": "one yuan too much"},
        headers=finance,
    )
    assert correction.status_code == 201 and correction.json["corrects"] == entries.json[-1]["id"]

    csv: Any = client.get("/v1/payouts.csv", query_string={"from": hour["from"]}, headers=finance)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    [row] = [line for line in csv.get_data(as_text=True).splitlines() if str(claim_id) in line]
    assert phone in row and ",2000,20.00," in row  # the finance office needs the number

    stats: Any = client.get("/v1/stats", query_string=hour, headers=leader)
    assert stats.status_code == 200
    assert stats.json["envelopes"]["count"] >= 1
    [budget] = stats.json["budgets"]
    assert budget == {
        "period": own_month,
        "budget_fen": 3000,
        "paid_fen": 1900,
        "reserved_fen": 0,
        "left_fen": 1100,
    }
    backwards: Any = client.get(
        "/v1/stats", query_string={"from": hour["to"], "to": hour["from"]}, headers=leader
    )
    assert backwards.status_code == 422


ENDPOINTS: list[tuple[str, str, Endpoint, dict[str, Any] | None]] = [
    ("GET", "/v1/claims", Endpoint.CLAIMS_READ, None),
    ("GET", "/v1/claims/{claim}", Endpoint.CLAIMS_READ, None),
    ("POST", "/v1/claims/{claim}/transitions", Endpoint.CLAIMS_TRANSITION, {"action": "pay"}),
    (
        "GET",
        "/v1/ledger?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z",
        Endpoint.LEDGER_READ,
        None,
    ),
    ("POST", "/v1/ledger/1/corrections", Endpoint.LEDGER_CORRECT, {"amount_fen": 0}),
    ("GET", "/v1/payouts.csv", Endpoint.PAYOUTS_EXPORT, None),
    ("POST", "/v1/budgets", Endpoint.BUDGETS_WRITE, {"month": "x"}),
    (
        "GET",
        "/v1/stats?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z",
        Endpoint.STATS_READ,
        None,
    ),
]


def test_the_role_table_names_every_endpoint_of_the_api(rewards: RewardsRuntime) -> None:
    app = client_for(rewards).application
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/v1/") and not rule.rule.startswith("/v1/openapi")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    walked = {
        (
            method,
            path.split("?")[0]
            .replace("{claim}", "<uuid:claim_id>")
            .replace("/1/", "/<int:entry_id>/"),
        )
        for method, path, _, _ in ENDPOINTS
    } | {  # the nominations' endpoints are walked by their own role-table test
        (method, path.split("?")[0].replace("{id}", "<uuid:nomination_id>"))
        for method, path, _, _ in NOMINATION_ENDPOINTS
    }
    assert served == walked


@pytest.mark.parametrize("role", ROLES)
def test_the_role_table_every_endpoint_by_every_role(rewards: RewardsRuntime, role: str) -> None:
    claim_id = open_claim(rewards)
    client, auth = client_for(rewards), as_role(rewards, role)

    for method, path, endpoint, body in ENDPOINTS:
        answer = client.open(path.format(claim=claim_id), method=method, json=body, headers=auth)
        if role in ROLES_FOR[endpoint]:
            assert answer.status_code != 403, (method, path, role, answer.json)
            assert answer.status_code < 500
        else:
            assert answer.status_code == 403, (method, path, role, answer.status_code)
    assert client.get("/v1/claims").status_code == 401
