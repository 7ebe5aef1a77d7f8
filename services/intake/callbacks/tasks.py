"""The Celery task that sends callbacks and schedules their retries."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from services.intake.callbacks import delivery
from services.intake.callbacks.service import DELIVER_CALLBACK
from services.intake.runtime import IntakeRuntime

log = logging.getLogger(__name__)


def register(runtime: IntakeRuntime) -> None:
    """Register `intake.deliver_callback` on intake's Celery app."""

    @runtime.celery.task(
        shared=False,
        name=DELIVER_CALLBACK.task,
        bind=True,
        # Retries after a failed POST are scheduled below and bounded by the delivery's own
        # count of attempts, so Celery sets no limit; its automatic retry only waits out a
        # database that cannot be reached, where the delivery is kept.
        max_retries=None,
        autoretry_for=(OperationalError,),
        retry_backoff=True,
        retry_backoff_max=300,
        retry_jitter=True,
    )
    def deliver_callback(self: Task[Any, Any], message: dict[str, Any]) -> str:
        """POST one status change to its agency's callback URL; retry later if that may help."""
        try:
            delivery_id = DELIVER_CALLBACK.load(message)["delivery_id"]
        except ValidationError as exc:
            log.error("dropping malformed deliver_callback message: %s", exc.messages)
            return "malformed"
        result = delivery.deliver(
            db=runtime.db,
            clock=runtime.clock,
            delivery_id=delivery_id,
            allow_private=runtime.rules.callbacks_allow_private,
        )
        if result.retry_in is not None:
            raise self.retry(countdown=result.retry_in)
        return result.status
