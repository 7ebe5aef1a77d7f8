"""The officer's pages: his cases by due date, a case driven to the end, errors explained."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services.common.clock import FrozenClock
from services.mediation.runtime import MediationRuntime
from tests.console.conftest import PASSWORD
from tests.console.pages import csrf_of, sign_in, text
from tests.mediation.cases_helpers import act, load, open_case


def _signed_in(browser: FlaskClient) -> None:
    assert sign_in(browser, "officer-guo", PASSWORD).status_code == 302


def _his_case_signed_in(browser: FlaskClient, mediation: MediationRuntime) -> uuid.UUID:
    """A new case in 郭警官's village, and 郭警官 signed in."""
    case_id = open_case(mediation)
    _signed_in(browser)
    return case_id


def _submit(
    browser: FlaskClient, case_id: uuid.UUID, action: str, *, form_of: TestResponse, **fields: str
) -> TestResponse:
    """Submit an action's form of the page `form_of` (so with its CSRF token)."""
    return browser.post(
        f"/cases/{case_id}/actions/{action}",
        data={"csrf_token": csrf_of(form_of), **fields},
        follow_redirects=True,
    )


def _step(browser: FlaskClient, case_id: uuid.UUID, action: str, **fields: str) -> str:
    answer = _submit(browser, case_id, action, form_of=browser.get(f"/cases/{case_id}"), **fields)
    assert answer.status_code == 200
    assert answer.request.path == f"/cases/{case_id}"
    return text(answer)


def test_overdue_cases_come_first(
    browser: FlaskClient, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    late = open_case(mediation)
    clock.advance(timedelta(days=30))  # the first one's acceptance deadline has passed
    fresh = open_case(mediation)
    _signed_in(browser)
    page = text(browser.get("/cases"))
    late_code, fresh_code = (
        load(mediation, late).tracking_code,
        load(mediation, fresh).tracking_code,
    )
    overdue_part, _, upcoming_part = page.partition("按下次到期")
    assert late_code in overdue_part
    assert fresh_code in upcoming_part
    assert "已逾期" in overdue_part


def test_an_officer_drives_a_case_to_its_follow_up(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    page = text(browser.get(f"/cases/{case_id}"))
    assert "待受理" in page
    assert 'id="form-accept"' in page
    page = _step(browser, case_id, "accept", risk_grade="B")
    assert "属地调解" in page
    assert 'id="form-record_session"' in page
    assert 'id="form-accept"' not in page
    page = _step(browser, case_id, "record_session", outcome="resolved", note="双方同意")
    assert "已化解" in page
    assert "双方同意" in page  # in the history
    page = _step(browser, case_id, "follow_up", kind="visit", result="stable", note="回访稳定")
    assert "回访稳定" in page
    assert load(mediation, case_id).history[-1].action == "follow_up"
    page = _step(browser, case_id, "close")
    assert load(mediation, case_id).status == "closed"
    assert "已结案" in page


def test_a_stale_form_says_what_state_the_case_is_in_now(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    page = browser.get(f"/cases/{case_id}")
    act(mediation, case_id, "accept", risk_grade="A")  # someone else was quicker
    body = text(_submit(browser, case_id, "accept", form_of=page, risk_grade="B"))
    assert "该案件现在为“属地调解”" in body
    assert load(mediation, case_id).risk_grade == "A"


def test_a_bad_field_is_named_on_its_form(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    page = browser.get(f"/cases/{case_id}")
    body = text(_submit(browser, case_id, "accept", form_of=page, risk_grade="Z"))
    assert "请更正表单" in body
    assert re.search(r'class="field-error"[^>]*>[^<]+', body)
    assert load(mediation, case_id).status == "awaiting_acceptance"


def test_a_case_not_his_is_not_found(browser: FlaskClient) -> None:
    _signed_in(browser)
    answer = browser.get(f"/cases/{uuid.uuid4()}")
    assert answer.status_code == 404
    assert "没有这个案件" in text(answer)


def test_an_action_without_the_csrf_token_is_refused(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    answer = browser.post(f"/cases/{case_id}/actions/accept", data={"risk_grade": "B"})
    assert answer.status_code == 400
    assert load(mediation, case_id).status == "awaiting_acceptance"


def test_mediation_down_is_said_plainly(console_app: Flask, browser: FlaskClient) -> None:
    _signed_in(browser)
    runtime = console_app.extensions["console"]
    runtime.http = httpx.Client(base_url="http://127.0.0.1:9", timeout=2)
    answer = browser.get("/cases")
    assert answer.status_code == 503
    assert "调解服务没有响应" in text(answer)


def test_escalating_offers_each_desks_next_free_slot_and_books_it(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    _step(browser, case_id, "accept", risk_grade="C")
    page = text(browser.get(f"/cases/{case_id}"))
    assert 'id="form-escalate"' in page
    assert "最近空档" in page  # each desk's next free slot is offered
    page = _step(browser, case_id, "escalate", desk="mediation_room", note="转调解室")
    case = load(mediation, case_id)
    assert case.status == "session_scheduled"
    assert "已约调解" in page
    assert "mediation_room" in page  # the booked session is listed


def test_a_chosen_time_is_read_in_station_time(
    browser: FlaskClient, mediation: MediationRuntime
) -> None:
    case_id = _his_case_signed_in(browser, mediation)
    _step(browser, case_id, "accept", risk_grade="C")
    # 2026-11-28 is a Saturday (12:00 station time now): Monday 09:00 at the station.
    page = _step(browser, case_id, "escalate", desk="mediation_room", starts_at="2026-11-30T09:00")
    assert "2026-11-30 09:00" in page
