"""Rewards' figures: counts and sums only, no person in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from services.common.clock import STATION_TZ
from services.rewards.claims import limits
from services.rewards.claims.models import EnvelopeMonth, HazardClaim
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import EntryKind, LedgerEntry, SubjectKind
from services.rewards.nominations.models import Nomination
from services.rewards.ranges import months
from services.rewards.rules import RewardRules


def _paid(
    session: Session, *, start: datetime, end: datetime, subject_kind: str
) -> tuple[int, int]:
    """Payouts of one subject kind entered in the range: how many, and their amount (fen).

    A correction counts with the payout it corrects, in the range it was entered in.
    """
    original = aliased(LedgerEntry)
    subject = func.coalesce(original.subject_kind, LedgerEntry.subject_kind)
    kind = func.coalesce(original.kind, LedgerEntry.kind)
    paid = (
        select(LedgerEntry)
        .outerjoin(original, LedgerEntry.corrects == original.id)
        .where(
            LedgerEntry.at >= start,
            LedgerEntry.at < end,
            subject == subject_kind,
            kind == EntryKind.PAYOUT,
        )
    )
    count = session.scalar(
        select(func.count()).select_from(
            paid.where(LedgerEntry.kind == EntryKind.PAYOUT).subquery()
        )
    )
    amount = session.scalar(select(func.sum(paid.subquery().c.amount_fen)))
    return int(count or 0), int(amount or 0)


def _by_status(
    session: Session, model: type[HazardClaim] | type[Nomination], *, start: datetime, end: datetime
) -> dict[str, int]:
    """Claims or nominations opened in the range (test ones left out), counted by status."""
    rows = session.execute(
        select(model.status, func.count())
        .where(model.created_at >= start, model.created_at < end, ~model.test)
        .group_by(model.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def envelopes(session: Session, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Grid red envelopes paid in the range (corrections counted), and claims by status."""
    count, amount = _paid(session, start=start, end=end, subject_kind=SubjectKind.CLAIM)
    return {
        "count": count,
        "amount_fen": amount,
        "claims_by_status": _by_status(session, HazardClaim, start=start, end=end),
    }


def awards(session: Session, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Brave-act awards paid in the range, and nominations (of any kind) by status."""
    count, amount = _paid(session, start=start, end=end, subject_kind=SubjectKind.AWARD)
    return {
        "count": count,
        "amount_fen": amount,
        "nominations_by_status": _by_status(session, Nomination, start=start, end=end),
    }


def honours(session: Session, *, start: datetime, end: datetime) -> int:
    """Good neighbours (魏村好人) honoured in the range."""
    return int(
        session.scalar(
            select(func.count()).where(
                Nomination.honoured_at >= start, Nomination.honoured_at < end, ~Nomination.test
            )
        )
        or 0
    )


def _month_span(period: str, *, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The part of [start, end) that falls in a station-time month."""
    year, month = (int(p) for p in period.split("-"))
    first = datetime(year, month, 1, tzinfo=STATION_TZ)
    after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=STATION_TZ)
    return max(first, start), min(after, end)


def periods(
    session: Session, *, start: datetime, end: datetime, rules: RewardRules
) -> list[dict[str, Any]]:
    """Each month of the range: envelopes, awards and honours in it, and its budget left."""
    left = {b["period"]: b["left_fen"] for b in budgets(session, start=start, end=end, rules=rules)}
    out = []
    for period in months(start, end):
        low, high = _month_span(period, start=start, end=end)
        env_count, env_fen = _paid(session, start=low, end=high, subject_kind=SubjectKind.CLAIM)
        award_count, award_fen = _paid(session, start=low, end=high, subject_kind=SubjectKind.AWARD)
        out.append(
            {
                "period": period,
                "envelopes": env_count,
                "envelopes_fen": env_fen,
                "awards": award_count,
                "awards_fen": award_fen,
                "honours": honours(session, start=low, end=high),
                "budget_left_fen": left[period],
            }
        )
    return out


def budgets(
    session: Session, *, start: datetime, end: datetime, rules: RewardRules
) -> list[dict[str, Any]]:
    """Each month of the range: its envelope budget, what envelopes took of it, promised, left."""
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
        "awards": awards(session, start=start, end=end),
        "honours": honours(session, start=start, end=end),
        "budgets": budgets(session, start=start, end=end, rules=rules),
        "periods": periods(session, start=start, end=end, rules=rules),
    }
