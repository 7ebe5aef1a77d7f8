"""What one service process holds: settings, clock, database, Celery app and messaging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from celery import Celery

from services.common.celery_app import create_celery
from services.common.clock import Clock, SystemClock
from services.common.config import Settings
from services.common.db import Database
from services.common.logging import configure_logging
from services.common.messaging import (
    DeadLetterMixin,
    Messaging,
    OutboxMixin,
    ProcessedMessageMixin,
)

# Flask and flask-smorest are imported where an API is built: a worker builds a `Runtime`
# and no app, and need not hold them (docs/capacity.md, memory).
if TYPE_CHECKING:
    from flask import Flask, Response
    from flask_smorest import Blueprint

MAX_BODY_BYTES = 64 * 1024


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    celery: Celery
    messaging: Messaging

    @property
    def service(self) -> str:
        return self.settings.service

    def readiness_notes(self) -> dict[str, str]:
        """Things /readyz reports worth a look, never a reason to be unready (per service)."""
        return {}


R = TypeVar("R", bound=Runtime)


def build_runtime(
    runtime_class: type[R],
    *,
    settings: Settings,
    outbox: type[OutboxMixin],
    processed: type[ProcessedMessageMixin],
    dead_letters: type[DeadLetterMixin],
    clock: Clock | None = None,
) -> R:
    """Wire one service's infrastructure from its settings."""
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    celery = create_celery(settings)
    messaging = Messaging(
        service=settings.service,
        db=db,
        celery=celery,
        clock=clock,
        outbox=outbox,
        processed=processed,
        dead_letters=dead_letters,
        max_retries=settings.message_max_retries,
        retention=timedelta(hours=settings.message_retention_hours),
    )
    return runtime_class(settings=settings, clock=clock, db=db, celery=celery, messaging=messaging)


def create_api_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    blueprints: list[Blueprint],
    security_schemes: dict[str, dict[str, str]] | None = None,
    broker_optional: bool = False,
) -> Flask:
    """A Flask app with its OpenAPI document at /v1/openapi.json and the health probes.

    `broker_optional`: the service keeps its promises while the broker is away (its outbox
    holds the messages), so its readiness does not fail on the broker alone.
    """
    from apispec.ext.marshmallow import MarshmallowPlugin
    from flask import Flask

    from services.common.flask_json import GuardedJSONProvider
    from services.common.health import health_blueprint
    from services.common.http_errors import Api, register_error_handlers
    from services.common.outages import register_outage_handler

    spec_options: dict[str, Any] = {"info": {"description": description}}
    if security_schemes:
        spec_options["components"] = {"securitySchemes": security_schemes}
        spec_options["security"] = [{name: []} for name in security_schemes]
    app = Flask(f"services.{runtime.service}")
    app.json = GuardedJSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=spec_options,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    # Validation errors key list items by index (int) beside field names (str): sorting
    # such keys would fail, so keep the schema's order instead.
    app.json.sort_keys = False
    api = Api(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin()})
    api.register_blueprint(
        health_blueprint(
            service=runtime.service,
            db=runtime.db,
            celery=runtime.celery,
            dead_letters=runtime.messaging.waiting_dead_letters,
            notes=runtime.readiness_notes,
            broker_optional=broker_optional,
        )
    )
    for blp in blueprints:
        api.register_blueprint(blp)
    register_error_handlers(app)
    register_outage_handler(app)
    app.extensions["fengqiao"] = runtime
    return app


def create_service_app(
    build: Callable[[Settings | None, Clock | None], Runtime],
    *,
    settings: Settings | None,
    clock: Clock | None,
    title: str,
    description: str,
    blueprints: list[Blueprint] | None = None,
    security_schemes: dict[str, dict[str, str]] | None = None,
    broker_optional: bool = False,
) -> Flask:
    """A service's API app; built from the environment (settings None) it also sets up logging."""
    runtime = build(settings, clock)
    if settings is None:  # a real API process; tests keep pytest's log capture
        configure_logging(f"{runtime.service}-api")
    return create_api_app(
        runtime,
        title=title,
        description=description,
        blueprints=blueprints or [],
        security_schemes=security_schemes,
        broker_optional=broker_optional,
    )


def after_response(work: Callable[[], object]) -> None:
    """Run `work` once the current response has gone to the client."""
    from flask import after_this_request

    @after_this_request
    def _schedule(response: Response) -> Response:
        response.call_on_close(work)
        return response
