"""Rewards' base and messaging tables; hazard claims are in `claims/models.py`, the ledger in
`ledger/models.py`, nominations in `nominations/models.py`."""

from __future__ import annotations

from services.common.db import ServiceBase, service_metadata
from services.common.messaging import DeadLetterMixin, OutboxMixin, ProcessedMessageMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMessageMixin, Base):
    __tablename__ = "processed_messages"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


# The ledger's, the claims' and the nominations' tables live in their packages; importing
# them here puts every rewards table on Base.metadata, which migrations compare against.
from services.rewards.claims import models as _claims_models  # noqa: E402, F401
from services.rewards.ledger import models as _ledger_models  # noqa: E402, F401
from services.rewards.nominations import models as _nomination_models  # noqa: E402, F401
