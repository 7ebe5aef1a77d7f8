"""Rewards' reads and writes. Functions take the session; the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.messaging import Messaging
from services.common.station import Station
from services.rewards import flows
from services.rewards.claims.models import HazardClaim
from services.rewards.claims.workflow import ClaimStatus
from services.rewards.ledger.service import month_of
from services.rewards.nominations import service as nominations
from services.rewards.nominations.commands import Context
from services.rewards.nominations.models import Nomination
from services.rewards.rules import RewardRules


def seed_station(session: Session, station: Station) -> int:
    """Rewards keeps no station data (a month's budget is granted in the ledger)."""
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
    flows.tell_partner(session, messaging, report_id=report_id, event=event, detail=detail, now=now)


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
        reporter_name=report["reporter"].get("name"),
        village=location["village"],
        address=location.get("address"),
        lat=location.get("lat"),
        lon=location.get("lon"),
        category=report["hazard"]["category"],
        severity=report["hazard"]["severity"],
        summary=report["summary"],
        status=ClaimStatus.AWAITING_VERIFICATION,
        test=report["test"],
        period=month_of(now),
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
    """A brave act or good deed is nominated; it must be decided within the decision window."""
    ctx = Context(messaging=messaging, rules=rules, now=now)
    return nominations.open_nomination(session, ctx, report=report)
