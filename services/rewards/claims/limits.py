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
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import insert_on_conflict
from services.rewards.claims.models import EnvelopeMonth, ReporterMonth
from services.rewards.flows import cny
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import EntryKind, LedgerEntry
from services.rewards.rules import RewardRules

M = TypeVar("M", ReporterMonth, EnvelopeMonth)


def _locked(session: Session, model: type[M], update: dict[str, Any], **key: str) -> M:
    """The row, made if missing, locked: one upsert whose no-op update takes the row lock.

    `INSERT … ON CONFLICT DO UPDATE` waits for a transaction holding the row, as
    `SELECT … FOR UPDATE` does, and returns the row as that transaction left it; racing
    first inserts are fine. `update` sets a column to itself (not the key, so the lock
    conflicts with every `FOR UPDATE` of the row).
    """
    statement = (
        insert_on_conflict(session.get_bind().dialect, model)
        .values(**key)
        .on_conflict_do_update(index_elements=list(key), set_=update)
        .returning(model)
    )
    return session.scalars(statement, execution_options={"populate_existing": True}).one()


def lock_reporter_month(session: Session, *, phone: str, period: str) -> ReporterMonth:
    return _locked(
        session,
        ReporterMonth,
        {"envelopes": ReporterMonth.envelopes},
        reporter_phone=phone,
        period=period,
    )


def lock_month(session: Session, *, period: str) -> EnvelopeMonth:
    return _locked(
        session, EnvelopeMonth, {"reserved_fen": EnvelopeMonth.reserved_fen}, period=period
    )


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
    figures = ledger.envelope_figures(session, month=month.period)
    return figures.budget_fen(rules.monthly_budget_fen) - figures.paid_out_fen - month.reserved_fen


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
