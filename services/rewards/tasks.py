"""Rewards' Celery tasks: thin wrappers that hand each message to `service.py`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import OPEN_HAZARD_CLAIM, OPEN_NOMINATION
from services.rewards import service
from services.rewards.runtime import RewardsRuntime


def register(runtime: RewardsRuntime) -> None:
    """Register rewards' consumers on its Celery app."""
    messaging = runtime.messaging

    # Both claimed at the commit: every effect is in the transaction, and a twin meets the
    # first at the claim's or nomination's unique report id (record 0037).
    @messaging.consumer(OPEN_HAZARD_CLAIM, claim_at_commit=True)
    def open_hazard_claim(session: Session, message: dict[str, Any]) -> None:
        """A hazard arrived from intake: open its claim."""
        service.open_hazard_claim(
            session, report=message, messaging=messaging, now=runtime.clock.now()
        )

    @messaging.consumer(OPEN_NOMINATION, claim_at_commit=True)
    def open_nomination(session: Session, message: dict[str, Any]) -> None:
        """A brave act or good deed arrived from intake: open its nomination."""
        service.open_nomination(
            session,
            report=message,
            messaging=messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )
