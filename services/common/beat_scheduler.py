"""Beat's scheduler (`beat_scheduler = "services.common.beat_scheduler:QuietScheduler"`).

A module of its own, apart from `scheduling`, which every worker imports: `celery.beat`
(with shelve and dbm) is loaded by beat alone (docs/capacity.md, memory).
"""

from __future__ import annotations

import logging

import kombu
from celery.beat import PersistentScheduler, ScheduleEntry

from services.common.outages import BROKER

log = logging.getLogger(__name__)


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
