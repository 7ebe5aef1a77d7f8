"""What the adapters of HTTP providers share: one client, a clock for signing, the endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from services.common.clock import Clock, SystemClock
from services.notify.providers.base import SmsProvider

# Connecting fails fast (then nothing was sent); an answer may take a while to come.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class HttpSmsProvider(SmsProvider):
    """An adapter that calls the provider's HTTP API at `endpoint`."""

    def __init__(
        self, endpoint: str, *, client: httpx.Client | None = None, clock: Clock | None = None
    ) -> None:
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self.clock = clock or SystemClock()
        self._base = endpoint.rstrip("/")
        self._host = urlsplit(self._base).netloc

    def close(self) -> None:
        """Close the HTTP client if this provider made it."""
        if self._own_client:
            self.client.close()
