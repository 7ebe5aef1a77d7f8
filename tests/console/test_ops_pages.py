"""Ops' SMS page: the failed messages, masked; a resend asked for, confirmed, and refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from services.notify.runtime import NotifyRuntime
from tests.console.conftest import PASSWORD
from tests.console.pages import csrf_of, sign_in, text
from tests.factories import fresh_number
from tests.notify.client import client_for, staff_headers


def _ops(station_app: Flask) -> FlaskClient:
    browser = station_app.test_client()
    assert sign_in(browser, "ops-zhao", PASSWORD).status_code == 302
    return browser


RECEIVED = {"tracking_code": "WC12345678"}
REMINDER = {**RECEIVED, "desk": "驻所律师办", "starts": "12月3日 09:00"}


def failed_sms(
    notify: NotifyRuntime, template: str = "report_received", params: dict[str, str] = RECEIVED
) -> tuple[str, str]:
    """A message that failed (its number had opted out), the number then let back in."""
    client, headers = client_for(notify), staff_headers(notify)
    number = fresh_number()
    client.put(f"/v1/opt-outs/{number}", json={}, headers=headers)
    body = {"recipient": number, "template": template, "params": params}
    sent: Any = client.post(
        "/v1/messages",
        json={**body, "priority": "urgent", "idempotency_key": str(uuid.uuid4())},
        headers=headers,
    )
    assert sent.json["status"] == "failed", sent.json
    client.delete(f"/v1/opt-outs/{number}", headers=headers)
    return sent.json["id"], number


def _message(notify: NotifyRuntime, sms_id: str) -> Any:
    return client_for(notify).get(f"/v1/messages/{sms_id}", headers=staff_headers(notify)).json


def test_failed_messages_are_listed_with_masked_numbers(
    station_app: Flask, notify: NotifyRuntime
) -> None:
    sms_id, number = failed_sms(notify)

    page = text(_ops(station_app).get("/ops/messages"))

    assert f'id="sms-{sms_id}"' in page
    assert f"{number[3:6]}****{number[-4:]}" in page
    assert number not in page and number[3:] not in page
    assert "发送失败" in page
    assert f"/ops/messages/{sms_id}/resend" in page


def test_a_resend_is_confirmed_then_sent_and_a_second_is_refused_clearly(
    station_app: Flask, notify: NotifyRuntime
) -> None:
    sms_id, number = failed_sms(notify)
    ops = _ops(station_app)

    confirm = ops.get(f"/ops/messages/{sms_id}/resend?status=failed")
    assert confirm.status_code == 200
    assert "把这条短信作为一条新短信，重新发给同一号码？" in text(confirm)
    assert number not in text(confirm)
    assert not [m for m in _resends(notify) if m["resend_of_id"] == sms_id]  # asking sends nothing

    done = ops.post(
        f"/ops/messages/{sms_id}/resend",
        data={"csrf_token": csrf_of(confirm), "status": "failed"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert done.request.path == "/ops/messages"
    assert "已作为新短信重发给" in text(done)
    resent = [m for m in _resends(notify) if m["resend_of_id"] == sms_id]
    assert len(resent) == 1

    again = ops.post(
        f"/ops/messages/{resent[0]['id']}/resend",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=True,
    )
    status_now = {"created": "待发送", "sending": "发送中", "sent": "已发出，未确认送达"}
    assert "只有发送失败的短信才能重发，这条短信现在是" in text(again)
    assert f"“{status_now[_message(notify, resent[0]['id'])['status']]}”" in text(again)
    assert 'role="alert"' in text(again)


def _resends(notify: NotifyRuntime) -> list[dict[str, Any]]:
    answer: Any = client_for(notify).get(
        "/v1/messages", query_string={"page_size": 100}, headers=staff_headers(notify)
    )
    return [m for m in answer.json if m.get("resend_of_id")]


def test_a_resend_without_the_forms_token_is_refused(
    station_app: Flask, notify: NotifyRuntime
) -> None:
    sms_id, _ = failed_sms(notify)

    answer = _ops(station_app).post(f"/ops/messages/{sms_id}/resend", data={})

    assert answer.status_code == 400
    assert "表单已过期" in text(answer)
    assert not [m for m in _resends(notify) if m["resend_of_id"] == sms_id]


def test_the_list_filters_by_template_and_status(station_app: Flask, notify: NotifyRuntime) -> None:
    received, _ = failed_sms(notify, "report_received")
    other, _ = failed_sms(notify, "session_reminder", REMINDER)
    ops = _ops(station_app)

    by_template = text(ops.get("/ops/messages?status=failed&template=report_received"))
    delivered = text(ops.get("/ops/messages?status=delivered"))
    any_status = text(ops.get("/ops/messages?status=all"))

    assert f"sms-{received}" in by_template and f"sms-{other}" not in by_template
    assert f"sms-{received}" not in delivered and "没有符合条件的短信" in delivered
    assert f"sms-{received}" in any_status and f"sms-{other}" in any_status
    assert re.search(r'<option value="delivered" selected>', delivered)


def test_a_filter_that_cannot_be_is_a_400_that_says_why(station_app: Flask) -> None:
    ops = _ops(station_app)

    bad_status = ops.get("/ops/messages?status=lost")
    long_template = ops.get(f"/ops/messages?template={'x' * 51}")

    assert bad_status.status_code == 400 and "没有“lost”这种短信状态" in text(bad_status)
    assert long_template.status_code == 400 and "模板名最多50个字符" in text(long_template)


def test_a_missing_message_goes_back_to_the_list_saying_so(station_app: Flask) -> None:
    answer = _ops(station_app).get(f"/ops/messages/{uuid.uuid4()}/resend", follow_redirects=True)

    assert answer.request.path == "/ops/messages"
    assert "没有这条短信" in text(answer)


def test_the_sms_pages_are_for_ops_only(station_app: Flask, notify: NotifyRuntime) -> None:
    sms_id, _ = failed_sms(notify)
    for staff_id in ("leader-cheng", "officer-guo", "finance-zhou"):
        browser = station_app.test_client()
        sign_in(browser, staff_id, PASSWORD)
        assert browser.get("/ops/messages").status_code == 403
        assert browser.get(f"/ops/messages/{sms_id}/resend").status_code == 403


def test_notify_down_is_named_on_the_page(station_apps: Callable[..., Flask]) -> None:
    answer = _ops(station_apps(down=("notify",))).get("/ops/messages")

    assert answer.status_code == 503
    assert "短信服务没有响应，请稍后再试" in text(answer)
