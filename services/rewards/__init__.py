"""Rewards: grid red envelopes, brave-act awards and good-neighbour honours."""

from __future__ import annotations

from flask import Flask

from services.common.clock import Clock
from services.common.config import Settings
from services.common.runtime import create_service_app


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The rewards staff API (gunicorn: `services.rewards:create_app()`)."""
    from services.rewards import runtime
    from services.rewards.nominations.views import blp as nominations

    return create_service_app(
        runtime.build,
        settings=settings,
        clock=clock,
        title="Fengqiao rewards",
        description="Grid red envelopes, brave-act awards and good-neighbour honours.",
        blueprints=[
            nominations,
        ],
        security_schemes={"staffToken": {"type": "http", "scheme": "bearer"}},
    )
