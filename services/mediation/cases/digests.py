"""Digests: the morning counts, and new cases told to their owners one SMS per interval."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.common.clock import STATION_TZ
from services.common.contracts import SEND_SMS
from services.mediation import service
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


def send_case_digests(runtime: MediationRuntime) -> int:
    """New cases reach their owners in one SMS per owner and interval; how many were sent.

    An owner with cases not yet announced gets, at most once per `digest_interval`, one
    SMS counting them by village (by name) and his overdue cases. Under load (hundreds of
    new cases for one officer) that is one SMS, not one per case queued behind his
    number's limits. Urgent breaches do not wait for this: the deadline sweep sends them
    at once. Each owner's row is locked while his digest is made, so two runs send once.
    """
    now = runtime.clock.now()
    with runtime.db.sessions() as session:
        owners = list(
            session.scalars(
                select(Case.owner_id)
                .where(Case.announced_at.is_(None), Case.test.is_(False))
                .distinct()
            )
        )
    return sum(1 for owner in owners if _digest_of(runtime, owner, now))


def _digest_of(runtime: MediationRuntime, owner: str, now: datetime) -> bool:
    with runtime.messaging.transaction() as session:
        staff = session.scalar(
            select(Staff).where(Staff.id == owner).with_for_update(skip_locked=True)
        )
        if staff is None:  # another run is making his digest
            return False
        last = staff.case_digest_at  # one from a clock ahead of ours counts as stale
        if last is not None and last <= now and now - last < runtime.rules.digest_interval:
            return False
        new = session.scalars(
            select(Case).where(
                Case.owner_id == owner, Case.announced_at.is_(None), Case.test.is_(False)
            )
        ).all()
        if not new:
            return False
        overdue = session.scalar(
            select(func.count()).where(
                Case.owner_id == owner,
                Case.status.in_([s.value for s in OPEN_STATUSES]),
                Case.due_at < now,
                Case.test.is_(False),
            )
        )
        villages = Counter(c.village for c in new)
        names = {code: service.village_name(session, code) for code in villages}
        runtime.messaging.publish(
            session,
            SEND_SMS,
            {
                "idempotency_key": f"cases-digest:{owner}:{now.isoformat()}",
                "recipient": staff.phone,
                "template": "cases_digest",
                "params": {
                    "new": len(new),
                    "villages": "、".join(
                        f"{names[code]}{n}件" for code, n in villages.most_common()
                    ),
                    "overdue": overdue or 0,
                },
                "priority": "normal",
                "report_id": None,
                "test": False,
            },
        )
        for case in new:
            case.announced_at = now
        staff.case_digest_at = now
        return True
