"""The grid verifier's pages: hazards waiting, a claim verified and its envelope paid, every
refusal of the API said plainly."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import httpx
from flask import Flask
from flask.testing import FlaskClient

from services.common.clock import FrozenClock
from services.rewards.runtime import RewardsRuntime
from tests.console.pages import csrf_of, text
from tests.console.rewards.pages import signed_in_as, submit
from tests.rewards.claims_helpers import load, open_claim, verify


def _step(browser: FlaskClient, claim_id: uuid.UUID, action: str, **fields: str) -> str:
    return submit(browser, f"/rewards/claims/{claim_id}", action, **fields)


def test_the_verifier_sees_the_hazards_waiting_oldest_or_newest_first(
    browser: FlaskClient, rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    first = open_claim(rewards)
    clock.advance(timedelta(hours=1))
    second = open_claim(rewards)
    done = open_claim(rewards)
    verify(rewards, done)
    codes = [load(rewards, c).tracking_code for c in (first, second, done)]
    signed_in_as(browser, "grid-wang")

    oldest = text(browser.get("/rewards/claims"))
    newest = text(browser.get("/rewards/claims?order=newest"))

    assert "待核实" in oldest
    assert oldest.index(codes[0]) < oldest.index(codes[1])
    assert newest.index(codes[1]) < newest.index(codes[0])
    assert codes[2] not in oldest  # verified already: not waiting
    assert "****" in oldest  # the reporter's phone as the API lists it, masked
    assert codes[2] in text(browser.get("/rewards/claims?status=approved"))


def test_a_verifier_verifies_and_finance_pays_the_envelope(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    signed_in_as(browser, "grid-wang")
    page = text(browser.get(f"/rewards/claims/{claim_id}"))
    assert 'id="form-verify"' in page and 'id="form-pay"' not in page
    assert '<label for="verify-confirmed">' in page

    page = _step(browser, claim_id, "verify", confirmed="yes", severity="high", note="现场确认")
    assert "已批准" in page and "20.00" in page
    assert 'id="form-verify"' not in page
    assert load(rewards, claim_id).status == "approved"

    signed_in_as(browser, "finance-zhou")
    page = _step(browser, claim_id, "pay")
    assert "已发放" in page
    assert load(rewards, claim_id).status == "paid"
    assert load(rewards, claim_id).payout_id is not None


def test_a_hazard_not_confirmed_needs_a_reason_named_on_its_form(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    signed_in_as(browser, "grid-wang")
    page = _step(browser, claim_id, "verify", confirmed="yes")  # no severity
    assert "请更正表单" in page
    assert 'class="field-error"' in page
    assert load(rewards, claim_id).status == "awaiting_verification"

    page = _step(browser, claim_id, "verify", confirmed="no", reason="现场无隐患")
    assert "未通过" in page
    assert load(rewards, claim_id).status == "rejected"


def test_a_stale_form_says_what_state_the_claim_is_in_now(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    signed_in_as(browser, "grid-wang")
    page = browser.get(f"/rewards/claims/{claim_id}")
    verify(rewards, claim_id, "low")  # another grid officer was quicker
    answer = browser.post(
        f"/rewards/claims/{claim_id}/actions/verify",
        data={"csrf_token": csrf_of(page), "confirmed": "yes", "severity": "high"},
        follow_redirects=True,
    )
    assert "该隐患申报现在为“已批准”" in text(answer)
    assert load(rewards, claim_id).verified_severity == "low"


def test_a_forged_pay_by_the_verifier_gets_the_apis_refusal(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    verify(rewards, claim_id)
    signed_in_as(browser, "grid-wang")
    page = browser.get(f"/rewards/claims/{claim_id}")
    assert 'id="form-pay"' not in text(page)
    answer = browser.post(
        f"/rewards/claims/{claim_id}/actions/pay",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert "您的角色无权进行此操作" in text(answer)
    assert load(rewards, claim_id).status == "approved"


def test_a_claim_that_is_not_there_is_a_404_with_words(browser: FlaskClient) -> None:
    signed_in_as(browser, "grid-wang")
    answer = browser.get(f"/rewards/claims/{uuid.uuid4()}")
    assert answer.status_code == 404
    assert "没有这个隐患申报" in text(answer)


def test_a_role_without_claims_is_told_so(browser: FlaskClient) -> None:
    signed_in_as(browser, "reviewer-zhang")
    answer = browser.get("/rewards/claims")
    assert answer.status_code == 403
    assert "您的角色无权进行此操作" in text(answer)


def test_an_unknown_filter_is_a_400_that_names_it(browser: FlaskClient) -> None:
    signed_in_as(browser, "grid-wang")
    answer = browser.get("/rewards/claims?status=lost")
    assert answer.status_code == 400
    assert "lost" in text(answer)


def test_rewards_down_is_said_plainly(console_app: Flask, browser: FlaskClient) -> None:
    signed_in_as(browser, "grid-wang")
    console_app.extensions["console"].rewards_http = httpx.Client(
        base_url="http://127.0.0.1:9", timeout=2
    )
    answer = browser.get("/rewards/claims")
    assert answer.status_code == 503
    assert "奖励服务没有响应" in text(answer)


def test_a_step_without_the_csrf_token_is_refused(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    signed_in_as(browser, "grid-wang")
    answer = browser.post(
        f"/rewards/claims/{claim_id}/actions/verify", data={"confirmed": "no", "reason": "x"}
    )
    assert answer.status_code == 400
    assert load(rewards, claim_id).status == "awaiting_verification"


def test_the_leader_decides_a_claim_over_the_cap(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    rewards.rules = replace(rewards.rules, fen_per_reporter_month=1000)  # 10 CNY a month
    claim_id = open_claim(rewards)
    verify(rewards, claim_id, "high")  # 20 CNY: over the reporter's month
    signed_in_as(browser, "leader-cheng")
    listed = text(browser.get("/rewards/claims"))
    assert load(rewards, claim_id).tracking_code in listed and "待领导审批" in listed
    page = text(browser.get(f"/rewards/claims/{claim_id}"))
    assert "超出限额" in page and 'id="form-decide"' in page
    page = _step(browser, claim_id, "decide", decision="approve", reason="隐患重大")
    assert "已批准" in page
    assert load(rewards, claim_id).status == "approved"


def test_a_form_sent_twice_takes_its_step_once(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    claim_id = open_claim(rewards)
    verify(rewards, claim_id)
    signed_in_as(browser, "finance-zhou")
    form = {
        "csrf_token": csrf_of(browser.get(f"/rewards/claims/{claim_id}")),
        "idempotency_key": "k1",
    }
    answers = [
        browser.post(f"/rewards/claims/{claim_id}/actions/pay", data=form, follow_redirects=True)
        for _ in range(2)
    ]
    assert all("完成" in text(a) and "现在为" not in text(a) for a in answers)
    assert [h.action for h in load(rewards, claim_id).history] == ["verify", "pay"]


def test_the_pages_speak_english_when_asked(browser: FlaskClient, rewards: RewardsRuntime) -> None:
    claim_id = open_claim(rewards)
    signed_in_as(browser, "grid-wang")
    page = browser.get("/rewards/claims")
    browser.post(
        "/language", data={"csrf_token": csrf_of(page), "lang": "en", "next": "/rewards/claims"}
    )
    listed = text(browser.get("/rewards/claims"))
    assert "Hazard claims: Awaiting verification" in listed
    assert "Is the hazard real?" in text(browser.get(f"/rewards/claims/{claim_id}"))


def test_a_rewards_page_links_the_roles_pages_once(browser: FlaskClient) -> None:
    signed_in_as(browser, "leader-cheng")

    page = text(browser.get("/rewards/claims"))

    # The console's one navigation, not a second one of the rewards pages beside it.
    assert page.count("<nav") == 1
    for path in ("/rewards/claims", "/rewards/nominations", "/rewards/payouts", "/figures"):
        assert page.count(f'href="{path}"') == 1, path
