"""Rewards: grid red envelopes, brave-act awards and good-neighbour honours."""

from __future__ import annotations

from flask import Flask

from services.common.clock import Clock
from services.common.config import Settings
from services.common.logging import configure_logging
from services.common.runtime import create_api_app


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The rewards staff API (gunicorn: `services.rewards:create_app()`)."""
    from services.rewards import runtime as rewards_runtime

    if settings is None:
        configure_logging("rewards-api")
    return create_api_app(
        rewards_runtime.build(settings, clock),
        title="Fengqiao rewards",
        description="Grid red envelopes, brave-act awards and good-neighbour honours.",
        blueprints=[],
    )
