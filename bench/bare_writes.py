"""The same-writes baseline: a bare Flask endpoint doing the database work of one report.

`POST /v1/reports` parses the body as intake does and, in one transaction through
SQLAlchemy Core, inserts what accepting a report writes: the report row, its "received"
timeline row and an outbox row holding the message. Same database server, same engine
options (`make_engine`: pre-ping, hidden parameters), same gunicorn settings. No key
lookup, no rate limit, no validation, no ORM, no relay to the broker: the difference
between this and intake is what the service adds on top of the writes it must make.

`bench.baselines.same_writes_database` creates the tables before gunicorn starts; the app
finds its database in `BENCH_WRITES_DATABASE_URL`.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, Uuid, insert

from services.common.db import make_engine
from services.common.runtime import MAX_BODY_BYTES

DATABASE_VARIABLE = "BENCH_WRITES_DATABASE_URL"

metadata = MetaData()
reports = Table(
    "bench_reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tracking_code", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
events = Table(
    "bench_report_events",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("report_id", Uuid, nullable=False),
    Column("event", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
outbox = Table(
    "bench_outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("task", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
_engine = make_engine(os.environ.get(DATABASE_VARIABLE, "sqlite://"))


@app.post("/v1/reports")
def accept() -> tuple[dict[str, Any], int]:
    """The three inserts of one report, in one transaction; 202 after the commit."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {"message": "a JSON object is required"}, 422
    now = datetime.now(UTC)
    report_id = uuid.uuid4()
    with _engine.begin() as conn:
        conn.execute(
            insert(reports).values(
                id=report_id,
                tracking_code="WC00000000",
                kind=str(body.get("kind")),
                body=body,
                created_at=now,
            )
        )
        conn.execute(
            insert(events).values(
                message_id=uuid.uuid4(), report_id=report_id, event="received", at=now
            )
        )
        conn.execute(
            insert(outbox).values(
                id=uuid.uuid4(),
                task="bench.route",
                payload={"report_id": str(report_id), **body},
                created_at=now,
            )
        )
    return {"id": str(report_id), "status": "received"}, 202


@app.get("/readyz")
def ready() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}
