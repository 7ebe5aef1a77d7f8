"""Receipts move messages forward only; TD replies and staff fill the opt-out list."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

import pytest

from services.common.errors import DomainError
from services.common.phones import mask_phone
from services.notify import delivery, optouts, receipts, service
from services.notify.failover import ProviderRouter
from services.notify.providers.base import Accepted, InboundSms, Receipt, TemporaryFailure
from services.notify.providers.errors import AmbiguousFailure
from services.notify.runtime import NotifyRuntime
from tests.factories import fresh_number
from tests.notify.harness import (
    ScriptedProvider,
    accept,
    deliverer,
    request,
    row,
    send,
)
from tests.outbox import outbox_where


def sent_message(notify: NotifyRuntime) -> uuid.UUID:
    message = request(priority="urgent")
    accept(notify, message)
    send(deliverer(notify, ScriptedProvider()), message["message_id"])
    sms_id: uuid.UUID = message["message_id"]
    return sms_id


def apply(notify: NotifyRuntime, *receipt_list: Receipt) -> int:
    with notify.messaging.transaction() as session:
        return receipts.record_receipts(
            session,
            provider="scripted",
            receipts=list(receipt_list),
            messaging=notify.messaging,
            now=notify.clock.now(),
        )


def test_a_receipt_by_provider_reference_marks_delivered(notify: NotifyRuntime) -> None:
    sms_id = sent_message(notify)

    assert apply(notify, Receipt(delivered=True, provider_ref=f"scripted-{sms_id}")) == 1

    sms = row(notify, sms_id)
    assert sms.status == "delivered"
    assert sms.delivered_at == notify.clock.now()


def test_a_failed_receipt_fails_the_message_and_tells_why(notify: NotifyRuntime) -> None:
    sms_id = sent_message(notify)

    apply(notify, Receipt(delivered=False, message_id=sms_id, error="MK:0012 handset off"))

    sms = row(notify, sms_id)
    assert sms.status == "failed"
    assert "MK:0012" in (sms.failure or "")


def test_receipts_never_move_a_message_back(notify: NotifyRuntime) -> None:
    sms_id = sent_message(notify)
    apply(notify, Receipt(delivered=True, message_id=sms_id))

    assert apply(notify, Receipt(delivered=False, message_id=sms_id, error="late")) == 0
    assert apply(notify, Receipt(delivered=True, message_id=uuid.uuid4())) == 0  # unknown
    assert row(notify, sms_id).status == "delivered"


def test_a_receipt_for_a_message_still_sending_is_kept(notify: NotifyRuntime) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    send(
        deliverer(notify, ScriptedProvider(script=[AmbiguousFailure("slow")])),
        message["message_id"],
    )

    apply(notify, Receipt(delivered=True, message_id=message["message_id"], provider_ref="B1"))

    sms = row(notify, message["message_id"])
    assert (sms.status, sms.provider_ref) == ("delivered", "B1")


def reply(notify: NotifyRuntime, sender: str, text: str) -> int:
    with notify.messaging.transaction() as session:
        return receipts.record_inbound(
            session,
            provider="scripted",
            replies=[InboundSms(sender=sender, text=text)],
            messaging=notify.messaging,
            now=notify.clock.now(),
        )


@pytest.mark.parametrize("text", ["TD", " td ", "退订", "T"])
def test_a_td_reply_opts_the_number_out(notify: NotifyRuntime, text: str) -> None:
    number = fresh_number()

    assert reply(notify, number.removeprefix("+86"), text) == 1

    message = request(recipient=number, priority="urgent")
    accept(notify, message)
    sms = row(notify, message["message_id"])
    assert sms.status == "failed"
    assert "opted out" in (sms.failure or "")


def test_other_replies_are_kept_but_opt_nobody_out(notify: NotifyRuntime) -> None:
    number = fresh_number()
    assert reply(notify, number, "谢谢郭警官") == 0
    with notify.db.sessions() as session:
        assert not optouts.opted_out(session, number)


def test_staff_can_opt_a_number_out_and_back_in(notify: NotifyRuntime) -> None:
    number = fresh_number()
    with notify.db.transaction() as session:
        assert optouts.add(session, phone=number, source="staff", now=notify.clock.now())
        assert not optouts.add(session, phone=number, source="staff", now=notify.clock.now())
    queued = request(recipient=number, priority="urgent")
    with notify.db.transaction() as session:
        assert optouts.remove(session, phone=number)
    accept(notify, queued)
    assert row(notify, queued["message_id"]).status == "created"


def test_opting_out_after_queueing_still_stops_the_message(notify: NotifyRuntime) -> None:
    number = fresh_number()
    message = request(recipient=number, priority="urgent")
    accept(notify, message)
    reply(notify, number, "TD")
    provider = ScriptedProvider()

    assert send(deliverer(notify, provider), message["message_id"]) == "failed"
    assert provider.calls == 0


def test_a_failed_message_is_resent_once_as_a_new_linked_message(notify: NotifyRuntime) -> None:
    message = request(priority="urgent", recipient="12345")  # fails: not a mobile
    accept(notify, message)
    old = message["message_id"]
    with notify.messaging.transaction() as session:
        first = service.resend(
            session,
            sms_id=old,
            messaging=notify.messaging,
            rules=notify.rules,
            now=notify.clock.now(),
        )
        again = service.resend(
            session,
            sms_id=old,
            messaging=notify.messaging,
            rules=notify.rules,
            now=notify.clock.now(),
        )
    assert first.id == again.id != old
    assert first.resend_of_id == old
    sent = sent_message(notify)
    with pytest.raises(DomainError, match="only a failed message"), notify.db.transaction() as s:
        service.resend(
            s, sms_id=sent, messaging=notify.messaging, rules=notify.rules, now=notify.clock.now()
        )


def test_failover_moves_traffic_from_a_failing_provider() -> None:
    good, bad = ScriptedProvider("good"), ScriptedProvider("bad")
    ticks = [0.0]
    router = ProviderRouter([(good, 1), (bad, 9)], monotonic=lambda: ticks[0], rng=random.Random(7))

    for _ in range(5):
        router.record("bad", ok=False)
    assert {router.choose().name for _ in range(50)} == {"good"}

    ticks[0] += 61  # the rest is over: it gets its weight's share again
    after_rest = [router.choose().name for _ in range(200)]
    assert after_rest.count("bad") > after_rest.count("good")


def test_a_failing_provider_sends_the_message_elsewhere(notify: NotifyRuntime) -> None:
    bad = ScriptedProvider("bad", script=[TemporaryFailure("down")] * 20)
    good = ScriptedProvider("good")
    router = ProviderRouter([(bad, 1), (good, 1)], rng=random.Random(1))
    d = replace(deliverer(notify, bad), router=router)
    for _ in range(5):  # what the worker saw of `bad` lately
        router.record("bad", ok=False)
    message = request(priority="urgent")
    accept(notify, message)

    assert send(d, message["message_id"]) == "sent"
    assert row(notify, message["message_id"]).provider == "good"
    assert bad.calls == 0


def test_a_receipt_that_overtook_the_providers_answer_is_kept(notify: NotifyRuntime) -> None:
    message = request(priority="urgent")
    accept(notify, message)
    sms_id = message["message_id"]
    d = deliverer(notify, ScriptedProvider(script=[AmbiguousFailure("slow")]))
    assert send(d, sms_id) == "sending"
    apply(notify, Receipt(delivered=True, message_id=sms_id))  # before the answer came

    outcome = delivery.mark_sent(d, sms_id, Accepted(provider_ref="late-1"), notify.clock.now())

    assert outcome == "delivered"
    sms = row(notify, sms_id)
    assert (sms.status, sms.provider_ref) == ("delivered", "late-1")
    events = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    assert "sms_sent" not in [body["event"] for _, body in events]


def test_a_sent_message_tells_its_report_once_with_the_number_masked(
    notify: NotifyRuntime,
) -> None:
    number = fresh_number()
    message = request(priority="urgent", recipient=number)
    accept(notify, message)

    assert send(deliverer(notify, ScriptedProvider()), message["message_id"]) == "sent"

    sms = row(notify, message["message_id"])
    assert (sms.status, sms.sent_at) == ("sent", notify.clock.now())
    assert sms.provider_ref == f"scripted-{sms.id}"
    events = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    [sent] = [body for _, body in events if body["event"] == "sms_sent"]
    assert sent["detail"] == f"SMS 'report_received' to {mask_phone(number)} sent"
    assert number not in sent["detail"]
