"""Rewards' tables: hazard claims (grid red envelopes) and nominations (brave acts, good deeds)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import OutboxMixin, ProcessedMessageMixin


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


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


# The ledger's, the claims' and the nominations' tables live in their packages; importing
# them here puts every rewards table on Base.metadata, which migrations compare against.
from services.rewards.ledger import models as _ledger_models  # noqa: E402, F401
from services.rewards.nominations import models as _nomination_models  # noqa: E402, F401
