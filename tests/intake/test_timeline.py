"""Events from the other services build a report's timeline and move its status forward."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.common.contracts import RECORD_REPORT_EVENT
from services.intake import service
from services.intake.models import Report
from services.intake.runtime import IntakeRuntime
from tests import factories, messages
from tests.conftest import NOW


def new_report(runtime: IntakeRuntime) -> tuple[uuid.UUID, uuid.UUID]:
    """A stored dispute; returns (agency id, report id)."""
    key = factories.agency_key(runtime)
    body = factories.dispute()
    body["occurred_at"] = NOW - timedelta(days=1)
    body["reporter"] = {"phone": "+8613800138000"}
    with runtime.messaging.transaction() as session:
        from services.intake.auth import authenticate

        caller = authenticate(session.connection(), f"Bearer {key}")
        assert caller is not None
        report = service.SubmitReport(caller=caller, data=body).run(
            session, messaging=runtime.messaging, rules=runtime.rules, now=NOW
        )
        return caller.agency_id, report.id


def record(runtime: IntakeRuntime, message: dict[str, Any]) -> bool:
    return runtime.messaging.handle_once(
        RECORD_REPORT_EVENT,
        message,
        lambda session, msg: service.record_event(
            session, message=msg, now=NOW, messaging=runtime.messaging
        ),
    )


def read(runtime: IntakeRuntime, agency_id: uuid.UUID, report_id: uuid.UUID) -> Report:
    with runtime.db.sessions() as session:
        return service.get_report(session, agency_id=agency_id, report_id=report_id)


def test_events_are_in_order_each_once_and_move_the_status(intake: IntakeRuntime) -> None:
    agency_id, report_id = new_report(intake)
    accepted = messages.report_event(report_id, "case_accepted", NOW + timedelta(hours=3))
    opened = messages.report_event(report_id, "case_opened", NOW + timedelta(seconds=2))

    record(intake, accepted)  # arrives first, happened later
    record(intake, opened)
    record(intake, accepted)  # redelivered

    report = read(intake, agency_id, report_id)
    assert [e.event for e in report.events] == ["received", "case_opened", "case_accepted"]
    assert report.status == "in_progress"


def test_a_status_never_moves_back(intake: IntakeRuntime) -> None:
    agency_id, report_id = new_report(intake)

    record(intake, messages.report_event(report_id, "case_resolved", NOW + timedelta(days=2)))
    record(intake, messages.report_event(report_id, "case_opened", NOW + timedelta(seconds=1)))

    assert read(intake, agency_id, report_id).status == "resolved"


def test_informational_events_leave_the_status_alone(intake: IntakeRuntime) -> None:
    agency_id, report_id = new_report(intake)

    record(intake, messages.report_event(report_id, "sms_sent", NOW + timedelta(seconds=1)))

    report = read(intake, agency_id, report_id)
    assert report.status == "received"
    assert report.events[-1].event == "sms_sent"


def test_an_event_for_an_unknown_report_is_absorbed(intake: IntakeRuntime) -> None:
    assert record(intake, messages.report_event(uuid.uuid4(), "case_opened", NOW))
