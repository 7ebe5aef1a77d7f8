"""Mediation's tables: officers and their villages, and cases with their parties (desks: desks/)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class Staff(Base):
    """A staff member of the station: officers (社区民警), leaders (带班领导), desk staff, ….

    Mediation keeps the roster its staff tokens are checked against; `roles` are
    `staff_auth.Role` values, `desk_code` the desk a desk staff member sits at.
    """

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    roles: Mapped[list[Any]]
    desk_code: Mapped[str | None] = mapped_column(String(50))
    on_duty: Mapped[bool] = mapped_column(default=False)  # the duty leader (带班领导)
    active: Mapped[bool] = mapped_column(default=True)
    # When this member last got the digest of new and overdue cases (one per interval).
    case_digest_at: Mapped[datetime | None]


class Village(Base):
    """分片包村: the officer who owns the cases of a village."""

    __tablename__ = "villages"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    officer_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))

    officer: Mapped[Staff] = relationship()


class Case(Base):
    """A dispute in the closed loop 首接 → 本地化解 (联动调处) → 回访."""

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16))
    village: Mapped[str] = mapped_column(String(50), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)  # a workflow.CaseStatus
    risk_grade: Mapped[str | None] = mapped_column(String(1))
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    reporter: Mapped[dict[str, Any]]
    # 首问必果: every open case has a due date and what it is for (a workflow.DueKind).
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    due_kind: Mapped[str | None] = mapped_column(String(20))
    # The due_at whose breach the deadline sweep has acted on, so it acts once per breach.
    breach_handled: Mapped[datetime | None]
    # After a failed session: the next one is held before this (N working days), else a breach.
    second_session_by: Mapped[datetime | None]
    # The follow-up due_at the owner was reminded of, so he is reminded once per due date.
    follow_up_reminded_for: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]
    rebound_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    # When the owner was told of the case (by the new-case digest); None: not yet.
    announced_at: Mapped[datetime | None]
    # When the retention job erased the parties' names, phones and free text (figures stay).
    personal_erased_at: Mapped[datetime | None]
    test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    owner: Mapped[Staff] = relationship()
    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", order_by="CaseParty.id")
    history: Mapped[list[CaseHistory]] = relationship(order_by="CaseHistory.id")


class CaseHistory(Base):
    """One step of a case: who did what, from which status to which (append only)."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(50))  # a staff id, or "system" for the sweep
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the action's fields


class SessionReminder(Base):
    """A reminder sent to a session's parties (one day, two hours before), so it goes once."""

    __tablename__ = "session_reminders"

    desk_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("desk_sessions.id"), primary_key=True
    )
    before_minutes: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime]


class Agreement(Base):
    """调解协议书: who agreed (parties), on what facts, to which terms, performed by when.

    The parties may jointly apply to the court for judicial confirmation (司法确认) within
    `confirm_by`; each reminder's time is stored, and the time it went, so it goes once.
    """

    __tablename__ = "agreements"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    parties: Mapped[list[Any]]  # the names of the parties who agreed
    facts: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    perform_by: Mapped[date]
    made_at: Mapped[datetime]
    confirm_by: Mapped[datetime]
    confirm_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    confirm_reminded_at: Mapped[datetime | None]
    perform_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    perform_reminded_at: Mapped[datetime | None]


class TransitionKey(Base):
    """An `Idempotency-Key` of a transition request and the answer it got."""

    __tablename__ = "transition_keys"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class CaseParty(Base):
    """A party to a dispute."""

    __tablename__ = "case_parties"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))

    case: Mapped[Case] = relationship(back_populates="parties")


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


# The desks' tables live in their own folder; importing them here puts them in
# Base.metadata for everything that reads it (migrations, the schema test).
from services.mediation.desks import models as _desk_tables  # noqa: E402, F401
