"""Rewards' tables: nominations (brave acts, good deeds) and messaging; hazard claims are in
`claims/models.py`, the ledger in `ledger/models.py`."""

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


# The ledger's and the claims' tables live in their packages; importing them here puts
# every rewards table on Base.metadata, which migrations compare against.
from services.rewards.claims import models as _claims_models  # noqa: E402, F401
from services.rewards.ledger import models as _ledger_models  # noqa: E402, F401
