"""Notify's periodic jobs: run by notify workers, sent by the one beat."""

from __future__ import annotations

from typing import Any

from services.common.outages import run_quietly
from services.notify import delivery
from services.notify.runtime import NotifyRuntime

DISPATCH_DUE = "notify.dispatch_due"
RESOLVE_STUCK = "notify.resolve_stuck"

SCHEDULE: dict[str, dict[str, Any]] = {
    # Quiet hours end, limits lift, retries come due: whatever is due goes out.
    DISPATCH_DUE: {"task": DISPATCH_DUE, "schedule": 5.0, "options": {"expires": 20.0}},
    RESOLVE_STUCK: {"task": RESOLVE_STUCK, "schedule": 60.0, "options": {"expires": 120.0}},
}


def register(runtime: NotifyRuntime) -> None:
    """Register notify's periodic tasks on its Celery app."""

    @runtime.celery.task(name=DISPATCH_DUE, shared=False, acks_late=False)
    def dispatch_due() -> int | None:
        """Queue every message whose time has come."""
        return run_quietly(lambda: delivery.dispatch_due(runtime.deliverer), name=DISPATCH_DUE)

    @runtime.celery.task(name=RESOLVE_STUCK, shared=False, acks_late=False)
    def resolve_stuck() -> dict[str, int] | None:
        """Settle messages left in `sending`, asking the provider, never resending blindly."""
        return run_quietly(lambda: delivery.resolve_stuck(runtime.deliverer), name=RESOLVE_STUCK)
