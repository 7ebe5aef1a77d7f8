"""The residents' /track page, in front of a stand-in for intake's lookup served over HTTP.

No sign-in and no mediation: a resident with a tracking code and the last four digits of a
phone. The last test reads the page in chromium with JavaScript turned off, at a phone's
width, and keeps a screenshot under var/screenshots/track.png.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect, sync_playwright
from werkzeug.test import TestResponse

from services.cli.run import DEFAULT_PORTS
from services.common.clock import FrozenClock
from services.console import create_app
from services.console.intake_api import DEFAULT_WAIT, retry_after
from services.console.settings import ConsoleSettings, load_console_settings
from tests.console.fake_intake import FakeIntake, closed_port_url, serve
from tests.console.pages import csrf_of, text
from tests.console.test_in_a_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

CODE = "WC7K3M9Q2A"
PHONE = "13800002468"
LAST4 = "2468"
ANSWER = {
    "tracking_code": CODE,
    "status": "in_progress",
    "status_text": "调解中",
    "submitted_at": "2026-11-30T02:15:00Z",
    "updated_at": "2026-12-01T06:40:00+00:00",
    "timeline": [
        {"at": "2026-11-30T02:15:00Z", "event": "received", "text": "已收到您的报告"},
        {"at": "2026-12-01T06:40:00Z", "event": "case_accepted", "text": "社区民警已受理"},
    ],
    "next_step": {"text": "调解室约双方当面调解", "due_at": "2026-12-03T01:00:00Z"},
    "agency": "a field this page does not know",
}
NEUTRAL = "查询码或手机号后四位不正确"


@pytest.fixture
def intake() -> FakeIntake:
    fake = FakeIntake()
    fake.add(ANSWER, phone=PHONE)
    return fake


@pytest.fixture
def intake_url(intake: FakeIntake) -> Iterator[str]:
    with serve(intake.app()) as url:
        yield url


def track_app(tmp_path: Path, clock: FrozenClock, *, intake_url: str, **overrides: object) -> Flask:
    settings = ConsoleSettings(
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        mediation_url="http://mediation.invalid",
        var_dir=tmp_path,
        intake_url=intake_url,
        **overrides,  # type: ignore[arg-type]
    )
    return create_app(settings, clock)


@pytest.fixture
def resident(tmp_path: Path, clock: FrozenClock, intake_url: str) -> Iterator[FlaskClient]:
    """A browser with no sign-in, from the address 10.1.2.3."""
    app = track_app(tmp_path, clock, intake_url=intake_url)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    yield client
    app.extensions["console"].intake.close()


def look_up(
    client: FlaskClient, code: str, last4: str, *, headers: dict[str, str] | None = None
) -> TestResponse:
    token = csrf_of(client.get(f"/track?code={code}"))
    return client.post(
        "/track",
        data={"csrf_token": token, "tracking_code": code, "phone_last4": last4},
        headers=headers or {},
    )


def phone_input(page: TestResponse) -> str:
    found = re.search(r'<input id="phone_last4"[^>]*>', text(page), re.S)
    assert found, "the page has no field for the phone's last four digits"
    return found.group()


def test_intake_is_looked_for_where_fengqiao_run_starts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INTAKE_URL", raising=False)
    monkeypatch.delenv("INTAKE_PORT", raising=False)
    assert load_console_settings().intake_url == f"http://127.0.0.1:{DEFAULT_PORTS['intake']}"
    monkeypatch.setenv("INTAKE_PORT", "6101")
    assert load_console_settings().intake_url == "http://127.0.0.1:6101"
    monkeypatch.setenv("INTAKE_URL", "http://intake-api:5001")
    assert load_console_settings().intake_url == "http://intake-api:5001"


def test_the_link_in_the_sms_prefills_the_code(resident: FlaskClient) -> None:
    page = resident.get(f"/track?code={CODE}")
    assert page.status_code == 200  # no sign-in
    assert "办理进度查询" in text(page)
    assert f'id="tracking_code" name="tracking_code" value="{CODE}"' in text(page)
    assert "autofocus" in phone_input(page)  # the code is there: the digits come next
    assert 'method="post" action="/track"' in text(page)  # the digits go in no URL
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_a_code_in_the_link_is_shown_as_text_not_markup(resident: FlaskClient) -> None:
    page = resident.get('/track?code="><b id=x>')
    assert "<b id=x>" not in text(page)
    assert "&#34;&gt;&lt;b id=x&gt;" in text(page)


def test_a_found_report_shows_its_status_timeline_and_next_step(
    resident: FlaskClient, intake: FakeIntake
) -> None:
    page = look_up(resident, CODE, LAST4)
    assert page.status_code == 200
    body = text(page)
    assert "调解中" in body
    # In the station's time (UTC+8), written as Chinese writes dates, oldest first.
    assert "提交时间" in body
    timeline = body[body.index('id="track-timeline"') :]
    received = timeline.index("2026年11月30日 周一 10:15")
    accepted = timeline.index("2026年12月1日 周二 14:40")
    assert received < timeline.index("已收到您的报告") < accepted < timeline.index("社区民警已受理")
    assert "调解室约双方当面调解" in body
    assert "（2026年12月3日 周四 09:00 前）" in body
    assert "最近更新" in body
    assert "value=" not in phone_input(page)  # the digits are not written back
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    asked = intake.asked[-1]
    assert asked.body == {"tracking_code": CODE, "phone_last4": LAST4}
    assert asked.forwarded_for == "10.1.2.3"


def test_a_code_typed_in_lower_case_or_in_groups_is_found(
    resident: FlaskClient, intake: FakeIntake
) -> None:
    page = look_up(resident, " wc7k 3m9q-2a ", LAST4)
    assert page.status_code == 200
    assert intake.asked[-1].body["tracking_code"] == CODE


def test_a_report_with_no_next_step_and_english(resident: FlaskClient, intake: FakeIntake) -> None:
    intake.add({**ANSWER, "next_step": None, "timeline": []}, phone=PHONE)
    page = resident.get("/track")
    resident.post("/language", data={"csrf_token": csrf_of(page), "lang": "en", "next": "/track"})
    found = look_up(resident, CODE, LAST4)
    assert found.status_code == 200
    assert "Where does my report stand?" in text(found)
    assert "Mon 30 Nov 2026, 10:15" in text(found)
    assert "Next step" not in text(found)


def test_a_wrong_pair_gets_one_neutral_message(resident: FlaskClient) -> None:
    wrong_digits = look_up(resident, CODE, "1111")
    unknown_code = look_up(resident, "WC22222222", LAST4)
    for page in (wrong_digits, unknown_code):
        assert page.status_code == 404
        assert NEUTRAL in text(page)
        assert "调解中" not in text(page)
    # Nothing tells the two apart but the code the resident typed.
    assert text(wrong_digits).replace(csrf_of(wrong_digits), "").replace(CODE, "") == text(
        unknown_code
    ).replace(csrf_of(unknown_code), "").replace("WC22222222", "")


def test_too_many_lookups_ask_the_resident_to_wait(
    resident: FlaskClient, intake: FakeIntake
) -> None:
    intake.limit_per_address = 2
    assert look_up(resident, CODE, "1111").status_code == 404
    assert look_up(resident, CODE, "2222").status_code == 404
    page = look_up(resident, CODE, LAST4)
    assert page.status_code == 429
    assert "查询过于频繁，请 10 分钟后再试" in text(page)
    assert page.headers["Retry-After"] == "600"
    # Counted per resident: another address may still ask.
    resident.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert look_up(resident, CODE, LAST4).status_code == 200


def test_a_wait_rounds_up_to_whole_minutes(resident: FlaskClient, intake: FakeIntake) -> None:
    intake.limit_per_address = 0
    intake.retry_after = "61"
    page = look_up(resident, CODE, LAST4)
    assert "请 2 分钟后再试" in text(page)
    assert page.headers["Retry-After"] == "120"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert retry_after("90", now=now) == timedelta(seconds=90)
    in_five = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert retry_after(in_five, now=now) == timedelta(minutes=5)
    assert retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == (
        timedelta(0)
    )
    assert retry_after("soon", now=now) == DEFAULT_WAIT
    assert retry_after(None, now=now) == DEFAULT_WAIT


def test_malformed_input_names_the_field(resident: FlaskClient) -> None:
    page = look_up(resident, "abc", "12a")
    assert page.status_code == 422
    assert 'aria-invalid="true" aria-describedby="tracking_code-error"' in text(page)
    assert "查询码为 WC 加 8 位字母或数字" in text(page)
    assert 'aria-describedby="phone_last4-error"' in phone_input(page)
    assert "请填写您留下的手机号的后四位数字" in text(page)

    only_digits = look_up(resident, CODE, "")
    assert only_digits.status_code == 422
    assert 'id="tracking_code-error"' not in text(only_digits)
    assert 'id="phone_last4-error"' in text(only_digits)


def test_a_refusal_for_a_field_the_page_does_not_know_is_still_said(
    resident: FlaskClient, intake: FakeIntake
) -> None:
    intake.override = (400, '{"code": 400, "errors": {"json": {"_schema": ["not JSON"]}}}')
    page = look_up(resident, CODE, LAST4)
    assert page.status_code == 422
    assert "请检查填写的内容。 _schema: not JSON" in text(page)


@pytest.mark.parametrize(
    "broken",
    [
        (500, '{"code": 500}'),
        (502, "<html>bad gateway</html>"),
        (200, '{"tracking_code": "WC7K3M9Q2A"}'),  # an answer that does not read
        (200, "[]"),
        (401, "{}"),
    ],
)
def test_an_intake_that_answers_wrongly_is_a_clear_page(
    resident: FlaskClient, intake: FakeIntake, broken: tuple[int, str]
) -> None:
    intake.override = broken
    page = look_up(resident, CODE, LAST4)
    assert page.status_code == 503
    assert "暂时无法查询" in text(page)
    assert f'value="{CODE}"' in text(page)  # the form is there to try again


def test_an_unreachable_intake_is_a_clear_page(tmp_path: Path, clock: FrozenClock) -> None:
    app = track_app(tmp_path, clock, intake_url=closed_port_url())
    page = look_up(app.test_client(), CODE, LAST4)
    assert page.status_code == 503
    assert "暂时无法查询" in text(page)
    assert "这不影响您报告的办理" in text(page)


def test_an_intake_that_hangs_is_a_clear_page_in_time(
    tmp_path: Path, clock: FrozenClock, intake: FakeIntake, intake_url: str
) -> None:
    intake.delay_seconds = 2.0
    app = track_app(tmp_path, clock, intake_url=intake_url, api_timeout_seconds=0.2)
    page = look_up(app.test_client(), CODE, LAST4)
    assert page.status_code == 503
    assert "暂时无法查询" in text(page)


def test_a_post_without_the_csrf_token_gets_a_fresh_form(
    resident: FlaskClient, intake: FakeIntake
) -> None:
    page = resident.post("/track", data={"tracking_code": CODE, "phone_last4": LAST4})
    assert page.status_code == 400
    assert "页面已过期" in text(page)
    assert f'value="{CODE}"' in text(page)
    assert "返回我的案件" not in text(page)  # the residents' page, not the staff's
    assert intake.asked == []


@pytest.mark.parametrize(
    ("proxies", "forwarded", "seen"),
    [
        (0, "203.0.113.7", "10.0.0.9"),  # no proxy trusted: a client's header is ignored
        (1, "203.0.113.7", "203.0.113.7"),  # behind one proxy: the address it saw
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # not what the client claims
    ],
)
def test_intake_is_told_the_residents_address(
    tmp_path: Path,
    clock: FrozenClock,
    intake: FakeIntake,
    intake_url: str,
    proxies: int,
    forwarded: str,
    seen: str,
) -> None:
    app = track_app(tmp_path, clock, intake_url=intake_url, trusted_proxies=proxies)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    look_up(client, CODE, LAST4, headers={"X-Forwarded-For": forwarded})
    assert intake.asked[-1].forwarded_for == seen


def test_the_digits_are_in_no_log(
    resident: FlaskClient, intake: FakeIntake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    look_up(resident, CODE, LAST4)
    look_up(resident, CODE, "1357")
    intake.override = (200, "{}")
    look_up(resident, CODE, LAST4)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/v1/lookup" in logged  # the requests are logged, so the check means something
    assert not re.search(rf"(?<!\d)({LAST4}|1357)(?!\d)", logged)


def test_the_page_reads_with_javascript_off_at_a_phones_width(
    tmp_path: Path, clock: FrozenClock, intake_url: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("chromium is not installed (apt-get install -y chromium fonts-wqy-microhei)")
    app = track_app(tmp_path, clock, intake_url=intake_url)
    with serve(app) as console_url, sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False
        )
        page = context.new_page()
        page.goto(f"{console_url}/track?code={CODE}")
        expect(page.get_by_label("查询码")).to_have_value(CODE)
        page.get_by_label("手机号后四位").fill(LAST4)
        page.get_by_role("button", name="查询").click()
        expect(page.locator("#track-status")).to_have_text("调解中")
        expect(page.locator("#track-timeline li")).to_have_count(2)
        expect(page.locator("#track-next-step")).to_contain_text("（2026年12月3日 周四 09:00 前）")
        assert page.url == f"{console_url}/track"  # the digits are in no address
        for part in ("#standing", "#track-form"):
            box = page.locator(part).bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= 390, f"{part} is wider than the phone"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "track.png"), full_page=True)

        page.get_by_label("手机号后四位").fill("1111")
        page.get_by_role("button", name="查询").click()
        expect(page.locator("#track-error")).to_have_text(NEUTRAL + "。")
        page.screenshot(path=str(SCREENSHOTS / "track-wrong-pair.png"), full_page=True)
        context.close()
        browser.close()
