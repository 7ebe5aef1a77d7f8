"""`GET /healthz` (the process is up) and `GET /readyz` (it can do its work).

Ready means the database and the broker answer. A service that keeps working without the
broker (intake stores each report with its outgoing messages in the outbox, which is relayed
when the broker is back) stays ready while only the broker is away: `200` with the status
"accepting, broker degraded", so that a load balancer keeps sending it traffic. It is
`503` only when it cannot store anything: its database is away.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.common.db import Database
from services.common.outages import BROKER, DATABASE, Outage


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    service = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())


def check_broker(celery: Celery) -> None:
    """Raise if the broker cannot take a message right now."""
    url = str(celery.conf.broker_url)
    if url.startswith("filesystem://"):
        folder = Path(celery.conf.broker_transport_options["data_folder_in"])
        if not os.access(folder, os.W_OK):
            raise OSError(f"broker folder {folder} is not writable")
        return
    if url.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    with celery.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)


DEGRADED = "accepting, broker degraded"


def readiness(results: dict[str, str], *, broker_optional: bool) -> tuple[str, int]:
    """The status line and HTTP status for the checks' results."""
    failing = [name for name, result in results.items() if result != "ok"]
    if not failing:
        return "ok", 200
    if broker_optional and failing == ["broker"]:
        return DEGRADED, 200
    return "failing: " + ", ".join(failing), 503


def dead_letter_report(count: Callable[[], int]) -> str:
    """How many parked messages wait, for /readyz: worth a look, never a reason to be unready."""
    try:
        return f"{count()} waiting"
    except Exception as exc:  # the database check says why
        return f"unknown: {type(exc).__name__}"


def health_blueprint(
    *,
    service: str,
    db: Database,
    celery: Celery,
    dead_letters: Callable[[], int] | None = None,
    notes: Callable[[], dict[str, str]] | None = None,
    broker_optional: bool = False,
) -> Blueprint:
    """The health endpoints of one service; `broker_optional`: it works on without one.

    `notes`: the service's own detail for /readyz (never failing it).
    """
    blp = Blueprint("health", __name__, description="Liveness and readiness probes")
    checks: dict[str, tuple[Callable[[], Any], Outage]] = {
        "database": (db.ping, DATABASE),
        "broker": (lambda: check_broker(celery), BROKER),
    }

    @blp.route("/healthz")
    class Health(MethodView):
        @blp.response(200, HealthSchema)
        @blp.doc(security=[])  # probes need no key
        def get(self) -> dict[str, Any]:
            """The process is up."""
            return {"status": "ok", "service": service, "checks": {}}

    @blp.route("/readyz")
    class Ready(MethodView):
        @blp.response(200, HealthSchema)
        @blp.alt_response(503, schema=HealthSchema, description="It cannot do its work now")
        @blp.doc(security=[])
        def get(self) -> tuple[dict[str, Any], int]:
            """The database and the broker are reachable (or, where it can, working without)."""
            results: dict[str, str] = {}
            for name, (check, outage) in checks.items():
                try:
                    check()
                except Exception as exc:  # any failure means "not ready", named below
                    outage.failed(exc, doing="checking readiness")  # logged once an outage
                    results[name] = f"unreachable: {type(exc).__name__}"
                else:
                    outage.recovered()
                    results[name] = "ok"
            status, code = readiness(results, broker_optional=broker_optional)
            if dead_letters is not None:
                results["dead_letters"] = dead_letter_report(dead_letters)
            if notes is not None and results["database"] == "ok":
                results.update(notes())
            return {"status": status, "service": service, "checks": results}, code

    return blp
