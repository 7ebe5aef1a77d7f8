"""A reporter's monthly caps and the month's budget, kept exact under concurrency.

Every step that grants, reserves or pays an envelope locks the reporter's month row and
then the month's row (`SELECT … FOR UPDATE`, always in that order, after the claim's own
row), so two verifications racing at a cap are served one after the other and the second
sees the first's envelope. Nothing is read and then written outside those locks.

The budget a month has is its grants in the ledger, or the rules' default while it has
none; what is left for envelopes is that minus what the ledger paid out of it, minus the
envelopes approved and not yet paid (`reserved_fen`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.rewards.claims.models import EnvelopeMonth, ReporterMonth
from services.rewards.flows import cny
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import EntryKind, LedgerEntry
from services.rewards.rules import RewardRules


def _locked(session: Session, model: type[ReporterMonth] | type[EnvelopeMonth], **key: str) -> None:
    """Make sure the row exists (racing inserts are fine), then lock it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**key).on_conflict_do_nothing())


def lock_reporter_month(session: Session, *, phone: str, period: str) -> ReporterMonth:
    _locked(session, ReporterMonth, reporter_phone=phone, period=period)
    row = session.get(ReporterMonth, (phone, period), with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def lock_month(session: Session, *, period: str) -> EnvelopeMonth:
    _locked(session, EnvelopeMonth, period=period)
    row = session.get(EnvelopeMonth, period, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def month_budget(session: Session, *, period: str, rules: RewardRules) -> int:
    """The month's budget: its grants, or the default while it has none."""
    granted = session.scalar(
        select(LedgerEntry.id)
        .where(LedgerEntry.period == period, LedgerEntry.kind == EntryKind.BUDGET_GRANT)
        .limit(1)
    )
    return (
        ledger.budget_granted(session, month=period)
        if granted is not None
        else rules.monthly_budget_fen
    )


def available(session: Session, *, month: EnvelopeMonth, rules: RewardRules) -> int:
    """What a locked month can still promise to envelopes, in fen."""
    budget = month_budget(session, period=month.period, rules=rules)
    paid_out = ledger.budget_granted(session, month=month.period) - ledger.budget_left(
        session, month=month.period
    )
    return budget - paid_out - month.reserved_fen


@dataclass(frozen=True)
class Limits:
    reporter: ReporterMonth
    month: EnvelopeMonth
    over: list[str]


def check(
    session: Session, *, phone: str, period: str, amount_fen: int, rules: RewardRules
) -> Limits:
    """Lock the reporter's and the month's rows; which limits one more envelope would pass."""
    reporter = lock_reporter_month(session, phone=phone, period=period)
    month = lock_month(session, period=period)
    over: list[str] = []
    if reporter.envelopes + 1 > rules.envelopes_per_reporter_month:
        over.append(
            f"the reporter has {reporter.envelopes} envelopes in {period} "
            f"(at most {rules.envelopes_per_reporter_month})"
        )
    if reporter.amount_fen + amount_fen > rules.fen_per_reporter_month:
        over.append(
            f"the reporter has {cny(reporter.amount_fen)} CNY in {period} "
            f"(at most {cny(rules.fen_per_reporter_month)})"
        )
    left = available(session, month=month, rules=rules)
    if left < amount_fen:
        over.append(f"the budget of {period} has {cny(max(left, 0))} CNY left")
    return Limits(reporter, month, over)


def grant(limits: Limits, *, amount_fen: int) -> None:
    """Count one envelope against the reporter and reserve it in the month (rows locked)."""
    limits.reporter.envelopes += 1
    limits.reporter.amount_fen += amount_fen
    limits.month.reserved_fen += amount_fen
