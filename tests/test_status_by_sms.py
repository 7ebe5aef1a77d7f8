"""A resident replies CX or a 查询码 to a station SMS and gets his report's status by SMS.

Notify (the reply) → intake (`intake.answer_status_query`) → notify (`notify.send_sms`),
each hop through the sender's outbox and the receiver's once-only consumer, as in the
running system; only the broker between them is left out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.common.contracts import ANSWER_STATUS_QUERY, SEND_SMS, Contract
from services.intake.runtime import IntakeRuntime
from services.intake.tracking import answers
from services.notify import optouts, receipts
from services.notify.models import OutboxMessage as NotifyOutbox
from services.notify.models import SmsMessage
from services.notify.providers.base import InboundSms
from services.notify.runtime import NotifyRuntime
from services.notify.status_questions import question_in
from tests.intake.residents import Submitted, add_event, submit
from tests.notify.harness import accept

NIGHT = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)  # 22:30 at the station
MORNING = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 08:00 the next day


def reply(notify: NotifyRuntime, sender: str, text: str, at: datetime | None = None) -> None:
    """A reply as a provider's webhook hands it over."""
    with notify.messaging.transaction() as session:
        receipts.record_inbound(
            session,
            provider="scripted",
            replies=[InboundSms(sender=sender, text=text, at=at)],
            messaging=notify.messaging,
            now=notify.clock.now(),
        )


def questions(notify: NotifyRuntime) -> list[dict[str, Any]]:
    """The questions notify's outbox holds for intake, as intake receives them."""
    with notify.db.sessions() as session:
        rows = session.scalars(
            select(NotifyOutbox)
            .where(NotifyOutbox.task == ANSWER_STATUS_QUERY.task)
            .order_by(NotifyOutbox.created_at)
        ).all()
        return [ANSWER_STATUS_QUERY.load(row.payload) for row in rows]


def handled(runtime: Any, contract: Contract, message: dict[str, Any], handler: Any) -> list[Any]:
    """Let `runtime` consume `message` once; the messages of `contract` its outbox gained."""
    outbox = runtime.messaging.outbox
    with runtime.db.sessions() as session:
        before = set(session.scalars(select(outbox.id)))
    runtime.messaging.handle_once(ANSWER_STATUS_QUERY, message, handler)
    with runtime.db.sessions() as session:
        rows = session.scalars(select(outbox).where(outbox.task == contract.task)).all()
        return [contract.load(r.payload) for r in rows if r.id not in before]


def answered(intake: IntakeRuntime, notify: NotifyRuntime, question: dict[str, Any]) -> list[Any]:
    """Intake answers `question`; notify records each answer. Returns notify's SMS rows."""
    sent = handled(
        intake,
        SEND_SMS,
        question,
        lambda session, msg: answers.answer(session, runtime=intake, message=msg),
    )
    for request in sent:
        accept(notify, request)
    keys = [r["idempotency_key"] for r in sent]
    with notify.db.sessions() as session:
        return [
            session.scalars(select(SmsMessage).where(SmsMessage.idempotency_key == key)).one()
            for key in keys
        ]


def ask(intake: IntakeRuntime, notify: NotifyRuntime, sender: str, text: str) -> list[SmsMessage]:
    """The resident replies `text`; everything that follows runs; the answers notify holds."""
    # By id, not by position: questions of one frozen instant come back in any order.
    before = {question["message_id"] for question in questions(notify)}
    reply(notify, sender, text)
    rows: list[SmsMessage] = []
    for question in questions(notify):
        if question["message_id"] not in before:
            rows += answered(intake, notify, question)
    return rows


def e164(report: Submitted) -> str:
    return "+86" + report.reporter_phone[-11:]


def test_cx_answers_with_the_latest_reports_status(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    older = submit(intake)
    clock.advance(timedelta(hours=1))
    latest = submit(intake, reporter={"name": "陈先生", "phone": older.reporter_phone})
    add_event(intake, latest, "case_opened")
    add_event(intake, latest, "case_accepted")

    [sms] = ask(intake, notify, e164(older), " cx ")

    assert sms.recipient == e164(older)
    assert sms.template == "report_status"
    assert sms.body == (
        f"【魏村派出所】您反映的情况（查询码{latest.tracking_code}）正在办理。"
        "下一步：民警将联系双方组织调解。"
    )
    assert (sms.segments, sms.status, sms.due_at) == (1, "created", clock.now())
    assert sms.report_id is None  # an answer is no step of the report's timeline


def test_a_code_answers_for_that_report_if_it_is_the_senders(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    older = submit(intake)
    clock.advance(timedelta(hours=1))
    submit(intake, reporter={"name": "陈先生", "phone": older.reporter_phone})
    someone_elses = submit(intake)

    [mine] = ask(intake, notify, e164(older), f"查询 {older.tracking_code.lower()}")
    [not_mine] = ask(intake, notify, e164(older), someone_elses.tracking_code)

    assert f"查询码{older.tracking_code}）已受理，正在分派。下一步：" in mine.body
    assert not_mine.template == "report_status_unknown"
    assert someone_elses.tracking_code not in not_mine.body


def test_a_number_with_no_report_is_told_so(intake: IntakeRuntime, notify: NotifyRuntime) -> None:
    [sms] = ask(intake, notify, "+8613912345678", "查询")

    assert sms.body == "【魏村派出所】未查到本手机号反映的情况，请核对查询码后重新发送。"


def test_a_question_at_night_is_answered_at_eight(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    report = submit(intake)
    clock.advance(NIGHT - clock.now())

    [sms] = ask(intake, notify, e164(report), "CX")

    assert (sms.status, sms.priority, sms.due_at) == ("created", "normal", MORNING)
    assert sms.dispatched_at is None  # waits in the database until then


def test_a_station_may_answer_at_night_at_once(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    report = submit(intake)
    clock.advance(NIGHT - clock.now())
    urgent = replace(intake, rules=replace(intake.rules, status_answers_urgent=True))

    [sms] = ask(urgent, notify, e164(report), "CX")

    assert (sms.priority, sms.due_at, sms.dispatched_at) == ("urgent", NIGHT, NIGHT)


def test_an_opted_out_number_that_asks_gets_nothing(
    intake: IntakeRuntime, notify: NotifyRuntime
) -> None:
    report = submit(intake)
    reply(notify, e164(report), "TD")

    assert ask(intake, notify, e164(report), "CX") == []
    assert questions(notify) == []


def test_td_still_opts_out_and_asks_nothing(intake: IntakeRuntime, notify: NotifyRuntime) -> None:
    report = submit(intake)

    assert ask(intake, notify, e164(report), "退订") == []

    with notify.db.sessions() as session:
        assert optouts.opted_out(session, e164(report))


@pytest.mark.parametrize("text", ["谢谢郭警官", "好的", "WC123", "CX CX", "查询码是多少", ""])
def test_a_reply_that_asks_nothing_gets_nothing(
    intake: IntakeRuntime, notify: NotifyRuntime, text: str
) -> None:
    report = submit(intake)

    assert ask(intake, notify, e164(report), text) == []


def test_a_reply_pushed_twice_is_answered_once(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    report = submit(intake)
    at = clock.now() - timedelta(seconds=3)
    reply(notify, e164(report), "CX", at=at)
    reply(notify, e164(report), "CX", at=at)  # the provider did not hear our 200
    [question] = questions(notify)

    first = answered(intake, notify, question)
    redelivered = answered(intake, notify, question)  # the broker hands it out again
    # Two questions for one reply (the provider's pushes raced): one SMS all the same.
    raced = answered(intake, notify, {**question, "message_id": uuid.uuid4()})

    assert len(first) == 1 and redelivered == []
    assert [sms.id for sms in raced] == [first[0].id]


def test_a_number_gets_at_most_three_answers_a_day(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    report = submit(intake)
    answers_to = []
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        answers_to += ask(intake, notify, e164(report), "CX")

    assert len(answers_to) == 3


def test_the_senders_number_is_never_logged_in_full(
    intake: IntakeRuntime, notify: NotifyRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    report = submit(intake)
    national = e164(report)[3:]

    with caplog.at_level(logging.INFO):
        ask(intake, notify, e164(report), "CX")

    lines = [r.getMessage() for r in caplog.records]
    assert any("status question from" in line and "answered" in line for line in lines)
    assert not any(national in line for line in lines)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("CX", ("latest", None)),
        ("ｃｘ", ("latest", None)),
        ("查询", ("latest", None)),
        ("WC2W1H08QK", ("by_code", "WC2W1H08QK")),
        ("cx:wc2w1h08qk", ("by_code", "WC2W1H08QK")),
        ("查询 WC2W-1H08-QK", ("by_code", "WC2W1H08QK")),
        ("TD", None),
        ("WC2W1H08QK 谢谢", None),
    ],
)
def test_what_a_reply_asks(text: str, asks: tuple[str, str | None] | None) -> None:
    question = question_in(text)

    assert (None if question is None else (question.question, question.tracking_code)) == asks


def test_a_question_that_arrives_a_day_late_is_not_answered(
    intake: IntakeRuntime, notify: NotifyRuntime, clock: FrozenClock
) -> None:
    report = submit(intake)
    reply(notify, e164(report), "CX")
    [question] = questions(notify)
    clock.advance(timedelta(days=1, seconds=1))  # it waited with the dead letters

    assert answered(intake, notify, question) == []
