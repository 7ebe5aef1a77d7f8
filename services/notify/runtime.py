"""Notify's process wiring."""

from __future__ import annotations

from dataclasses import dataclass, field

from environs import Env

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.runtime import Runtime, build_runtime
from services.common.station import load_station
from services.notify.models import OutboxMessage, ProcessedMessage
from services.notify.providers import provider_named
from services.notify.providers.base import SmsProvider


@dataclass
class NotifyRuntime(Runtime):
    signature: str = field(init=False)
    provider: SmsProvider = field(init=False)

    def __post_init__(self) -> None:
        self.signature = load_station(self.settings.station_file).sms_signature
        self.provider = provider_named(Env().str("SMS_PROVIDER", "log"))


def build(settings: Settings | None = None, clock: Clock | None = None) -> NotifyRuntime:
    """Notify's runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        NotifyRuntime,
        settings=settings or load_settings("notify"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        clock=clock,
    )
