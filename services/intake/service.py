"""Intake's reads and writes. Functions take the session; the caller owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, selectinload

from services.common.contracts import TimelineEvent
from services.common.errors import NotFound
from services.common.messaging import Messaging, insert_at_commit
from services.common.paging import paged
from services.common.station import Station
from services.common.tracking_codes import new_code
from services.intake import duplicates, routing
from services.intake.auth import Caller
from services.intake.callbacks import service as callbacks
from services.intake.models import Agency, AgencyCallback, Report, ReportEvent, Village
from services.intake.rules import IntakeRules

_REPORTS = cast(Table, Report.__table__)
_REPORT_EVENTS = cast(Table, ReportEvent.__table__)

AGENCY_KINDS = ("grid", "community", "government", "enterprise", "school", "volunteer")


class IntakeEvent(StrEnum):
    """What intake itself writes on a report's timeline (the others send `TimelineEvent`s)."""

    RECEIVED = "received"
    MARKED_DUPLICATE = "marked_duplicate"


# Where each event moves a report's status; a status only ever moves forward.
STATUS_RANK = {
    "received": 0,
    "routed": 1,
    "in_progress": 2,
    "resolved": 3,
    "rewarded": 3,
    "declined": 3,
    "duplicate": 3,
    "closed": 4,
}
STATUS_BY_EVENT: dict[str, str] = {
    IntakeEvent.MARKED_DUPLICATE: "duplicate",
    TimelineEvent.CASE_OPENED: "routed",
    TimelineEvent.HAZARD_CLAIM_OPENED: "routed",
    TimelineEvent.NOMINATION_OPENED: "routed",
    TimelineEvent.CASE_ACCEPTED: "in_progress",
    TimelineEvent.CLAIM_VERIFIED: "in_progress",
    TimelineEvent.CLAIM_APPROVED: "in_progress",
    TimelineEvent.NOMINATION_UNDER_REVIEW: "in_progress",
    TimelineEvent.CASE_RESOLVED: "resolved",
    TimelineEvent.CASE_DECLINED: "declined",
    TimelineEvent.REWARD_PAID: "rewarded",
    TimelineEvent.AWARD_APPROVED: "rewarded",
    TimelineEvent.NOMINATION_HONOURED: "rewarded",
    TimelineEvent.CASE_CLOSED: "closed",
    TimelineEvent.CLAIM_CLOSED: "closed",
    TimelineEvent.CLAIM_REJECTED: "closed",
    TimelineEvent.CLAIM_DUPLICATE: "duplicate",
}


def create_agency(session: Session, *, name: str, kind: str, now: datetime) -> Agency:
    """Register a partner agency."""
    if kind not in AGENCY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(AGENCY_KINDS)}")
    if session.scalar(select(Agency).where(Agency.name == name)) is not None:
        raise ValueError(f"an agency named {name!r} exists already")
    agency = Agency(name=name, kind=kind, created_at=now)
    session.add(agency)
    session.flush()
    return agency


def seed_station(session: Session, station: Station) -> int:
    """Load the beat map on an empty database; returns how many villages were added."""
    if session.scalar(select(func.count()).select_from(Village)):
        return 0
    villages = station.section("villages")
    session.add_all(Village(code=v["code"], name=v["name"]) for v in villages)
    return len(villages)


@dataclass(frozen=True)
class SubmitReport:
    """Store a validated report and queue its routing, in one transaction."""

    caller: Caller
    data: dict[str, Any]

    def run(
        self, session: Session, *, messaging: Messaging, rules: IntakeRules, now: datetime
    ) -> Report:
        data = self.data
        location = data["location"]
        hazard = data.get("hazard")
        original = None
        if hazard is not None:
            duplicates.lock_category(session, hazard["category"])
            original = duplicates.find_original(
                session,
                category=hazard["category"],
                location=location,
                test=self.caller.test,
                rules=rules,
                now=now,
            )
        columns: dict[str, Any] = {
            "id": uuid.uuid4(),
            "tracking_code": new_code(),
            "agency_id": self.caller.agency_id,
            "kind": data["kind"],
            "status": "received" if original is None else "duplicate",
            "summary": data["summary"],
            "details": data.get("details"),
            "occurred_at": data["occurred_at"],
            "village": location["village"],
            "address": location.get("address"),
            "lat": location.get("lat"),
            "lon": location.get("lon"),
            "reporter": data["reporter"],
            "parties": data.get("parties", []),
            "hazard": hazard,
            "hazard_category": hazard["category"] if hazard else None,
            "nominee": data.get("nominee"),
            "test": self.caller.test,
            "duplicate_of_id": original.id if original is not None else None,
            "created_at": now,
            "updated_at": now,
        }
        events = [
            _event(
                columns,
                now,
                IntakeEvent.RECEIVED,
                f"accepted with tracking code {columns['tracking_code']}",
            )
        ]
        if original is not None:
            events.append(
                _event(
                    columns,
                    now,
                    IntakeEvent.MARKED_DUPLICATE,
                    f"the same hazard as report {original.tracking_code}, reported first",
                )
            )
        # Rows written as rows: every value is known here, and flushing them as objects
        # (the unit of work) took two fifths of the request's CPU. With the outbox's rows,
        # one statement at the commit (without a transaction around it when there was no
        # duplicate check). The object below is for routing and the answer; it is never
        # added to the session.
        insert_at_commit(session, _REPORTS, [columns])
        insert_at_commit(session, _REPORT_EVENTS, events)
        report = Report(**columns)
        for contract, payload in routing.messages_for(
            report,
            original_code=original.tracking_code if original is not None else None,
            public_base_url=rules.public_base_url,
        ):
            messaging.publish(session, contract, payload)
        return report


def _event(report: dict[str, Any], at: datetime, event: IntakeEvent, detail: str) -> dict[str, Any]:
    """A row of intake's own on the timeline of the report whose columns are `report`."""
    return {
        "message_id": uuid.uuid4(),
        "report_id": report["id"],
        "at": at,
        "event": event,
        "service": "intake",
        "detail": detail,
    }


def get_report(session: Session, *, agency_id: uuid.UUID, report_id: uuid.UUID) -> Report:
    """One of the agency's reports with its timeline; another agency's is not found."""
    report = session.scalar(
        select(Report)
        .where(Report.id == report_id, Report.agency_id == agency_id)
        .options(selectinload(Report.events), selectinload(Report.duplicate_of))
    )
    if report is None:
        raise NotFound("no such report")
    return report


def list_reports(
    session: Session,
    *,
    agency_id: uuid.UUID,
    kind: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Report], int]:
    """The agency's reports, newest first, one page of them and the total count."""
    query = select(Report).where(Report.agency_id == agency_id)
    if kind:
        query = query.where(Report.kind == kind)
    if status:
        query = query.where(Report.status == status)
    if since:
        query = query.where(Report.created_at >= since)
    return paged(
        session,
        query.options(selectinload(Report.duplicate_of)),
        order_by=(Report.created_at.desc(), Report.id),
        offset=offset,
        limit=limit,
    )


def record_event(
    session: Session, *, message: dict[str, Any], now: datetime, messaging: Messaging
) -> bool:
    """Add an event to its report's timeline and move the status forward; False if unknown.

    A status change is also queued for the agency's callback, if it has one.
    """
    # The report, locked, and whether its agency has a callback, in one statement.
    found = session.execute(
        select(Report, AgencyCallback.agency_id)
        .outerjoin(AgencyCallback, AgencyCallback.agency_id == Report.agency_id)
        .where(Report.id == message["report_id"])
        .with_for_update(of=Report)
    ).first()
    if found is None:
        return False
    report, has_callback = found[0], found[1] is not None
    # A row written with the outbox's at the commit, not an object for the unit of work.
    insert_at_commit(
        session,
        _REPORT_EVENTS,
        [
            {
                "message_id": message["message_id"],
                "report_id": report.id,
                "at": message["at"],
                "event": message["event"],
                "service": message["service"],
                "detail": message.get("detail", ""),
                "due_at": message.get("due_at"),
            }
        ],
    )
    # Set before the callback lookup below, whose autoflush writes the report: one UPDATE
    # of its status and time together, not a second one for the time at the commit.
    report.updated_at = now
    new_status = STATUS_BY_EVENT.get(message["event"])
    if new_status and STATUS_RANK[new_status] > STATUS_RANK[report.status]:
        previous_status, report.status = report.status, new_status
        callbacks.queue_status_change(
            session,
            messaging=messaging,
            report=report,
            previous_status=previous_status,
            at=message["at"],
            now=now,
            has_callback=has_callback,
        )
    return True
