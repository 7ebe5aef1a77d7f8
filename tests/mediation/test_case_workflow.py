"""Whole cases through the workflow: accept, local mediation, desks, joint meeting, follow-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.clock import FrozenClock
from services.common.errors import NotFound
from services.mediation.cases.commands import TransitionRefused
from services.mediation.runtime import MediationRuntime
from tests.conftest import NOW
from tests.mediation.cases_helpers import act, load, open_case
from tests.outbox import outbox_where

LEADER = ("leader-cheng", "leader")
LAWYER = ("desk-lawyer", "desk")
MEDIATOR = ("desk-mediator", "desk")


def steps(case: object) -> list[tuple[str, str, str, str]]:
    return [(h.by, h.action, h.from_status, h.to_status) for h in case.history]  # type: ignore[attr-defined]


def events(runtime: MediationRuntime, case: object) -> list[str]:
    report_id = str(case.report_id)  # type: ignore[attr-defined]
    return [body["event"] for _, body in outbox_where(runtime, "report_id", equals=report_id)]


def test_accepted_then_resolved_locally_then_followed_up_and_closed(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    clock.advance(timedelta(minutes=1))  # each step at its own time: the outbox's order

    accepted = act(mediation, case_id, "accept", risk_grade="B")
    assert (accepted.status, accepted.due_kind) == ("local_mediation", "local_mediation")
    assert accepted.due_at == NOW + timedelta(days=7, minutes=1)

    clock.advance(timedelta(days=2))
    resolved = act(
        mediation,
        case_id,
        "record_session",
        outcome="resolved",
        note="both agreed on the ditch",
        agreement={
            "facts": "a shared ditch",
            "terms": "the ditch is shared",
            "perform_by": "2026-12-20",
        },
    )
    assert (resolved.status, resolved.due_kind) == ("resolved", "follow_up")
    assert resolved.due_at == clock.now() + timedelta(days=7)

    with pytest.raises(TransitionRefused) as early:
        act(mediation, case_id, "close")
    assert early.value.status == 422 and "action" in early.value.problems.fields

    with pytest.raises(TransitionRefused) as phone:
        act(mediation, case_id, "follow_up", kind="phone", result="stable", note="ok")
    assert phone.value.problems.fields == {"kind": ["a grade B case gets a home visit (回访)"]}

    clock.advance(timedelta(minutes=1))
    act(mediation, case_id, "follow_up", kind="visit", result="stable", note="all calm")
    clock.advance(timedelta(minutes=1))
    closed = act(mediation, case_id, "close")

    assert closed.status == "closed" and closed.due_at is None
    assert steps(closed) == [
        ("system", "open", "", "awaiting_acceptance"),
        ("officer-guo", "accept", "awaiting_acceptance", "local_mediation"),
        ("officer-guo", "record_session", "local_mediation", "resolved"),
        ("officer-guo", "follow_up", "resolved", "resolved"),
        ("officer-guo", "close", "resolved", "closed"),
    ]
    assert events(mediation, closed) == [
        "case_opened",
        "case_accepted",
        "case_resolved",
        "follow_up_done",
        "case_closed",
    ]
    agreement = outbox_where(mediation, "template", equals="agreement_reached")
    parties = {p.phone for p in closed.parties}
    assert parties <= {body["recipient"] for _, body in agreement}


def test_an_illegal_action_is_a_409_naming_what_is_allowed(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)

    with pytest.raises(TransitionRefused) as refused:
        act(mediation, case_id, "close")

    assert refused.value.status == 409
    assert refused.value.body() == {
        "code": "illegal_transition",
        "status": "awaiting_acceptance",
        "action": "close",
        "allowed": ["accept", "reassign", "decline"],
        "message": "close is not allowed from awaiting_acceptance",
    }


def test_every_problem_is_gathered_and_a_stranger_is_refused(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)

    with pytest.raises(TransitionRefused) as bad:
        act(mediation, case_id, "accept", risk_grade="Z", colour="red")
    assert bad.value.status == 422
    assert set(bad.value.problems.fields) == {"risk_grade", "colour"}

    with pytest.raises(NotFound):  # desk staff see only cases booked at their desk
        act(mediation, case_id, "decline", by=LAWYER, party="claimant", reason="no")
    with pytest.raises(NotFound):  # an officer of other villages
        act(mediation, case_id, "accept", by=("officer-liu", "officer"), risk_grade="C")


def test_the_leader_may_accept_for_the_owner_and_reassign(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)

    act(mediation, case_id, "reassign", by=LEADER, officer="officer-liu", note="guo on leave")
    with pytest.raises(TransitionRefused) as former:
        act(mediation, case_id, "accept", risk_grade="C")
    assert former.value.status == 403  # he still sees his village's case, but owns it no more
    case = act(mediation, case_id, "accept", by=("officer-liu", "officer"), risk_grade="C")

    assert case.owner_id == "officer-liu" and case.status == "local_mediation"
    assert case.history[1].note == "guo on leave"
    sms = outbox_where(mediation, "recipient", equals="+8613951900012")
    assert any(body["template"] == "case_assigned" for _, body in sms)


def test_failed_twice_at_a_desk_goes_to_the_joint_meeting(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="A")

    escalated = act(mediation, case_id, "escalate", desk="lawyer_desk")
    [first] = [s for s in escalated_sessions(mediation, case_id)]
    assert escalated.status == "session_scheduled"
    assert (escalated.due_kind, escalated.due_at) == ("session", first.ends_at)
    with pytest.raises(TransitionRefused) as early:
        act(mediation, case_id, "record_session", by=LAWYER, outcome="failed", note="no")
    assert early.value.status == 409 and "not taken place" in early.value.message
    clock.advance(first.ends_at - clock.now())

    again = act(mediation, case_id, "record_session", by=LAWYER, outcome="failed", note="no")
    second = [s for s in escalated_sessions(mediation, case_id) if s.outcome is None]
    assert again.status == "session_scheduled" and len(second) == 1
    assert second[0].desk_code == "lawyer_desk" and second[0].starts_at > first.starts_at
    clock.advance(second[0].ends_at - clock.now())

    joint = act(mediation, case_id, "record_session", by=LAWYER, outcome="failed", note="no")
    meeting = [s for s in escalated_sessions(mediation, case_id) if s.outcome is None]
    assert joint.status == "joint_meeting"
    assert [s.desk_code for s in meeting] == ["joint_meeting"]
    clock.advance(meeting[0].starts_at - clock.now())

    resolved = act(mediation, case_id, "record_session", by=LEADER, outcome="resolved", note="ok")
    assert resolved.status == "resolved"
    assert "joint_meeting_called" in events(mediation, resolved)


def test_a_party_may_decline_and_the_reporter_hears_the_other_routes(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="D")
    act(mediation, case_id, "escalate", desk="mediation_room")

    declined = act(
        mediation, case_id, "decline", by=MEDIATOR, party="respondent", reason="will sue"
    )

    assert declined.status == "declined" and declined.due_at is None
    assert all(s.cancelled_at for s in escalated_sessions(mediation, case_id))
    [(_, sms)] = [
        row
        for row in outbox_where(mediation, "template", equals="case_declined")
        if row[1]["params"]["tracking_code"] == declined.tracking_code
    ]
    assert sms["recipient"] == declined.reporter["phone"]
    # Picked by its event, not by position: the escalation's event was written in the
    # same frozen instant, and rows of one instant come back in any order.
    [(_, event)] = [
        row
        for row in outbox_where(mediation, "report_id", equals=str(declined.report_id))
        if row[1]["event"] == "case_declined"
    ]
    assert "litigation" in event["detail"]


def escalated_sessions(runtime: MediationRuntime, case_id: object) -> list:  # type: ignore[type-arg]
    from services.mediation.desks import service as desks

    with runtime.db.sessions() as session:
        return desks.sessions_of_case(session, case_id)  # type: ignore[arg-type]


def test_load_sees_what_act_wrote(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)
    assert load(mediation, case_id).status == "awaiting_acceptance"


def test_the_same_parties_again_within_180_days_is_a_rebound(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    first = open_case(mediation)
    act(mediation, first, "accept", risk_grade="C")
    act(mediation, first, "record_session", outcome="resolved", note="agreed")
    party = load(mediation, first).parties[1]
    assert party.phone is not None
    again = [{"name": party.name, "phone": party.phone, "role": "claimant"}]

    clock.advance(timedelta(days=179))
    rebound = open_case(mediation, parties=again)
    clock.advance(timedelta(days=2))
    unrelated = open_case(mediation, parties=again)

    assert load(mediation, rebound).rebound_of == first
    assert "反弹" in load(mediation, rebound).history[0].note
    assert load(mediation, unrelated).rebound_of is None


def test_a_slot_the_desk_does_not_hold_is_a_422_naming_starts_at(
    mediation: MediationRuntime,
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    monday_3am = NOW.replace(hour=19) + timedelta(days=2)  # 03:00 at the station, Monday

    with pytest.raises(TransitionRefused) as refused:
        act(mediation, case_id, "escalate", desk="lawyer_desk", starts_at=monday_3am.isoformat())

    assert refused.value.status == 422
    assert list(refused.value.problems.fields) == ["starts_at"]
    assert load(mediation, case_id).status == "local_mediation"
    assert escalated_sessions(mediation, case_id) == []
