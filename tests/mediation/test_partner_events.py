"""Every step of a case reaches the partner's timeline, partner-safe, and moves the report."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from services.common.clock import FrozenClock
from services.common.contracts import RECORD_REPORT_EVENT, TimelineEvent
from services.intake.models import Report
from services.intake.runtime import IntakeRuntime
from services.intake.tracking.service import resident_view
from services.mediation.runtime import MediationRuntime
from tests import messages
from tests.conftest import NOW
from tests.intake.test_timeline import new_report, read, record
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.test_case_workflow import escalated_sessions
from tests.outbox import outbox_where


def forward(mediation: MediationRuntime, intake: IntakeRuntime, report_id: object) -> list[str]:
    """Hand mediation's timeline messages for the report to intake, as the broker would."""
    sent = outbox_where(mediation, "report_id", equals=str(report_id))
    for task, body in sent:
        assert task == RECORD_REPORT_EVENT.task
        record(intake, RECORD_REPORT_EVENT.load(body))
    return [body["detail"] for _, body in sent]


def test_a_whole_case_moves_the_report_and_tells_no_names_or_phones(
    mediation: MediationRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    agency_id, report_id = new_report(intake)
    case_id = open_case(mediation, report_id=report_id)
    statuses = []
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {"risk_grade": "A"}),
        ("escalate", {"desk": "mediation_room"}),
        ("record_session", {"outcome": "resolved", "note": "陈大哥 agreed"}),
        ("follow_up", {"kind": "visit", "result": "stable", "note": "calm"}),
        ("close", {}),
    ]
    for action, fields in steps:
        clock.advance(timedelta(minutes=5))
        if action == "record_session":  # at the desk, once the session has begun
            [booked] = escalated_sessions(mediation, case_id)
            clock.advance(max(booked.starts_at - clock.now(), timedelta(0)))
        act(mediation, case_id, action, **fields)
        forward(mediation, intake, report_id)
        statuses.append(read(intake, agency_id, report_id).status)

    assert statuses == ["in_progress", "in_progress", "resolved", "resolved", "closed"]
    report = read(intake, agency_id, report_id)
    assert [e.event for e in report.events][1:] == [
        "case_opened",
        "case_accepted",
        "case_escalated",
        "case_resolved",
        "follow_up_done",
        "case_closed",
    ]
    case = load(mediation, case_id)
    private = [p.name for p in case.parties] + [p.phone for p in case.parties]
    private += [case.owner.name, case.owner.phone, case.reporter["phone"]]
    for event in report.events:
        assert not any(word and word in event.detail for word in private), event.detail


def test_a_declined_case_is_declined_for_the_partner(
    mediation: MediationRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    agency_id, report_id = new_report(intake)
    case_id = open_case(mediation, report_id=report_id)
    clock.advance(timedelta(seconds=1))  # else two events of one instant, in either order
    act(mediation, case_id, "decline", party="陈二弟", reason="prefers court")

    details = forward(mediation, intake, report_id)

    assert read(intake, agency_id, report_id).status == "declined"
    assert "litigation" in details[-1] and "petition" in details[-1]


def test_an_event_outside_the_enumeration_is_refused_by_the_contract() -> None:
    assert "case_accepted" in {e.value for e in TimelineEvent}
    with pytest.raises(ValidationError, match="event"):
        messages.received(
            RECORD_REPORT_EVENT,
            {"report_id": uuid.uuid4(), "event": "case_teleported", "service": "x", "at": NOW},
        )


def test_each_step_tells_intake_when_the_next_is_due_and_the_lookup_shows_it(
    mediation: MediationRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    _, report_id = new_report(intake)
    case_id = open_case(mediation, report_id=report_id)
    # A moment later, as in life: the timeline is ordered by time, and two events of one
    # instant would come in whatever order the outbox rows are read.
    clock.advance(timedelta(seconds=1))
    accepted = act(mediation, case_id, "accept", risk_grade="C")
    forward(mediation, intake, report_id)

    with intake.db.sessions() as session:
        report = session.get_one(Report, report_id)
        assert [e.due_at for e in report.events if e.service == "mediation"] == [
            NOW + timedelta(hours=24),  # opened: accepted within 24 h
            accepted.due_at,  # accepted: local mediation for 7 days
        ]
        step = resident_view(report)["next_step"]
    assert accepted.due_at == NOW + timedelta(seconds=1, days=7)
    assert step is not None and step["due_at"] == accepted.due_at
