"""Hazard claims, their history, and the per-month tallies that keep caps and budget."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.rewards.models import Base


class HazardClaim(Base):
    """A reported hazard; a grid officer's verification decides its red envelope."""

    __tablename__ = "hazard_claims"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16))
    reporter_phone: Mapped[str] = mapped_column(String(20), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))  # as reported
    summary: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), index=True)
    test: Mapped[bool] = mapped_column(default=False)  # never paid
    # The month (station time) whose caps and budget the envelope counts against: the
    # month the report came in.
    period: Mapped[str] = mapped_column(String(7), index=True)
    verified_severity: Mapped[str | None] = mapped_column(String(10))
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    over_limits: Mapped[list[Any]] = mapped_column(default=list)  # why it waits for the leader
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hazard_claims.id"))
    payout_id: Mapped[uuid.UUID | None]
    reported_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    history: Mapped[list[ClaimHistory]] = relationship(
        order_by="ClaimHistory.id", lazy="selectin", viewonly=True
    )


class ClaimHistory(Base):
    """One step of a claim: `{at, by, action, from, to, note}`."""

    __tablename__ = "claim_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hazard_claims.id"), index=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReporterMonth(Base):
    """Envelopes granted to one reporter in one month; its row lock keeps the caps exact."""

    __tablename__ = "reporter_months"

    reporter_phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    envelopes: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)


class EnvelopeMonth(Base):
    """A month's envelopes approved but not yet paid; its row lock serialises the budget."""

    __tablename__ = "envelope_months"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    reserved_fen: Mapped[int] = mapped_column(Integer, default=0)
    # Every envelope approved in the month, paid or not: raised with `reserved_fen`, never
    # lowered, so a verification's last statement can tell whether others took budget
    # since its snapshot (`limits`).
    approved_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ClaimTransitionKey(Base):
    """An `Idempotency-Key` a caller used on a claim, with the answer it got."""

    __tablename__ = "claim_transition_keys"

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hazard_claims.id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
