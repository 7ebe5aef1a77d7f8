"""The notify staff API: staff tokens, send, look up (masked), counts, resend, opt-outs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.notify.runtime import NotifyRuntime
from tests.factories import fresh_number
from tests.notify.client import client_for, staff_headers


def staff_message(**overrides: Any) -> dict[str, Any]:
    return {
        "recipient": fresh_number(),
        "template": "report_received",
        "params": {"tracking_code": "WC12345678"},
        "priority": "urgent",
        "idempotency_key": str(uuid.uuid4()),
        **overrides,
    }


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer fqs_forged.sig", "Basic x"])
def test_no_valid_staff_token_is_401(notify: NotifyRuntime, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    assert client_for(notify).get("/v1/messages", headers=headers).status_code == 401


def test_an_expired_token_is_401_and_another_role_403(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    expiring = staff_headers(notify, valid_for=timedelta(hours=1))
    officer = staff_headers(notify, role="officer")
    client = client_for(notify)

    assert client.get("/v1/messages", headers=officer).status_code == 403
    assert client.get("/v1/messages", headers=expiring).status_code == 200
    clock.advance(timedelta(hours=1, seconds=1))
    assert client.get("/v1/messages", headers=expiring).status_code == 401


def test_staff_send_once_per_key_and_read_it_back_masked(notify: NotifyRuntime) -> None:
    client, headers = client_for(notify), staff_headers(notify)
    body = staff_message(recipient="+86 139-0013-9000")

    first: Any = client.post("/v1/messages", json=body, headers=headers)
    again: Any = client.post("/v1/messages", json=body, headers=headers)

    assert first.status_code == again.status_code == 202
    assert first.json["id"] == again.json["id"]
    assert first.json["recipient"] == "139****9000"
    one: Any = client.get(f"/v1/messages/{first.json['id']}", headers=headers)
    assert one.json["status"] == "created"
    assert one.json["body"].startswith("【魏村派出所】")
    assert "13900139000" not in one.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": "12345"}, "recipient"),
        ({"template": "lottery"}, "template"),
        ({"priority": "whenever"}, "priority"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_send_names_the_field(
    notify: NotifyRuntime, change: dict[str, Any], field: str
) -> None:
    answer: Any = client_for(notify).post(
        "/v1/messages", json=staff_message(**change), headers=staff_headers(notify)
    )
    assert answer.status_code == 422
    assert field in answer.json["errors"]["json"]


def test_list_filters_and_counts(notify: NotifyRuntime) -> None:
    client, headers = client_for(notify), staff_headers(notify)
    number = fresh_number()
    client.post("/v1/messages", json=staff_message(recipient=number), headers=headers)
    client.post("/v1/messages", json=staff_message(recipient=number), headers=headers)

    listed: Any = client.get(f"/v1/messages?recipient={number}&page_size=1", headers=headers)
    stats: Any = client.get("/v1/messages/stats", headers=headers)

    assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    assert listed.json[0]["recipient"].endswith(number[-4:])
    assert "****" in listed.json[0]["recipient"]
    assert stats.json["counts"] == {
        "created": 2,
        "sending": 0,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
    }


def test_resend_only_a_failed_message(notify: NotifyRuntime) -> None:
    client, headers = client_for(notify), staff_headers(notify)
    number = fresh_number()
    client.put(f"/v1/opt-outs/{number}", json={}, headers=headers)
    failed: Any = client.post("/v1/messages", json=staff_message(recipient=number), headers=headers)
    assert failed.json["status"] == "failed"
    client.delete(f"/v1/opt-outs/{number}", headers=headers)

    resent: Any = client.post(f"/v1/messages/{failed.json['id']}/resend", headers=headers)
    not_failed: Any = client.post(f"/v1/messages/{resent.json['id']}/resend", headers=headers)

    assert resent.status_code == 201
    assert resent.json["resend_of_id"] == failed.json["id"]
    assert resent.json["status"] == "created"
    assert not_failed.status_code == 409
    assert client.post(f"/v1/messages/{uuid.uuid4()}/resend", headers=headers).status_code == 404


def test_opt_outs_are_listed_masked_and_removable(notify: NotifyRuntime) -> None:
    client, headers = client_for(notify), staff_headers(notify)
    number = fresh_number()

    put: Any = client.put(f"/v1/opt-outs/{number}", json={"note": "电话要求"}, headers=headers)
    listed: Any = client.get("/v1/opt-outs", headers=headers)

    assert put.status_code == 200
    assert put.json["source"] == "staff:ops-zhao"
    assert [row["phone"] for row in listed.json] == [f"{number[3:6]}****{number[-4:]}"]
    assert number not in listed.get_data(as_text=True)
    assert client.delete(f"/v1/opt-outs/{number}", headers=headers).status_code == 204
    assert client.delete(f"/v1/opt-outs/{number}", headers=headers).status_code == 404
    assert client.put("/v1/opt-outs/12345", json={}, headers=headers).status_code == 422


def test_webhooks_need_their_token_and_a_known_provider(
    notify: NotifyRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_WEBHOOK_TOKEN", "s3cret-path-token")
    client = client_for(notify)

    assert client.post("/v1/providers/log/receipts?token=wrong", data=b"[]").status_code == 403
    assert client.post("/v1/providers/log/receipts", data=b"[]").status_code == 422
    assert (
        client.post("/v1/providers/nosuch/receipts?token=s3cret-path-token", data=b"[]").status_code
        == 404
    )
    refused: Any = client.post("/v1/providers/log/receipts?token=s3cret-path-token", data=b"[]")
    assert refused.status_code == 400  # the log provider sends no receipts
