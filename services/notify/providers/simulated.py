"""The provider for messages asked for with a test key: recorded as sent, never sent."""

from __future__ import annotations

import logging
import uuid

from services.notify.providers.base import Accepted, SmsProvider

log = logging.getLogger(__name__)


class SimulatedProvider(SmsProvider):
    name = "simulated"

    def send(self, *, message_id: uuid.UUID, recipient: str, text: str) -> Accepted:
        log.info("test SMS %s to %s not sent: %s", message_id, recipient, text)
        return Accepted(provider_ref=f"simulated-{message_id}")
