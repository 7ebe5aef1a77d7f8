"""Mediation: the closed loop 首接 → 本地化解 (联动调处) → 回访 for disputes."""

from __future__ import annotations

from flask import Flask

from services.common.clock import Clock
from services.common.config import Settings
from services.common.logging import configure_logging
from services.common.runtime import create_api_app


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The mediation staff API (gunicorn: `services.mediation:create_app()`)."""
    from services.mediation import runtime as mediation_runtime

    if settings is None:
        configure_logging("mediation-api")
    return create_api_app(
        mediation_runtime.build(settings, clock),
        title="Fengqiao mediation",
        description="Dispute cases from first contact to follow-up visit.",
        blueprints=[],
    )
