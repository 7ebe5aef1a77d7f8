"""The console in a real browser: Debian's chromium, driven by Playwright, over HTTP.

Mediation's API and the console are served on loopback ports in this process, on the
test's databases and clock; the browser signs in as 郭警官 and drives a dispute from
acceptance to its follow-up, checking the page after each step. Each main page is
written as a screenshot under var/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from services.common.clock import STATION_TZ, FrozenClock
from services.console import create_app
from services.console.passwords import set_password
from services.console.setup import migrate
from services.mediation.desks import service as desks
from services.mediation.runtime import MediationRuntime
from tests.console.conftest import PASSWORD, console_settings
from tests.mediation.cases_helpers import load, open_case
from tests.mediation.client import client_for

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _serve(app: Flask) -> tuple[BaseWSGIServer, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def console_url(tmp_path: Path, mediation: MediationRuntime, clock: FrozenClock) -> Iterator[str]:
    mediation_server, mediation_url = _serve(client_for(mediation).application)
    settings = replace(console_settings(tmp_path, mediation), mediation_url=mediation_url)
    migrate(settings)
    app = create_app(settings, clock)
    with app.extensions["console"].db.transaction() as session:
        set_password(session, staff_id="officer-guo", password=PASSWORD, now=clock.now())
    console_server, url = _serve(app)
    yield url
    console_server.shutdown()
    mediation_server.shutdown()
    app.extensions["console"].db.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is not installed (apt-get install -y chromium fonts-wqy-microhei)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    # A phone's width: the layout the officers use most.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    yield context.new_page()
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, url: str, password: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("工号").fill("officer-guo")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _act(page: Page, action: str, fields: dict[str, str], button: str) -> None:
    form = page.locator(f"#form-{action}")
    for label, value in fields.items():
        control = form.get_by_label(label, exact=False)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_role("button", name=button).click()


def test_an_officer_drives_a_case_in_the_browser(
    console_url: str, page: Page, mediation: MediationRuntime
) -> None:
    _sign_in(page, console_url, "wrong-password")
    expect(page.locator("#sign-in-error")).to_contain_text("工号或密码不对")
    _shot(page, "sign-in-refused")

    case_id = open_case(mediation)
    code = load(mediation, case_id).tracking_code
    _sign_in(page, console_url, PASSWORD)
    expect(page.get_by_role("heading", name="我的案件")).to_be_visible()
    expect(page.get_by_text(code)).to_be_visible()
    _shot(page, "cases")

    page.get_by_role("link", name=code, exact=False).first.click()
    expect(page.locator("#case-status")).to_have_text("待受理")
    _shot(page, "case-awaiting-acceptance")

    _act(page, "accept", {"风险等级": "B"}, "受理")
    expect(page.locator("#case-status")).to_have_text("属地调解")
    expect(page.locator("#form-accept")).to_have_count(0)

    _act(page, "record_session", {"结果": "resolved", "备注": "双方当面和解"}, "记录调解")
    expect(page.locator("#case-status")).to_have_text("已化解")
    expect(page.locator(".history")).to_contain_text("双方当面和解")
    _shot(page, "case-resolved")

    # A grade B case is followed up with a home visit: the API's refusal of a phone call is
    # shown by its field, and the visit then goes through.
    _act(page, "follow_up", {"方式": "phone", "结果": "stable", "备注": "电话回访"}, "记录回访")
    expect(page.locator("#form-follow_up .field-error")).to_be_visible()
    _shot(page, "case-follow-up-refused")
    _act(page, "follow_up", {"方式": "visit", "结果": "stable", "备注": "上门回访稳定"}, "记录回访")
    expect(page.locator(".history")).to_contain_text("上门回访稳定")
    assert load(mediation, case_id).history[-1].action == "follow_up"
    _shot(page, "case-followed-up")


def test_an_officer_escalates_to_the_lawyer_desk_and_records_its_outcome(
    console_url: str, page: Page, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    code = load(mediation, case_id).tracking_code
    _sign_in(page, console_url, PASSWORD)
    page.get_by_role("link", name=code, exact=False).first.click()
    _act(page, "accept", {"风险等级": "C"}, "受理")
    _act(page, "record_session", {"结果": "failed", "备注": "当面调解未果"}, "记录调解")
    expect(page.locator("#case-status")).to_have_text("属地调解")

    # 驻所律师办 sits on Tuesday and Thursday mornings: from Saturday, Tuesday 09:00.
    _act(page, "escalate", {"调解室": "lawyer_desk", "备注": "请律师调解"}, "转调解室")
    expect(page.locator("#case-status")).to_have_text("已约调解")
    expect(page.locator(".sessions")).to_contain_text("2026-12-01 09:00")
    _shot(page, "case-at-the-lawyer-desk")

    with mediation.db.sessions() as session:
        (booked,) = desks.sessions_of_case(session, case_id)
    assert (booked.desk_code, booked.starts_at) == (
        "lawyer_desk",
        datetime(2026, 12, 1, 9, tzinfo=STATION_TZ),
    )
    clock.advance(booked.ends_at - clock.now())  # the session has been held, days later:
    page.reload()  # the sign-in has expired meanwhile, and leads back to the case
    page.get_by_label("工号").fill("officer-guo")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#case-status")).to_have_text("已约调解")
    _act(page, "record_session", {"结果": "resolved", "备注": "律师调解达成协议"}, "记录调解")
    expect(page.locator("#case-status")).to_have_text("已化解")
    _act(page, "follow_up", {"方式": "phone", "结果": "stable", "备注": "电话回访稳定"}, "记录回访")
    expect(page.locator(".history")).to_contain_text("电话回访稳定")
    actions = [h.action for h in load(mediation, case_id).history]
    assert actions == [
        "open",
        "accept",
        "record_session",
        "escalate",
        "record_session",
        "follow_up",
    ]
    _shot(page, "case-resolved-at-the-lawyer-desk")


def test_a_post_without_the_csrf_token_is_refused_in_the_browser(
    console_url: str, page: Page, mediation: MediationRuntime
) -> None:
    case_id = open_case(mediation)
    _sign_in(page, console_url, PASSWORD)
    expect(page.get_by_role("heading", name="我的案件")).to_be_visible()
    # The signed-in browser's own cookie, but a request with no token, as another site would send.
    answer = page.request.post(
        f"{console_url}/cases/{case_id}/actions/accept", form={"risk_grade": "B"}
    )
    assert answer.status == 400
    assert "表单已过期" in answer.text()
    assert load(mediation, case_id).status == "awaiting_acceptance"


def test_the_pages_work_from_the_keyboard(console_url: str, page: Page) -> None:
    page.goto(f"{console_url}/sign-in")
    assert page.evaluate("document.activeElement.id") == "staff_id"  # focus starts there
    page.keyboard.type("officer-guo")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="我的案件")).to_be_visible()
    page.keyboard.press("Tab")  # on every other page the skip link comes first
    assert "跳到正文" in page.evaluate("document.activeElement.textContent")
    expect(page.locator(".skip")).to_be_in_viewport()
