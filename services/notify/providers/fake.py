"""A provider for load tests: sends nothing and answers after a set delay, as an HTTP API does.

`SMS_PROVIDER=fake` with `SMS_FAKE_DELAY_MS` (default 50, a provider's round trip from a
Chinese data centre) lets real worker processes be measured without a provider account:
the worker waits on it as it would on Aliyun or Tencent, holding no CPU.
"""

from __future__ import annotations

import logging
import time

from environs import Env

from services.notify.providers.base import Accepted, OutgoingSms, SmsProvider

log = logging.getLogger(__name__)

DEFAULT_DELAY_MS = 50


class FakeProvider(SmsProvider):
    name = "fake"

    def __init__(self, delay_seconds: float = DEFAULT_DELAY_MS / 1000) -> None:
        if delay_seconds < 0:
            raise ValueError("the fake provider's delay cannot be negative")
        self.delay_seconds = delay_seconds

    @classmethod
    def from_env(cls, env: Env) -> FakeProvider:
        return cls(env.float("SMS_FAKE_DELAY_MS", DEFAULT_DELAY_MS) / 1000)

    def send(self, sms: OutgoingSms) -> Accepted:
        time.sleep(self.delay_seconds)
        log.debug("fake SMS %s accepted after %.3f s", sms.id, self.delay_seconds)
        return Accepted(provider_ref=f"fake-{sms.id}")
