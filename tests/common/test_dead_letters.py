"""No message is dropped: what cannot be handled is parked, listed and replayed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import FrozenClock
from services.common.contracts import OPEN_CASE, RECORD_REPORT_EVENT, Contract
from services.common.messaging import dead_letter_key
from services.common.runtime import create_api_app
from services.intake.models import DeadLetter, ProcessedMessage
from services.intake.runtime import IntakeRuntime
from services.mediation import tasks as mediation_tasks
from services.mediation.models import Case
from services.mediation.models import DeadLetter as MediationDeadLetter
from services.mediation.runtime import MediationRuntime
from tests import messages
from tests.conftest import NOW
from tests.races import run_together

WAIT_SECONDS = 30.0


def event_wire(**overrides: Any) -> dict[str, Any]:
    """A report event as it travels (JSON types)."""
    return RECORD_REPORT_EVENT.dump(
        {
            "message_id": uuid.uuid4(),
            "version": 1,
            "sent_at": NOW,
            "report_id": uuid.uuid4(),
            "event": "case_opened",
            "service": "mediation",
            "at": NOW,
            **overrides,
        }
    )


def dead_letter(runtime: IntakeRuntime, message_id: uuid.UUID | str) -> DeadLetter | None:
    with runtime.db.sessions() as session:
        return session.get(DeadLetter, uuid.UUID(str(message_id)))


def was_processed(runtime: IntakeRuntime, message_id: uuid.UUID | str) -> bool:
    with runtime.db.sessions() as session:
        return session.get(ProcessedMessage, uuid.UUID(str(message_id))) is not None


def wait_for(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Consumer:
    """A consumer of a contract of the test's own, on a queue of its own, on the real Redis."""

    def __init__(self, runtime: IntakeRuntime, handler: Callable[[dict[str, Any]], None]):
        self.runtime = runtime
        self.contract = Contract(
            f"intake.test_{uuid.uuid4().hex[:10]}", RECORD_REPORT_EVENT.schema, 1
        )
        self.queue = f"test-{uuid.uuid4().hex[:10]}"
        self.tries: list[uuid.UUID] = []
        # Before anything is sent (Celery reads its routes once): the test's task, retries
        # and replays included, travels on the test's queue.
        runtime.celery.conf.task_routes = [
            {self.contract.task: {"queue": self.queue}},
            *runtime.celery.conf.task_routes,
        ]

        def handle(session: Session, message: dict[str, Any]) -> None:
            self.tries.append(message["message_id"])
            handler(message)

        handle.__name__ = "handle"
        runtime.messaging.consumer(self.contract)(handle)

    def send(self, message: dict[str, Any]) -> None:
        self.runtime.celery.send_task(self.contract.task, kwargs={"message": message})

    @contextmanager
    def worker(self) -> Iterator[None]:
        with start_worker(
            self.runtime.celery,
            perform_ping_check=False,
            queues=[self.queue],
            shutdown_timeout=15,
            loglevel="WARNING",
        ):
            yield


@pytest.fixture
def quick(intake: IntakeRuntime) -> IntakeRuntime:
    """Intake's messaging with two retries and no wait between tries."""
    intake.messaging.max_retries = 2
    intake.messaging.retry_backoff_max = 0
    return intake


def test_a_message_whose_handler_keeps_failing_is_parked_after_its_retries(
    quick: IntakeRuntime,
) -> None:
    def broken(message: dict[str, Any]) -> None:
        raise ConnectionError("the officer directory is down")

    consumer = Consumer(quick, broken)
    wire = event_wire()

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: dead_letter(quick, wire["message_id"]), "the message to be parked")

    parked = dead_letter(quick, wire["message_id"])
    assert parked is not None
    assert len(consumer.tries) == 3  # the first try and two retries, then no more
    assert parked.attempts == 3
    assert parked.task == consumer.contract.task
    assert parked.payload == wire
    assert parked.error == "ConnectionError: the officer directory is down"
    assert parked.status == "waiting"
    assert parked.first_failed_at == parked.last_failed_at == NOW
    assert not was_processed(quick, wire["message_id"])


def test_a_message_that_fails_for_a_while_is_handled_once_and_not_parked(
    quick: IntakeRuntime,
) -> None:
    failures = iter([ConnectionError("down"), ConnectionError("still down")])

    def flaky(message: dict[str, Any]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure

    consumer = Consumer(quick, flaky)
    wire = event_wire()

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: was_processed(quick, wire["message_id"]), "the third try")

    assert len(consumer.tries) == 3
    assert dead_letter(quick, wire["message_id"]) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": ""}, "'event'"),  # fails the contract
        ({"version": 2}, "newer than 1"),  # from a producer newer than this consumer
    ],
)
def test_a_message_that_cannot_succeed_is_parked_at_once(
    quick: IntakeRuntime, change: dict[str, Any], reason: str
) -> None:
    consumer = Consumer(quick, lambda message: None)
    wire = {**event_wire(), **change}

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: dead_letter(quick, wire["message_id"]), "the message to be parked")

    parked = dead_letter(quick, wire["message_id"])
    assert parked is not None
    assert parked.attempts == 1
    assert parked.error.startswith("ValidationError") or parked.error.startswith("NewerVersion")
    assert reason in parked.error
    assert consumer.tries == []


def test_an_unknown_field_from_a_newer_producer_is_no_reason_to_park(
    quick: IntakeRuntime,
) -> None:
    consumer = Consumer(quick, lambda message: None)
    wire = {**event_wire(), "severity_hint": "high"}

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: was_processed(quick, wire["message_id"]), "the message to be handled")

    assert dead_letter(quick, wire["message_id"]) is None


def test_a_value_the_database_refuses_is_parked_at_once(
    mediation: MediationRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    mediation_tasks.register(mediation)
    task = mediation.celery.tasks[OPEN_CASE.task]
    message = messages.open_case()
    # Contracts bound widths, but a NUL only the sender's own door refuses: PostgreSQL cannot.
    message["location"] = {**message["location"], "village": "weicun-3\x00"}
    wire = OPEN_CASE.dump(message)

    task.run(message=wire)  # returns: no retry can make the value fit

    with mediation.db.sessions() as session:
        parked = session.get(MediationDeadLetter, message["message_id"])
        assert parked is not None and parked.attempts == 1
        assert parked.error.startswith("DataError")
        assert session.scalar(select(Case).where(Case.report_id == message["report_id"])) is None
    waiting = mediation.messaging.waiting_dead_letters()
    assert "after 1 try (cannot succeed): DataError" in caplog.text
    assert f"{waiting} dead letters of mediation wait" in caplog.text


def test_parking_a_message_twice_keeps_one_row_and_counts_every_try(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    wire = event_wire()
    error = ConnectionError("down")

    intake.messaging.park(task="intake.record_report_event", message=wire, error=error, attempts=3)
    clock.advance(timedelta(minutes=5))
    intake.messaging.park(
        task="intake.record_report_event", message=wire, error=KeyError("x"), attempts=2
    )

    parked = dead_letter(intake, wire["message_id"])
    assert parked is not None
    assert parked.attempts == 5
    assert parked.first_failed_at == NOW
    assert parked.last_failed_at == NOW + timedelta(minutes=5)
    assert parked.error == "KeyError: 'x'"


def test_two_workers_parking_one_message_together_leave_one_row(intake: IntakeRuntime) -> None:
    wire = event_wire()

    def park() -> uuid.UUID:
        return intake.messaging.park(
            task="intake.record_report_event",
            message=wire,
            error=ConnectionError("down"),
            attempts=1,
        )

    outcomes = run_together(park, park)

    assert outcomes == [uuid.UUID(wire["message_id"])] * 2  # no exception either
    parked = dead_letter(intake, wire["message_id"])
    assert parked is not None and parked.attempts == 2


def test_a_message_without_a_readable_id_is_still_parked_under_one_key() -> None:
    garbage: dict[str, Any] = {"message_id": "not-a-uuid", "event": 7}

    first, again = dead_letter_key(garbage, None), dead_letter_key(dict(garbage), None)
    by_task_id = dead_letter_key(garbage, "0b7e4c9a-0d9b-4c1e-9f3e-2f1a5d6c7b8a")

    assert first == again
    assert by_task_id == uuid.UUID("0b7e4c9a-0d9b-4c1e-9f3e-2f1a5d6c7b8a")
    assert dead_letter_key({"message_id": "0b7e4c9a-0d9b-4c1e-9f3e-2f1a5d6c7b8a"}, None) == (
        by_task_id
    )


def test_a_replayed_message_goes_out_through_the_outbox_and_is_handled(
    quick: IntakeRuntime,
) -> None:
    working = threading.Event()

    def until_fixed(message: dict[str, Any]) -> None:
        if not working.is_set():
            raise ConnectionError("down")

    consumer = Consumer(quick, until_fixed)
    quick.messaging.max_retries = 0
    wire = event_wire()

    with consumer.worker():
        consumer.send(wire)
        wait_for(lambda: dead_letter(quick, wire["message_id"]), "the message to be parked")
        working.set()  # the cause is fixed
        replayed = quick.messaging.replay(message_ids=[uuid.UUID(wire["message_id"])])
        wait_for(lambda: was_processed(quick, wire["message_id"]), "the replay to be handled")

    assert replayed == [uuid.UUID(wire["message_id"])]
    parked = dead_letter(quick, wire["message_id"])
    assert parked is not None and parked.status == "replayed" and parked.replayed_at == NOW
    assert quick.messaging.replay(message_ids=replayed) == []  # once replayed, not again


def test_a_replayed_message_that_fails_again_waits_again_in_the_same_row(
    intake: IntakeRuntime,
) -> None:
    wire = event_wire()
    messaging = intake.messaging
    messaging.park(task="intake.x", message=wire, error=ConnectionError("down"), attempts=1)
    messaging.replay(message_ids=[uuid.UUID(wire["message_id"])])

    messaging.park(task="intake.x", message=wire, error=ConnectionError("down"), attempts=1)

    parked = dead_letter(intake, wire["message_id"])
    assert parked is not None
    assert (parked.status, parked.attempts, parked.replayed_at) == ("waiting", 2, None)


def test_readiness_reports_waiting_dead_letters_without_failing(
    mediation: MediationRuntime,
) -> None:
    client = create_api_app(mediation, title="t", description="d", blueprints=[]).test_client()
    assert client.get("/readyz").get_json()["checks"]["dead_letters"] == "0 waiting"

    mediation.messaging.park(
        task=OPEN_CASE.task,
        message=OPEN_CASE.dump(messages.open_case()),
        error=ValidationError("bad"),
        attempts=1,
    )
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ok"
    assert answer.get_json()["checks"]["dead_letters"] == "1 waiting"


def test_the_hourly_prune_logs_how_many_dead_letters_wait(
    intake: IntakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    intake.messaging.park(task="intake.x", message=event_wire(), error=KeyError("x"), attempts=1)

    intake.messaging.prune()

    assert intake.messaging.waiting_dead_letters() == 1
    assert "1 dead letters of intake wait" in caplog.text
