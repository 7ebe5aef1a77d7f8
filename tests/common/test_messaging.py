"""The outbox and idempotent consumers, on the real PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
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
from tests.common.test_dead_letters import wait_for
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
    intake.messaging.flush_marks()  # else marked within a moment, by the marking thread
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


@pytest.mark.parametrize("messages", [1, 3], ids=["one message", "a batch of three"])
def test_messages_accepted_while_the_broker_is_down_go_out_when_it_is_back(
    intake: IntakeRuntime, redis_url: str, messages: int
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
        ids = [cut_off.publish(session, SEND_SMS, sms_request()) for _ in range(messages)]

    for message_id in ids:  # each tried once, none taken for sent
        row = outbox_row(intake, message_id)
        assert row is not None and row.published_at is None and row.attempts == 1
    assert queued(redis_url, "notify") == {}

    assert intake.messaging.relay() == messages  # the periodic relay, once the broker answers

    assert sorted(queued(redis_url, "notify")) == sorted(str(i) for i in ids)
    for message_id in ids:
        row = outbox_row(intake, message_id)
        assert row is not None and row.published_at is not None


def test_a_transactions_messages_reach_the_broker_in_one_write(
    intake: IntakeRuntime, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes] = []
    send: Callable[..., None] = redis.connection.Connection.send_packed_command

    def counted(connection: Any, command: Any, check_health: bool = True) -> None:
        writes.append(b"".join(command) if isinstance(command, list) else command)
        send(connection, command, check_health)

    with intake.messaging.transaction() as session:  # the producer's queue declared once
        intake.messaging.publish(session, SEND_SMS, sms_request())
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counted)
    with intake.messaging.transaction() as session:
        ids = [intake.messaging.publish(session, SEND_SMS, sms_request()) for _ in range(3)]
    monkeypatch.undo()

    pushes = [w for w in writes if b"LPUSH" in w]
    assert len(pushes) == 1, writes  # one pipeline ...
    assert pushes[0].count(b"LPUSH") == 3  # ... holding the three
    assert set(queued(redis_url, "notify")) >= {str(i) for i in ids}
    intake.messaging.flush_marks()
    assert all(marked(intake, i) for i in ids)


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

    # Not flushed: the marking thread writes both within its delay.
    wait_for(lambda: all(marked(intake, i) for i in (first, second)), "the rows to be marked")
    for message_id in (first, second):
        row = outbox_row(intake, message_id)
        assert row is not None and row.published_at == NOW and row.attempts == 1
    assert isinstance(intake.clock, FrozenClock)
    intake.clock.advance(FAST_PATH_GRACE * 2)
    assert intake.messaging.relay() == 0
    assert sorted(queued(redis_url, "notify")) == sorted([str(first), str(second)])


def marked(runtime: IntakeRuntime, message_id: uuid.UUID) -> bool:
    row = outbox_row(runtime, message_id)
    return row is not None and row.published_at is not None


def test_rows_handed_over_by_many_threads_are_marked_in_a_few_statements(
    intake: IntakeRuntime, redis_url: str
) -> None:
    updates: list[str] = []

    def count_marks(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("UPDATE outbox"):
            updates.append(statement)

    event.listen(intake.db.engine, "before_cursor_execute", count_marks)
    try:

        def submit_five() -> list[uuid.UUID]:
            ids = []
            for _ in range(5):
                with intake.messaging.transaction() as session:
                    ids.append(intake.messaging.publish(session, SEND_SMS, sms_request()))
            return ids

        outcomes = run_together(*[submit_five] * 8)
        assert all(isinstance(ids, list) and len(ids) == 5 for ids in outcomes), outcomes
        every_id = [i for ids in outcomes for i in ids]
        wait_for(lambda: all(marked(intake, i) for i in every_id), "every row to be marked")
    finally:
        event.remove(intake.db.engine, "before_cursor_execute", count_marks)

    assert sorted(queued(redis_url, "notify")) == sorted(str(i) for i in every_id)
    # 40 transactions' rows in far fewer UPDATEs than one each (the exact number depends on
    # how the threads interleave with the marking thread's waits).
    assert 1 <= len(updates) < 20, len(updates)


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
