"""Rewards' reads and writes. Functions take the session; the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.contracts import RECORD_REPORT_EVENT
from services.common.messaging import Messaging
from services.common.station import Station
from services.rewards.models import HazardClaim, Nomination
from services.rewards.rules import RewardRules


def seed_station(session: Session, station: Station) -> int:
    """Rewards keeps no station data yet (budgets come with the ledger)."""
    return 0


def _tell_intake(
    session: Session,
    messaging: Messaging,
    *,
    report_id: uuid.UUID,
    event: str,
    detail: str,
    now: datetime,
) -> None:
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {"report_id": report_id, "event": event, "service": "rewards", "at": now, "detail": detail},
    )


def open_hazard_claim(
    session: Session, *, report: dict[str, Any], messaging: Messaging, now: datetime
) -> HazardClaim:
    """A hazard report waits for a grid officer to verify it; no envelope before that.

    A report has one claim: the same report sent again (under a new message id) finds it.
    """
    existing = session.scalar(
        select(HazardClaim).where(HazardClaim.report_id == report["report_id"])
    )
    if existing is not None:
        return existing
    location = report["location"]
    claim = HazardClaim(
        id=uuid.uuid4(),
        report_id=report["report_id"],
        tracking_code=report["tracking_code"],
        reporter_phone=report["reporter"]["phone"],
        village=location["village"],
        address=location.get("address"),
        lat=location.get("lat"),
        lon=location.get("lon"),
        category=report["hazard"]["category"],
        severity=report["hazard"]["severity"],
        summary=report["summary"],
        status="awaiting_verification",
        test=report["test"],
        reported_at=report["occurred_at"],
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    _tell_intake(
        session,
        messaging,
        report_id=claim.report_id,
        event="hazard_claim_opened",
        detail=f"{claim.category} hazard ({claim.severity}) awaits verification by a grid officer",
        now=now,
    )
    return claim


def open_nomination(
    session: Session,
    *,
    report: dict[str, Any],
    messaging: Messaging,
    rules: RewardRules,
    now: datetime,
) -> Nomination:
    """A brave act or good deed is nominated; it must be decided within the decision window.

    A report has one nomination: the same report sent again finds it.
    """
    existing = session.scalar(select(Nomination).where(Nomination.report_id == report["report_id"]))
    if existing is not None:
        return existing
    nomination = Nomination(
        id=uuid.uuid4(),
        report_id=report["report_id"],
        tracking_code=report["tracking_code"],
        kind=report["kind"],
        nominee=report["nominee"],
        nominator=report["reporter"],
        summary=report["summary"],
        details=report.get("details"),
        village=report["location"]["village"],
        act_at=report["occurred_at"],
        status="submitted",
        test=report["test"],
        decide_by=now + rules.decision_window,
        created_at=now,
        updated_at=now,
    )
    session.add(nomination)
    award = "brave-act award" if nomination.kind == "brave_act" else "good-neighbour honour"
    _tell_intake(
        session,
        messaging,
        report_id=nomination.report_id,
        event="nomination_opened",
        detail=f"nominated for a {award}; decision due by {to_station_time(nomination.decide_by)}",
        now=now,
    )
    return nomination
