"""Rewards: grid red envelopes, brave-act awards and good-neighbour honours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.clock import Clock
from services.common.config import Settings
from services.common.runtime import create_service_app

if TYPE_CHECKING:  # a worker imports this package too, and needs no Flask
    from flask import Flask

    from services.common.blueprint import Blueprint


def blueprints() -> list[Blueprint]:
    """Every part of the rewards API; a new part adds its blueprint here."""
    from services.rewards.claims.views import blp as claims
    from services.rewards.ledger.views import blp as ledger
    from services.rewards.nominations.views import blp as nominations
    from services.rewards.stats.views import blp as stats

    return [claims, ledger, nominations, stats]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The rewards staff API (gunicorn: `services.rewards:create_app()`)."""
    from services.rewards import runtime

    return create_service_app(
        runtime.build,
        settings=settings,
        clock=clock,
        title="Fengqiao rewards",
        description="Grid red envelopes, brave-act awards and good-neighbour honours.",
        blueprints=blueprints(),
        security_schemes={"staffToken": {"type": "http", "scheme": "bearer"}},
    )
