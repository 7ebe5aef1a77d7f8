"""Reward rules (BRIEF: rules with numbers); brave-act rules differ by province: all config."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from environs import Env


@dataclass(frozen=True)
class RewardRules:
    envelope_cny: dict[str, int] = field(
        default_factory=lambda: {"low": 5, "medium": 10, "high": 20}
    )
    duplicate_window: timedelta = timedelta(days=30)
    envelopes_per_reporter_month: int = 10
    cny_per_reporter_month: int = 100
    decision_window: timedelta = timedelta(days=30)  # a nomination is decided within 30 days


def load_rules(env: Env | None = None) -> RewardRules:
    """The rules, each overridable from the environment."""
    env = env or Env()
    return RewardRules(
        envelope_cny={
            "low": env.int("REWARDS_ENVELOPE_LOW_CNY", 5),
            "medium": env.int("REWARDS_ENVELOPE_MEDIUM_CNY", 10),
            "high": env.int("REWARDS_ENVELOPE_HIGH_CNY", 20),
        },
        duplicate_window=timedelta(days=env.int("REWARDS_DUPLICATE_WINDOW_DAYS", 30)),
        envelopes_per_reporter_month=env.int("REWARDS_ENVELOPES_PER_MONTH", 10),
        cny_per_reporter_month=env.int("REWARDS_CNY_PER_MONTH", 100),
        decision_window=timedelta(days=env.int("REWARDS_DECISION_DAYS", 30)),
    )
