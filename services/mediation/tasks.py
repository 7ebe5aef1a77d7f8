"""Mediation's Celery tasks: thin wrappers that hand each message to `service.py`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import OPEN_CASE
from services.mediation import service
from services.mediation.runtime import MediationRuntime


def register(runtime: MediationRuntime) -> None:
    """Register mediation's consumers on its Celery app."""

    @runtime.messaging.consumer(OPEN_CASE)
    def open_case(session: Session, message: dict[str, Any]) -> None:
        """A dispute arrived from intake: open its case."""
        service.open_case(
            session,
            report=message,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )
