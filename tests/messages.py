"""Messages as another service would send them, already through the contract's schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.common.contracts import (
    OPEN_CASE,
    OPEN_HAZARD_CLAIM,
    OPEN_NOMINATION,
    RECORD_REPORT_EVENT,
    SEND_SMS,
    Contract,
)
from tests import factories
from tests.conftest import NOW


def received(contract: Contract, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` as the consumer of `contract` receives it: dumped, sent as JSON, loaded."""
    envelope = {"message_id": uuid.uuid4(), "version": contract.version, "sent_at": NOW}
    return contract.load(contract.dump({**envelope, **payload}))


def report(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A report intake would hand over: the API body as stored (phones in E.164)."""

    def e164(person: dict[str, Any] | None) -> dict[str, Any] | None:
        if person is None:
            return None
        phone = person.get("phone")
        return {**person, "phone": "+86" + phone[-11:].replace("-", "") if phone else None}

    return {
        "report_id": uuid.uuid4(),
        "tracking_code": "WC" + uuid.uuid4().hex[:8].upper(),
        "kind": body["kind"],
        "summary": body["summary"],
        "details": body.get("details"),
        "occurred_at": datetime.fromisoformat(body["occurred_at"]),
        "location": body["location"],
        "reporter": e164(body["reporter"]),
        "parties": [e164(p) for p in body.get("parties", [])],
        "hazard": body.get("hazard"),
        "nominee": e164(body.get("nominee")),
        **extra,
    }


def open_case(**extra: Any) -> dict[str, Any]:
    return received(OPEN_CASE, report(factories.dispute(), **extra))


def open_hazard_claim(**extra: Any) -> dict[str, Any]:
    return received(OPEN_HAZARD_CLAIM, report(factories.hazard(), **extra))


def open_nomination(kind: str = "brave_act") -> dict[str, Any]:
    return received(OPEN_NOMINATION, report(factories.nomination(kind)))


def send_sms(**overrides: Any) -> dict[str, Any]:
    payload = {
        "idempotency_key": f"test:{uuid.uuid4()}",
        "recipient": "13800138000",
        "template": "report_received",
        "params": {"tracking_code": "WC12345678"},
        "priority": "normal",
        "report_id": uuid.uuid4(),
    }
    return received(SEND_SMS, {**payload, **overrides})


def report_event(
    report_id: uuid.UUID,
    event: str,
    at: datetime,
    detail: str = "",
    due_at: datetime | None = None,
) -> dict[str, Any]:
    payload = {"report_id": report_id, "event": event, "service": "mediation", "at": at}
    return received(RECORD_REPORT_EVENT, {**payload, "detail": detail, "due_at": due_at})
