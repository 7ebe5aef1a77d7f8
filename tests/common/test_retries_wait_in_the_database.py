"""A consumer's retry waits in its own outbox, not on the broker: the worker acknowledges
the failed message at once, and the relay sends it again, with its tries, when it is due."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.intake.models import OutboxMessage
from services.intake.runtime import IntakeRuntime
from tests import infra
from tests.common.test_dead_letters import Consumer, dead_letter, event_wire, wait_for


def retries_of(runtime: IntakeRuntime, task: str) -> list[OutboxMessage]:
    with runtime.db.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.task == task).order_by("created_at")
            )
        )


def held_by_workers(message_id: str) -> int:
    """How many messages Redis has handed out and not seen acknowledged, for this id."""
    client = redis.Redis.from_url(infra.REDIS_URL)
    try:
        return sum(message_id in str(body) for body in client.hvals("unacked"))
    finally:
        client.close()


def test_a_failed_try_is_acknowledged_and_waits_in_the_outbox_until_due(
    intake: IntakeRuntime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake.messaging.max_retries = 1
    monkeypatch.setattr(intake.messaging, "retry_delay", lambda retries: 60)

    def broken(message: dict[str, Any]) -> None:
        raise ConnectionError("the officer directory is down")

    consumer = Consumer(intake, broken)
    wire = event_wire()
    task = consumer.contract.task

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: retries_of(intake, task), "the retry to be stored")
        [retry] = retries_of(intake, task)
        assert (retry.payload, retry.tries) == (wire, 1)
        assert retry.due_at == clock.now() + timedelta(seconds=60)
        assert retry.id != uuid.UUID(wire["message_id"])  # a row of its own; the id travels
        wait_for(lambda: held_by_workers(wire["message_id"]) == 0, "the try to be acknowledged")

        # The relay (beat's, every second) leaves it until it is due. Other tests' rows may
        # wait in the shared outbox: only this one is relayed here.
        assert intake.messaging.relay(ids=[retry.id]) == 0
        clock.advance(timedelta(seconds=59))
        assert intake.messaging.relay(ids=[retry.id]) == 0
        clock.advance(timedelta(seconds=1))
        assert intake.messaging.relay(ids=[retry.id]) == 1
        # The second try knows it is the second: at max_retries = 1 it parks the message.
        wait_for(lambda: dead_letter(intake, wire["message_id"]), "the message to be parked")

    parked = dead_letter(intake, wire["message_id"])
    assert parked is not None and parked.attempts == 2
    assert consumer.tries == [uuid.UUID(wire["message_id"])] * 2
    assert [row.published_at for row in retries_of(intake, task)] == [clock.now()]
    assert held_by_workers(wire["message_id"]) == 0
