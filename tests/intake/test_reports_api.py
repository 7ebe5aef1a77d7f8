"""The partner contract on `/v1/reports`: authentication, validation, acceptance, reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.intake.models import ApiKey, OutboxMessage, Report
from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for


@pytest.fixture
def client(intake: IntakeRuntime) -> FlaskClient:
    return client_for(intake)


@pytest.fixture
def auth(intake: IntakeRuntime) -> dict[str, str]:
    return {"Authorization": f"Bearer {factories.agency_key(intake)}"}


def submit(client: FlaskClient, auth: dict[str, str], body: Any) -> Any:
    return client.post("/v1/reports", json=body, headers=auth)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer fq_nokey_nosecret", "Basic dXNlcjpwYXNz", "Bearer not-a-key"],
)
def test_a_missing_or_bad_key_is_401(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer: Any = client.post("/v1/reports", json=factories.dispute(), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_key_with_a_wrong_secret_is_401(client: FlaskClient, auth: dict[str, str]) -> None:
    key = auth["Authorization"]
    assert (
        submit(client, {"Authorization": key[:-4] + "AAAA"}, factories.dispute()).status_code == 401
    )


def test_a_revoked_key_is_401(
    client: FlaskClient, auth: dict[str, str], intake: IntakeRuntime
) -> None:
    key_id = auth["Authorization"].removeprefix("Bearer fq_").split("_", 1)[0]
    with intake.db.transaction() as session:
        session.get_one(ApiKey, key_id).revoked_at = intake.clock.now()
    assert submit(client, auth, factories.dispute()).status_code == 401


def test_accepted_report_is_stored_with_its_routing_queued(
    client: FlaskClient, auth: dict[str, str], intake: IntakeRuntime
) -> None:
    answer = submit(client, auth, factories.dispute())

    assert answer.status_code == 202
    body = answer.json
    assert body["status"] == "received"
    assert answer.headers["Location"] == body["links"]["self"] == f"/v1/reports/{body['id']}"
    assert body["tracking_code"].startswith("WC") and len(body["tracking_code"]) == 10
    with intake.db.sessions() as session:
        report = session.get_one(Report, body["id"])
        assert report.reporter["phone"] == "+8613800138000"  # stored as E.164
        assert report.occurred_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
        outbox = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.payload["report_id"].as_string() == body["id"]
            )
        ).all()
    tasks = sorted(row.task for row in outbox)
    assert tasks == ["mediation.open_case", "notify.send_sms"]


@pytest.mark.parametrize(
    ("body", "task"),
    [
        (factories.hazard(), "rewards.open_hazard_claim"),
        (factories.nomination("brave_act"), "rewards.open_nomination"),
        (factories.nomination("good_deed"), "rewards.open_nomination"),
    ],
)
def test_each_kind_is_routed_to_its_owner(
    client: FlaskClient, auth: dict[str, str], intake: IntakeRuntime, body: Any, task: str
) -> None:
    report_id = submit(client, auth, body).json["id"]
    with intake.db.sessions() as session:
        tasks = session.scalars(
            select(OutboxMessage.task).where(
                OutboxMessage.payload["report_id"].as_string() == report_id
            )
        ).all()
    assert sorted(tasks) == sorted([task, "notify.send_sms"])


def test_every_bad_field_is_named_in_one_422(client: FlaskClient, auth: dict[str, str]) -> None:
    body = factories.dispute(
        kind="dispute",
        summary="",
        occurred_at="2026-12-30T09:30:00+08:00",
        location={"village": "atlantis"},
        reporter={"phone": "12345"},
        parties=[{"name": "只有一方", "role": "judge"}],
        colour="blue",
    )
    answer = submit(client, auth, body)

    assert answer.status_code == 422
    errors = answer.json["errors"]["json"]
    assert set(errors) == {
        "summary",
        "occurred_at",
        "location",
        "reporter",
        "parties",
        "colour",
    }
    assert "village" in errors["location"]
    assert "phone" in errors["reporter"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (factories.dispute(parties=[]), "parties"),
        (factories.hazard(hazard=None), "hazard"),
        ({k: v for k, v in factories.hazard().items() if k != "hazard"}, "hazard"),
        ({k: v for k, v in factories.nomination().items() if k != "nominee"}, "nominee"),
        (factories.nomination(occurred_at="2025-11-01T10:00:00+08:00"), "occurred_at"),
        (factories.dispute(occurred_at="2026-11-20T09:30:00"), "occurred_at"),
        (factories.dispute(kind="rumour"), "kind"),
        (factories.dispute(hazard={"category": "gas", "severity": "low"}), "hazard"),
        (factories.hazard(hazard={"category": "ghosts", "severity": "extreme"}), "hazard"),
        (factories.dispute(summary="x" * 201), "summary"),
    ],
)
def test_per_kind_rules_name_the_field(
    client: FlaskClient, auth: dict[str, str], body: Any, field: str
) -> None:
    answer = submit(client, auth, body)
    assert answer.status_code == 422
    assert field in answer.json["errors"]["json"]


def test_an_old_good_deed_is_still_accepted(client: FlaskClient, auth: dict[str, str]) -> None:
    body = factories.nomination("good_deed", occurred_at="2015-02-24T18:00:00+08:00")
    assert submit(client, auth, body).status_code == 202


def test_json_that_does_not_parse_is_400(client: FlaskClient, auth: dict[str, str]) -> None:
    answer: Any = client.post(
        "/v1/reports", data='{"kind": ', headers={**auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json["errors"]["json"] == ["Invalid JSON body."]


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_a_4xx(
    client: FlaskClient, auth: dict[str, str], body: str
) -> None:
    answer: Any = client.post(
        "/v1/reports", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500


def test_a_body_over_64_kib_is_413(client: FlaskClient, auth: dict[str, str]) -> None:
    body = json.dumps(factories.dispute(details="长" * 40_000))
    answer: Any = client.post(
        "/v1/reports", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_a_report_reads_back_with_phones_masked(client: FlaskClient, auth: dict[str, str]) -> None:
    accepted = submit(client, auth, factories.dispute()).json

    answer: Any = client.get(accepted["links"]["self"], headers=auth)

    assert answer.status_code == 200
    report = answer.json
    assert report["reporter"]["phone"] == "138****8000"
    assert [p["phone"] for p in report["parties"]] == ["139****9000", "137****7000"]
    assert "13800138000" not in answer.get_data(as_text=True)
    assert [entry["event"] for entry in report["timeline"]] == ["received"]


def test_another_agencys_report_is_404(
    client: FlaskClient, auth: dict[str, str], intake: IntakeRuntime
) -> None:
    accepted = submit(client, auth, factories.dispute()).json
    stranger = {"Authorization": f"Bearer {factories.agency_key(intake)}"}

    assert client.get(accepted["links"]["self"], headers=stranger).status_code == 404
    assert client.get(accepted["links"]["self"], headers=auth).status_code == 200


def test_list_is_own_reports_newest_first_filtered_and_paginated(
    client: FlaskClient, auth: dict[str, str], intake: IntakeRuntime, clock: FrozenClock
) -> None:
    ids = []
    for body in [factories.dispute(), factories.hazard(), factories.dispute()]:
        ids.append(submit(client, auth, body).json["id"])
        clock.advance(timedelta(minutes=1))
    stranger = {"Authorization": f"Bearer {factories.agency_key(intake)}"}
    submit(client, stranger, factories.dispute())

    everything: Any = client.get("/v1/reports", headers=auth)
    disputes: Any = client.get("/v1/reports?kind=dispute&page_size=1", headers=auth)

    assert [r["id"] for r in everything.json] == ids[::-1]
    assert [r["id"] for r in disputes.json] == [ids[2]]
    assert json.loads(disputes.headers["X-Pagination"])["total"] == 2
    assert disputes.json[0]["reporter"]["phone"] == "138****8000"


@pytest.mark.parametrize(
    "query", ["kind=rumour", "status=lost", "since=yesterday", "page=0", "page_size=1000"]
)
def test_bad_list_arguments_are_422(client: FlaskClient, auth: dict[str, str], query: str) -> None:
    assert client.get(f"/v1/reports?{query}", headers=auth).status_code == 422


def test_openapi_document_describes_the_contract(client: FlaskClient) -> None:
    spec: Any = client.get("/v1/openapi.json").json
    assert "/v1/reports" in spec["paths"]
    assert "202" in spec["paths"]["/v1/reports"]["post"]["responses"]
    assert spec["components"]["securitySchemes"]["agencyKey"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("text/plain", "kind=dispute"), ("application/x-www-form-urlencoded", "kind=dispute")],
)
def test_a_body_that_is_not_json_is_415(
    client: FlaskClient, auth: dict[str, str], content_type: str, data: str
) -> None:
    answer: Any = client.post(
        "/v1/reports", data=data, headers={**auth, "Content-Type": content_type}
    )
    assert answer.status_code == 415
    assert "application/json" in answer.json["message"]


def test_a_page_past_the_end_is_empty(client: FlaskClient, auth: dict[str, str]) -> None:
    submit(client, auth, factories.dispute())
    for page in (2, 171197621936262592):
        answer: Any = client.get(f"/v1/reports?page={page}&page_size=100", headers=auth)
        assert answer.status_code == 200
        assert answer.json == []


def test_the_documented_example_is_accepted_as_it_stands(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    spec: Any = client.get("/v1/openapi.json").json
    example = spec["paths"]["/v1/reports"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    assert submit(client, auth, example).status_code == 202
