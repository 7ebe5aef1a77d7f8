"""Intake's tables: agencies and their keys, the beat map, reports and their timelines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import OutboxMixin, ProcessedMessageMixin


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
    """One of an agency's keys: the public key id and a hash of the secret half."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
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
    __table_args__ = (Index("ix_reports_agency_created", "agency_id", "created_at"),)

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
    nominee: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

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

    report: Mapped[Report] = relationship(back_populates="events")


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"
