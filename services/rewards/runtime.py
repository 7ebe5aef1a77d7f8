"""Rewards' process wiring."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.runtime import Runtime, build_runtime
from services.rewards.ledger.payouts import FinanceOfficeOrders, PayoutAdapter
from services.rewards.models import DeadLetter, OutboxMessage, ProcessedMessage
from services.rewards.rules import RewardRules, load_rules


@dataclass
class RewardsRuntime(Runtime):
    rules: RewardRules = field(default_factory=load_rules)
    payouts: PayoutAdapter = field(default_factory=FinanceOfficeOrders)


def build(settings: Settings | None = None, clock: Clock | None = None) -> RewardsRuntime:
    """Rewards' runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        RewardsRuntime,
        settings=settings or load_settings("rewards"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
        clock=clock,
    )
