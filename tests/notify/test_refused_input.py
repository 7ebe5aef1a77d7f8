"""Notify refuses at the door what it cannot send or keep: the ops API and the webhooks."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from services.notify.runtime import NotifyRuntime
from tests.factories import fresh_number
from tests.notify.client import TOKEN, client_for, staff_headers, with_webhook_providers
from tests.notify.test_api import staff_message

DEEP = "[" * 5_000 + "]" * 5_000


def send(notify: NotifyRuntime, body: dict[str, Any] | str) -> Any:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return client_for(notify).post(
        "/v1/messages",
        data=text.encode(),
        headers={**staff_headers(notify), "Content-Type": "application/json"},
    )


def recorded_for(notify: NotifyRuntime, number: str) -> int:
    listed: Any = client_for(notify).get(
        f"/v1/messages?recipient={number}", headers=staff_headers(notify)
    )
    assert listed.status_code == 200
    total: int = json.loads(listed.headers["X-Pagination"])["total"]
    return total


@pytest.mark.parametrize(
    ("params", "named", "says"),
    [
        ({}, "tracking_code", "Missing data"),
        ({"code": "WC12345678"}, "tracking_code", "Missing data"),
        ({"code": "WC12345678"}, "code", "Unknown field"),
        ({"tracking_code": "WC1", "colour": "red"}, "colour", "takes tracking_code"),
        ({"tracking_code": "WC\x01"}, "tracking_code", "control character (U+0001)"),
        ({"tracking_code": "WC\n1"}, "tracking_code", "line break (U+000A)"),
    ],
)
def test_a_template_parameter_missing_or_unknown_is_422_and_nothing_is_recorded(
    notify: NotifyRuntime, params: dict[str, str], named: str, says: str
) -> None:
    number = fresh_number()

    answer = send(notify, staff_message(recipient=number, params=params))

    assert answer.status_code == 422
    assert says in json.dumps(answer.json["errors"]["json"]["params"][named])
    assert recorded_for(notify, number) == 0


def test_a_text_that_could_not_be_sent_is_422(notify: NotifyRuntime) -> None:
    number = fresh_number()
    too_long = staff_message(recipient=number, params={"tracking_code": "长" * 480})
    brackets = staff_message(recipient=number, params={"tracking_code": "【假】"})

    assert "at most 500" in send(notify, too_long).json["errors"]["json"]["params"][0]
    assert "【" in send(notify, brackets).json["errors"]["json"]["params"][0]
    assert recorded_for(notify, number) == 0


@pytest.mark.parametrize(
    ("raw", "named", "says"),
    [
        (r'"\ud83d"', "tracking_code", "lone surrogate"),
        (r'"WC\u0000"', "tracking_code", "NUL"),
        (DEEP, None, "nested more than 32"),  # named by the top-level field
        ("9" * 5_000, "tracking_code", "5000 digits"),
        ("NaN", "tracking_code", "NaN"),
    ],
)
def test_a_body_that_cannot_be_carried_is_400_naming_the_field(
    notify: NotifyRuntime, raw: str, named: str | None, says: str
) -> None:
    number = fresh_number()
    text = json.dumps(staff_message(recipient=number, params={"tracking_code": "@@"}))

    answer = send(notify, text.replace('"@@"', raw))

    assert answer.status_code == 400
    errors = answer.json["errors"]["json"]["params"]
    assert says in (errors[named] if named else errors)[0]
    assert (answer.json["code"], answer.json["status"]) == (400, "Bad Request")
    assert recorded_for(notify, number) == 0


def test_an_idempotency_key_with_a_control_character_is_422(notify: NotifyRuntime) -> None:
    number = fresh_number()
    answer = send(notify, staff_message(recipient=number, idempotency_key=f"k\x02{uuid.uuid4()}"))

    assert answer.status_code == 422
    assert list(answer.json["errors"]["json"]) == ["idempotency_key"]
    assert recorded_for(notify, number) == 0


def test_an_opt_out_note_keeps_newlines_but_not_nul(notify: NotifyRuntime) -> None:
    client, headers = client_for(notify), staff_headers(notify)
    number = fresh_number()

    refused: Any = client.put(
        f"/v1/opt-outs/{number}",
        data=rb'{"note": "a\u0000b"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    kept: Any = client.put(
        f"/v1/opt-outs/{number}", json={"note": "电话里说\n不要再发"}, headers=headers
    )

    assert refused.status_code == 400
    assert "NUL" in refused.json["errors"]["json"]["note"][0]
    assert kept.status_code == 200
    assert kept.json["note"] == "电话里说\n不要再发"


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '[{"phone_number": "13800138000", "content": "\\ud83d", "send_time": "2026-11-28"}]',
        '[{"phone_number": "13800138000", "content": "T\\u0000D", "send_time": "2026-11-28"}]',
        '[{"phone_number": 1' + "0" * 5_000 + "}]",
    ],
)
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_webhook_body_that_cannot_be_carried_is_400(
    notify: NotifyRuntime, monkeypatch: pytest.MonkeyPatch, provider: str, body: str
) -> None:
    client = client_for(with_webhook_providers(notify, monkeypatch))

    for kind in ("receipts", "inbound"):
        answer: Any = client.post(
            f"/v1/providers/{provider}/{kind}?token={TOKEN}", data=body.encode()
        )
        assert answer.status_code == 400, answer.json
        assert answer.json["message"]
