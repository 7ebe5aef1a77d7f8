"""Intake: the partner-facing API that accepts, stores, routes and tracks reports."""

from __future__ import annotations

from flask import Flask

from services.common.clock import Clock
from services.common.config import Settings
from services.common.logging import configure_logging
from services.common.runtime import create_api_app


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The intake API (gunicorn: `services.intake:create_app()`)."""
    from services.intake import runtime as intake_runtime
    from services.intake.views import blp

    if settings is None:
        configure_logging("intake-api")
    runtime = intake_runtime.build(settings, clock)
    return create_api_app(
        runtime,
        title="Fengqiao intake",
        description="Partner agencies submit reports and follow their status.",
        blueprints=[blp],
        security_schemes={"agencyKey": {"type": "http", "scheme": "bearer"}},
    )
