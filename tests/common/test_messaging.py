"""The outbox and idempotent consumers, on the real PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import replace
from typing import Any

import pytest
import redis
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from services.common.celery_app import create_celery
from services.common.clock import FrozenClock
from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS
from services.common.messaging import FAST_PATH_GRACE, Messaging
from services.intake.models import DeadLetter, OutboxMessage, ProcessedMessage
from services.intake.runtime import IntakeRuntime
from tests import infra
from tests.conftest import NOW
from tests.races import run_together


def sms_request(key: str | None = None) -> dict[str, Any]:
    return {
        "idempotency_key": key or f"test:{uuid.uuid4()}",
        "recipient": "+8613800138000",
        "template": "report_received",
        "params": {"tracking_code": "WC00000000"},
        "priority": "normal",
        "report_id": None,
    }


def queued(redis_url: str, queue: str) -> dict[str, dict[str, Any]]:
    """Messages waiting in a Redis queue, by task id: {"task", "message"}."""
    client = redis.Redis.from_url(redis_url)
    found = {}
    for raw in client.lrange(queue, 0, -1):
        envelope = json.loads(raw)
        body = json.loads(base64.b64decode(envelope["body"]))
        _args, kwargs, _ = body
        found[envelope["headers"]["id"]] = {"task": envelope["headers"]["task"], **kwargs}
    client.close()
    return found


def outbox_row(runtime: IntakeRuntime, message_id: uuid.UUID) -> OutboxMessage | None:
    with runtime.db.sessions() as session:
        return session.get(OutboxMessage, message_id)


def test_a_committed_message_reaches_the_broker_with_its_id(
    intake: IntakeRuntime, redis_url: str
) -> None:
    with intake.messaging.transaction() as session:
        message_id = intake.messaging.publish(session, SEND_SMS, sms_request())

    message = queued(redis_url, "notify")[str(message_id)]
    assert message["task"] == "notify.send_sms"
    assert message["message"]["message_id"] == str(message_id)
    assert message["message"]["recipient"] == "+8613800138000"
    row = outbox_row(intake, message_id)
    assert row is not None and row.published_at is not None


def test_a_rolled_back_message_is_never_sent(intake: IntakeRuntime, redis_url: str) -> None:
    written: list[uuid.UUID] = []

    def failing_change() -> None:
        with intake.messaging.transaction() as session:
            written.append(intake.messaging.publish(session, SEND_SMS, sms_request()))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    [message_id] = written
    assert outbox_row(intake, message_id) is None
    assert str(message_id) not in queued(redis_url, "notify")


def test_a_message_the_sender_would_refuse_is_not_written(intake: IntakeRuntime) -> None:
    from marshmallow import ValidationError

    with pytest.raises(ValidationError), intake.messaging.transaction() as session:
        intake.messaging.publish(session, SEND_SMS, {**sms_request(), "priority": "whenever"})


def test_a_message_accepted_while_the_broker_is_down_goes_out_when_it_is_back(
    intake: IntakeRuntime, redis_url: str
) -> None:
    down = replace(intake.settings, broker_url=f"redis://127.0.0.1:{infra.free_port()}/0")
    cut_off = Messaging(
        service="intake",
        db=intake.db,
        celery=create_celery(down),
        clock=intake.clock,
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
    )

    with cut_off.transaction() as session:  # commits although the broker refuses
        message_id = cut_off.publish(session, SEND_SMS, sms_request())

    row = outbox_row(intake, message_id)
    assert row is not None and row.published_at is None and row.attempts == 1
    assert str(message_id) not in queued(redis_url, "notify")

    intake.messaging.relay()  # what the periodic relay does once the broker answers

    assert str(message_id) in queued(redis_url, "notify")
    row = outbox_row(intake, message_id)
    assert row is not None and row.published_at is not None


def test_relay_does_not_publish_a_row_twice(intake: IntakeRuntime, redis_url: str) -> None:
    with intake.messaging.transaction() as session:
        message_id = intake.messaging.publish(session, SEND_SMS, sms_request())
    assert list(queued(redis_url, "notify")) == [str(message_id)]

    intake.messaging.relay()
    intake.messaging.relay(ids=[message_id])

    assert list(queued(redis_url, "notify")) == [str(message_id)]


def test_a_row_whose_hand_over_never_ran_is_left_alone_for_the_grace_then_relayed(
    intake: IntakeRuntime, redis_url: str
) -> None:
    # The process died between the commit and the hand-over: the row is committed, untried.
    with intake.db.transaction() as session:
        message_id = intake.messaging.publish(session, SEND_SMS, sms_request())

    intake.messaging.relay()  # a periodic run during the grace: the fast path's row still
    assert str(message_id) not in queued(redis_url, "notify")

    assert isinstance(intake.clock, FrozenClock)
    intake.clock.advance(FAST_PATH_GRACE)
    assert intake.messaging.relay() == 1

    assert list(queued(redis_url, "notify")) == [str(message_id)]
    row = outbox_row(intake, message_id)
    assert row is not None and row.published_at == intake.clock.now() and row.attempts == 1


def test_the_fast_path_marks_what_it_sent_so_the_relay_never_sends_it_again(
    intake: IntakeRuntime, redis_url: str
) -> None:
    with intake.messaging.transaction() as session:
        first = intake.messaging.publish(session, SEND_SMS, sms_request())
        second = intake.messaging.publish(session, SEND_SMS, sms_request())

    for message_id in (first, second):
        row = outbox_row(intake, message_id)
        assert row is not None and row.published_at == NOW and row.attempts == 1
    assert isinstance(intake.clock, FrozenClock)
    intake.clock.advance(FAST_PATH_GRACE * 2)
    assert intake.messaging.relay() == 0
    assert sorted(queued(redis_url, "notify")) == sorted([str(first), str(second)])


def event_message(report_id: uuid.UUID) -> dict[str, Any]:
    return RECORD_REPORT_EVENT.load(
        RECORD_REPORT_EVENT.dump(
            {
                "message_id": uuid.uuid4(),
                "version": 1,
                "sent_at": NOW,
                "report_id": report_id,
                "event": "case_opened",
                "service": "mediation",
                "at": NOW,
                "detail": "",
            }
        )
    )


def processed_count(runtime: IntakeRuntime, message_id: uuid.UUID) -> int:
    with runtime.db.sessions() as session:
        return (
            session.scalar(select(func.count()).where(ProcessedMessage.message_id == message_id))
            or 0
        )


def test_a_redelivered_message_is_handled_once(intake: IntakeRuntime) -> None:
    calls: list[uuid.UUID] = []
    message = event_message(uuid.uuid4())

    def handler(session: Session, msg: dict[str, Any]) -> None:
        calls.append(msg["message_id"])

    first = intake.messaging.handle_once(RECORD_REPORT_EVENT, message, handler)
    second = intake.messaging.handle_once(RECORD_REPORT_EVENT, message, handler)

    assert (first, second) == (True, False)
    assert calls == [message["message_id"]]
    assert processed_count(intake, message["message_id"]) == 1


def test_a_failing_handler_leaves_the_message_to_be_retried(intake: IntakeRuntime) -> None:
    message = event_message(uuid.uuid4())

    def broken(session: Session, msg: dict[str, Any]) -> None:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        intake.messaging.handle_once(RECORD_REPORT_EVENT, message, broken)

    assert processed_count(intake, message["message_id"]) == 0
    assert intake.messaging.handle_once(RECORD_REPORT_EVENT, message, lambda s, m: None)


def test_two_workers_racing_on_one_message_run_it_once(intake: IntakeRuntime) -> None:
    message = event_message(uuid.uuid4())
    ran: list[bool] = []

    def handler(session: Session, msg: dict[str, Any]) -> None:
        ran.append(True)

    def worker() -> bool:
        return intake.messaging.handle_once(RECORD_REPORT_EVENT, message, handler)

    outcomes = run_together(worker, worker)

    assert sorted(outcomes) == [False, True]  # one ran it, the other found it done
    assert ran == [True]
    assert processed_count(intake, message["message_id"]) == 1


def test_a_malformed_message_is_parked_without_effect(intake: IntakeRuntime) -> None:
    from services.intake import tasks

    tasks.register(intake)
    task = intake.celery.tasks[RECORD_REPORT_EVENT.task]
    message_id = uuid.uuid4()

    result = task.run(message={"message_id": str(message_id), "event": 7})

    assert result is None
    with intake.db.sessions() as session:
        parked = session.get(DeadLetter, message_id)
        assert parked is not None
        assert parked.payload == {"message_id": str(message_id), "event": 7}
        assert parked.attempts == 1 and parked.status == "waiting"
        assert "ValidationError" in parked.error and "'report_id'" in parked.error
    assert processed_count(intake, message_id) == 0


def outbox_updates(runtime: IntakeRuntime) -> list[str]:
    """The statements marking outbox rows, from now on (a list that fills as they run)."""
    seen: list[str] = []

    def one(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("UPDATE outbox"):
            seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", one)
    return seen


def test_a_workers_marks_of_several_transactions_go_in_one_statement(
    intake: IntakeRuntime, redis_url: str
) -> None:
    intake.messaging.batch_marks(seconds=2.5)
    updates = outbox_updates(intake)
    sent = []
    for _ in range(3):
        with intake.messaging.transaction() as session:
            sent.append(intake.messaging.publish(session, SEND_SMS, sms_request()))

    assert sorted(queued(redis_url, "notify")) == sorted(str(i) for i in sent)  # sent at once
    assert all(outbox_row(intake, i).published_at is None for i in sent)  # type: ignore[union-attr]
    assert intake.messaging.relay() == 0  # within the grace: the fast path's rows
    intake.messaging.flush_marks()

    assert len(updates) == 1
    for message_id in sent:
        row = outbox_row(intake, message_id)
        assert row is not None and row.published_at == NOW and row.attempts == 1
    assert isinstance(intake.clock, FrozenClock)
    intake.clock.advance(FAST_PATH_GRACE * 2)
    assert intake.messaging.relay() == 0  # marked: never sent again


def test_batched_marks_are_written_by_their_timer(intake: IntakeRuntime) -> None:
    intake.messaging.batch_marks(seconds=0.05)
    with intake.messaging.transaction() as session:
        message_id = intake.messaging.publish(session, SEND_SMS, sms_request())

    deadline = time.monotonic() + 10
    while (row := outbox_row(intake, message_id)) is None or row.published_at is None:
        assert time.monotonic() < deadline, "the batch was never marked"
        time.sleep(0.02)
    assert row.attempts == 1


def test_marks_cannot_wait_as_long_as_the_relay_leaves_rows_to_the_fast_path(
    intake: IntakeRuntime,
) -> None:
    with pytest.raises(ValueError, match="grace"):
        intake.messaging.batch_marks(seconds=FAST_PATH_GRACE.total_seconds() / 2 + 0.1)
