"""A year like the seed's, loaded for the demo: disputes mediated at the lawyer desk.

Each dispute goes through the real workflow at the times it would have happened (opened,
accepted, booked at the lawyer desk, resolved at its session, followed up, closed), so
the figures of GET /v1/stats come from the same rows as real cases. A year already lived
tells nobody: no SMS and no partner events are written. Loading a year twice adds
nothing (each dispute has a report id of its own, derived from the year and its number).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ
from services.common.contracts import Contract
from services.common.messaging import Messaging
from services.common.staff_auth import Caller, Role
from services.mediation import service
from services.mediation.cases.commands import Context, TransitionCase
from services.mediation.desks import service as desks
from services.mediation.models import Case
from services.mediation.roster.service import DatabaseDirectory
from services.mediation.runtime import MediationRuntime

SEED_DISPUTES = 63  # the seed: 63 disputes mediated with the lawyer desk, none rebounded
DESK = "lawyer_desk"
_NAMESPACE = uuid.UUID("6b0c4f2e-5d1a-4a8e-9c3b-2f7d1e0a9b64")


class _Unheard(Messaging):
    """Messaging for a year already lived: nothing is published."""

    def publish(self, session: Session, contract: Contract, payload: dict[str, Any]) -> uuid.UUID:
        return uuid.uuid4()


def load_year(runtime: MediationRuntime, *, year: int, disputes: int = SEED_DISPUTES) -> int:
    """Load `disputes` resolved and closed cases spread over `year`; returns how many new."""
    messaging = _Unheard(
        service=runtime.service,
        db=runtime.db,
        celery=runtime.celery,
        clock=runtime.clock,
        outbox=runtime.messaging.outbox,
        processed=runtime.messaging.processed,
        dead_letters=runtime.messaging.dead_letters,
    )
    start = datetime.combine(date(year, 1, 1), time(8), STATION_TZ)
    spacing = timedelta(days=330) / max(disputes, 1)
    added = 0
    for number in range(disputes):
        report_id = uuid.uuid5(_NAMESPACE, f"{year}:{number}")
        with runtime.db.transaction() as session:
            if session.scalar(select(Case.id).where(Case.report_id == report_id)):
                continue
            _live(session, runtime, messaging, report_id, year, number, start + number * spacing)
            added += 1
    return added


def _report(report_id: uuid.UUID, year: int, number: int, at: datetime) -> dict[str, Any]:
    serial = f"{year % 100:02d}{number:06d}"
    return {
        "report_id": report_id,
        "tracking_code": f"DY{year}{number:04d}",
        "kind": "dispute",
        "summary": "邻里纠纷（演示数据）",
        "details": None,
        "occurred_at": at - timedelta(days=1),
        "location": {"village": "weicun-3"},
        "reporter": {"name": "演示", "phone": None},
        "parties": [
            {"name": "甲方", "phone": f"+86139{serial}", "role": "claimant"},
            {"name": "乙方", "phone": f"+86137{serial}", "role": "respondent"},
        ],
        "test": False,
    }


def _live(
    session: Session,
    runtime: MediationRuntime,
    messaging: Messaging,
    report_id: uuid.UUID,
    year: int,
    number: int,
    opened: datetime,
) -> None:
    report = _report(report_id, year, number, opened)
    case = service.open_case(
        session, report=report, messaging=messaging, rules=runtime.rules, now=opened
    )
    case.announced_at = opened  # its owner heard of it that year
    session.flush()
    member = DatabaseDirectory(lambda: runtime.db).lookup(case.owner_id)
    assert member is not None, "the demo station's officer of weicun-3"
    officer = Caller(member=member, role=Role.OFFICER)

    def act(at: datetime, action: str, **fields: Any) -> Case:
        ctx = Context(
            messaging=messaging,
            rules=runtime.rules,
            now=at,
            calendar=desks.working_calendar(session),
        )
        return TransitionCase(case_id=case.id, caller=officer, action=action, fields=fields).run(
            session, ctx
        )

    act(opened + timedelta(hours=2), "accept", risk_grade="C")
    act(opened + timedelta(days=1), "escalate", desk=DESK)
    held = desks.sessions_of_case(session, case.id)[-1]
    act(held.ends_at, "record_session", outcome="resolved", note="调解成功（演示数据）")
    followed = held.ends_at + runtime.rules.follow_up_after
    act(followed, "follow_up", kind="phone", result="stable", note="回访稳定（演示数据）")
    act(followed + timedelta(hours=1), "close")
