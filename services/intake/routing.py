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
        "test": report.test,
    }


def messages_for(report: Report) -> list[tuple[Contract, dict[str, Any]]]:
    """Everything intake tells the other services when it accepts `report` (首问必答).

    A duplicate hazard goes to no owner (it earns no second reward), but its reporter
    still gets an answer.
    """
    acknowledgement = {
        "idempotency_key": f"report-received:{report.id}",
        "recipient": report.reporter["phone"],
        "template": "report_received",
        "params": {"tracking_code": report.tracking_code},
        "priority": "normal",
        "report_id": report.id,
        "test": report.test,
    }
    if report.duplicate_of is not None:
        acknowledgement["template"] = "report_duplicate"
        acknowledgement["params"] = {
            "tracking_code": report.tracking_code,
            "original_code": report.duplicate_of.tracking_code,
        }
        return [(SEND_SMS, acknowledgement)]
    return [
        (OWNER_BY_KIND[report.kind], report_submitted(report)),
        (SEND_SMS, acknowledgement),
    ]
