"""Intake's process wiring."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select

from services.common.clock import Clock
from services.common.config import Settings, load_settings
from services.common.db import Database
from services.common.runtime import Runtime, build_runtime
from services.intake.models import DeadLetter, OutboxMessage, ProcessedMessage, Village
from services.intake.ratelimit import OnFirstUse, rate_limiter
from services.intake.rules import IntakeRules, load_rules


class BeatMap:
    """The villages the station knows, cached briefly (the map changes rarely)."""

    def __init__(self, db: Database, ttl_seconds: float = 60.0) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._codes: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def knows(self, code: str) -> bool:
        """Whether `code` is a village on the beat map."""
        with self._lock:
            age = time.monotonic() - self._loaded_at
            # A miss may be a village added a moment ago: reload, but not on every bad request.
            if age > self._ttl or (code not in self._codes and age > 5.0):
                with self._db.sessions() as session:
                    self._codes = frozenset(session.scalars(select(Village.code)))
                self._loaded_at = time.monotonic()
            return code in self._codes


@dataclass
class IntakeRuntime(Runtime):
    rules: IntakeRules = field(default_factory=load_rules)
    beat_map: BeatMap = field(init=False)
    # Each built on its first use: the worker limits only residents' SMS questions, a rare
    # path, and need not hold the `limits` library before one comes (`build_limiters`).
    rate_limiter: OnFirstUse = field(init=False)
    # Residents' lookups by 查询码 (per client address, per code) and SMS answers per number.
    lookup_address_limiter: OnFirstUse = field(init=False)
    lookup_code_limiter: OnFirstUse = field(init=False)
    status_answer_limiter: OnFirstUse = field(init=False)

    def __post_init__(self) -> None:
        self.beat_map = BeatMap(self.db)
        rules = self.rules
        self.rate_limiter = self._on_first_use(rules.rate_limit)
        self.lookup_address_limiter = self._on_first_use(rules.lookup_address_limit)
        self.lookup_code_limiter = self._on_first_use(rules.lookup_code_limit)
        self.status_answer_limiter = self._on_first_use(rules.status_answer_limit)

    def _on_first_use(self, rule: str) -> OnFirstUse:
        redis_url = self.settings.redis_url
        return OnFirstUse(partial(rate_limiter, rule, redis_url=redis_url, db=self.db))

    def build_limiters(self) -> None:
        """Build every limiter now, parsing each rule: a bad one stops the start.

        The API does this as it starts, since it limits every request.
        """
        for limiter in (
            self.rate_limiter,
            self.lookup_address_limiter,
            self.lookup_code_limiter,
            self.status_answer_limiter,
        ):
            limiter.limiter()


def build_for_api(settings: Settings | None = None, clock: Clock | None = None) -> IntakeRuntime:
    """Intake's runtime for its API: the limiters built at once (each request is limited)."""
    runtime = build(settings, clock)
    runtime.build_limiters()
    return runtime


def build(settings: Settings | None = None, clock: Clock | None = None) -> IntakeRuntime:
    """Intake's runtime from the environment (or the settings a test hands in)."""
    return build_runtime(
        IntakeRuntime,
        settings=settings or load_settings("intake"),
        outbox=OutboxMessage,
        processed=ProcessedMessage,
        dead_letters=DeadLetter,
        clock=clock,
    )
