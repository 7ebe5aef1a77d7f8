"""Intake's rules with numbers (API.md, BRIEF), each overridable from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

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
    # Residents' lookups by 查询码 (decision record 0025): every lookup from one client
    # address counts; wrong answers count per code, and once over, that code is refused
    # (the right pair too) until the window moves on.
    lookup_address_limit: str = "10/minute;100/day"
    lookup_code_limit: str = "5/hour;20/month"
    # Proxies in front of intake (the console counts as one) that each append the address
    # they saw to X-Forwarded-For; 0: the direct peer is the client.
    trusted_proxies: int = 0
    # Where residents reach the tracking page (`…/track?code=`); None: no link in the SMS.
    public_base_url: str | None = None
    # Answers to a resident's SMS question: at most this many per number, and whether they
    # go out during quiet hours (urgent) or wait until they end.
    status_answer_limit: str = "3/day"
    status_answers_urgent: bool = False


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
        lookup_address_limit=env.str("INTAKE_LOOKUP_ADDRESS_LIMIT", "10/minute;100/day"),
        lookup_code_limit=env.str("INTAKE_LOOKUP_CODE_LIMIT", "5/hour;20/month"),
        trusted_proxies=env.int("INTAKE_TRUSTED_PROXIES", 0),
        public_base_url=public_base_url(env.str("PUBLIC_BASE_URL", "")),
        status_answer_limit=env.str("INTAKE_STATUS_ANSWER_LIMIT", "3/day"),
        status_answers_urgent=env.bool("INTAKE_STATUS_ANSWERS_URGENT", False),
    )


def public_base_url(raw: str) -> str | None:
    """The station's public address without a trailing slash; None if unset."""
    url = raw.strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"PUBLIC_BASE_URL must be an http(s) address like https://host, not {raw!r}"
        )
    return url
