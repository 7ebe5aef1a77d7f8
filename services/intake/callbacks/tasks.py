"""The Celery tasks that send callbacks and dispatch the ones whose retry is due."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from services.common.celery_app import DATABASE_AWAY_RETRY_SECONDS
from services.common.outages import run_quietly
from services.intake.callbacks import delivery
from services.intake.callbacks.service import DELIVER_CALLBACK
from services.intake.runtime import IntakeRuntime

log = logging.getLogger(__name__)

DISPATCH_CALLBACKS = "intake.dispatch_callbacks"
# A dispatched delivery no worker finished in this time was lost with its task: send again.
REDISPATCH_AFTER = timedelta(minutes=5)


def register(runtime: IntakeRuntime) -> None:
    """Register `intake.deliver_callback` and `intake.dispatch_callbacks` on intake's app."""

    @runtime.celery.task(
        shared=False,
        name=DELIVER_CALLBACK.task,
        # A failed POST is retried by `dispatch_callbacks` when its backoff is over; Celery's
        # own retry only waits out a database that cannot be reached.
        autoretry_for=(OperationalError,),
        retry_backoff=True,
        retry_backoff_max=DATABASE_AWAY_RETRY_SECONDS,
        default_retry_delay=DATABASE_AWAY_RETRY_SECONDS,
        retry_jitter=True,
        max_retries=None,
    )
    def deliver_callback(message: dict[str, Any]) -> str:
        """POST one status change to its agency's callback URL."""
        try:
            delivery_id = DELIVER_CALLBACK.load(message)["delivery_id"]
        except ValidationError as exc:
            runtime.messaging.park(
                task=DELIVER_CALLBACK.task, message=message, error=exc, attempts=1
            )
            log.error("parked malformed deliver_callback message: %s", exc.messages)
            return "parked"
        return delivery.deliver(
            db=runtime.db,
            clock=runtime.clock,
            delivery_id=delivery_id,
            allow_private=runtime.rules.callbacks_allow_private,
        ).status

    @runtime.celery.task(shared=False, name=DISPATCH_CALLBACKS, acks_late=False)
    def dispatch_callbacks() -> int | None:
        """Queue the deliveries whose next attempt is due (and any a lost task left)."""
        return run_quietly(
            lambda: delivery.dispatch_due(
                messaging=runtime.messaging, clock=runtime.clock, redispatch_after=REDISPATCH_AFTER
            ),
            name=DISPATCH_CALLBACKS,
        )
