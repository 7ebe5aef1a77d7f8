"""The default provider: writes the rendered SMS to the log (number masked) and sends nothing."""

from __future__ import annotations

import logging

from services.notify.providers.base import Accepted, OutgoingSms, SmsProvider

log = logging.getLogger(__name__)


class LogProvider(SmsProvider):
    name = "log"

    def send(self, sms: OutgoingSms) -> Accepted:
        log.info("SMS %s to %s: %s", sms.id, sms.recipient, sms.text)
        return Accepted(provider_ref=f"log-{sms.id}")
