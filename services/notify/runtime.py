"""Notify's process wiring: providers (with failover), per-number limits, rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from environs import Env

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.runtime import Runtime, build_runtime
from services.common.station import load_station
from services.notify.delivery import Deliverer
from services.notify.failover import ProviderRouter
from services.notify.models import DeadLetter, OutboxMessage, ProcessedMessage
from services.notify.providers import provider_named
from services.notify.providers.base import SmsProvider
from services.notify.recipient_limits import recipient_limiter
from services.notify.rules import NotifyRules, load_rules


def configured_providers(env: Env) -> list[tuple[SmsProvider, int]]:
    """`SMS_PROVIDERS=aliyun:3,tencent:1` (weights), or one `SMS_PROVIDER` (default log)."""
    spec = env.str("SMS_PROVIDERS", "") or env.str("SMS_PROVIDER", "log")
    routes = []
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        routes.append((provider_named(name), int(weight or 1)))
    return routes


@dataclass
class NotifyRuntime(Runtime):
    rules: NotifyRules = field(default_factory=load_rules)
    signature: str = field(init=False)
    deliverer: Deliverer = field(init=False)

    def __post_init__(self) -> None:
        self.signature = load_station(self.settings.station_file).sms_signature
        self.deliverer = Deliverer(
            db=self.db,
            messaging=self.messaging,
            router=ProviderRouter(configured_providers(Env())),
            limiter=recipient_limiter(self.rules, redis_url=self.settings.redis_url),
            rules=self.rules,
            clock=self.clock,
        )


def build(settings: Settings | None = None, clock: Clock | None = None) -> NotifyRuntime:
    """Notify's runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        NotifyRuntime,
        settings=settings or load_settings("notify"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
        clock=clock,
    )
