"""Intake's periodic jobs: run by intake workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from services.intake import idempotency
from services.intake.callbacks.tasks import DISPATCH_CALLBACKS
from services.intake.runtime import IntakeRuntime

PURGE_IDEMPOTENCY_KEYS = "intake.purge_idempotency_keys"

SCHEDULE: dict[str, dict[str, Any]] = {
    DISPATCH_CALLBACKS: {
        "task": DISPATCH_CALLBACKS,
        "schedule": 10.0,
        "options": {"expires": 30.0},
    },
    PURGE_IDEMPOTENCY_KEYS: {
        "task": PURGE_IDEMPOTENCY_KEYS,
        "schedule": 3600.0,
        "options": {"expires": 3000.0},
    },
}


def register(runtime: IntakeRuntime) -> None:
    """Register intake's periodic tasks on its Celery app."""

    @runtime.celery.task(name=PURGE_IDEMPOTENCY_KEYS, shared=False)
    def purge_idempotency_keys() -> int:
        """Forget Idempotency-Keys past their time (24 hours by default)."""
        return idempotency.purge_expired(runtime.db, now=runtime.clock.now())
