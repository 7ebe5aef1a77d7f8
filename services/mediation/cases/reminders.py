"""Reminders: the parties a day and two hours before a session; owners before a 回访.

Each reminder is recorded (`session_reminders`) in the transaction that asks notify for
it, so it goes once however often the job runs; a session booked later than a reminder's
time gets only the reminders still ahead of it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.contracts import SEND_SMS
from services.mediation import service
from services.mediation.cases import flows
from services.mediation.cases.workflow import CaseStatus, DueKind
from services.mediation.desks.models import Desk, DeskSession
from services.mediation.models import Case, SessionReminder, Staff
from services.mediation.runtime import MediationRuntime


def remind_sessions(runtime: MediationRuntime) -> int:
    """Send every reminder whose time has come; returns how many sessions were reminded."""
    now, rules = runtime.clock.now(), runtime.rules
    horizon = now + max(rules.reminders)
    sent = 0
    with runtime.messaging.transaction() as session:
        booked = session.scalars(
            select(DeskSession)
            .where(
                DeskSession.cancelled_at.is_(None),
                DeskSession.outcome.is_(None),
                DeskSession.starts_at > now,
                DeskSession.starts_at <= horizon,
            )
            .order_by(DeskSession.starts_at)
            .with_for_update(skip_locked=True)
        ).all()
        for desk_session in booked:
            sent += _remind(session, runtime, desk_session, now)
    return sent


def _remind(
    session: Session, runtime: MediationRuntime, desk_session: DeskSession, now: datetime
) -> int:
    due = [
        before
        for before in runtime.rules.reminders
        if desk_session.starts_at - before <= now
        and desk_session.created_at < desk_session.starts_at - before
    ]
    # Of the reminders due, only the nearest is sent: after a one-day reminder, the
    # two-hour one; never both at once.
    if not due:
        return 0
    before = min(due)
    minutes = int(before.total_seconds() // 60)
    if session.get(SessionReminder, (desk_session.id, minutes)) is not None:
        return 0
    session.add(
        SessionReminder(desk_session_id=desk_session.id, before_minutes=minutes, sent_at=now)
    )
    case = session.get_one(Case, desk_session.case_id)
    desk = session.get_one(Desk, desk_session.desk_code)
    for phone in flows.parties_phones(case):
        flows.send_sms(
            session,
            runtime.messaging,
            case=case,
            key=f"session-reminder:{desk_session.id}:{minutes}",
            recipient=phone,
            template="session_reminder",
            params={"starts": to_station_time(desk_session.starts_at), "desk": desk.name},
        )
    return 1


def remind_follow_ups(runtime: MediationRuntime) -> int:
    """Remind owners of follow-ups (回访) due soon, one SMS per owner; how many were sent.

    A case resolved with its follow-up due within `follow_up_reminder_before` is told to its
    owner once per due date (`follow_up_reminded_for`, set in the transaction that asks
    notify): a rebound resolved again has a new due date and a new reminder. The owner's
    cases due in the window go in one SMS (villages by name), not one each; the grade on
    each case says visit (A/B) or call (C/D).
    """
    before = runtime.rules.follow_up_reminder_before
    if before is None:
        return 0
    now = runtime.clock.now()
    with runtime.messaging.transaction() as session:
        due = session.scalars(
            select(Case)
            .where(
                Case.status == CaseStatus.RESOLVED.value,
                Case.due_kind == DueKind.FOLLOW_UP.value,
                Case.due_at > now,
                Case.due_at <= now + before,
                or_(
                    Case.follow_up_reminded_for.is_(None),
                    Case.follow_up_reminded_for != Case.due_at,
                ),
                Case.test.is_(False),
            )
            .order_by(Case.owner_id, Case.due_at)
            .with_for_update(skip_locked=True)
        ).all()
        by_owner: dict[str, list[Case]] = {}
        for case in due:
            by_owner.setdefault(case.owner_id, []).append(case)
        for owner, cases in by_owner.items():
            _remind_owner(session, runtime, owner, cases, now)
        return len(by_owner)


def _remind_owner(
    session: Session, runtime: MediationRuntime, owner: str, cases: list[Case], now: datetime
) -> None:
    villages = Counter(case.village for case in cases)
    names = "、".join(
        f"{service.village_name(session, code)}{n}件" for code, n in villages.most_common()
    )
    staff = session.get_one(Staff, owner)
    runtime.messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"follow-up-reminder:{owner}:{now.isoformat()}",
            "recipient": staff.phone,
            "template": "follow_up_reminder",
            "params": {
                "count": len(cases),
                "villages": names,
                "due": to_station_time(min(case.due_at for case in cases if case.due_at)),
            },
            "priority": "normal",
            "report_id": None,
            "test": False,
        },
    )
    for case in cases:
        case.follow_up_reminded_for = case.due_at
