"""A requested SMS is recorded once per key and handed to the provider at most once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from services.common.contracts import SEND_SMS
from services.notify import service
from services.notify.models import SmsMessage
from services.notify.providers.base import (
    Accepted,
    OutgoingSms,
    PermanentFailure,
    SmsProvider,
    TemporaryFailure,
)
from services.notify.runtime import NotifyRuntime
from tests import messages
from tests.outbox import outbox_where


class RecordingProvider(SmsProvider):
    """Counts what it is given; fails as told."""

    name = "recording"

    def __init__(self, failure: Exception | None = None) -> None:
        self.sent: list[tuple[uuid.UUID, str, str]] = []
        self.failure = failure

    def send(self, sms: OutgoingSms) -> Accepted:
        if self.failure is not None:
            raise self.failure
        self.sent.append((sms.id, sms.recipient, sms.text))
        return Accepted(provider_ref=f"ref-{sms.id}")


def accept(runtime: NotifyRuntime, message: dict[str, Any]) -> bool:
    return runtime.messaging.handle_once(
        SEND_SMS,
        message,
        lambda session, msg: service.accept_request(
            session,
            request=msg,
            signature=runtime.signature,
            messaging=runtime.messaging,
            now=runtime.clock.now(),
        ),
    )


def deliver(runtime: NotifyRuntime, provider: SmsProvider, sms_id: uuid.UUID) -> str:
    return service.deliver(
        db=runtime.db,
        messaging=runtime.messaging,
        provider=provider,
        signature=runtime.signature,
        sms_id=sms_id,
        now=runtime.clock.now(),
    )


def sms(runtime: NotifyRuntime, sms_id: uuid.UUID) -> SmsMessage:
    with runtime.db.sessions() as session:
        return session.get_one(SmsMessage, sms_id)


def test_a_request_is_recorded_rendered_and_queued_for_delivery(notify: NotifyRuntime) -> None:
    message = messages.send_sms()

    accept(notify, message)

    row = sms(notify, message["message_id"])
    assert row.status == "created"
    assert row.recipient == "+8613800138000"
    assert row.body.startswith("【魏村派出所】")
    assert row.segments == 1
    [(task, _)] = outbox_where(notify, "sms_id", equals=str(row.id))
    assert task == "notify.deliver_sms"


def test_one_idempotency_key_gives_one_message_ever(notify: NotifyRuntime) -> None:
    first = messages.send_sms(idempotency_key="case-assigned:42")
    again = messages.send_sms(idempotency_key="case-assigned:42")  # a new message id

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
    ],
)
def test_a_request_that_cannot_be_sent_is_recorded_as_failed(
    notify: NotifyRuntime, overrides: dict[str, Any], reason: str
) -> None:
    message = messages.send_sms(**overrides)

    accept(notify, message)

    row = sms(notify, message["message_id"])
    assert row.status == "failed"
    assert reason in (row.failure or "")
    assert outbox_where(notify, "sms_id", equals=str(row.id)) == []


def test_delivery_sends_once_and_tells_intake_with_the_number_masked(
    notify: NotifyRuntime,
) -> None:
    message = messages.send_sms()
    accept(notify, message)
    provider = RecordingProvider()

    assert deliver(notify, provider, message["message_id"]) == "sent"
    assert deliver(notify, provider, message["message_id"]) == "skipped"

    assert len(provider.sent) == 1
    row = sms(notify, message["message_id"])
    assert (row.status, row.provider_ref) == ("sent", f"ref-{row.id}")
    [(task, event)] = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    assert (task, event["event"]) == ("intake.record_report_event", "sms_sent")
    assert "138****8000" in event["detail"]
    assert "13800138000" not in event["detail"]


def test_a_temporary_failure_leaves_the_message_to_be_tried_again(notify: NotifyRuntime) -> None:
    message = messages.send_sms()
    accept(notify, message)

    with pytest.raises(TemporaryFailure):
        deliver(notify, RecordingProvider(TemporaryFailure("throttled")), message["message_id"])
    assert sms(notify, message["message_id"]).status == "created"

    provider = RecordingProvider()
    assert deliver(notify, provider, message["message_id"]) == "sent"
    assert len(provider.sent) == 1


def test_a_permanent_failure_is_final(notify: NotifyRuntime) -> None:
    message = messages.send_sms()
    accept(notify, message)

    status = deliver(
        notify,
        RecordingProvider(PermanentFailure("isv.MOBILE_NUMBER_ILLEGAL")),
        message["message_id"],
    )

    assert status == "failed"
    row = sms(notify, message["message_id"])
    assert row.status == "failed"
    assert row.failure == "isv.MOBILE_NUMBER_ILLEGAL"
    assert deliver(notify, RecordingProvider(), message["message_id"]) == "skipped"


def test_a_message_stuck_in_sending_is_not_sent_blindly_again(notify: NotifyRuntime) -> None:
    message = messages.send_sms()
    accept(notify, message)
    with notify.db.transaction() as session:  # a worker died after marking it sending
        session.get_one(SmsMessage, message["message_id"]).status = "sending"
    provider = RecordingProvider()

    assert deliver(notify, provider, message["message_id"]) == "skipped"
    assert provider.sent == []
