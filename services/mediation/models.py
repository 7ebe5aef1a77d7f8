"""Mediation's tables: officers and their villages, and cases with their parties (desks: desks/)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class Staff(Base):
    """A community officer (社区民警) or the duty leader (带班领导)."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))


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
    status: Mapped[str] = mapped_column(String(30), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    reporter: Mapped[dict[str, Any]]
    accept_due_at: Mapped[datetime] = mapped_column(index=True)
    test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    owner: Mapped[Staff] = relationship()
    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", order_by="CaseParty.id")


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
