"""Notify: SMS with signature, segments, quiet hours, limits, opt-out; never sent twice."""

from __future__ import annotations

from flask import Flask

from services.common.clock import Clock
from services.common.config import Settings
from services.common.logging import configure_logging
from services.common.runtime import create_api_app


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The notify staff API (gunicorn: `services.notify:create_app()`)."""
    from services.notify import runtime as notify_runtime

    if settings is None:
        configure_logging("notify-api")
    return create_api_app(
        notify_runtime.build(settings, clock),
        title="Fengqiao notify",
        description="SMS to residents, officers and staff, each sent once.",
        blueprints=[],
    )
