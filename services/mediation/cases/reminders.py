"""Reminders to the parties one day and two hours before a session (BRIEF: desks).

Each reminder is recorded (`session_reminders`) in the transaction that asks notify for
it, so it goes once however often the job runs; a session booked later than a reminder's
time gets only the reminders still ahead of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.mediation.cases import flows
from services.mediation.desks.models import Desk, DeskSession
from services.mediation.models import Case, SessionReminder
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
