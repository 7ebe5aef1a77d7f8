"""Finance's payouts page: the month's payouts to export, masked on the page; the finance
office's CSV as rewards' API writes it, for the same month and status."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from services.common.clock import FrozenClock
from services.rewards.runtime import RewardsRuntime
from tests.console.pages import text
from tests.console.rewards.pages import signed_in_as
from tests.factories import fresh_number
from tests.rewards.claims_helpers import act, open_claim, verify


def _paid_envelope(rewards: RewardsRuntime, phone: str, severity: str = "medium") -> None:
    claim_id = open_claim(rewards, phone=phone)
    verify(rewards, claim_id, severity)
    act(rewards, claim_id, "pay", by="finance")


def test_finance_sees_the_months_payouts_masked_and_downloads_them_whole(
    browser: FlaskClient, rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    november, december = fresh_number(), fresh_number()
    _paid_envelope(rewards, november, "high")
    clock.advance(timedelta(days=5))  # 2026-12-03 at the station
    _paid_envelope(rewards, december, "low")
    signed_in_as(browser, "finance-zhou")

    page = text(browser.get("/rewards/payouts"))  # this month, to export, by default
    assert 'value="2026-12"' in page
    assert "1 笔发放 · 合计 5.00 元" in page
    assert december[-11:] not in page and f"{december[-11:-8]}****{december[-4:]}" in page
    assert '<label for="month">' in page and '<label for="status">' in page

    earlier = text(browser.get("/rewards/payouts?month=2026-11"))
    assert "1 笔发放 · 合计 20.00 元" in earlier

    download = browser.get("/rewards/payouts.csv?month=2026-11&status=ordered")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert (
        "attachment; filename=payouts-2026-11-ordered.csv"
        in download.headers["Content-Disposition"]
    )
    assert download.headers["Cache-Control"] == "no-store"
    lines = text(download).splitlines()
    assert lines[0].startswith("payout_id,subject_kind")
    assert len(lines) == 2
    assert november[-11:] in lines[1]  # the file carries what the finance office pays
    assert december[-11:] not in text(download)


def test_a_month_that_is_not_one_is_a_400_that_says_so(browser: FlaskClient) -> None:
    signed_in_as(browser, "finance-zhou")
    for path in ("/rewards/payouts?month=11-2026", "/rewards/payouts.csv?month=2026-13"):
        answer = browser.get(path)
        assert answer.status_code == 400
        assert "月份应写作 2026-11" in text(answer)


def test_a_role_without_the_export_is_refused_it(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    _paid_envelope(rewards, fresh_number())
    signed_in_as(browser, "grid-wang")
    for path in ("/rewards/payouts", "/rewards/payouts.csv"):
        answer = browser.get(path)
        assert answer.status_code == 403
        assert "您的角色无权进行此操作" in text(answer)
    assert "奖励发放" not in text(browser.get("/rewards/claims"))  # no link to it either
