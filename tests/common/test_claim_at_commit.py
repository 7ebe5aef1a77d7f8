"""A consumer whose message id is claimed at the commit, with the rows it gathered."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS
from services.common.messaging import read_committed
from services.intake.models import OutboxMessage
from services.intake.runtime import IntakeRuntime
from services.notify.models import SmsMessage
from services.notify.runtime import NotifyRuntime
from tests.common.test_messaging import event_message, outbox_row, processed_count, sms_request
from tests.common.test_one_statement import Statements
from tests.notify.harness import accept, request
from tests.races import run_together


class Publishing:
    """A handler that writes one outbox message a run, and says which."""

    def __init__(self, intake: IntakeRuntime, before_commit: threading.Barrier | None = None):
        self.intake, self.before_commit = intake, before_commit
        self.published: list[uuid.UUID] = []

    def __call__(self, session: Session, message: dict[str, Any]) -> None:
        self.published.append(self.intake.messaging.publish(session, SEND_SMS, sms_request()))
        if self.before_commit is not None:
            self.before_commit.wait(10)  # both twins have run their handler to the end


def handle(intake: IntakeRuntime, message: dict[str, Any], handler: Publishing) -> bool:
    return intake.messaging.handle_once(RECORD_REPORT_EVENT, message, handler, claim_at_commit=True)


def test_a_copy_runs_its_handler_and_keeps_nothing_of_it(intake: IntakeRuntime) -> None:
    message, handler = event_message(uuid.uuid4()), Publishing(intake)

    first, second = handle(intake, message, handler), handle(intake, message, handler)

    assert (first, second) == (True, False)
    kept, dropped = handler.published
    assert outbox_row(intake, kept) is not None
    assert outbox_row(intake, dropped) is None  # the copy's conflict rolled its run back
    assert processed_count(intake, message["message_id"]) == 1


def test_twins_at_the_same_moment_land_once(intake: IntakeRuntime) -> None:
    message = event_message(uuid.uuid4())
    # Both handlers finish before either commits: the twin learns of the other only at
    # its last statement, which waits for the first commit and then conflicts.
    handler = Publishing(intake, before_commit=threading.Barrier(2))

    outcomes = run_together(
        lambda: handle(intake, message, handler), lambda: handle(intake, message, handler)
    )

    assert sorted(outcomes) == [False, True]
    assert len(handler.published) == 2
    assert [outbox_row(intake, i) is not None for i in handler.published].count(True) == 1
    assert processed_count(intake, message["message_id"]) == 1


def test_a_failed_run_claims_nothing(intake: IntakeRuntime) -> None:
    message = event_message(uuid.uuid4())

    def broken(session: Session, msg: dict[str, Any]) -> None:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        intake.messaging.handle_once(RECORD_REPORT_EVENT, message, broken, claim_at_commit=True)

    assert processed_count(intake, message["message_id"]) == 0
    assert handle(intake, message, Publishing(intake))


def test_an_sms_request_is_a_read_and_one_write_without_a_transaction(
    notify: NotifyRuntime,
) -> None:
    message = request()

    with Statements(notify.db.engine) as statements:
        assert accept(notify, message)
        sent = [s for s in statements.sent if s[0] != "UPDATE"]  # the marks come later

    # No BEGIN, COMMIT or claim of its own: the key and opt-out read, then the claim, the
    # SMS and its delivery's outbox row in one statement; each on an autocommit connection.
    assert sent == [("SELECT", True), ("WITH", True)]
    with notify.db.sessions() as session:
        [sms] = session.scalars(
            select(SmsMessage).where(SmsMessage.idempotency_key == message["idempotency_key"])
        ).all()
        assert sms.status == "created" and sms.dispatched_at is not None
    assert not accept(notify, message)  # the copy


def test_a_read_once_the_transaction_has_begun_is_a_read_of_it(intake: IntakeRuntime) -> None:
    query = select(OutboxMessage.id).limit(1)
    with Statements(intake.db.engine) as statements, intake.messaging.transaction() as session:
        read_committed(session, query)
        session.execute(query).all()
        read_committed(session, query)

    assert statements.sent == [("SELECT", True), ("SELECT", False), ("SELECT", False)]
