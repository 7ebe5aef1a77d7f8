"""Reward rules (BRIEF: rules with numbers); brave-act rules differ by province: all config.

Money is in fen (1 CNY = 100 fen). Each rule can be overridden from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from environs import Env

# Brave-act award tiers in fen. The seed year: 11 people, 4,000 CNY in all.
AWARD_TIERS_FEN = {"commendation": 20_000, "merit": 50_000, "outstanding": 100_000}


@dataclass(frozen=True)
class RewardRules:
    # A grid red envelope by verified severity: 5 / 10 / 20 CNY.
    envelope_fen: dict[str, int] = field(
        default_factory=lambda: {"low": 500, "medium": 1000, "high": 2000}
    )
    duplicate_window: timedelta = timedelta(days=30)
    envelopes_per_reporter_month: int = 10
    fen_per_reporter_month: int = 10_000  # 100 CNY
    # A month without a budget grant gets this one (granted in the ledger by "system").
    monthly_budget_fen: int = 50_000  # 500 CNY
    decision_window: timedelta = timedelta(days=30)  # a nomination is decided within 30 days
    # Brave acts (见义勇为): the province's rules, so all of it is configuration.
    nomination_window: timedelta = timedelta(days=365)  # nominated within a year of the act
    decision_extension: timedelta = timedelta(days=30)  # the decision may be extended once
    public_notice: timedelta = timedelta(days=7)  # 公示, objections may be filed meanwhile
    appeal_window: timedelta = timedelta(days=15)  # 复核 asked within 15 days of the decision
    appeal_decision: timedelta = timedelta(days=30)  # and decided within 30
    award_tiers_fen: dict[str, int] = field(default_factory=lambda: dict(AWARD_TIERS_FEN))


def load_rules(env: Env | None = None) -> RewardRules:
    """The rules, each overridable from the environment."""
    env = env or Env()
    return RewardRules(
        envelope_fen={
            "low": env.int("REWARDS_ENVELOPE_LOW_FEN", 500),
            "medium": env.int("REWARDS_ENVELOPE_MEDIUM_FEN", 1000),
            "high": env.int("REWARDS_ENVELOPE_HIGH_FEN", 2000),
        },
        duplicate_window=timedelta(days=env.int("REWARDS_DUPLICATE_WINDOW_DAYS", 30)),
        envelopes_per_reporter_month=env.int("REWARDS_ENVELOPES_PER_MONTH", 10),
        fen_per_reporter_month=env.int("REWARDS_FEN_PER_REPORTER_MONTH", 10_000),
        monthly_budget_fen=env.int("REWARDS_MONTHLY_BUDGET_FEN", 50_000),
        decision_window=timedelta(days=env.int("REWARDS_DECISION_DAYS", 30)),
        nomination_window=timedelta(days=env.int("REWARDS_NOMINATION_WINDOW_DAYS", 365)),
        decision_extension=timedelta(days=env.int("REWARDS_DECISION_EXTENSION_DAYS", 30)),
        public_notice=timedelta(days=env.int("REWARDS_PUBLIC_NOTICE_DAYS", 7)),
        appeal_window=timedelta(days=env.int("REWARDS_APPEAL_WINDOW_DAYS", 15)),
        appeal_decision=timedelta(days=env.int("REWARDS_APPEAL_DECISION_DAYS", 30)),
        award_tiers_fen={
            tier: env.int(f"REWARDS_AWARD_{tier.upper()}_FEN", fen)
            for tier, fen in AWARD_TIERS_FEN.items()
        },
    )
