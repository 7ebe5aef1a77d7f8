"""Where each accepted report goes: its owning service, and an acknowledgement SMS."""

from __future__ import annotations

from typing import Any

from services.common.contracts import (
    OPEN_CASE,
    OPEN_HAZARD_CLAIM,
    OPEN_NOMINATION,
    SEND_SMS,
    Contract,
)
from services.intake.models import Report

OWNER_BY_KIND: dict[str, Contract] = {
    "dispute": OPEN_CASE,
    "hazard": OPEN_HAZARD_CLAIM,
    "brave_act": OPEN_NOMINATION,
    "good_deed": OPEN_NOMINATION,
}


def report_submitted(report: Report) -> dict[str, Any]:
    """The body of the message that hands a report to its owner."""
    return {
        "report_id": report.id,
        "tracking_code": report.tracking_code,
        "kind": report.kind,
        "summary": report.summary,
        "details": report.details,
        "occurred_at": report.occurred_at,
        "location": report.location,
        "reporter": report.reporter,
        "parties": report.parties,
        "hazard": report.hazard,
        "nominee": report.nominee,
    }


def messages_for(report: Report) -> list[tuple[Contract, dict[str, Any]]]:
    """Everything intake tells the other services when it accepts `report` (首问必答)."""
    acknowledgement = {
        "idempotency_key": f"report-received:{report.id}",
        "recipient": report.reporter["phone"],
        "template": "report_received",
        "params": {"tracking_code": report.tracking_code},
        "priority": "normal",
        "report_id": report.id,
    }
    return [
        (OWNER_BY_KIND[report.kind], report_submitted(report)),
        (SEND_SMS, acknowledgement),
    ]
