"""Nominations' tables: the nomination, its history, its objections and repeated steps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.rewards.models import Base


class Nomination(Base):
    """A brave act (见义勇为) or good deed (魏村好人) put forward for an award."""

    __tablename__ = "nominations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)  # None: nominated by staff
    tracking_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20), index=True)  # brave_act | good_deed
    nominee: Mapped[dict[str, Any]]
    nominator: Mapped[dict[str, Any]]
    nominator_relation: Mapped[str] = mapped_column(String(10))  # actor | witness | agency
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    village: Mapped[str] = mapped_column(String(50), index=True)
    act_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30), index=True)  # a workflow.NominationStatus
    decide_by: Mapped[datetime] = mapped_column(index=True)
    extended: Mapped[bool] = mapped_column(default=False)  # the decision window, once
    recommended: Mapped[bool | None]
    tier: Mapped[str | None] = mapped_column(String(20))
    amount_fen: Mapped[int | None]
    reviewer_id: Mapped[str | None] = mapped_column(String(50))
    notice_ends_at: Mapped[datetime | None]
    notice_skipped: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    appealed_at: Mapped[datetime | None]
    honoured_at: Mapped[datetime | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    due_kind: Mapped[str | None] = mapped_column(String(20))
    breach_handled: Mapped[datetime | None]  # the due_at the sweep last acted on
    test: Mapped[bool] = mapped_column(default=False)  # never paid
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    history: Mapped[list[NominationHistory]] = relationship(order_by="NominationHistory.id")
    objections: Mapped[list[Objection]] = relationship(order_by="Objection.id")


class NominationHistory(Base):
    """One step of a nomination: who did what, from which status to which."""

    __tablename__ = "nomination_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    nomination_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominations.id"), index=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(50))  # a staff id, "intake", or "system"
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Objection(Base):
    """An objection filed during the public notice (公示); it must be answered."""

    __tablename__ = "nomination_objections"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    nomination_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominations.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(50))
    filed_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(50))
    answered_at: Mapped[datetime | None]


class NominationTransitionKey(Base):
    """The answer to a step taken with an Idempotency-Key, to answer a repeat with it."""

    __tablename__ = "nomination_transition_keys"

    nomination_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominations.id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
