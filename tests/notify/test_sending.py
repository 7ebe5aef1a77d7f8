"""A requested SMS is recorded once per key and handed to a provider at most once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.common.clock import FrozenClock
from services.notify.models import SmsMessage
from services.notify.providers.base import PermanentFailure, TemporaryFailure
from services.notify.providers.errors import AmbiguousFailure
from services.notify.runtime import NotifyRuntime
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row, send
from tests.outbox import outbox_where


def test_a_request_is_recorded_rendered_and_queued_for_delivery(notify: NotifyRuntime) -> None:
    message = request(recipient="13800138000")

    accept(notify, message)

    sms = row(notify, message["message_id"])
    assert sms.status == "created"
    assert sms.recipient == "+8613800138000"
    assert sms.body.startswith("【魏村派出所】")
    assert sms.segments == 1
    [(task, _)] = outbox_where(notify, "sms_id", equals=str(sms.id))
    assert task == "notify.deliver_sms"


def test_one_idempotency_key_gives_one_message_ever(notify: NotifyRuntime) -> None:
    first = request(idempotency_key="case-assigned:42")
    again = request(idempotency_key="case-assigned:42")  # a new message id

    accept(notify, first)
    accept(notify, again)

    with notify.db.sessions() as session:
        count = session.scalar(
            select(func.count()).where(SmsMessage.idempotency_key == "case-assigned:42")
        )
    assert count == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"recipient": "12345"}, "Chinese mobile"),
        ({"template": "lottery_win"}, "unknown template"),
        ({"params": {}}, "tracking_code"),
        ({"params": {"tracking_code": "【假】"}}, "【"),
    ],
)
def test_a_request_that_cannot_be_sent_is_failed_with_its_reason(
    notify: NotifyRuntime, overrides: dict[str, Any], reason: str
) -> None:
    message = request(**overrides)

    accept(notify, message)

    sms = row(notify, message["message_id"])
    assert sms.status == "failed"
    assert reason in (sms.failure or "")
    assert outbox_where(notify, "sms_id", equals=str(sms.id)) == []
    [(_, event)] = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    assert event["event"] == "sms_failed"


def test_delivery_sends_once_and_tells_intake_with_the_number_masked(
    notify: NotifyRuntime,
) -> None:
    message = request(recipient="13800138000")
    accept(notify, message)
    provider = ScriptedProvider()
    d = deliverer(notify, provider)

    assert send(d, message["message_id"]) == "sent"
    assert send(d, message["message_id"]) == "skipped"

    assert len(provider.sent) == 1
    assert provider.sent[0].text.startswith("【魏村派出所】")
    sms = row(notify, message["message_id"])
    assert (sms.status, sms.provider_ref, sms.attempts) == ("sent", f"scripted-{sms.id}", 1)
    [(task, event)] = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    assert (task, event["event"]) == ("intake.record_report_event", "sms_sent")
    assert "138****8000" in event["detail"]
    assert "13800138000" not in event["detail"]


def test_a_temporary_failure_retries_later_with_backoff(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    provider = ScriptedProvider(script=[TemporaryFailure("throttled"), TemporaryFailure("again")])
    d = deliverer(notify, provider)

    assert send(d, message["message_id"]) == "retry"
    sms = row(notify, message["message_id"])
    assert (sms.status, sms.sending_at) == ("created", None)
    assert sms.due_at == clock.now() + timedelta(seconds=30)
    assert send(d, message["message_id"]) == "not_due"  # nothing leaves before its time

    clock.advance(timedelta(seconds=30))
    assert send(d, message["message_id"]) == "retry"
    assert row(notify, message["message_id"]).due_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    assert send(d, message["message_id"]) == "sent"
    assert provider.calls == 3
    assert len(provider.sent) == 1


def test_retries_stop_after_the_limit(notify: NotifyRuntime, clock: FrozenClock) -> None:
    rules = notify.rules.__class__(max_attempts=2)
    message = request(priority="urgent")
    accept(notify, message, rules)
    d = deliverer(notify, ScriptedProvider(script=[TemporaryFailure("x")] * 5), rules=rules)

    assert send(d, message["message_id"]) == "retry"
    clock.advance(timedelta(minutes=1))
    assert send(d, message["message_id"]) == "failed"

    sms = row(notify, message["message_id"])
    assert sms.status == "failed"
    assert "gave up after 2 tries" in (sms.failure or "")


def test_a_permanent_failure_is_final(notify: NotifyRuntime) -> None:
    message = request()
    accept(notify, message)

    status = send(
        deliverer(notify, ScriptedProvider(script=[PermanentFailure("isv.MOBILE_NUMBER_ILLEGAL")])),
        message["message_id"],
    )

    assert status == "failed"
    sms = row(notify, message["message_id"])
    assert sms.failure == "isv.MOBILE_NUMBER_ILLEGAL"
    assert send(deliverer(notify, ScriptedProvider()), message["message_id"]) == "skipped"


def test_an_ambiguous_failure_is_never_resent_blindly(notify: NotifyRuntime) -> None:
    message = request()
    accept(notify, message)
    provider = ScriptedProvider(script=[AmbiguousFailure("read timeout")])
    d = deliverer(notify, provider)

    assert send(d, message["message_id"]) == "sending"
    assert send(d, message["message_id"]) == "skipped"
    assert provider.calls == 1
    assert row(notify, message["message_id"]).status == "sending"


def test_test_messages_go_to_the_simulated_provider(notify: NotifyRuntime) -> None:
    message = request(test=True)
    accept(notify, message)
    provider = ScriptedProvider()

    assert send(deliverer(notify, provider), message["message_id"]) == "sent"

    assert provider.calls == 0
    sms = row(notify, message["message_id"])
    assert sms.provider == "simulated"
