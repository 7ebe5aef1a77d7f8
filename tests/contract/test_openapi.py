"""Schemathesis against each service's own OpenAPI document.

Generated requests, valid and invalid, go to the real apps on PostgreSQL and Redis with
real credentials; no answer may be a server error, and every answer must be documented and
match its schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from services.intake.runtime import IntakeRuntime
from services.notify.runtime import NotifyRuntime
from tests import factories, infra
from tests.intake.client import client_for as intake_client
from tests.notify.client import client_for as notify_client
from tests.notify.client import staff_headers

pytestmark = pytest.mark.timeout(900)

# A request can fit the schema and still break a domain rule the schema cannot state
# (the beat map, a real mobile range, per-kind parts); its 422 is right, not a failure.
EXCLUDED = [positive_data_acceptance]


def check_every_operation(app: Flask, headers: dict[str, str], examples: int = 60) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation: Any = result.ok()  # type: ignore[union-attr]

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            # CI replays a fixed sequence, so a landing never hangs on a new random find;
            # runs elsewhere explore afresh each time.
            derandomize=infra.IN_CI,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        answers_as_documented()
        checked.append(operation.label)
    return checked


def test_intake_answers_as_documented(intake: IntakeRuntime) -> None:
    headers = {"Authorization": f"Bearer {factories.agency_key(intake)}"}
    checked = check_every_operation(intake_client(intake).application, headers)
    assert {"POST /v1/reports", "POST /open311/v2/requests.json", "PUT /v1/callback"} <= set(
        checked
    )


def test_notify_answers_as_documented(
    notify: NotifyRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_WEBHOOK_TOKEN", "contract-test-token")
    checked = check_every_operation(notify_client(notify).application, staff_headers(notify))
    assert {"POST /v1/messages", "POST /v1/messages/{sms_id}/resend"} <= set(checked)
