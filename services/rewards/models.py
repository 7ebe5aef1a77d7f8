"""Rewards' tables: hazard claims (grid red envelopes) and nominations (brave acts, good deeds)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class HazardClaim(Base):
    """A reported hazard awaiting a grid officer's verification before any red envelope."""

    __tablename__ = "hazard_claims"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16))
    reporter_phone: Mapped[str] = mapped_column(String(20), index=True)
    village: Mapped[str] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), index=True)
    test: Mapped[bool] = mapped_column(default=False)  # never paid
    reported_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Nomination(Base):
    """A brave act (见义勇为) or good deed (魏村好人) put forward for an award."""

    __tablename__ = "nominations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))
    nominee: Mapped[dict[str, Any]]
    nominator: Mapped[dict[str, Any]]
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    village: Mapped[str] = mapped_column(String(50))
    act_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30), index=True)
    decide_by: Mapped[datetime] = mapped_column(index=True)
    test: Mapped[bool] = mapped_column(default=False)  # never paid
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"
