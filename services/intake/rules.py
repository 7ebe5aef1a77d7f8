"""Intake's rules with numbers (API.md, BRIEF), each overridable from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from environs import Env


@dataclass(frozen=True)
class IntakeRules:
    rate_limit: str = "120/minute"  # per agency, across every intake process
    idempotency_ttl: timedelta = timedelta(hours=24)  # keys are kept at least this long
    # A first request in flight renews its lock this often (a third of it); a lock older
    # than this belongs to a request that died.
    idempotency_lease: timedelta = timedelta(seconds=5)
    duplicate_window: timedelta = timedelta(days=30)  # the same hazard again within it
    duplicate_radius_m: float = 50.0  # "the same place" when coordinates are given
    # Callbacks to private, loopback or link-local addresses: for tests and closed networks.
    callbacks_allow_private: bool = False


def load_rules(env: Env | None = None) -> IntakeRules:
    """The rules from the environment."""
    env = env or Env()
    return IntakeRules(
        rate_limit=env.str("INTAKE_RATE_LIMIT", "120/minute"),
        idempotency_ttl=timedelta(hours=env.float("INTAKE_IDEMPOTENCY_TTL_HOURS", 24)),
        idempotency_lease=timedelta(seconds=env.float("INTAKE_IDEMPOTENCY_LEASE_SECONDS", 5)),
        duplicate_window=timedelta(days=env.float("INTAKE_DUPLICATE_WINDOW_DAYS", 30)),
        duplicate_radius_m=env.float("INTAKE_DUPLICATE_RADIUS_M", 50.0),
        callbacks_allow_private=env.bool("INTAKE_CALLBACKS_ALLOW_PRIVATE", False),
    )
