"""The rewards pages in a real browser: Debian's chromium, driven by Playwright, over HTTP.

Rewards' API and the console are served on loopback ports in this process, on the test's
databases and clock. A grid verifier verifies a hazard from the keyboard and finance pays
its envelope (paying is finance's step in rewards' workflow); a reviewer who also approves
is not offered the approval of his own review, and a forged one shows the API's refusal;
finance downloads the payouts file. Every page is checked to fit a phone's width and is
written as a screenshot under var/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from services.common.clock import FrozenClock
from services.rewards.runtime import RewardsRuntime
from tests.console.rewards.conftest import PASSWORD, rewards_app, rewards_console
from tests.console.test_in_a_browser import _serve, _shot
from tests.factories import fresh_number
from tests.rewards.claims_helpers import act, open_claim, verify
from tests.rewards.claims_helpers import load as load_claim
from tests.rewards.nominations_helpers import load as load_nomination
from tests.rewards.nominations_helpers import open_nomination


@pytest.fixture
def console_url(tmp_path: Path, rewards: RewardsRuntime, clock: FrozenClock) -> Iterator[str]:
    rewards_server, rewards_url = _serve(rewards_app(rewards))
    app: Flask = rewards_console(tmp_path, rewards, clock, rewards_url=rewards_url)
    console_server, url = _serve(app)
    yield url
    console_server.shutdown()
    rewards_server.shutdown()
    app.extensions["console"].rewards_http.close()
    app.extensions["console"].db.dispose()


def _sign_in(page: Page, url: str, staff_id: str, first_page: str) -> None:
    page.goto(f"{url}/sign-in?next={first_page}")
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}{first_page}")


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()


def _fits_and_shot(page: Page, name: str) -> None:
    """The page fits the phone's width (nothing to scroll sideways); then its screenshot."""
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"{page.url} is {width}px wider than the phone"
    _shot(page, name)


def _tab_to(page: Page, element_id: str, *, most: int = 60) -> None:
    """Press Tab until the element with this id has the focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is not reached with Tab")


def _tab_to_button(page: Page, form_id: str, *, most: int = 20) -> None:
    for _ in range(most):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "[document.activeElement.tagName, document.activeElement.form?.id ?? '']"
        )
        if here == ["BUTTON", form_id]:
            return
    raise AssertionError(f"the button of #{form_id} is not reached with Tab")


def test_a_verifier_verifies_from_the_keyboard_and_finance_pays_the_envelope(
    console_url: str, page: Page, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    code = load_claim(rewards, claim_id).tracking_code
    _sign_in(page, console_url, "grid-wang", "/rewards/claims")
    expect(page.get_by_role("heading", name="隐患申报：待核实")).to_be_visible()
    _fits_and_shot(page, "rewards-claims-awaiting-verification")

    page.get_by_role("link", name=code, exact=False).click()
    expect(page.locator("#claim-status")).to_have_text("待核实")
    expect(page.locator("#form-pay")).to_have_count(0)  # paying is finance's
    _fits_and_shot(page, "rewards-claim-awaiting-verification")

    _tab_to(page, "verify-confirmed")  # 是 is the first choice
    _tab_to(page, "verify-severity")
    for _ in range(3):  # — → low → medium → high
        page.keyboard.press("ArrowDown")
    assert page.locator("#verify-severity").input_value() == "high"
    _tab_to_button(page, "form-verify")
    page.keyboard.press("Enter")
    expect(page.locator("#claim-status")).to_have_text("已批准")
    expect(page.locator("#claim-amount")).to_have_text("20.00 元")
    _fits_and_shot(page, "rewards-claim-approved")
    _sign_out(page)

    _sign_in(page, console_url, "finance-zhou", "/rewards/claims")
    expect(page.get_by_role("heading", name="隐患申报：已批准")).to_be_visible()
    page.get_by_role("link", name=code, exact=False).click()
    page.locator("#form-pay").get_by_role("button", name="发放").click()
    expect(page.locator("#claim-status")).to_have_text("已发放")
    expect(page.locator(".history")).to_contain_text("finance-zhou")
    _fits_and_shot(page, "rewards-claim-paid")
    assert load_claim(rewards, claim_id).status == "paid"


def test_a_reviewer_cannot_approve_his_own_review(
    console_url: str, page: Page, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    code = load_nomination(rewards, nomination_id).tracking_code
    _sign_in(page, console_url, "reviewer-zhang", "/rewards/nominations")
    expect(page.get_by_text(code)).to_be_visible()
    _fits_and_shot(page, "rewards-nominations-to-review")

    page.get_by_role("link", name=code, exact=False).click()
    form = page.locator("#form-review")
    form.get_by_label("是否推荐").select_option("no")
    form.get_by_label("理由").fill("事实不清，无证人")
    form.get_by_role("button", name="审核").click()
    expect(page.locator("#nomination-status")).to_have_text("待审批")

    page.get_by_role("link", name="返回奖励推荐").click()
    page.get_by_label("操作身份").select_option("approver")
    page.get_by_role("button", name="切换身份").click()
    expect(page.get_by_text("您现在以审批人身份操作")).to_be_visible()
    page.get_by_role("link", name=code, exact=False).click()
    expect(page.locator("#nomination-status")).to_have_text("待审批")
    for action in ("approve", "reject", "honour"):
        expect(page.locator(f"#form-{action}")).to_have_count(0)
    expect(page.locator("#withheld")).to_contain_text("须由另一位审批人决定")
    _fits_and_shot(page, "rewards-nomination-own-review")

    # A forged step: a form the page never offered, posted from the page with its own token.
    page.evaluate(
        """path => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = path;
            for (const [name, value] of [
                ['csrf_token', document.querySelector('input[name=csrf_token]').value],
                ['reason', '我自己审的'],
            ]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        f"/rewards/nominations/{nomination_id}/actions/reject",
    )
    refusal = page.locator(".flash.error")
    expect(refusal).to_contain_text("这项推荐是您审核的，须由另一位审批人决定")
    expect(refusal).to_contain_text("not the reviewer")  # the API's own words
    _fits_and_shot(page, "rewards-nomination-own-review-refused")
    assert load_nomination(rewards, nomination_id).status == "awaiting_approval"


def test_finance_downloads_the_payouts_file(
    console_url: str, page: Page, rewards: RewardsRuntime, tmp_path: Path
) -> None:
    phone = fresh_number()
    claim_id = open_claim(rewards, phone=phone)
    verify(rewards, claim_id, "medium")
    act(rewards, claim_id, "pay", by="finance")
    _sign_in(page, console_url, "finance-zhou", "/rewards/payouts")
    expect(page.get_by_role("heading", name="奖励发放 2026-11")).to_be_visible()
    expect(page.locator("#payouts-total")).to_contain_text("合计 10.00 元")
    expect(page.locator("table.payouts")).to_contain_text(f"{phone[-11:-8]}****{phone[-4:]}")
    expect(page.locator("table.payouts")).not_to_contain_text(phone[-11:])
    _fits_and_shot(page, "rewards-payouts")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载财务导出文件").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "payouts-2026-11-ordered.csv"
    rows = saved.read_text().splitlines()
    assert rows[0].startswith("payout_id,subject_kind,subject_id,recipient_name,recipient_phone")
    assert len(rows) == 2 and phone[-11:] in rows[1] and ",1000,10.00," in rows[1]
