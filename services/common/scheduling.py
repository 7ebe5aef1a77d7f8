"""Periodic jobs every service has (relaying its outbox, pruning what no longer matters).

Beat's scheduler is in `beat_scheduler`: every worker imports this module, and none needs
`celery.beat`."""

from __future__ import annotations

from typing import Any

from services.common.celery_app import periodic_queue, service_of
from services.common.messaging import Messaging
from services.common.outages import run_quietly

PRUNE_EVERY_SECONDS = 3600.0


def relay_task_name(service: str) -> str:
    return f"{service}.relay_outbox"


def prune_task_name(service: str) -> str:
    return f"{service}.prune_messages"


def register_relay_task(messaging: Messaging) -> None:
    """The tasks that publish outbox rows the broker did not take, and prune old ones."""

    @messaging.celery.task(name=relay_task_name(messaging.service), acks_late=False, shared=False)
    def relay_outbox() -> int | None:
        """Publish unpublished outbox messages (quietly while the database is away)."""
        return run_quietly(messaging.relay, name=relay_task_name(messaging.service))

    @messaging.celery.task(name=prune_task_name(messaging.service), acks_late=False, shared=False)
    def prune_messages() -> dict[str, int] | None:
        """Forget published outbox rows and processed message ids past their retention."""
        return run_quietly(messaging.prune, name=prune_task_name(messaging.service))


def relay_schedule(service: str, seconds: float) -> dict[str, dict[str, Any]]:
    """The beat entries every service has; stale runs expire instead of piling up."""
    return {
        relay_task_name(service): {
            "task": relay_task_name(service),
            "schedule": seconds,
            "options": {"expires": max(5.0, seconds * 5)},
        },
        prune_task_name(service): {
            "task": prune_task_name(service),
            "schedule": PRUNE_EVERY_SECONDS,
            "options": {"expires": PRUNE_EVERY_SECONDS * 0.9},
        },
    }


def on_periodic_queues(schedule: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The schedule with every entry sent to its service's periodic queue."""
    return {
        name: {
            **entry,
            "options": {
                **entry.get("options", {}),
                "queue": periodic_queue(service_of(entry["task"])),
            },
        }
        for name, entry in schedule.items()
    }
