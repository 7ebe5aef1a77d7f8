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


def tracking_url(public_base_url: str, tracking_code: str) -> str:
    """The tracking page of one report, as the acknowledgement SMS links it."""
    return f"{public_base_url}/track?code={tracking_code}"


def messages_for(
    report: Report, *, original_code: str | None = None, public_base_url: str | None = None
) -> list[tuple[Contract, dict[str, Any]]]:
    """Everything intake tells the other services when it accepts `report` (首问必答).

    A duplicate hazard (of the report whose tracking code is `original_code`) goes to no
    owner (it earns no second reward), but its reporter still gets an answer. Where the
    station has a public address, the answer links the report's tracking page (a
    template of its own, as providers approve each text).
    """
    template, params = "report_received", {"tracking_code": report.tracking_code}
    if original_code is not None:
        template = "report_duplicate"
        params["original_code"] = original_code
    if public_base_url is not None:
        template += "_link"
        params["track_url"] = tracking_url(public_base_url, report.tracking_code)
    acknowledgement = {
        "idempotency_key": f"report-received:{report.id}",
        "recipient": report.reporter["phone"],
        "template": template,
        "params": params,
        "priority": "normal",
        "report_id": report.id,
        "test": report.test,
    }
    if original_code is not None:
        return [(SEND_SMS, acknowledgement)]
    return [
        (OWNER_BY_KIND[report.kind], report_submitted(report)),
        (SEND_SMS, acknowledgement),
    ]
