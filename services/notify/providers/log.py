"""The default provider: writes the rendered SMS to the log (number masked) and sends nothing."""

from __future__ import annotations

import logging
import uuid

from services.notify.providers.base import Accepted, SmsProvider

log = logging.getLogger(__name__)


class LogProvider(SmsProvider):
    name = "log"

    def send(self, *, message_id: uuid.UUID, recipient: str, text: str) -> Accepted:
        log.info("SMS %s to %s: %s", message_id, recipient, text)
        return Accepted(provider_ref=f"log-{message_id}")
