"""The same-writes baseline of the staff transitions: bare endpoints doing one step's writes.

Each endpoint takes the step's body and, in one transaction through SQLAlchemy Core, makes
the writes the service's step makes (`bench.staff` names the steps):

* `POST /v1/cases/<id>/transitions` (mediation's `accept`): the case row's status, risk
  grade, due date and `updated_at` in one guarded UPDATE (the status in the WHERE clause
  stands for the state check and takes the row lock); its history row; two outbox rows,
  the partner's timeline event and the reporter's SMS, in one INSERT.
* `POST /v1/claims/<id>/transitions` (rewards' `verify`, confirmed): the claim row's
  status, verified severity, amount and `updated_at`, likewise; the reporter's month
  (one upsert counting the envelope, which locks that row) and the month's budget row
  (reserving the amount, which locks it: every approval in a month waits for it, as the
  service's do); the history row; the two outbox rows.

Same database server, same engine options (`make_engine`), same gunicorn settings as the
services' APIs. No staff token, no role or visibility check, no schema, no ORM, no reads
beyond what the UPDATEs return, no answer beyond id and status, no relay to the broker:
the difference between this and a service is what the service adds on top of the writes.

`create_tables` makes the tables and `add_rows` the rows in the right state before gunicorn
starts; the app finds its database in `BENCH_TRANSITIONS_DATABASE_URL`.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, request
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    insert,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.db import make_engine
from services.common.runtime import MAX_BODY_BYTES

DATABASE_VARIABLE = "BENCH_TRANSITIONS_DATABASE_URL"
LOCAL_WINDOW = timedelta(days=15)  # what an accepted case is due in (the rules' default)
ENVELOPE_FEN = {"low": 500, "medium": 1000, "high": 2000}
PERIOD = "2026-12"

metadata = MetaData()
cases = Table(
    "bench_cases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("status", String(30), nullable=False),
    Column("risk_grade", String(1)),
    Column("due_kind", String(20)),
    Column("due_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
claims = Table(
    "bench_claims",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("status", String(30), nullable=False),
    Column("reporter_phone", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("verified_severity", String(10)),
    Column("amount_fen", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
history = Table(
    "bench_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", Uuid, nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(50), nullable=False),
    Column("action", String(30), nullable=False),
    Column("from_status", String(30), nullable=False),
    Column("to_status", String(30), nullable=False),
    Column("note", Text, nullable=False),
    Column("detail", JSON, nullable=False),
)
reporter_months = Table(
    "bench_reporter_months",
    metadata,
    Column("reporter_phone", String(20), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("envelopes", Integer, nullable=False),
    Column("amount_fen", Integer, nullable=False),
)
envelope_months = Table(
    "bench_envelope_months",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("reserved_fen", Integer, nullable=False),
)
outbox = Table(
    "bench_transition_outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("task", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def add_rows(
    engine: Engine, *, case_ids: Sequence[uuid.UUID], claim_ids: Sequence[uuid.UUID]
) -> None:
    """Cases awaiting acceptance and claims awaiting verification, each from its own reporter."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if case_ids:
            conn.execute(
                insert(cases),
                [{"id": i, "status": "awaiting_acceptance", "updated_at": now} for i in case_ids],
            )
        if claim_ids:
            conn.execute(
                insert(claims),
                [
                    {
                        "id": claim_id,
                        "status": "awaiting_verification",
                        "reporter_phone": f"+8613{n:09d}",
                        "period": PERIOD,
                        "updated_at": now,
                    }
                    for n, claim_id in enumerate(claim_ids)
                ],
            )
        conn.execute(insert(envelope_months).values(period=PERIOD, reserved_fen=0))


def _outbox_rows(subject_id: uuid.UUID, event: str, now: datetime) -> list[dict[str, Any]]:
    """The partner's timeline event and the reporter's SMS, as two outbox rows."""
    at = now.isoformat()
    return [
        {
            "id": uuid.uuid4(),
            "task": "intake.record_report_event",
            "payload": {"subject_id": str(subject_id), "event": event, "at": at},
            "created_at": now,
        },
        {
            "id": uuid.uuid4(),
            "task": "notify.send_sms",
            "payload": {"idempotency_key": f"{event}:{subject_id}", "template": event, "at": at},
            "created_at": now,
        },
    ]


def _history_row(
    subject_id: uuid.UUID, *, now: datetime, action: str, before: str, after: str, body: Any
) -> dict[str, Any]:
    detail = {k: v for k, v in body.items() if k != "action"}
    return {
        "subject_id": subject_id,
        "at": now,
        "by": "bench",
        "action": action,
        "from_status": before,
        "to_status": after,
        "note": "",
        "detail": detail,
    }


app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES


@functools.cache
def _engine() -> Engine:
    """The baseline's engine, made on first use (the module is imported before it is set)."""
    return make_engine(os.environ[DATABASE_VARIABLE])


def _body(action: str) -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) and body.get("action") == action else None


@app.post("/v1/cases/<uuid:case_id>/transitions")
def accept_case(case_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """An `accept`'s writes in one transaction; 200 after the commit, 409 if not awaiting."""
    body = _body("accept")
    if body is None:
        return {"message": "an accept body is required"}, 422
    now = datetime.now(UTC)
    with _engine().begin() as conn:
        accepted = conn.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.status == "awaiting_acceptance")
            .values(
                status="local_mediation",
                risk_grade=str(body.get("risk_grade")),
                due_kind="local_mediation",
                due_at=now + LOCAL_WINDOW,
                updated_at=now,
            )
            .returning(cases.c.id)
        ).first()
        if accepted is None:
            return {"code": "illegal_transition"}, 409
        row = _history_row(
            case_id,
            now=now,
            action="accept",
            before="awaiting_acceptance",
            after="local_mediation",
            body=body,
        )
        conn.execute(insert(history).values(row))
        conn.execute(insert(outbox).values(_outbox_rows(case_id, "case_accepted", now)))
    return {"id": str(case_id), "status": "local_mediation"}, 200


@app.post("/v1/claims/<uuid:claim_id>/transitions")
def verify_claim(claim_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """A confirmed `verify`'s writes in one transaction; 200 after the commit."""
    body = _body("verify")
    if body is None or body.get("severity") not in ENVELOPE_FEN:
        return {"message": "a verify body with a severity is required"}, 422
    amount = ENVELOPE_FEN[body["severity"]]
    now = datetime.now(UTC)
    with _engine().begin() as conn:
        verified = conn.execute(
            update(claims)
            .where(claims.c.id == claim_id, claims.c.status == "awaiting_verification")
            .values(
                status="approved",
                verified_severity=body["severity"],
                amount_fen=amount,
                updated_at=now,
            )
            .returning(claims.c.reporter_phone, claims.c.period)
        ).first()
        if verified is None:
            return {"code": "illegal_transition"}, 409
        phone, period = verified
        counted = pg_insert(reporter_months).values(
            reporter_phone=phone, period=period, envelopes=1, amount_fen=amount
        )
        conn.execute(
            counted.on_conflict_do_update(
                index_elements=[reporter_months.c.reporter_phone, reporter_months.c.period],
                set_={
                    "envelopes": reporter_months.c.envelopes + 1,
                    "amount_fen": reporter_months.c.amount_fen + amount,
                },
            )
        )
        conn.execute(
            update(envelope_months)
            .where(envelope_months.c.period == period)
            .values(reserved_fen=envelope_months.c.reserved_fen + amount)
        )
        row = _history_row(
            claim_id,
            now=now,
            action="verify",
            before="awaiting_verification",
            after="approved",
            body=body,
        )
        conn.execute(insert(history).values(row))
        conn.execute(insert(outbox).values(_outbox_rows(claim_id, "claim_approved", now)))
    return {"id": str(claim_id), "status": "approved"}, 200


@app.get("/readyz")
def ready() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}
