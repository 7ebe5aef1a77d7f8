"""Mediation's reads and writes. Functions take the session; the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS
from services.common.messaging import Messaging
from services.common.phones import normalise_mobile
from services.common.station import Station
from services.mediation.desks.models import Desk
from services.mediation.models import Case, CaseParty, Staff, Village
from services.mediation.rules import MediationRules


def seed_station(session: Session, station: Station) -> int:
    """Load officers, the duty leader, villages and desks into an empty database."""
    if session.scalar(select(func.count()).select_from(Staff)):
        return 0
    leader = station.section("duty_leader")
    rows: list[Any] = [
        Staff(
            id=leader["id"],
            name=leader["name"],
            phone=normalise_mobile(leader["phone"]),
            role="duty_leader",
        )
    ]
    officer_of: dict[str, str] = {}
    for officer in station.section("officers"):
        rows.append(
            Staff(
                id=officer["id"],
                name=officer["name"],
                phone=normalise_mobile(officer["phone"]),
                role="officer",
            )
        )
        officer_of.update(dict.fromkeys(officer["villages"], officer["id"]))
    for village in station.section("villages"):
        owner = officer_of.get(village["code"], leader["id"])
        rows.append(Village(code=village["code"], name=village["name"], officer_id=owner))
    for desk in station.section("desks"):
        rows.append(
            Desk(
                code=desk["code"],
                name=desk["name"],
                calendar=desk["calendar"],
                weekdays=desk.get("weekdays", []),
                opens=desk["opens"],
                closes=desk["closes"],
                session_minutes=desk["session_minutes"],
                parallel=desk["parallel"],
            )
        )
    session.add_all(rows)
    return len(rows)


def owner_for(session: Session, village: str) -> Staff:
    """分片包村: the officer of the village; the duty leader when the village has none."""
    owner = session.scalar(
        select(Staff).join(Village, Village.officer_id == Staff.id).where(Village.code == village)
    )
    if owner is None:
        owner = session.scalar(select(Staff).where(Staff.role == "duty_leader"))
    if owner is None:
        raise LookupError("the station has neither an officer for this village nor a duty leader")
    return owner


def open_case(
    session: Session,
    *,
    report: dict[str, Any],
    messaging: Messaging,
    rules: MediationRules,
    now: datetime,
) -> Case:
    """首接: open a case owned by the village's officer, with an acceptance deadline.

    A report has one case: the same report sent again (under a new message id) finds it.
    """
    existing = session.scalar(select(Case).where(Case.report_id == report["report_id"]))
    if existing is not None:
        return existing
    owner = owner_for(session, report["location"]["village"])
    case = Case(
        id=uuid.uuid4(),
        report_id=report["report_id"],
        tracking_code=report["tracking_code"],
        village=report["location"]["village"],
        owner=owner,
        status="awaiting_acceptance",
        summary=report["summary"],
        details=report.get("details"),
        occurred_at=report["occurred_at"],
        reporter=report["reporter"],
        accept_due_at=now + rules.acceptance,
        test=report["test"],
        created_at=now,
        updated_at=now,
        parties=[
            CaseParty(name=p.get("name") or "", phone=p.get("phone"), role=p.get("role") or "other")
            for p in report["parties"]
        ],
    )
    session.add(case)
    due = to_station_time(case.accept_due_at)
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {
            "report_id": case.report_id,
            "event": "case_opened",
            "service": "mediation",
            "at": now,
            "detail": f"assigned to {owner.name} ({case.village}); to be accepted by {due}",
        },
    )
    messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"case-assigned:{case.id}",
            "recipient": owner.phone,
            "template": "case_assigned",
            "params": {"tracking_code": case.tracking_code, "village": case.village, "due": due},
            "priority": "urgent",
            "report_id": None,
            "test": case.test,
        },
    )
    return case
