"""Rewards' figures: counts and sums only, no person in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from services.rewards.claims import limits
from services.rewards.claims.models import EnvelopeMonth, HazardClaim
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import EntryKind, LedgerEntry, SubjectKind
from services.rewards.ranges import months
from services.rewards.rules import RewardRules


def envelopes(session: Session, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Grid red envelopes paid in the range (corrections counted), and claims by status."""
    low, high = start, end
    original = aliased(LedgerEntry)
    subject = func.coalesce(original.subject_kind, LedgerEntry.subject_kind)
    kind = func.coalesce(original.kind, LedgerEntry.kind)
    paid = (
        select(LedgerEntry)
        .outerjoin(original, LedgerEntry.corrects == original.id)
        .where(
            LedgerEntry.at >= low,
            LedgerEntry.at < high,
            subject == SubjectKind.CLAIM,
            kind == EntryKind.PAYOUT,
        )
    )
    count = session.scalar(
        select(func.count()).select_from(
            paid.where(LedgerEntry.kind == EntryKind.PAYOUT).subquery()
        )
    )
    amount = session.scalar(select(func.sum(paid.subquery().c.amount_fen)))
    by_status = dict(
        session.execute(
            select(HazardClaim.status, func.count())
            .where(HazardClaim.created_at >= low, HazardClaim.created_at < high, ~HazardClaim.test)
            .group_by(HazardClaim.status)
        ).all()
    )
    return {
        "count": int(count or 0),
        "amount_fen": int(amount or 0),
        "claims_by_status": {str(k): int(v) for k, v in by_status.items()},
    }


def budgets(
    session: Session, *, start: datetime, end: datetime, rules: RewardRules
) -> list[dict[str, Any]]:
    """Each month of the range: its budget, what was paid out of it, promised, and left."""
    out = []
    for period in months(start, end):
        budget = limits.month_budget(session, period=period, rules=rules)
        paid = ledger.budget_granted(session, month=period) - ledger.budget_left(
            session, month=period
        )
        month = session.get(EnvelopeMonth, period)
        reserved = month.reserved_fen if month else 0
        out.append(
            {
                "period": period,
                "budget_fen": budget,
                "paid_fen": paid,
                "reserved_fen": reserved,
                "left_fen": budget - paid - reserved,
            }
        )
    return out


def summary(
    session: Session, *, start: datetime, end: datetime, rules: RewardRules
) -> dict[str, Any]:
    return {
        "from": start,
        "to": end,
        "envelopes": envelopes(session, start=start, end=end),
        "budgets": budgets(session, start=start, end=end, rules=rules),
    }
