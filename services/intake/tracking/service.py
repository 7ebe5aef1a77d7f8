"""A resident's view of his report: found by 查询码 and the last four digits of his phone.

Reads only; the caller owns the session. What it returns is built from the resident texts
alone (`texts.py`): no names, no phones, no event details, nothing of the agency.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake.models import Report, ReportEvent
from services.intake.tracking.texts import NEXT_STEPS, STATUS_TEXTS, event_text

# Statuses after which nothing more is coming.
ENDED = frozenset({"closed", "declined", "duplicate"})
_NO_DIGITS = "----"  # compared against when the code is unknown, so both paths do the same


def last_four(phone: str) -> str:
    """The last four digits of a stored (E.164) phone."""
    return phone[-4:]


def find(session: Session, *, tracking_code: str, phone_last4: str) -> Report | None:
    """The report with this code whose reporter's phone ends in these digits, else None.

    Unknown code or wrong digits: the same one query and one constant-time comparison.
    """
    report = session.scalar(select(Report).where(Report.tracking_code == tracking_code))
    stored = last_four(report.reporter.get("phone") or "") if report is not None else _NO_DIGITS
    matches = hmac.compare_digest(stored.encode(), phone_last4.encode())
    return report if report is not None and matches else None


def reports_of(session: Session, *, phone: str) -> list[Report]:
    """The live reports `phone` reported, newest first (test reports never texted anyone)."""
    query = (
        select(Report)
        .where(Report.reporter["phone"].as_string() == phone, Report.test.is_(False))
        .order_by(Report.created_at.desc(), Report.id)
    )
    return list(session.scalars(query))


def next_step(report: Report, shown: list[ReportEvent]) -> dict[str, Any] | None:
    """What comes next for the resident, or None once the report has ended."""
    if report.status in ENDED or not shown:
        return None
    text = NEXT_STEPS.get(shown[-1].event)
    if text is None:
        return None
    # The due date the case's service sent with its latest step (notify's events carry none).
    latest = next((e for e in reversed(report.events) if e.service != "notify"), None)
    return {"text": text, "due_at": latest.due_at if latest is not None else None}


def resident_view(report: Report) -> dict[str, Any]:
    """The report as a resident may read it (the lookup's answer); its session still open,
    as the timeline is loaded only now, once the pair has matched."""
    shown = [e for e in report.events if event_text(e.event).shown]
    timeline = [{"at": e.at, "event": e.event, "text": event_text(e.event).text} for e in shown]
    return {
        "tracking_code": report.tracking_code,
        "status": report.status,
        "status_text": STATUS_TEXTS.get(report.status, "正在办理"),
        "submitted_at": report.created_at,
        # When something last happened that he may see: a message sent about the report
        # (perhaps to someone else) is not news to him.
        "updated_at": max((e.at for e in shown), default=report.created_at),
        "timeline": timeline,
        "next_step": next_step(report, shown),
    }
