"""A reporter's monthly caps and the month's budget, kept exact under concurrency.

A reporter's month is locked (`SELECT … FOR UPDATE`'s equal, an upsert) after the claim's
own row, so two verifications racing at a reporter's cap are served one after the other
and the second sees the first's envelope.

The month's budget is shared by every verification of the month, so its row is locked as
late as possible: by the transaction's last statement, after everything else the step
writes (`at_commit`). The step decides `approved` from a snapshot read without a lock
(`read_budget`: the ledger's figures and the month's row, in one statement), and the last
statement takes the envelope only if the month can still pay it: a conditional upsert of
the month's row. A concurrent change since the snapshot is caught by the row's
`approved_fen`, which every approval raises and nothing lowers. Between the snapshot and
the last statement a payout moves an amount from `reserved_fen` to the ledger's payouts
(the sum is unchanged); only an approval adds to what is spent, and it adds the same to
`approved_fen`. So with `ceiling = budget - paid - reserved + approved` from the snapshot,
`approved_fen + amount <= ceiling` on the row as it is when locked means exactly what the
check under a lock meant: `paid + reserved + amount <= budget` now. If it fails, the
budget went to others since the snapshot: `BudgetTaken` rolls the step back, and the
caller takes it again with the month locked before the read (`locked=True`), which cannot
fail that way.

The budget a month has is its grants in the ledger, or the rules' default while it has
none; what is left for envelopes is that minus what the ledger paid out of it, minus the
envelopes approved and not yet paid (`reserved_fen`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from services.common.db import at_commit, insert_on_conflict
from services.rewards.claims.models import EnvelopeMonth, ReporterMonth
from services.rewards.flows import cny
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import EntryKind, LedgerEntry, SubjectKind
from services.rewards.rules import RewardRules

M = TypeVar("M", ReporterMonth, EnvelopeMonth)
_ENVELOPE_SUBJECTS = (SubjectKind.BUDGET.value, SubjectKind.CLAIM.value)


class BudgetTaken(Exception):
    """The month's budget went to other approvals between the snapshot and the last statement.

    Raised at commit, so the step's transaction is rolled back; take the step again with
    `locked=True`.
    """


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
    """`_locked` for a reporter's month, through a statement built once (every verification
    takes it)."""
    statement = _reporter_locking(session.get_bind().dialect.name)
    found: ReporterMonth = session.scalars(
        statement,
        {"reporter_phone": phone, "period": period},
        execution_options={"populate_existing": True},
    ).one()
    return found


def _dialect_insert(dialect: str) -> Any:
    """The dialect's INSERT, its module imported only for the database in use (memory)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


@functools.cache
def _reporter_locking(dialect: str, *, as_object: bool = True) -> Any:
    insert = _dialect_insert(dialect)
    statement = (
        insert(ReporterMonth)
        .values(
            reporter_phone=bindparam("reporter_phone", type_=String),
            period=bindparam("period", type_=String),
        )
        .on_conflict_do_update(
            index_elements=[ReporterMonth.reporter_phone, ReporterMonth.period],
            set_={"envelopes": ReporterMonth.envelopes},
        )
    )
    if as_object:
        return statement.returning(ReporterMonth)
    return statement.returning(ReporterMonth.envelopes, ReporterMonth.amount_fen)


@dataclass(frozen=True)
class ReporterCounts:
    """A reporter's month as a verification found it, the row locked."""

    phone: str
    period: str
    envelopes: int
    amount_fen: int


def lock_reporter_counts(session: Session, *, phone: str, period: str) -> ReporterCounts:
    """`lock_reporter_month` as a row, not an object: the step only reads two numbers and
    adds to them (`count_envelope`), and the ORM's loading cost more than the statement."""
    statement = _reporter_locking(session.get_bind().dialect.name, as_object=False)
    envelopes, amount_fen = (
        session.connection().execute(statement, {"reporter_phone": phone, "period": period}).one()
    )
    return ReporterCounts(phone, period, envelopes, amount_fen)


_COUNT_ENVELOPE = (
    update(ReporterMonth)
    .where(
        ReporterMonth.reporter_phone == bindparam("phone", type_=String),
        ReporterMonth.period == bindparam("period_", type_=String),
    )
    .values(
        envelopes=ReporterMonth.envelopes + 1,
        amount_fen=ReporterMonth.amount_fen + bindparam("amount", type_=Integer),
    )
)


def count_envelope(session: Session, reporter: ReporterCounts, *, amount_fen: int) -> None:
    """One more envelope in the reporter's month (locked by `lock_reporter_counts`)."""
    session.connection().execute(
        _COUNT_ENVELOPE,
        {"phone": reporter.phone, "period_": reporter.period, "amount": amount_fen},
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


@functools.cache
def _budget_read() -> Select[Any]:
    """`read_budget`'s statement, built once (building it cost as much as running it).

    The same figures as `ledger.envelope_figures`, as one row of conditional sums (so a
    month without entries still gives its row), and the month's counters beside them.
    """
    original = aliased(LedgerEntry)
    kind = func.coalesce(original.kind, LedgerEntry.kind)
    envelope = LedgerEntry.subject_kind.in_(_ENVELOPE_SUBJECTS)
    amount = LedgerEntry.amount_fen

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    period = bindparam("period", type_=String)
    month = EnvelopeMonth
    return (
        select(
            func.count(case((kind == EntryKind.BUDGET_GRANT.value, 1))),
            total(kind == EntryKind.BUDGET_GRANT.value),
            total(and_(kind == EntryKind.BUDGET_GRANT.value, envelope)),
            total(and_(kind == EntryKind.PAYOUT.value, envelope)),
            select(month.reserved_fen).where(month.period == period).scalar_subquery(),
            select(month.approved_fen).where(month.period == period).scalar_subquery(),
        )
        .select_from(LedgerEntry)
        .outerjoin(original, LedgerEntry.corrects == original.id)
        .where(LedgerEntry.period == period)
    )


@dataclass(frozen=True)
class Budget:
    """A month's envelope budget as one snapshot saw it."""

    period: str
    left_fen: int  # what it could still promise
    ceiling_fen: int  # `approved_fen` may rise to this (the module's docstring says why)


def read_budget(
    session: Session, *, period: str, rules: RewardRules, locked: bool = False
) -> Budget:
    """The month's budget in one statement; with `locked`, the month's row is locked first."""
    if locked:
        lock_month(session, period=period)
    grants, granted, granted_envelopes, paid_envelopes, reserved, approved = session.execute(
        _budget_read(), {"period": period}
    ).one()
    budget = int(granted) if grants else rules.monthly_budget_fen
    paid_out = int(granted) - (int(granted_envelopes) - int(paid_envelopes))
    left = budget - paid_out - int(reserved or 0)
    return Budget(period, left_fen=left, ceiling_fen=left + int(approved or 0))


@functools.cache
def _taking(dialect: str, *, conditional: bool) -> Insert:
    """The last statement: the month's row made or raised by `amount`, within `ceiling` if
    `conditional`. On a conflict the row is locked whether or not the condition holds."""
    insert = _dialect_insert(dialect)
    amount = bindparam("amount", type_=Integer)
    statement = insert(EnvelopeMonth).values(
        period=bindparam("period", type_=String), reserved_fen=amount, approved_fen=amount
    )
    taking: Insert = statement.on_conflict_do_update(
        index_elements=[EnvelopeMonth.period],
        set_={
            "reserved_fen": EnvelopeMonth.reserved_fen + amount,
            "approved_fen": EnvelopeMonth.approved_fen + amount,
        },
        where=(EnvelopeMonth.approved_fen + amount <= bindparam("ceiling", type_=Integer))
        if conditional
        else None,
    ).returning(EnvelopeMonth.period)
    return taking


def take_at_commit(
    session: Session, *, budget: Budget | None, period: str, amount_fen: int
) -> None:
    """Reserve `amount_fen` of the month as the transaction's last statement.

    With the `budget` the step decided on, only if the month can still pay it (else
    `BudgetTaken` at commit); with None (the leader's approval counts beyond the budget),
    whatever is left.
    """
    params = {"period": period, "amount": amount_fen}
    if budget is not None:
        params["ceiling"] = budget.ceiling_fen

    def take(s: Session) -> None:
        statement = _taking(s.get_bind().dialect.name, conditional=budget is not None)
        if s.connection().execute(statement, params).first() is None:
            raise BudgetTaken(f"the budget of {period} went to other envelopes meanwhile")

    at_commit(session, take)


@dataclass(frozen=True)
class Limits:
    reporter: ReporterCounts
    budget: Budget
    over: list[str]


def check(
    session: Session,
    *,
    phone: str,
    period: str,
    amount_fen: int,
    rules: RewardRules,
    locked: bool = False,
) -> Limits:
    """Lock the reporter's month and read the month's budget; which limits one more envelope
    would pass. `locked` locks the month's row too (a step taken again after `BudgetTaken`)."""
    reporter = lock_reporter_counts(session, phone=phone, period=period)
    budget = read_budget(session, period=period, rules=rules, locked=locked)
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
    if budget.left_fen < amount_fen:
        over.append(f"the budget of {period} has {cny(max(budget.left_fen, 0))} CNY left")
    return Limits(reporter, budget, over)


def grant(session: Session, limits: Limits, *, amount_fen: int, within_budget: bool) -> None:
    """Count one envelope against the reporter (row locked) and reserve it in the month at
    commit: only if the budget still has it (`within_budget`), or beyond (the leader's)."""
    count_envelope(session, limits.reporter, amount_fen=amount_fen)
    take_at_commit(
        session,
        budget=limits.budget if within_budget else None,
        period=limits.budget.period,
        amount_fen=amount_fen,
    )
