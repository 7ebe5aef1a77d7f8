"""Mediation's Celery tasks: thin wrappers that hand each message to `service.py`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import OPEN_CASE
from services.mediation import service
from services.mediation.runtime import MediationRuntime


def register(runtime: MediationRuntime) -> None:
    """Register mediation's consumers on its Celery app."""

    # Claimed at the commit: every effect is in the transaction, and a twin meets the first
    # at the case's unique report id (record 0037).
    @runtime.messaging.consumer(OPEN_CASE, claim_at_commit=True)
    def open_case(session: Session, message: dict[str, Any]) -> None:
        """A dispute arrived from intake: open its case."""
        service.open_case(
            session,
            report=message,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )
