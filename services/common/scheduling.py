"""Periodic jobs every service has: relaying its outbox."""

from __future__ import annotations

from typing import Any

from services.common.messaging import Messaging


def relay_task_name(service: str) -> str:
    return f"{service}.relay_outbox"


def register_relay_task(messaging: Messaging) -> None:
    """The task that publishes outbox rows the broker did not take right after commit."""

    @messaging.celery.task(name=relay_task_name(messaging.service), acks_late=False, shared=False)
    def relay_outbox() -> int:
        """Publish unpublished outbox messages."""
        return messaging.relay()


def relay_schedule(service: str, seconds: float) -> dict[str, dict[str, Any]]:
    """The beat entry for one service's relay; stale runs expire instead of piling up."""
    return {
        relay_task_name(service): {
            "task": relay_task_name(service),
            "schedule": seconds,
            "options": {"expires": max(5.0, seconds * 5)},
        }
    }
