"""The morning digest: each officer (and the duty leader) hears what is open, due and late."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from services.common.clock import STATION_TZ
from services.common.contracts import SEND_SMS
from services.mediation.cases.workflow import OPEN_STATUSES, CaseStatus
from services.mediation.models import Case, Staff
from services.mediation.runtime import MediationRuntime


def send_digests(runtime: MediationRuntime) -> int:
    """One SMS per staff member who owns open cases; returns how many were asked for.

    The key names the station day, so a beat that fires twice sends each digest once.
    """
    now = runtime.clock.now()
    today = now.astimezone(STATION_TZ).date()
    end_of_day = datetime.combine(today + timedelta(days=1), datetime.min.time(), STATION_TZ)
    watched = [s.value for s in (*OPEN_STATUSES, CaseStatus.RESOLVED)]
    with runtime.messaging.transaction() as session:
        cases = session.execute(
            select(Case.owner_id, Case.due_at, Case.test).where(Case.status.in_(watched))
        ).all()
        open_, due_today, overdue = Counter[str](), Counter[str](), Counter[str]()
        for owner, due_at, test in cases:
            if test:
                continue
            open_[owner] += 1
            if due_at is not None and due_at < now:
                overdue[owner] += 1
            elif due_at is not None and due_at < end_of_day:
                due_today[owner] += 1
        for staff in session.scalars(select(Staff).where(Staff.id.in_(open_), Staff.active)):
            runtime.messaging.publish(
                session,
                SEND_SMS,
                {
                    "idempotency_key": f"digest:{staff.id}:{today.isoformat()}",
                    "recipient": staff.phone,
                    "template": "officer_digest",
                    "params": {
                        "open": open_[staff.id],
                        "due_today": due_today[staff.id],
                        "overdue": overdue[staff.id],
                    },
                    "priority": "normal",
                    "report_id": None,
                    "test": False,
                },
            )
        return len(open_)
