"""Notify's tables: every SMS it was asked for, with its status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin

# created → sending → sent → delivered | failed; a status only ever moves forward (the one
# way back, sending → created, is taken only when the provider certainly took nothing).
SMS_STATUSES = ("created", "sending", "sent", "delivered", "failed")
STATUS_RANK = {status: rank for rank, status in enumerate(SMS_STATUSES)} | {"failed": 3}


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class SmsMessage(Base):
    """One SMS. Its id is the id of the request that asked for it, chosen before queueing.

    A message in `created` waits in the database until `due_at` (quiet hours, the
    recipient's limits, a retry's backoff); the beat dispatcher hands due ones to workers.
    """

    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_due", "status", "due_at"),
        Index("ix_sms_messages_recipient_sending", "recipient", "sending_at"),
    )

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
    signature: Mapped[str] = mapped_column(String(20), default="")
    due_at: Mapped[datetime | None]  # when it may leave; None once it has left
    dispatched_at: Mapped[datetime | None]  # when a worker was last asked to send it
    attempts: Mapped[int] = mapped_column(default=0)
    sending_at: Mapped[datetime | None]  # when it was last handed to a provider
    resend_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sms_messages.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class OptOut(Base):
    """A number that gets no SMS: its owner replied TD, or staff added it."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # sms_reply, staff
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class InboundSms(Base):
    """A reply a resident sent, as a provider forwarded it."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime]


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"
