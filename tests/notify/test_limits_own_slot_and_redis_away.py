"""The Redis per-number limiter: a message never waits for its own slot, and a Redis that
cannot be reached delays no SMS (the database counts instead)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from services.common.clock import FrozenClock
from services.notify.recipient_limits import RedisRecipientLimiter
from services.notify.rules import NotifyRules
from services.notify.runtime import NotifyRuntime
from tests.factories import fresh_number
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row
from tests.notify.harness import send as deliver
from tests.tcp_proxy import TcpProxy

RULES = NotifyRules()


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[TcpProxy]:
    server = urlsplit(redis_url)
    proxy = TcpProxy((server.hostname or "127.0.0.1", server.port or 6379))
    proxy.start()
    yield proxy
    proxy.cut()


def test_reserving_again_under_the_same_id_takes_its_own_slot(
    notify: NotifyRuntime, redis_url: str
) -> None:
    limiter = RedisRecipientLimiter(RULES, redis_url)
    number, sms_id = fresh_number(), uuid.uuid4()
    start = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    with notify.db.sessions() as session:
        first = limiter.reserve(session, recipient=number, sms_id=sms_id, now=start)
        # The delivery that reserved died before its claim committed; the next try:
        again = limiter.reserve(
            session, recipient=number, sms_id=sms_id, now=start + timedelta(seconds=2)
        )
        other = limiter.reserve(
            session, recipient=number, sms_id=uuid.uuid4(), now=start + timedelta(seconds=3)
        )
    assert (first, again) == (None, None)
    assert other == timedelta(seconds=59)  # the slot is held from the second reservation
    assert limiter.client.zcard(limiter.key(number)) == 1


def test_an_sms_goes_out_while_redis_is_away_and_the_database_still_counts_it(
    notify: NotifyRuntime, clock: FrozenClock, redis_url: str, redis_proxy: TcpProxy
) -> None:
    limiter = RedisRecipientLimiter(RULES, redis_proxy.url_for(redis_url))
    number = fresh_number()
    first, second, third = (request(recipient=number, priority="urgent") for _ in range(3))
    for message in (first, second, third):
        accept(notify, message)
    provider = ScriptedProvider()
    d = deliverer(notify, provider, limiter=limiter)

    redis_proxy.cut()
    assert deliver(d, first["message_id"]) == "sent"  # no ConnectionError, no wait
    assert limiter.outage.down
    redis_proxy.restore()
    clock.advance(timedelta(seconds=20))

    # Redis never saw the first: the database, which did, still holds the second back.
    assert deliver(d, second["message_id"]) == "deferred"
    assert not limiter.outage.down
    assert row(notify, second["message_id"]).due_at == clock.now() + timedelta(seconds=40)
    assert limiter.client.zcard(limiter.key(number)) == 0  # its Redis slot given back
    clock.advance(timedelta(seconds=40))
    assert deliver(d, third["message_id"]) == "sent"
    assert [sms.id for sms in provider.sent] == [first["message_id"], third["message_id"]]
