"""The ledger's reads and writes. Functions take the session and never commit.

Money is an integer number of fen. A month (`period`) is YYYY-MM in station time. Every
write appends an entry; nothing is changed afterwards (the database refuses it).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from services.common.clock import STATION_TZ
from services.common.errors import DomainError, NotFound
from services.rewards.ledger.models import (
    EntryKind,
    LedgerEntry,
    Payout,
    PayoutStatus,
    SubjectKind,
)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Payout ids are derived from their subject: a payment retried after a crash (its first
# transaction rolled back after the money was handed on) hands on the same id again, so
# a provider keyed on it pays once.
_PAYOUT_IDS = uuid.UUID("0b6f3c52-81d4-4e52-9a0c-5d0e3a7f1c29")


def payout_id_of(*, subject_kind: str, subject_id: str) -> uuid.UUID:
    return uuid.uuid5(_PAYOUT_IDS, f"{subject_kind}:{subject_id}")


def month_of(at: datetime) -> str:
    """The station-time month (YYYY-MM) an instant falls in."""
    return at.astimezone(STATION_TZ).strftime("%Y-%m")


def _check_month(month: str) -> str:
    if not MONTH.match(month):
        raise DomainError(f"month must be YYYY-MM, not {month!r}", status=422)
    return month


def grant_budget(
    session: Session, *, month: str, amount_fen: int, by: str, now: datetime, note: str = ""
) -> LedgerEntry:
    """Add `amount_fen` to a month's budget (grants add up; take some back with a correction)."""
    if amount_fen <= 0:
        raise DomainError("a budget grant must be a positive amount of fen", status=422)
    entry = LedgerEntry(
        at=now,
        kind=EntryKind.BUDGET_GRANT,
        subject_kind=SubjectKind.BUDGET,
        subject_id=_check_month(month),
        recipient=None,
        amount_fen=amount_fen,
        period=month,
        by=by,
        note=note,
    )
    session.add(entry)
    session.flush()
    return entry


def record_payout(
    session: Session,
    *,
    subject_kind: str,
    subject_id: str | uuid.UUID,
    recipient_name: str,
    recipient_phone: str,
    amount_fen: int,
    by: str,
    now: datetime,
    period: str | None = None,
) -> Payout:
    """The one payout of a claim or award, with its ledger entry; a second call returns it.

    The (subject_kind, subject_id) unique constraint decides between racing callers: the
    loser's insert waits for the winner's transaction and then finds its payout. `period`
    (the budget month it is paid from) defaults to the month of `now`.
    """
    subject = str(subject_id)
    existing = payout_of(session, subject_kind=subject_kind, subject_id=subject)
    if existing is not None:
        return existing
    if amount_fen <= 0:
        raise DomainError("a payout must be a positive amount of fen", status=422)
    month = _check_month(period) if period else month_of(now)
    try:
        with session.begin_nested():
            payout = Payout(
                id=payout_id_of(subject_kind=subject_kind, subject_id=subject),
                subject_kind=subject_kind,
                subject_id=subject,
                recipient_name=recipient_name,
                recipient_phone=recipient_phone,
                amount_fen=amount_fen,
                period=month,
                status=PayoutStatus.ORDERED,
                by=by,
                ordered_at=now,
            )
            entry = LedgerEntry(
                at=now,
                kind=EntryKind.PAYOUT,
                subject_kind=subject_kind,
                subject_id=subject,
                recipient=recipient_phone,
                amount_fen=amount_fen,
                period=month,
                by=by,
                note=f"payout {payout.id}",
            )
            session.add(entry)
            session.flush()
            payout.entry_id = entry.id
            session.add(payout)
            session.flush()
    except IntegrityError:
        found = payout_of(session, subject_kind=subject_kind, subject_id=subject)
        if found is None:
            raise
        return found
    return payout


def payout_of(session: Session, *, subject_kind: str, subject_id: str) -> Payout | None:
    return session.scalar(
        select(Payout).where(Payout.subject_kind == subject_kind, Payout.subject_id == subject_id)
    )


def correct(
    session: Session, *, entry_id: int, amount_fen: int, by: str, note: str, now: datetime
) -> LedgerEntry:
    """Put an entry right by appending a correction: `amount_fen` is added to it (signed)."""
    original = session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound(f"no ledger entry {entry_id}")
    if original.kind == EntryKind.CORRECTION:
        raise DomainError("correct the original entry, not a correction", status=422)
    if amount_fen == 0 or not note.strip():
        raise DomainError("a correction needs a non-zero amount and a note", status=422)
    corrected = original.amount_fen + sum(
        session.scalars(
            select(LedgerEntry.amount_fen).where(LedgerEntry.corrects == entry_id)
        ).all()
    )
    if corrected + amount_fen < 0:
        raise DomainError(
            f"entry {entry_id} stands at {corrected} fen; it cannot go below zero", status=422
        )
    entry = LedgerEntry(
        at=now,
        kind=EntryKind.CORRECTION,
        subject_kind=original.subject_kind,
        subject_id=original.subject_id,
        recipient=original.recipient,
        amount_fen=amount_fen,
        period=original.period,
        by=by,
        note=note,
        corrects=entry_id,
    )
    session.add(entry)
    session.flush()
    return entry


def _net_by_kind(
    session: Session, *, month: str, subjects: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Each kind's total for a month, corrections counted with the kind they correct.

    `subjects` keeps only entries about those subject kinds (grants are about `budget`).
    """
    original = aliased(LedgerEntry)
    kind = func.coalesce(original.kind, LedgerEntry.kind)
    query = (
        select(kind, func.sum(LedgerEntry.amount_fen))
        .outerjoin(original, LedgerEntry.corrects == original.id)
        .where(LedgerEntry.period == month)
        .group_by(kind)
    )
    if subjects is not None:
        query = query.where(LedgerEntry.subject_kind.in_(subjects))
    return {str(k): int(total or 0) for k, total in session.execute(query).all()}


@dataclass(frozen=True)
class EnvelopeFigures:
    """A month's budget grants and what the ledger paid out of them, read in one statement."""

    has_grants: bool  # the month has a grant entry (else the rules' default budget applies)
    granted_fen: int  # `budget_granted`
    paid_out_fen: int  # `budget_granted - budget_left`

    def budget_fen(self, default_fen: int) -> int:
        """The month's budget: its grants, or `default_fen` while it has none."""
        return self.granted_fen if self.has_grants else default_fen


def envelope_figures(session: Session, *, month: str) -> EnvelopeFigures:
    """What `budget_granted` and `budget_left` say of a month, from one grouped read.

    A verification asks under the month's lock; three statements were three round trips.
    """
    original = aliased(LedgerEntry)
    kind = func.coalesce(original.kind, LedgerEntry.kind)
    rows = session.execute(
        select(kind, LedgerEntry.subject_kind, func.count(), func.sum(LedgerEntry.amount_fen))
        .outerjoin(original, LedgerEntry.corrects == original.id)
        .where(LedgerEntry.period == _check_month(month))
        .group_by(kind, LedgerEntry.subject_kind)
    ).all()
    envelopes = {SubjectKind.BUDGET.value, SubjectKind.CLAIM.value}
    granted = sum(int(t or 0) for k, _, _, t in rows if k == EntryKind.BUDGET_GRANT)
    granted_envelopes = sum(
        int(t or 0) for k, s, _, t in rows if k == EntryKind.BUDGET_GRANT and s in envelopes
    )
    paid_envelopes = sum(
        int(t or 0) for k, s, _, t in rows if k == EntryKind.PAYOUT and s in envelopes
    )
    return EnvelopeFigures(
        # A correction is of an entry of its month, so a grant's correction means a grant.
        has_grants=any(k == EntryKind.BUDGET_GRANT and n for k, _, n, _ in rows),
        granted_fen=granted,
        paid_out_fen=granted - (granted_envelopes - paid_envelopes),
    )


def budget_granted(session: Session, *, month: str) -> int:
    return _net_by_kind(session, month=_check_month(month)).get(EntryKind.BUDGET_GRANT, 0)


def budget_left(session: Session, *, month: str) -> int:
    """A month's envelope budget minus the envelopes paid out of it (fen; negative if overspent).

    Brave-act awards are a budget line of their own (see `awards_paid`): they never take
    from the envelopes' month, so a large award cannot starve the grid's red envelopes.
    """
    net = _net_by_kind(
        session, month=_check_month(month), subjects=(SubjectKind.BUDGET, SubjectKind.CLAIM)
    )
    return net.get(EntryKind.BUDGET_GRANT, 0) - net.get(EntryKind.PAYOUT, 0)


def awards_paid(session: Session, *, month: str) -> int:
    """What the month paid in brave-act awards (fen, corrections counted)."""
    net = _net_by_kind(session, month=_check_month(month), subjects=(SubjectKind.AWARD,))
    return net.get(EntryKind.PAYOUT, 0)


def entries(session: Session, *, start: datetime, end: datetime) -> list[LedgerEntry]:
    """The entries written in [start, end), oldest first."""
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.at >= start, LedgerEntry.at < end)
            .order_by(LedgerEntry.id)
        ).all()
    )
