"""反弹: a new dispute between the same parties soon after one was resolved comes back linked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.mediation.cases.workflow import CaseStatus
from services.mediation.models import Case, CaseHistory, CaseParty


def rebound_of(
    session: Session, *, phones: list[str], now: datetime, window: timedelta
) -> Case | None:
    """The latest case resolved within `window` that shares a party's phone, if any."""
    if not phones:
        return None
    return session.scalar(
        select(Case)
        .join(CaseParty, CaseParty.case_id == Case.id)
        .join(CaseHistory, CaseHistory.case_id == Case.id)
        .where(
            CaseParty.phone.in_(phones),
            CaseHistory.to_status == CaseStatus.RESOLVED.value,
            CaseHistory.at >= now - window,
        )
        .order_by(CaseHistory.at.desc())
        .limit(1)
    )
