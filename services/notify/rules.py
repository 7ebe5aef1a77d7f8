"""SMS rules with numbers (BRIEF), each overridable from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from environs import Env


@dataclass(frozen=True)
class NotifyRules:
    quiet_from: time = time(21, 0)  # no non-urgent SMS from 21:00 …
    quiet_until: time = time(8, 0)  # … to 08:00, station time; deferred, not dropped
    per_minute: int = 1  # to one number
    per_hour: int = 5
    per_day: int = 10
    max_attempts: int = 8  # provider calls for one message before it fails for good
    first_retry: timedelta = timedelta(seconds=30)  # doubling after each attempt …
    longest_retry: timedelta = timedelta(hours=1)  # … up to this
    stuck_sending_after: timedelta = timedelta(minutes=5)  # then the provider is asked
    redispatch_after: timedelta = timedelta(minutes=1)  # a due message nobody picked up


def load_rules(env: Env | None = None) -> NotifyRules:
    """The rules from the environment."""
    env = env or Env()
    return NotifyRules(
        quiet_from=time.fromisoformat(env.str("NOTIFY_QUIET_FROM", "21:00")),
        quiet_until=time.fromisoformat(env.str("NOTIFY_QUIET_UNTIL", "08:00")),
        per_minute=env.int("NOTIFY_PER_NUMBER_MINUTE", 1),
        per_hour=env.int("NOTIFY_PER_NUMBER_HOUR", 5),
        per_day=env.int("NOTIFY_PER_NUMBER_DAY", 10),
        max_attempts=env.int("NOTIFY_MAX_ATTEMPTS", 8),
    )
