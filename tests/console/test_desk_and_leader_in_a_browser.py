"""The desk's week and the leader's breaches in a real browser (Debian's chromium, Playwright).

The console and mediation's API are served as in test_in_a_browser.py, on the test's data
and clock, at a phone's width. Desk staff find the booked slot in their week and record
its outcome; the duty leader sees a breach and acts on it. Each page is written as a
screenshot under var/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.common.clock import FrozenClock
from services.common.db import Database
from services.common.staff_auth import Role
from services.console import home
from services.console.passwords import set_password
from services.mediation.runtime import MediationRuntime
from tests.console.conftest import console_settings
from tests.console.test_in_a_browser import _act, _shot, chromium, console_url, page
from tests.mediation.cases_helpers import act, load, open_case

__all__ = ["chromium", "console_url", "page"]  # the fixtures, shared with the officer's tests

STAFF = ("desk-mediator", "leader-cheng", "grid-wang")


@pytest.fixture
def url(console_url: str, tmp_path: Path, mediation: MediationRuntime, clock: FrozenClock) -> str:
    """The console, with a password for the desk's, the leader's and a verifier's staff."""
    db = Database(console_settings(tmp_path, mediation).database_url)
    with db.transaction() as session:
        for staff_id in STAFF:
            set_password(session, staff_id=staff_id, password=f"{staff_id}-pw", now=clock.now())
    db.dispose()
    return console_url


def _sign_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(f"{staff_id}-pw")
    page.get_by_role("button", name="登录").click()


def _fits_a_phone(page: Page) -> None:
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_desk_staff_see_the_week_and_record_the_outcome(
    url: str, page: Page, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    act(mediation, case_id, "escalate", desk="mediation_room")  # Monday 30 November, 09:00
    code = load(mediation, case_id).tracking_code
    clock.advance(timedelta(hours=46))  # Monday 10:00: the session has been held

    _sign_in(page, url, "desk-mediator")
    expect(page.get_by_role("heading", name="窗口周排期", exact=True)).to_be_visible()
    expect(page.locator("#week-span")).to_have_text("2026-11-30 至 2026-12-06")
    monday = page.locator("#day-mediation_room-2026-11-30")
    expect(monday.locator("li.booked")).to_contain_text(code)
    expect(monday.locator("li.booked")).to_contain_text("已约调解")
    expect(page.locator("#day-mediation_room-2026-12-05")).to_contain_text("休息日")
    _fits_a_phone(page)
    _shot(page, "desk-week")

    page.get_by_role("link", name=f"登记 {code} 的调解结果").click()
    _act(page, "record_session", {"结果": "resolved", "备注": "双方在调解室达成协议"}, "记录调解")
    expect(page.locator("#case-status")).to_have_text("已化解")
    assert load(mediation, case_id).status == "resolved"

    page.get_by_role("link", name="窗口周排期").click()
    expect(monday.locator("li.booked")).to_contain_text("已化解")
    expect(page.get_by_role("link", name=f"登记 {code} 的调解结果")).to_have_count(0)
    _shot(page, "desk-week-outcome-recorded")


def test_the_week_shows_holidays_and_adjusted_working_days(url: str, page: Page) -> None:
    _sign_in(page, url, "desk-mediator")
    page.get_by_role("link", name="上一周").click()
    expect(page.locator("#week-span")).to_have_text("2026-11-16 至 2026-11-22")
    page.goto(f"{url}/desk/week?week=2026-10-06")
    expect(page.locator("#day-mediation_room-2026-10-06")).to_contain_text("国庆节")
    expect(page.locator("#day-mediation_room-2026-10-10")).to_contain_text("调休上班")
    _fits_a_phone(page)
    _shot(page, "desk-week-national-day")


def test_the_leader_sees_a_breach_and_acts_on_it(
    url: str, page: Page, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    code = load(mediation, case_id).tracking_code
    clock.advance(timedelta(days=3))  # 24 hours to accept: two days late

    _sign_in(page, url, "leader-cheng")
    expect(page.get_by_role("heading", name="超期案件", exact=True)).to_be_visible()
    breach = page.locator(f"#breach-{case_id}")
    expect(breach).to_contain_text(code)
    expect(breach).to_contain_text("受理已超期 2 天 0 小时")
    expect(breach).to_contain_text("魏村三组")
    expect(page.locator("#nav-leader-breaches .count")).to_have_text("1")
    _fits_a_phone(page)
    _shot(page, "leader-breaches")

    breach.get_by_role("link", name=f"受理 — {code}").click()
    _act(page, "accept", {"风险等级": "B"}, "受理")
    expect(page.locator("#case-status")).to_have_text("属地调解")

    page.get_by_role("link", name="超期案件").click()
    expect(page.locator("#no-breaches")).to_be_visible()
    expect(page.locator("#nav-leader-breaches .count")).to_have_text("0")
    _shot(page, "leader-no-breaches")


def test_a_role_without_pages_is_told_so(
    url: str, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The verifier as a role new to the station would be: no first page, no page to link.
    monkeypatch.delitem(home.ROLE_HOME, Role.VERIFIER)
    monkeypatch.setattr(home, "NAV", tuple(n for n in home.NAV if Role.VERIFIER not in n.roles))
    _sign_in(page, url, "grid-wang")
    expect(page.get_by_role("heading", name="暂无页面")).to_be_visible()
    expect(page.locator("#no-page-yet")).to_contain_text("核查员")
    _shot(page, "no-page-yet")


def test_the_week_works_from_the_keyboard(url: str, page: Page) -> None:
    page.goto(f"{url}/sign-in")
    page.keyboard.type("desk-mediator")
    page.keyboard.press("Tab")
    page.keyboard.type("desk-mediator-pw")
    page.keyboard.press("Enter")
    expect(page.locator("#week-span")).to_have_text("2026-11-23 至 2026-11-29")
    for _ in range(30):  # Tab through the page to the next week's link, and follow it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "下一周":
            break
    else:
        pytest.fail("the next week's link is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#week-span")).to_have_text("2026-11-30 至 2026-12-06")
