"""Ledger tables: `ledger_entries` is append-only (the database refuses UPDATE and DELETE);
`payouts` holds at most one payout per claim or award."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.rewards.models import Base


class EntryKind(StrEnum):
    BUDGET_GRANT = "budget_grant"
    PAYOUT = "payout"
    CORRECTION = "correction"


class SubjectKind(StrEnum):
    CLAIM = "claim"  # a hazard claim's grid red envelope
    AWARD = "award"  # a nomination's brave-act award or good-neighbour honour
    BUDGET = "budget"  # a month's budget (subject_id is the month, YYYY-MM)


class PayoutStatus(StrEnum):
    ORDERED = "ordered"  # recorded; the finance office has not taken it yet
    EXPORTED = "exported"  # in a file the finance office took
    PAID = "paid"  # the finance office says the money reached the recipient


class LedgerEntry(Base):
    """One movement of money, never changed: a mistake is put right by a correction entry.

    `amount_fen` is positive for grants and payouts; a correction's amount is added to the
    entry it corrects (negative to take some or all of it back).
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(20))  # the recipient's phone
    amount_fen: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM, station time
    by: Mapped[str] = mapped_column(String(50))  # staff id
    note: Mapped[str] = mapped_column(Text, default="")
    corrects: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


class Payout(Base):
    """Money owed to one recipient for one claim or award; its ledger entry is written with it."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", name="uq_payouts_subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(100))
    recipient_phone: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(20), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    by: Mapped[str] = mapped_column(String(50))
    ordered_at: Mapped[datetime] = mapped_column(index=True)
    exported_at: Mapped[datetime | None]
    export_batch: Mapped[str | None] = mapped_column(String(40))
    paid_at: Mapped[datetime | None]
