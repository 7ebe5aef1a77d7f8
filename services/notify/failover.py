"""Weighted choice between SMS providers that moves traffic away from one that is failing.

Each worker process keeps the outcomes of its last calls to each provider. A provider whose
recent error rate passes the threshold rests for a while and gets no traffic, unless every
provider is resting (then the weights alone decide: sending late beats not sending).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from services.notify.providers.base import SmsProvider

WINDOW = 20  # recent calls remembered per provider
MIN_CALLS = 5  # fewer than this says nothing about a provider's health
ERROR_RATE = 0.5  # at or above this, a provider rests
REST_SECONDS = 60.0


@dataclass
class Route:
    provider: SmsProvider
    weight: int
    outcomes: deque[bool] = field(default_factory=lambda: deque(maxlen=WINDOW))
    resting_until: float = 0.0

    @property
    def error_rate(self) -> float:
        if len(self.outcomes) < MIN_CALLS:
            return 0.0
        return self.outcomes.count(False) / len(self.outcomes)


class ProviderRouter:
    """Picks a provider for each message and learns from each outcome."""

    def __init__(
        self,
        routes: list[tuple[SmsProvider, int]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not routes or any(weight < 0 for _, weight in routes):
            raise ValueError("at least one provider, with weights of 0 or more")
        self.routes = {p.name: Route(p, weight) for p, weight in routes}
        self.monotonic = monotonic
        self.rng = rng or random.Random()  # noqa: S311 (load spreading, not secrecy)
        self.lock = threading.Lock()

    def choose(self) -> SmsProvider:
        """A provider, by weight among those not resting."""
        with self.lock:
            now = self.monotonic()
            awake = [r for r in self.routes.values() if r.resting_until <= now and r.weight > 0]
            pool = awake or [r for r in self.routes.values() if r.weight > 0]
            if not pool:
                pool = list(self.routes.values())
            chosen = self.rng.choices(pool, weights=[max(r.weight, 1) for r in pool])[0]
            return chosen.provider

    def record(self, provider_name: str, *, ok: bool) -> None:
        """Learn from one call; a provider failing too often rests."""
        with self.lock:
            route = self.routes.get(provider_name)
            if route is None:  # e.g. the simulated provider of test keys
                return
            route.outcomes.append(ok)
            if route.error_rate >= ERROR_RATE and len(self.routes) > 1:
                route.resting_until = self.monotonic() + REST_SECONDS
                route.outcomes.clear()  # judge it afresh when it is back
