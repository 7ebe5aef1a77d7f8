"""Notify's Celery tasks: thin wrappers that hand each message to `service.py`."""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from services.common.contracts import SEND_SMS
from services.notify import service
from services.notify.providers.base import TemporaryFailure
from services.notify.runtime import NotifyRuntime

log = logging.getLogger(__name__)


def register(runtime: NotifyRuntime) -> None:
    """Register notify's consumers on its Celery app."""
    messaging = runtime.messaging

    @messaging.consumer(SEND_SMS)
    def send_sms(session: Session, message: dict[str, Any]) -> None:
        """Another service asks for an SMS: record it once, queue its delivery."""
        service.accept_request(
            session,
            request=message,
            signature=runtime.signature,
            messaging=messaging,
            now=runtime.clock.now(),
        )

    @runtime.celery.task(
        shared=False,
        name=service.DELIVER_SMS.task,
        autoretry_for=(TemporaryFailure,),
        retry_backoff=True,
        retry_backoff_max=600,
        max_retries=8,
    )
    def deliver_sms(message: dict[str, Any]) -> str:
        """Hand one recorded SMS to the provider, at most once."""
        try:
            sms_id = service.DELIVER_SMS.load(message)["sms_id"]
        except ValidationError as exc:
            log.error("dropping malformed deliver_sms message: %s", exc.messages)
            return "malformed"
        return service.deliver(
            db=runtime.db,
            messaging=messaging,
            provider=runtime.provider,
            signature=runtime.signature,
            sms_id=sms_id,
            now=runtime.clock.now(),
        )
