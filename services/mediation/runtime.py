"""Mediation's process wiring."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.runtime import Runtime, build_runtime
from services.mediation.models import DeadLetter, OutboxMessage, ProcessedMessage
from services.mediation.rules import MediationRules, load_rules


@dataclass
class MediationRuntime(Runtime):
    rules: MediationRules = field(default_factory=load_rules)


def build(settings: Settings | None = None, clock: Clock | None = None) -> MediationRuntime:
    """Mediation's runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        MediationRuntime,
        settings=settings or load_settings("mediation"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
        clock=clock,
    )
