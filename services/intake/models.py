"""Intake's tables: agencies and their keys, the beat map, reports and their timelines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class Agency(Base):
    """A partner agency (五联动 or a volunteer league) that submits reports."""

    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]

    keys: Mapped[list[ApiKey]] = relationship(back_populates="agency")


class ApiKey(Base):
    """One of an agency's keys: the public key id and a hash of the secret half.

    A `test` key works like a live one, but what it submits is marked test: no SMS leaves
    for real, no money is paid, and statistics leave it out.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="live")
    label: Mapped[str | None] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship(back_populates="keys")


class Village(Base):
    """The beat map: villages the station serves."""

    __tablename__ = "villages"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Report(Base):
    """A report as an agency submitted it, with the status the agency sees."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_agency_created", "agency_id", "created_at"),
        # Finding an earlier report of the same hazard (the duplicate rule).
        Index("ix_reports_hazard_place", "hazard_category", "village", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    village: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    reporter: Mapped[dict[str, Any]]
    parties: Mapped[list[Any]]
    hazard: Mapped[dict[str, Any] | None]
    hazard_category: Mapped[str | None] = mapped_column(String(20))
    nominee: Mapped[dict[str, Any] | None]
    test: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    duplicate_of: Mapped[Report | None] = relationship(remote_side=[id])

    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="(ReportEvent.at, ReportEvent.seq)"
    )

    @property
    def location(self) -> dict[str, Any]:
        return {"village": self.village, "address": self.address, "lat": self.lat, "lon": self.lon}


class ReportEvent(Base):
    """One entry of a report's timeline; `message_id` keeps each event to one entry."""

    __tablename__ = "report_events"
    __table_args__ = (UniqueConstraint("message_id"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID]
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")
    # When the next step is due, as the sending service said (residents' lookups show it).
    due_at: Mapped[datetime | None]

    report: Mapped[Report] = relationship(back_populates="events")


class IdempotencyKey(Base):
    """An `Idempotency-Key` an agency used, with the answer its first request got.

    `locked_at` is set while the first request is in flight; a key left locked by a process
    that died is taken over after a lease, so a key is never stuck.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("agency_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime | None]
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None]
    response_headers: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateLimitWindow(Base):
    """Requests an agency made in one fixed window (the embedded default's rate limiter)."""

    __tablename__ = "rate_limit_windows"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int]


class AgencyCallback(Base):
    """Where an agency wants status changes pushed, and the secret the body is signed with."""

    __tablename__ = "agency_callbacks"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    signing_secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallbackDelivery(Base):
    """One status change pushed to an agency's callback URL, with its attempts."""

    __tablename__ = "callback_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[dict[str, Any]]
    # When the next attempt is due, and when a worker was last asked to make it: the
    # waiting lives here, not in a Celery countdown, so a lost task is found again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    dispatched_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"
