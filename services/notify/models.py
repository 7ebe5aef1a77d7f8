"""Notify's tables: every SMS it was asked for, with its status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import OutboxMixin, ProcessedMessageMixin

# created → sending → sent → delivered | failed; a status only ever moves forward.
SMS_STATUSES = ("created", "sending", "sent", "delivered", "failed")


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class SmsMessage(Base):
    """One SMS. Its id is the id of the request that asked for it, chosen before queueing."""

    __tablename__ = "sms_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(20), index=True)
    template: Mapped[str] = mapped_column(String(50))
    template_version: Mapped[int]
    params: Mapped[dict[str, Any]]
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int]
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), index=True)
    failure: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    report_id: Mapped[uuid.UUID | None]
    test: Mapped[bool] = mapped_column(default=False)  # "sent" by the simulated provider only
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"
