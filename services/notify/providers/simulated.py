"""The provider for messages asked for with a test key: recorded as sent, never sent."""

from __future__ import annotations

import logging

from services.notify.providers.base import Accepted, OutgoingSms, SmsProvider

log = logging.getLogger(__name__)


class SimulatedProvider(SmsProvider):
    name = "simulated"

    def send(self, sms: OutgoingSms) -> Accepted:
        log.info("test SMS %s to %s not sent: %s", sms.id, sms.recipient, sms.text)
        return Accepted(provider_ref=f"simulated-{sms.id}")
