"""Intake: the partner-facing API that accepts, stores, routes and tracks reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.clock import Clock
from services.common.config import Settings
from services.common.runtime import create_service_app

if TYPE_CHECKING:  # a worker imports this package too, and needs no Flask
    from flask import Flask


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The intake API (gunicorn: `services.intake:create_app()`)."""
    from services.intake import runtime
    from services.intake.callbacks.views import blp as callback_blp
    from services.intake.open311.views import blp as open311_blp
    from services.intake.tracking.views import blp as lookup_blp
    from services.intake.views import blp

    return create_service_app(
        runtime.build_for_api,
        settings=settings,
        clock=clock,
        title="Fengqiao intake",
        description="Partner agencies submit reports and follow their status; residents look"
        " up their own report by its tracking code.",
        blueprints=[blp, callback_blp, open311_blp, lookup_blp],
        security_schemes={"agencyKey": {"type": "http", "scheme": "bearer"}},
        # Reports are stored with their messages in the outbox: accepted without a broker.
        broker_optional=True,
    )
