"""The station's figures: cases by status and desk, resolution and rebound rates, breaches,
and the same counts week by week and month by month (station time) for charts."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ
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
    booked = [
        s
        for s in session.scalars(
            select(DeskSession).where(
                DeskSession.case_id.in_(ids), DeskSession.cancelled_at.is_(None)
            )
        )
    ]
    rebounded = set(
        session.scalars(select(Case.rebound_of).where(Case.rebound_of.in_(resolved_at)))
    )
    desk_cases: dict[str, set[Any]] = {}
    for s in booked:
        desk_cases.setdefault(s.desk_code, set()).add(s.case_id)
    return {
        "from": since,
        "to": until,
        "cases": len(cases),
        "resolved": len(resolved_at),
        "rebounded": len(rebounded),
        "by_status": dict(Counter(c.status for c in cases)),
        "sessions_by_desk": dict(Counter(s.desk_code for s in booked)),
        "cases_by_desk": {desk: len(of) for desk, of in desk_cases.items()},
        "rebounds_by_desk": {desk: len(of & rebounded) for desk, of in desk_cases.items()},
        "resolution_rate": _rate(len(resolved_at), len(cases)),
        "rebound_rate": _rate(len(rebounded), len(resolved_at)),
        "median_days_to_resolution": round(statistics.median(days), 2) if days else None,
        "deadlines_breached": sum(1 for h in history if h.by == SYSTEM and h.action != "open"),
        "weeks": _series(_weeks(since, until), _week_of, cases, resolved_at, rebounded),
        "months": _series(_months(since, until), _month_of, cases, resolved_at, rebounded),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day(at: datetime) -> date:
    return at.astimezone(STATION_TZ).date()


def _week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _weeks(since: datetime, until: datetime) -> list[str]:
    """Every ISO week (`2025-W03`, Monday first, station time) that [since, until) touches."""
    day, last = _day(since), _day(until - timedelta(microseconds=1))
    day -= timedelta(days=day.weekday())
    out = []
    while day <= last:
        out.append(_week_of(day))
        day += timedelta(days=7)
    return out


def _months(since: datetime, until: datetime) -> list[str]:
    """Every station-time month (`2025-03`) that [since, until) touches."""
    day, last = _day(since).replace(day=1), _day(until - timedelta(microseconds=1))
    out = []
    while day <= last:
        out.append(_month_of(day))
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _series(
    periods: list[str],
    period_of: Callable[[date], str],
    cases: list[Case],
    resolved_at: dict[Any, datetime],
    rebounded: set[Any],
) -> list[dict[str, Any]]:
    """Per period, the cases opened in it, and how many of those were resolved and rebounded
    (counted with the period the case was opened in, as the totals are)."""
    counts = {p: Counter[str]() for p in periods}
    for case in cases:
        period = counts[period_of(_day(case.created_at))]
        period["cases"] += 1
        period["resolved"] += case.id in resolved_at
        period["rebounded"] += case.id in rebounded
    return [
        {
            "period": p,
            "cases": c["cases"],
            "resolved": c["resolved"],
            "rebounded": c["rebounded"],
            "resolution_rate": _rate(c["resolved"], c["cases"]),
            "rebound_rate": _rate(c["rebounded"], c["resolved"]),
        }
        for p, c in counts.items()
    ]
