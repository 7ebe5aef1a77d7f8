"""The station's figures: cases by status and desk, resolution and rebound rates, breaches."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.mediation.cases.commands import SYSTEM
from services.mediation.cases.workflow import CaseStatus
from services.mediation.desks.models import DeskSession
from services.mediation.models import Case, CaseHistory

SECONDS_PER_DAY = 86400


def case_stats(session: Session, *, since: datetime, until: datetime) -> dict[str, Any]:
    """Figures for the cases opened in [since, until)."""
    cases = list(
        session.scalars(select(Case).where(Case.created_at >= since, Case.created_at < until))
    )
    ids = {c.id for c in cases}
    history = [
        h
        for h in session.scalars(select(CaseHistory).where(CaseHistory.case_id.in_(ids)))
        if h.case_id in ids
    ]
    resolved_at: dict[Any, datetime] = {}
    for h in sorted(history, key=lambda h: h.at):
        if h.to_status == CaseStatus.RESOLVED and h.case_id not in resolved_at:
            resolved_at[h.case_id] = h.at
    created = {c.id: c.created_at for c in cases}
    days = [
        (at - created[cid]).total_seconds() / SECONDS_PER_DAY for cid, at in resolved_at.items()
    ]
    desks = Counter(
        s.desk_code
        for s in session.scalars(
            select(DeskSession).where(
                DeskSession.case_id.in_(ids), DeskSession.cancelled_at.is_(None)
            )
        )
    )
    rebounded = set(
        session.scalars(select(Case.rebound_of).where(Case.rebound_of.in_(resolved_at)))
    )
    return {
        "from": since,
        "to": until,
        "cases": len(cases),
        "by_status": dict(Counter(c.status for c in cases)),
        "sessions_by_desk": dict(desks),
        "resolution_rate": round(len(resolved_at) / len(cases), 4) if cases else None,
        "rebound_rate": round(len(rebounded) / len(resolved_at), 4) if resolved_at else None,
        "median_days_to_resolution": round(statistics.median(days), 2) if days else None,
        "deadlines_breached": sum(1 for h in history if h.by == SYSTEM and h.action != "open"),
    }
