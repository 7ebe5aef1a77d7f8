"""Quiet hours and per-number limits: messages wait in the database, none is dropped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.clock import FrozenClock
from services.notify import delivery
from services.notify.recipient_limits import (
    DatabaseRecipientLimiter,
    RecipientLimiter,
    RedisRecipientLimiter,
)
from services.notify.rules import NotifyRules
from services.notify.runtime import NotifyRuntime
from services.notify.timing import after_quiet_hours
from tests.factories import fresh_number
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row
from tests.notify.harness import send as deliver
from tests.outbox import outbox_where

RULES = NotifyRules()


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        ("2026-11-28T12:59:00", "2026-11-28T12:59:00"),  # 20:59 station time: not yet quiet
        ("2026-11-28T13:00:00", "2026-11-29T00:00:00"),  # 21:00: wait for 08:00
        ("2026-11-28T18:00:00", "2026-11-29T00:00:00"),  # 02:00
        ("2026-11-28T23:59:00", "2026-11-29T00:00:00"),  # 07:59
        ("2026-11-29T00:00:00", "2026-11-29T00:00:00"),  # 08:00: on its way
    ],
)
def test_non_urgent_messages_wait_out_the_quiet_hours(utc: str, expected: str) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert after_quiet_hours(at, urgent=False, rules=RULES) == datetime.fromisoformat(
        expected
    ).replace(tzinfo=UTC)
    assert after_quiet_hours(at, urgent=True, rules=RULES) == at


def test_a_request_at_night_waits_in_the_database_until_eight(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    clock.advance(timedelta(hours=10))  # 22:00 station time
    message = request(priority="normal")
    provider = ScriptedProvider()
    d = deliverer(notify, provider)

    accept(notify, message)

    sms = row(notify, message["message_id"])
    assert sms.status == "created"
    assert sms.due_at == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert outbox_where(notify, "sms_id", equals=str(sms.id)) == []  # not queued, waiting
    [(_, event)] = outbox_where(notify, "report_id", equals=str(message["report_id"]))
    assert event["event"] == "sms_scheduled"
    assert "2026-11-29 08:00" in event["detail"]  # the reporter's answer, set for 08:00
    clock.advance(timedelta(hours=1))
    assert delivery.dispatch_due(d) == 0
    assert outbox_where(notify, "sms_id", equals=str(sms.id)) == []
    clock.advance(timedelta(hours=9))  # 08:00
    assert delivery.dispatch_due(d) == 1
    assert len(outbox_where(notify, "sms_id", equals=str(sms.id))) == 1
    assert deliver(d, sms.id) == "sent"


def test_an_urgent_message_goes_out_at_night(notify: NotifyRuntime, clock: FrozenClock) -> None:
    clock.advance(timedelta(hours=10))
    message = request(priority="urgent")
    accept(notify, message)
    assert deliver(deliverer(notify, ScriptedProvider()), message["message_id"]) == "sent"


def test_one_a_minute_to_a_number_the_next_waits(notify: NotifyRuntime, clock: FrozenClock) -> None:
    number = fresh_number()
    first, second = request(recipient=number), request(recipient=number)
    accept(notify, first)
    accept(notify, second)
    provider = ScriptedProvider()
    d = deliverer(notify, provider)

    assert deliver(d, first["message_id"]) == "sent"
    assert deliver(d, second["message_id"]) == "deferred"
    assert row(notify, second["message_id"]).due_at == clock.now() + timedelta(minutes=1)

    clock.advance(timedelta(minutes=1))
    assert delivery.dispatch_due(d) == 1
    assert deliver(d, second["message_id"]) == "sent"
    assert len(provider.sent) == 2


def slots(
    limiter: RecipientLimiter, runtime: NotifyRuntime, number: str, start: datetime
) -> list[timedelta | None]:
    """Reserve at each minute for 12 minutes, then once more at the 61st."""
    waits = []
    with runtime.db.transaction() as session:
        for minute in [*range(12), 61]:
            waits.append(
                limiter.reserve(
                    session,
                    recipient=number,
                    sms_id=uuid.uuid4(),
                    now=start + timedelta(minutes=minute),
                )
            )
    return waits


def test_the_redis_limiter_keeps_one_minute_five_an_hour_ten_a_day(
    notify: NotifyRuntime, redis_url: str
) -> None:
    limiter = RedisRecipientLimiter(RULES, redis_url)
    start = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    number = fresh_number()

    waits = slots(limiter, notify, number, start)

    assert waits[:5] == [None] * 5  # minutes 0–4
    assert waits[5] == timedelta(minutes=55)  # the hour holds five
    assert waits[6:12] == [timedelta(minutes=54 - i) for i in range(6)]
    assert waits[12] is None  # minute 61: the first slot has left the hour
    with notify.db.sessions() as session:
        later = start + timedelta(minutes=61, seconds=30)
        immediate = limiter.reserve(session, recipient=number, sms_id=uuid.uuid4(), now=later)
    assert immediate == timedelta(seconds=30)  # one a minute


def test_the_redis_limiter_caps_the_day_at_ten(notify: NotifyRuntime, redis_url: str) -> None:
    limiter = RedisRecipientLimiter(RULES, redis_url)
    number, start = fresh_number(), datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    with notify.db.sessions() as session:
        taken = [
            limiter.reserve(
                session, recipient=number, sms_id=uuid.uuid4(), now=start + timedelta(hours=h)
            )
            for h in range(0, 24, 2)
        ]
    assert taken[:10] == [None] * 10
    assert taken[10] == timedelta(hours=4)  # the first of the day leaves at 24:00


def test_a_released_slot_can_be_taken_again(notify: NotifyRuntime, redis_url: str) -> None:
    limiter = RedisRecipientLimiter(RULES, redis_url)
    number, now, sms_id = fresh_number(), datetime(2026, 11, 28, 2, 0, tzinfo=UTC), uuid.uuid4()
    with notify.db.sessions() as session:
        assert limiter.reserve(session, recipient=number, sms_id=sms_id, now=now) is None
        limiter.release(recipient=number, sms_id=sms_id)
        assert limiter.reserve(session, recipient=number, sms_id=uuid.uuid4(), now=now) is None


def test_the_database_limiter_counts_what_was_handed_over(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    number, start = fresh_number(), clock.now()
    d = deliverer(notify, ScriptedProvider(), limiter=DatabaseRecipientLimiter(RULES))
    requests = [request(recipient=number, priority="urgent") for _ in range(7)]
    for message in requests:
        accept(notify, message)

    outcomes = []
    for message in requests:  # one a minute: only the hour's cap can hold them back
        outcomes.append(deliver(d, message["message_id"]))
        clock.advance(timedelta(minutes=1))

    assert outcomes == ["sent"] * 5 + ["deferred"] * 2
    later = [row(notify, m["message_id"]) for m in requests[5:]]
    assert all(sms.status == "created" for sms in later)
    assert [sms.due_at for sms in later] == [start + timedelta(hours=1)] * 2
