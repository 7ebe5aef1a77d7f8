"""Periodic jobs every service has (relaying its outbox), and beat's scheduler."""

from __future__ import annotations

import logging
from typing import Any

import kombu
from celery.beat import PersistentScheduler, ScheduleEntry

from services.common.messaging import Messaging
from services.common.outages import BROKER, run_quietly

log = logging.getLogger(__name__)


def relay_task_name(service: str) -> str:
    return f"{service}.relay_outbox"


def register_relay_task(messaging: Messaging) -> None:
    """The task that publishes outbox rows the broker did not take right after commit."""

    @messaging.celery.task(name=relay_task_name(messaging.service), acks_late=False, shared=False)
    def relay_outbox() -> int | None:
        """Publish unpublished outbox messages (quietly while the database is away)."""
        return run_quietly(messaging.relay, name=relay_task_name(messaging.service))


def relay_schedule(service: str, seconds: float) -> dict[str, dict[str, Any]]:
    """The beat entry for one service's relay; stale runs expire instead of piling up."""
    return {
        relay_task_name(service): {
            "task": relay_task_name(service),
            "schedule": seconds,
            "options": {"expires": max(5.0, seconds * 5)},
        }
    }


class QuietScheduler(PersistentScheduler):
    """Beat's scheduler, saying once that the broker is away instead of a traceback a tick.

    Celery's own logs "Message Error" with a stack trace for every entry it cannot send,
    every second per relay while the broker is down. Sending is all beat does, so any
    failure to send is the broker's; beat keeps ticking and sends again when it is back.
    """

    def apply_entry(self, entry: ScheduleEntry, producer: kombu.Producer | None = None) -> None:
        log.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as error:
            BROKER.failed(error, doing=f"sending {entry.task}")
        else:
            BROKER.recovered()
