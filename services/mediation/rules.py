"""The closed loop's deadlines (BRIEF: rules with numbers), configurable per station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from environs import Env


@dataclass(frozen=True)
class MediationRules:
    acceptance: timedelta = timedelta(hours=24)  # 首问负责: the owner accepts within 24 h
    local_window: timedelta = timedelta(days=7)  # then it escalates to a desk
    follow_up_after: timedelta = timedelta(days=7)  # 回访 after resolution
    rebound_window: timedelta = timedelta(days=180)  # 反弹: same parties again


def load_rules(env: Env | None = None) -> MediationRules:
    """The rules, each overridable from the environment."""
    env = env or Env()
    return MediationRules(
        acceptance=timedelta(hours=env.float("MEDIATION_ACCEPTANCE_HOURS", 24)),
        local_window=timedelta(days=env.float("MEDIATION_LOCAL_WINDOW_DAYS", 7)),
        follow_up_after=timedelta(days=env.float("MEDIATION_FOLLOW_UP_DAYS", 7)),
        rebound_window=timedelta(days=env.float("MEDIATION_REBOUND_DAYS", 180)),
    )
