"""Two rules of the loop: a failed session is followed within 7 working days, and owners are
reminded before a follow-up (回访) is due. Real dates: the desk sits on working days of the
official calendar, from Monday 30 November 2026 on."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from services.common.clock import STATION_TZ, FrozenClock
from services.mediation.cases.commands import active_session
from services.mediation.cases.reminders import remind_follow_ups
from services.mediation.cases.scheduled import sweep_deadlines
from services.mediation.desks import service as desks
from services.mediation.desks.models import DeskSession
from services.mediation.models import Case
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.desk_helpers import new_case
from tests.mediation.test_deadlines import GUO_PHONE, LEADER_PHONE, sms_about
from tests.outbox import outbox_where


def station(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STATION_TZ)


def move_to(clock: FrozenClock, at: datetime) -> None:
    clock.advance(at - clock.now())


def one_a_day_desk(runtime: MediationRuntime) -> str:
    """A desk of the test's own: one place, one session a working day at 09:00."""
    code = f"one-a-day-{secrets.token_hex(4)}"
    with runtime.db.transaction() as session:
        desks.save_desk(
            session,
            code=code,
            changes={
                "name": "调解室",
                "calendar": "working_days",
                "opens": "09:00",
                "closes": "10:00",
                "session_minutes": 60,
                "parallel": 1,
            },
        )
    return code


def block_next_slots(runtime: MediationRuntime, desk: str, n: int) -> list[DeskSession]:
    """Other cases take the desk's next `n` free slots (cases the sweep leaves alone)."""
    with runtime.db.transaction() as session:
        booked = []
        for _ in range(n):
            other = session.get_one(Case, new_case(runtime))
            other.due_at = other.due_kind = None
            booked.append(
                desks.book_session(
                    session, desk_code=desk, case_id=other.id, now=runtime.clock.now()
                )
            )
        return booked


def failed_on_monday(
    runtime: MediationRuntime, clock: FrozenClock, desk: str, *, blocked: int = 0
) -> tuple[Case, list[DeskSession]]:
    """A case heard at `desk` on Monday 30 November at 09:00 (booked on Saturday, when the
    clock starts) without agreement; `blocked` slots after it are taken by other cases."""
    case_id = open_case(runtime)
    act(runtime, case_id, "accept", risk_grade="C")
    escalated = act(runtime, case_id, "escalate", desk=desk)
    assert escalated.due_at == station(2026, 11, 30, 10)
    blockers = block_next_slots(runtime, desk, blocked)
    move_to(clock, station(2026, 11, 30, 10, 30))
    failed = act(runtime, case_id, "record_session", outcome="failed", note="no agreement")
    return failed, blockers


def test_a_failed_session_with_a_slot_in_time_waits_for_that_session(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case, _ = failed_on_monday(mediation, clock, one_a_day_desk(mediation))

    # 7 working days from Monday 30 November: 1–4, 7–9 December; the limit is 10 Dec 00:00.
    assert case.second_session_by == station(2026, 12, 10)
    assert (case.due_kind, case.due_at) == ("session", station(2026, 12, 1, 10))
    assert "later than" not in case.history[-1].note


def test_a_failed_session_with_no_slot_in_time_is_a_breach_that_pulls_it_forward(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    # Other cases hold every session from 1 to 14 December (10 working days).
    failed, blockers = failed_on_monday(mediation, clock, one_a_day_desk(mediation), blocked=10)
    case_id = failed.id
    assert blockers[-1].starts_at == station(2026, 12, 14, 9)

    with mediation.db.sessions() as session:
        rebooked = active_session(session, load(mediation, case_id))
        assert rebooked is not None and rebooked.starts_at == station(2026, 12, 15, 9)
    limit = station(2026, 12, 10)
    assert (failed.due_kind, failed.due_at, failed.second_session_by) == (
        "second_session",
        limit,
        limit,
    )
    # Before the limit nothing happens; then a place on 11 December opens up.
    move_to(clock, limit - timedelta(minutes=1))
    assert sweep_deadlines(mediation) == 0
    with mediation.db.transaction() as session:
        freed = session.get_one(DeskSession, blockers[8].id)
        assert freed.starts_at == station(2026, 12, 11, 9)
        desks.release_session(session, desk_session=freed, now=clock.now())

    move_to(clock, limit + timedelta(minutes=1))
    assert sweep_deadlines(mediation) == 1
    assert sweep_deadlines(mediation) == 0  # the same breach again: nothing more

    case = load(mediation, case_id)
    with mediation.db.sessions() as session:
        moved = active_session(session, case)
        assert moved is not None and moved.starts_at == station(2026, 12, 11, 9)
    assert (case.due_kind, case.due_at, case.second_session_by) == (
        "session",
        station(2026, 12, 11, 10),
        None,
    )
    steps = [(h.action, h.by) for h in case.history[-2:]]
    assert steps == [("reschedule", "system"), ("deadline_breached", "system")]
    assert sorted(sms_about(mediation, case, "case_overdue")) == [LEADER_PHONE, GUO_PHONE]
    parties = [str(p.phone) for p in case.parties]
    # Each party heard of 30 November's session, of 15 December's, then of its move.
    assert sorted(sms_about(mediation, case, "session_booked")) == sorted(parties * 3)


def test_no_earlier_place_the_breach_is_told_and_the_booked_session_kept(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    failed, _ = failed_on_monday(mediation, clock, one_a_day_desk(mediation), blocked=10)
    case_id = failed.id

    move_to(clock, station(2026, 12, 10, 0, 1))
    assert sweep_deadlines(mediation) == 1

    case = load(mediation, case_id)
    assert (case.due_kind, case.due_at) == ("session", station(2026, 12, 15, 10))
    assert case.history[-1].action == "deadline_breached"
    assert "second_session" in case.history[-1].note
    assert sorted(sms_about(mediation, case, "case_overdue")) == [LEADER_PHONE, GUO_PHONE]


def test_rescheduled_past_the_limit_the_limit_is_the_deadline(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    failed, _ = failed_on_monday(mediation, clock, one_a_day_desk(mediation))
    case_id = failed.id

    later = act(mediation, case_id, "reschedule", starts_at=station(2026, 12, 16, 9))
    assert (later.due_kind, later.due_at) == ("second_session", station(2026, 12, 10))
    sooner = act(mediation, case_id, "reschedule", starts_at=station(2026, 12, 3, 9))
    assert (sooner.due_kind, sooner.due_at) == ("session", station(2026, 12, 3, 10))


def reminders_to(runtime: MediationRuntime, phone: str) -> list[dict[str, object]]:
    return [
        body["params"]
        for _, body in outbox_where(runtime, "recipient", equals=phone)
        if body["template"] == "follow_up_reminder"
    ]


def resolved(runtime: MediationRuntime, grade: str) -> uuid.UUID:
    case_id = open_case(runtime)
    act(runtime, case_id, "accept", risk_grade=grade)
    act(runtime, case_id, "record_session", outcome="resolved", note="agreed")
    return case_id


def test_the_owner_is_reminded_once_a_day_before_his_follow_ups_are_due(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    visit, call = resolved(mediation, "A"), resolved(mediation, "D")
    due = load(mediation, visit).due_at
    assert due is not None and due == clock.now() + timedelta(days=7)

    move_to(clock, due - timedelta(days=1, minutes=1))
    assert remind_follow_ups(mediation) == 0
    move_to(clock, due - timedelta(hours=23))
    assert remind_follow_ups(mediation) == 1
    assert remind_follow_ups(mediation) == 0  # once per due date

    due_local = due.astimezone(STATION_TZ)
    assert reminders_to(mediation, GUO_PHONE) == [
        {
            "count": 2,
            "villages": "魏村三组2件",
            "due": f"{due_local:%Y-%m-%d %H:%M}",
        }
    ]
    assert load(mediation, call).follow_up_reminded_for == due


def test_a_rebound_resolved_again_is_reminded_again_and_a_done_follow_up_never(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    back, done = resolved(mediation, "C"), resolved(mediation, "C")
    move_to(clock, clock.now() + timedelta(days=6, hours=1))
    assert remind_follow_ups(mediation) == 1

    act(mediation, back, "follow_up", kind="phone", result="rebounded", note="back again")
    act(mediation, done, "follow_up", kind="phone", result="stable", note="calm")
    act(mediation, back, "record_session", outcome="resolved", note="agreed again")
    move_to(clock, clock.now() + timedelta(days=6, hours=1))

    assert remind_follow_ups(mediation) == 1
    last = reminders_to(mediation, GUO_PHONE)[-1]
    assert last["count"] == 1
    assert load(mediation, done).follow_up_reminded_for is not None  # from the first round


def test_follow_up_reminders_can_be_turned_off(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    resolved(mediation, "B")
    move_to(clock, clock.now() + timedelta(days=6, hours=1))
    off = replace(mediation, rules=replace(mediation.rules, follow_up_reminder_before=None))
    assert remind_follow_ups(off) == 0
    assert reminders_to(mediation, GUO_PHONE) == []
