"""Mediation: the closed loop 首接 → 本地化解 (联动调处) → 回访 for disputes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.clock import Clock
from services.common.config import Settings
from services.common.runtime import create_service_app

if TYPE_CHECKING:  # a worker imports this package too, and needs no Flask
    from flask import Flask
    from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    """The staff API's blueprints, one line per domain."""
    from services.mediation.cases.views import blp as cases
    from services.mediation.cases.views import stats_blp as stats
    from services.mediation.desks.views import calendar, desks
    from services.mediation.roster.views import blp as roster

    return [
        cases,
        roster,
        stats,
        desks,
        calendar,
    ]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """The mediation staff API (gunicorn: `services.mediation:create_app()`)."""
    from services.mediation import runtime
    from services.mediation.roster.service import DatabaseDirectory

    app = create_service_app(
        runtime.build,
        settings=settings,
        clock=clock,
        title="Fengqiao mediation",
        description="Dispute cases from first contact to follow-up visit.",
        blueprints=blueprints(),
        security_schemes={"staffToken": {"type": "http", "scheme": "bearer"}},
    )
    # Mediation keeps the station's roster: staff tokens are checked against its database.
    app.extensions["staff_directory"] = DatabaseDirectory(lambda: app.extensions["fengqiao"].db)
    return app
