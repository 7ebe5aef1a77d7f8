"""The deadline sweep: each breach acted on once, even with two sweeps at the same moment."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from services.common.clock import FrozenClock
from services.mediation.cases.scheduled import sweep_deadlines
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.outbox import outbox_where
from tests.races import errors_in, run_together

LEADER_PHONE = "+8613951900001"
GUO_PHONE = "+8613951900011"


def sms_about(runtime: MediationRuntime, case: object, template: str) -> list[str]:
    code = case.tracking_code  # type: ignore[attr-defined]
    rows = outbox_where(runtime, "params", "tracking_code", equals=code)
    return [body["recipient"] for _, body in rows if body["template"] == template]


def test_unaccepted_after_24_hours_the_duty_leader_owns_it_until_accepted(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    clock.advance(timedelta(hours=23, minutes=59))
    sweep_deadlines(mediation)
    assert load(mediation, case_id).owner_id == "officer-guo"

    clock.advance(timedelta(minutes=2))
    sweep_deadlines(mediation)
    sweep_deadlines(mediation)  # the same breach again: nothing more

    case = load(mediation, case_id)
    assert (case.owner_id, case.status, case.due_kind) == (
        "leader-cheng",
        "awaiting_acceptance",
        "acceptance",
    )
    assert [h.action for h in case.history] == ["open", "take_over"]
    assert sms_about(mediation, case, "case_taken_over") == [LEADER_PHONE]
    assert sms_about(mediation, case, "case_overdue") == [GUO_PHONE]
    accepted = act(mediation, case_id, "accept", by=("leader-cheng", "leader"), risk_grade="C")
    assert accepted.status == "local_mediation"


def test_local_mediation_past_seven_days_is_booked_at_the_mediation_room(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    clock.advance(timedelta(days=7, seconds=1))

    sweep_deadlines(mediation)

    case = load(mediation, case_id)
    assert (case.status, case.due_kind) == ("session_scheduled", "session")
    assert case.history[-1].by == "system" and case.history[-1].action == "escalate"
    assert case.due_at is not None and case.due_at > clock.now()


def test_a_session_left_without_outcome_and_a_late_follow_up_are_told_once(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    escalated = act(mediation, case_id, "escalate", desk="council_hall")
    assert escalated.due_at is not None
    clock.advance(escalated.due_at - clock.now() + timedelta(minutes=1))

    sweep_deadlines(mediation)
    sweep_deadlines(mediation)
    case = load(mediation, case_id)
    assert sorted(sms_about(mediation, case, "case_overdue")) == [LEADER_PHONE, GUO_PHONE]
    assert [h.action for h in case.history].count("deadline_breached") == 1

    act(mediation, case_id, "record_session", outcome="resolved", note="agreed")
    clock.advance(timedelta(days=7, minutes=1))
    sweep_deadlines(mediation)
    case = load(mediation, case_id)
    assert case.history[-1].detail == {"due_kind": "follow_up"}
    assert len(sms_about(mediation, case, "case_overdue")) == 4


def test_two_sweeps_at_once_act_on_each_breach_once(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    cases = [open_case(mediation) for _ in range(6)]
    clock.advance(timedelta(hours=25))
    handled = run_together(partial(sweep_deadlines, mediation), partial(sweep_deadlines, mediation))

    assert errors_in(handled) == []
    for case_id in cases:
        case = load(mediation, case_id)
        assert [h.action for h in case.history] == ["open", "take_over"]
        assert sms_about(mediation, case, "case_taken_over") == [LEADER_PHONE]
    assert sum(handled) == len(cases)  # each breach handled by one sweep or the other
