"""Every error of every service answers in one shape: code, HTTP reason phrase, message."""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any

import pytest

from services.intake import service as intake_service
from services.intake.runtime import IntakeRuntime
from services.notify.runtime import NotifyRuntime
from tests import factories
from tests.intake.client import client_for as intake_client
from tests.notify.client import client_for as notify_client
from tests.notify.client import staff_headers
from tests.notify.test_api import staff_message

SHAPE = {"code", "status", "message", "errors", "reason"}


def assert_shape(answer: Any, status: int, *, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = answer.json
    assert answer.status_code == status
    assert {"code", "status", "message"} <= set(body) <= SHAPE, body
    assert body["code"] == status
    assert body["status"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str) and body["message"]
    assert body.get("reason") == reason
    return body


def test_intake_errors_share_one_shape(intake: IntakeRuntime) -> None:
    client = intake_client(intake)
    auth = {"Authorization": f"Bearer {factories.agency_key(intake)}"}
    keyed = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    raw = {**auth, "Content-Type": "application/json"}

    assert_shape(client.get("/v1/reports"), 401)
    assert_shape(client.get(f"/v1/reports/{uuid.uuid4()}", headers=auth), 404, reason="not_found")
    assert_shape(client.get("/v1/nowhere", headers=auth), 404)
    assert_shape(client.delete("/v1/reports", headers=auth), 405)
    assert_shape(client.post("/v1/reports", data="kind=x", headers=auth), 415)
    assert_shape(client.post("/v1/reports", data="{", headers=raw), 400)
    assert_shape(client.post("/v1/reports", data=r'{"kind": "\u0000"}', headers=raw), 400)
    assert_shape(client.post("/v1/reports", data=" " * 70_000, headers=raw), 413)
    invalid = assert_shape(client.post("/v1/reports", json={}, headers=auth), 422)
    assert "kind" in invalid["errors"]["json"]
    assert client.post("/v1/reports", json=factories.dispute(), headers=keyed).status_code == 202
    reused = client.post("/v1/reports", json=factories.hazard(), headers=keyed)
    assert_shape(reused, 422, reason="key_reused")


def test_an_unexpected_error_is_a_500_in_the_same_shape(
    intake: IntakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(intake_service, "get_report", broken)
    auth = {"Authorization": f"Bearer {factories.agency_key(intake)}"}

    answer = intake_client(intake).get(f"/v1/reports/{uuid.uuid4()}", headers=auth)

    assert assert_shape(answer, 500)["message"] == "internal error"


def test_notify_errors_share_one_shape(notify: NotifyRuntime) -> None:
    client, headers = notify_client(notify), staff_headers(notify)
    sent: Any = client.post("/v1/messages", json=staff_message(), headers=headers)

    assert_shape(client.get("/v1/messages"), 401)
    assert_shape(client.get("/v1/messages", headers=staff_headers(notify, role="officer")), 403)
    assert_shape(
        client.get(f"/v1/messages/{uuid.uuid4()}", headers=headers), 404, reason="not_found"
    )
    resend = client.post(f"/v1/messages/{sent.json['id']}/resend", headers=headers)
    assert_shape(resend, 409, reason="not_resendable")
    missing = client.post("/v1/messages", json=staff_message(params={}), headers=headers)
    assert "tracking_code" in assert_shape(missing, 422)["errors"]["json"]["params"]
    deep = client.post(
        "/v1/messages",
        data=json.dumps(staff_message()).replace('"urgent"', "[" * 50 + "]" * 50),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert "priority" in assert_shape(deep, 400)["errors"]["json"]
