"""首接: a dispute from intake opens a case owned by its village's officer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.common.contracts import OPEN_CASE
from services.mediation import service
from services.mediation.models import Case, Staff
from services.mediation.runtime import MediationRuntime
from tests import messages
from tests.conftest import NOW
from tests.outbox import outbox_where


def open_case(runtime: MediationRuntime, message: dict[str, object]) -> bool:
    def handler(session: object, msg: dict[str, object]) -> None:
        service.open_case(
            session,  # type: ignore[arg-type]
            report=msg,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )

    return runtime.messaging.handle_once(OPEN_CASE, message, handler, claim_at_commit=True)


def case_of(runtime: MediationRuntime, report_id: object) -> Case:
    with runtime.db.sessions() as session:
        case = session.scalar(select(Case).where(Case.report_id == report_id))
        assert case is not None
        _ = case.parties, case.owner
        return case


def test_the_case_belongs_to_the_officer_of_the_village(mediation: MediationRuntime) -> None:
    message = messages.open_case()

    assert open_case(mediation, message)

    case = case_of(mediation, message["report_id"])
    assert case.owner.id == "officer-guo"  # weicun-3 is 郭警官's (分片包村)
    assert case.status == "awaiting_acceptance"
    assert (case.due_at, case.due_kind) == (NOW + timedelta(hours=24), "acceptance")
    assert [(p.name, p.phone, p.role) for p in case.parties] == [
        ("陈大哥", "+8613900139000", "claimant"),
        ("陈二弟", "+8613700137000", "respondent"),
    ]


def test_intake_is_told_and_the_officer_waits_for_his_digest(mediation: MediationRuntime) -> None:
    message = messages.open_case()
    open_case(mediation, message)

    events = outbox_where(mediation, "report_id", equals=str(message["report_id"]))
    sms = outbox_where(mediation, "params", "tracking_code", equals=message["tracking_code"])

    assert [(task, body["event"]) for task, body in events] == [
        ("intake.record_report_event", "case_opened")
    ]
    assert "魏村三组" in events[0][1]["detail"]  # the village by name, no officer's name
    assert "郭警官" not in events[0][1]["detail"]
    assert "2026-11-29 12:00" in events[0][1]["detail"]  # the deadline in station time
    assert sms == []  # the officer hears of it in his next digest (test_digests.py)
    assert case_of(mediation, message["report_id"]).announced_at is None


def test_a_village_without_an_officer_goes_to_the_duty_leader(
    mediation: MediationRuntime,
) -> None:
    message = messages.open_case(location={"village": "weicun-99"})

    open_case(mediation, message)

    owner = case_of(mediation, message["report_id"]).owner
    assert (owner.id, owner.on_duty) == ("leader-cheng", True)


def test_a_redelivered_dispute_opens_one_case(mediation: MediationRuntime) -> None:
    message = messages.open_case()

    assert open_case(mediation, message)
    assert not open_case(mediation, message)

    with mediation.db.sessions() as session:
        count = session.scalar(select(func.count()).where(Case.report_id == message["report_id"]))
    assert count == 1
    assert len(outbox_where(mediation, "report_id", equals=str(message["report_id"]))) == 1


def test_a_village_whose_officer_left_goes_to_the_duty_leader_by_its_name(
    mediation: MediationRuntime,
) -> None:
    with mediation.db.transaction() as session:
        session.get_one(Staff, "officer-guo").active = False
    message = messages.open_case()  # weicun-3, 郭警官's

    open_case(mediation, message)

    owner = case_of(mediation, message["report_id"]).owner
    assert (owner.id, owner.on_duty) == ("leader-cheng", True)
    [(_, event)] = outbox_where(mediation, "report_id", equals=str(message["report_id"]))
    assert "the officer of 魏村三组" in event["detail"]


def test_a_village_the_station_does_not_know_is_named_by_its_code(
    mediation: MediationRuntime,
) -> None:
    message = messages.open_case(location={"village": "weicun-99"})

    open_case(mediation, message)

    [(_, event)] = outbox_where(mediation, "report_id", equals=str(message["report_id"]))
    assert "the officer of weicun-99" in event["detail"]
