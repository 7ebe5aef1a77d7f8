"""Mediation's reads and writes. Functions take the session; the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS, TimelineEvent
from services.common.messaging import Messaging
from services.common.phones import normalise_mobile
from services.common.staff_auth import Role, roster
from services.common.station import Station
from services.mediation.cases import rebounds
from services.mediation.cases.workflow import CaseStatus
from services.mediation.desks.models import Desk
from services.mediation.models import Case, CaseHistory, CaseParty, Staff, Village
from services.mediation.rules import MediationRules


def seed_station(session: Session, station: Station) -> int:
    """Load the staff roster, villages and desks into an empty database."""
    if session.scalar(select(func.count()).select_from(Staff)):
        return 0
    duty_leader = station.raw.get("staff_roster", {}).get("duty_leader")
    rows: list[Any] = []
    officer_of: dict[str, str] = {}
    for member in roster(station):
        rows.append(
            Staff(
                id=member.id,
                name=member.name,
                phone=normalise_mobile(_phone_of(station, member.id)),
                roles=sorted(member.roles),
                desk_code=member.desk,
                on_duty=member.id == duty_leader,
            )
        )
        if Role.OFFICER in member.roles:
            officer_of.update(dict.fromkeys(member.villages, member.id))
    session.add_all(rows)
    session.flush()  # villages refer to their officers
    villages = [
        Village(code=v["code"], name=v["name"], officer_id=officer_of.get(v["code"], duty_leader))
        for v in station.section("villages")
    ]
    session.add_all(villages)
    rows.extend(villages)
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
        session.add(rows[-1])
    return len(rows)


def _phone_of(station: Station, staff_id: str) -> str:
    return next(str(e["phone"]) for e in station.section("staff") if e["id"] == staff_id)


def duty_leader(session: Session) -> Staff:
    """带班领导: the leader on duty, who answers with the officers for deadlines."""
    leader = session.scalar(select(Staff).where(Staff.on_duty, Staff.active))
    if leader is None:
        raise LookupError("the station has no duty leader")
    return leader


def owner_for(session: Session, village: str) -> Staff:
    """分片包村: the officer of the village; the duty leader when the village has none."""
    owner = session.scalar(
        select(Staff)
        .join(Village, Village.officer_id == Staff.id)
        .where(Village.code == village, Staff.active)
    )
    return owner or duty_leader(session)


def owner_and_name(session: Session, village: str) -> tuple[Staff, str]:
    """`owner_for` and `village_name` of one village, in one statement (a case's opening)."""
    found = session.execute(
        select(Staff, Village.name)
        .select_from(Village)
        .outerjoin(Staff, (Staff.id == Village.officer_id) & Staff.active)
        .where(Village.code == village)
    ).first()
    owner, name = found if found is not None else (None, None)
    return owner or duty_leader(session), name or village


def village_name(session: Session, code: str) -> str:
    """A village as residents say it (魏村三组), or its code when the station has no name."""
    return session.scalar(select(Village.name).where(Village.code == code)) or code


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
    owner, village = owner_and_name(session, report["location"]["village"])
    phones = [p["phone"] for p in report["parties"] if p.get("phone")]
    earlier = rebounds.rebound_of(session, phones=phones, now=now, window=rules.rebound_window)
    case = Case(
        id=uuid.uuid4(),
        report_id=report["report_id"],
        tracking_code=report["tracking_code"],
        village=report["location"]["village"],
        owner=owner,
        status=CaseStatus.AWAITING_ACCEPTANCE.value,
        summary=report["summary"],
        details=report.get("details"),
        occurred_at=report["occurred_at"],
        reporter=report["reporter"],
        due_at=now + rules.acceptance,
        due_kind="acceptance",
        test=report["test"],
        rebound_of=earlier.id if earlier else None,
        created_at=now,
        updated_at=now,
        parties=[
            CaseParty(name=p.get("name") or "", phone=p.get("phone"), role=p.get("role") or "other")
            for p in report["parties"]
        ],
    )
    session.add(case)
    session.add(
        CaseHistory(
            case_id=case.id,
            at=now,
            by="system",
            action="open",
            from_status="",
            to_status=case.status,
            note=f"assigned to {owner.id}"
            + (f"; a rebound of {earlier.tracking_code} (反弹)" if earlier else ""),
            detail={},
        )
    )
    due = to_station_time(now + rules.acceptance)
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {
            "report_id": case.report_id,
            "event": TimelineEvent.CASE_OPENED.value,
            "service": "mediation",
            "at": now,
            "detail": f"assigned to the officer of {village}; to be accepted by {due}"
            + ("; the same parties' earlier dispute came back (反弹)" if earlier else ""),
            "due_at": case.due_at,
        },
    )
    if not case.test:  # the owner hears of it in his next digest (one SMS per interval)
        return case
    case.announced_at = now
    messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"case-assigned:{case.id}",
            "recipient": owner.phone,
            "template": "case_assigned",
            "params": {"tracking_code": case.tracking_code, "village": village, "due": due},
            "priority": "urgent",
            "report_id": None,
            "test": case.test,
        },
    )
    return case
