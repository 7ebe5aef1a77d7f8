"""Notify: SMS with signature, segments, quiet hours, limits, opt-out; never sent twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.clock import Clock
from services.common.config import Settings
from services.common.runtime import create_service_app

if TYPE_CHECKING:  # a worker imports this package too, and needs no Flask
    from flask import Flask


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The notify staff API (gunicorn: `services.notify:create_app()`)."""
    from services.notify import runtime
    from services.notify.views import ops, webhooks

    return create_service_app(
        runtime.build,
        settings=settings,
        clock=clock,
        title="Fengqiao notify",
        description="SMS to residents, officers and staff, each sent once.",
        blueprints=[ops, webhooks],
        security_schemes={"staffToken": {"type": "http", "scheme": "bearer"}},
    )
