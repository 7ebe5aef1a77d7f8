"""The figures, the annual report and the SMS page in a real browser (chromium, Playwright).

Mediation's, rewards' and notify's APIs and the console are served on loopback ports in this
process, on the test's databases and clock, with a year like the seed's loaded. The leader
reads the charts, changes the period from the keyboard and prints the annual report (print
media emulated, and a PDF made to count its pages); ops resends one failed SMS. Each page is
written as a screenshot under var/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.common.clock import FrozenClock
from services.console import create_app
from services.console.setup import migrate
from services.mediation.demo_year import load_year as load_cases
from services.mediation.runtime import MediationRuntime
from services.notify.runtime import NotifyRuntime
from services.rewards.demo_year import load_year as load_rewards
from services.rewards.runtime import RewardsRuntime
from tests.console import test_in_a_browser as in_a_browser
from tests.console.conftest import PASSWORD, console_settings
from tests.console.station import service_apps, set_passwords
from tests.console.test_ops_pages import _resends, failed_sms

# The officer's browser test's chromium (one per module) and phone-width page.
chromium = in_a_browser.chromium
page = in_a_browser.page
shot = in_a_browser._shot
YEAR = 2025


@pytest.fixture
def console_url(
    tmp_path: Path,
    clock: FrozenClock,
    mediation: MediationRuntime,
    rewards: RewardsRuntime,
    notify: NotifyRuntime,
) -> Iterator[str]:
    servers, urls = [], {}
    for host, app in service_apps(mediation, rewards, notify).items():
        server, urls[host.split(".")[0]] = in_a_browser._serve(app)
        servers.append(server)
    settings = replace(
        console_settings(tmp_path, mediation),
        mediation_url=urls["mediation"],
        rewards_url=urls["rewards"],
        notify_url=urls["notify"],
    )
    migrate(settings)
    console = create_app(settings, clock)
    set_passwords(console, clock)
    console_server, url = in_a_browser._serve(console)
    yield url
    for server in [console_server, *servers]:
        server.shutdown()
    console.extensions["console"].db.dispose()


def _sign_in(page: Page, url: str, staff_id: str, then: str) -> None:
    page.goto(f"{url}/sign-in?next={then}")
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def _seed_year(mediation: MediationRuntime, rewards: RewardsRuntime) -> None:
    load_cases(mediation, year=YEAR)
    with rewards.db.transaction() as session:
        load_rewards(session, year=YEAR, rules=rewards.rules, payouts=rewards.payouts)


def test_the_leader_reads_the_charts_and_prints_the_year(
    console_url: str, page: Page, mediation: MediationRuntime, rewards: RewardsRuntime
) -> None:
    _seed_year(mediation, rewards)
    _sign_in(page, console_url, "leader-cheng", "/figures")
    expect(page.get_by_role("heading", name="全所统计")).to_be_visible()

    # The period from the keyboard: the two dates, then Enter submits the picker.
    page.get_by_label("起始日").fill(f"{YEAR}-01-01")
    page.get_by_label("截止日").fill(f"{YEAR}-12-31")
    page.get_by_label("截止日").press("Enter")
    expect(page).to_have_url(re.compile(rf"from={YEAR}-01-01&to={YEAR}-12-31"))
    expect(page.locator("#total-cases")).to_have_text("63")
    expect(page.get_by_role("img", name="每周受理案件数")).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(5)
    desks = page.get_by_role("region", name="数字: 各调解室工作量")
    expect(desks.get_by_role("row", name="驻所律师办")).to_contain_text("63")
    desks.focus()  # a scrolling table is reachable from the keyboard
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    shot(page, "figures")

    page.get_by_role("link", name="年度工作报告").click()
    page.get_by_label("年份").select_option(str(YEAR))
    page.get_by_role("button", name="显示").click()
    expect(page.get_by_role("heading", name=f"{YEAR}年度工作报告")).to_be_visible()
    report = page.locator("#report-text")
    expect(report).to_contain_text(f"{YEAR}年，全年共受理纠纷63件，调解成功63件，成功率100%")
    expect(report).to_contain_text("其中驻所律师办调处63件，无一反弹")
    expect(report).to_contain_text("见义勇为奖励11人次，发放奖金4000元")
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.get_by_label("年份")).to_be_hidden()
    expect(report).to_be_visible()
    shot(page, "annual-report-print")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # it fits on one page


def test_ops_resends_a_failed_sms(console_url: str, page: Page, notify: NotifyRuntime) -> None:
    sms_id, number = failed_sms(notify)
    _sign_in(page, console_url, "ops-zhao", "/ops/messages")
    expect(page.get_by_role("heading", name="短信发送失败")).to_be_visible()
    row = page.locator(f"#sms-{sms_id}")
    expect(row).to_contain_text(f"{number[3:6]}****{number[-4:]}")
    assert number not in page.content()
    shot(page, "ops-sms-failures")

    row.get_by_role("link", name="重发…").click()
    expect(page.get_by_role("heading", name="重发短信")).to_be_visible()
    shot(page, "ops-sms-confirm-resend")
    page.get_by_role("button", name="确认重发").click()
    expect(page.locator(".flash").first).to_contain_text("已作为新短信重发给")
    assert [m for m in _resends(notify) if m["resend_of_id"] == sms_id]
    shot(page, "ops-sms-resent")
