"""Reports as residents follow them: one submitted over the API, events added as they come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from services.common.contracts import RECORD_REPORT_EVENT
from services.intake import service
from services.intake.runtime import IntakeRuntime
from tests import factories, messages
from tests.intake.client import client_for


@dataclass
class Submitted:
    id: Any
    tracking_code: str
    reporter_phone: str  # as the partner sent it


def submit(runtime: IntakeRuntime, **overrides: Any) -> Submitted:
    """A dispute with a reporter of its own, submitted over the partner API."""
    phone = factories.fresh_number()
    body = factories.dispute(
        **{
            "reporter": {"name": "陈先生", "phone": phone},
            "occurred_at": (runtime.clock.now() - timedelta(days=1)).isoformat(),
            **overrides,
        }
    )
    phone = body["reporter"]["phone"]
    key = factories.agency_key(runtime)
    answer: Any = client_for(runtime).post(
        "/v1/reports", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 202, answer.json
    return Submitted(answer.json["id"], answer.json["tracking_code"], phone)


def add_event(
    runtime: IntakeRuntime,
    report: Submitted,
    event: str,
    *,
    detail: str = "",
    due_at: datetime | None = None,
) -> None:
    """`event` as another service would send it, happening now on the runtime's clock."""
    message = messages.report_event(
        report.id, event, runtime.clock.now(), detail=detail, due_at=due_at
    )
    runtime.messaging.handle_once(
        RECORD_REPORT_EVENT,
        message,
        lambda session, msg: service.record_event(
            session, message=msg, now=runtime.clock.now(), messaging=runtime.messaging
        ),
    )


def look_up(client: FlaskClient, code: str, last4: str, *, address: str = "203.0.113.7") -> Any:
    """A lookup as the console sends it for a resident at `address` (one trusted proxy)."""
    return client.post(
        "/v1/lookup",
        json={"tracking_code": code, "phone_last4": last4},
        headers={"X-Forwarded-For": address},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
