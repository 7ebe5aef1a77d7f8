"""Providers' webhooks end to end: an Aliyun receipt and a Tencent TD reply over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from services.common.contracts import ANSWER_STATUS_QUERY
from services.notify.models import OutboxMessage
from services.notify.runtime import NotifyRuntime
from tests.factories import fresh_number
from tests.notify.client import TOKEN, client_for, with_webhook_providers
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row, send


@pytest.fixture
def with_providers(notify: NotifyRuntime, monkeypatch: pytest.MonkeyPatch) -> NotifyRuntime:
    """Notify as configured with Aliyun and Tencent (never called here: they only parse)."""
    return with_webhook_providers(notify, monkeypatch)


def test_an_aliyun_receipt_marks_the_message_delivered(with_providers: NotifyRuntime) -> None:
    message = request(priority="urgent")
    accept(with_providers, message)
    send(deliverer(with_providers, ScriptedProvider(name="aliyun")), message["message_id"])
    receipt = [
        {
            "phone_number": "13800138000",
            "send_time": "2026-11-28 12:00:01",
            "report_time": "2026-11-28 12:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "932702304080415357^0",
            "out_id": str(message["message_id"]),
        }
    ]

    answer: Any = client_for(with_providers).post(
        f"/v1/providers/aliyun/receipts?token={TOKEN}", data=json.dumps(receipt)
    )

    assert answer.status_code == 200
    assert answer.json == {"code": 0, "msg": "成功"}
    sms = row(with_providers, message["message_id"])
    assert sms.status == "delivered"
    assert sms.delivered_at is not None


def test_a_tencent_td_reply_opts_the_sender_out(with_providers: NotifyRuntime) -> None:
    number = fresh_number()
    reply = {
        "extend": "",
        "mobile": number.removeprefix("+86"),
        "nationcode": "86",
        "sign": "魏村派出所",
        "text": "TD",
        "time": 1795867200,
    }

    answer: Any = client_for(with_providers).post(
        f"/v1/providers/tencent/inbound?token={TOKEN}", data=json.dumps(reply)
    )

    assert answer.status_code == 200
    assert answer.json == {"result": 0, "errmsg": "OK"}
    later = request(recipient=number, priority="urgent")
    accept(with_providers, later)
    assert row(with_providers, later["message_id"]).status == "failed"


def test_a_body_that_is_not_the_providers_is_400(with_providers: NotifyRuntime) -> None:
    client = client_for(with_providers)
    for path in ("aliyun/receipts", "tencent/inbound"):
        answer = client.post(f"/v1/providers/{path}?token={TOKEN}", data=b"{not json")
        assert answer.status_code == 400


def test_a_tencent_cx_reply_becomes_a_question_for_intake(with_providers: NotifyRuntime) -> None:
    number = fresh_number()
    reply = {
        "mobile": number.removeprefix("+86"),
        "nationcode": "86",
        "text": "CX",
        "time": 1795867200,
    }

    answer: Any = client_for(with_providers).post(
        f"/v1/providers/tencent/inbound?token={TOKEN}", data=json.dumps(reply)
    )

    assert answer.status_code == 200
    with with_providers.db.sessions() as session:
        [row] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task == ANSWER_STATUS_QUERY.task)
        ).all()
    question = ANSWER_STATUS_QUERY.load(row.payload)
    assert (question["sender"], question["question"], question["tracking_code"]) == (
        number,
        "latest",
        None,
    )
