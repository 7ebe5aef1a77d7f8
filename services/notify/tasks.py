"""Notify's Celery tasks: thin wrappers that hand each message to `service.py`/`delivery.py`."""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.common.celery_app import DATABASE_AWAY_RETRY_SECONDS
from services.common.contracts import SEND_SMS
from services.notify import delivery, service
from services.notify.runtime import NotifyRuntime

log = logging.getLogger(__name__)


def register(runtime: NotifyRuntime) -> None:
    """Register notify's consumers on its Celery app."""
    messaging = runtime.messaging

    # Its id claimed at the commit: every effect is in the transaction, and the usual
    # request is then one statement (the read before it needs no transaction).
    @messaging.consumer(SEND_SMS, claim_at_commit=True)
    def send_sms(session: Session, message: dict[str, Any]) -> None:
        """Another service asks for an SMS: record it once, queue it or let it wait."""
        service.accept_request(
            session,
            request=message,
            signature=runtime.signature,
            messaging=messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )

    # A failed try is rescheduled in the database (`due_at`), and a lost task is found
    # again by `dispatch_due` (after a minute). Celery's own retry only waits out a
    # database that cannot be reached, so a PostgreSQL restart delays no SMS by a minute;
    # a message already claimed is skipped by the retry, never sent twice.
    @runtime.celery.task(
        shared=False,
        name=delivery.DELIVER_SMS.task,
        autoretry_for=(OperationalError,),
        retry_backoff=True,
        retry_backoff_max=DATABASE_AWAY_RETRY_SECONDS,
        default_retry_delay=DATABASE_AWAY_RETRY_SECONDS,
        retry_jitter=True,
        max_retries=None,
    )
    def deliver_sms(message: dict[str, Any]) -> str:
        """Hand one recorded SMS to a provider, at most once."""
        try:
            sms_id = delivery.DELIVER_SMS.load(message)["sms_id"]
        except ValidationError as exc:
            messaging.park(task=delivery.DELIVER_SMS.task, message=message, error=exc, attempts=1)
            log.error("parked malformed deliver_sms message: %s", exc.messages)
            return "parked"
        return delivery.deliver(runtime.deliverer, sms_id)
