"""The reviewers' and approvers' pages: nominations waiting for them, steps taken from the
page, and the four-eyes rule: no one is offered the approval of his own review."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from services.rewards.runtime import RewardsRuntime
from tests.console.pages import csrf_of, text
from tests.console.rewards.pages import signed_in_as, submit
from tests.rewards.nominations_helpers import (
    APPROVER,
    act,
    approved_brave_act,
    load,
    open_nomination,
)


def _page(nomination_id: uuid.UUID) -> str:
    return f"/rewards/nominations/{nomination_id}"


def _switch_to(browser: FlaskClient, role: str) -> str:
    page = browser.get("/rewards/nominations")
    answer = browser.post(
        "/rewards/role",
        data={"csrf_token": csrf_of(page), "role": role},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    return text(answer)


def test_the_reviewer_sees_what_waits_for_review_and_reviews_it(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    waiting = open_nomination(rewards)
    decided = open_nomination(rewards)
    act(rewards, decided, "review", recommend=False, reason="no witness")
    signed_in_as(browser, "reviewer-zhang")

    listed = text(browser.get("/rewards/nominations"))
    assert load(rewards, waiting).tracking_code in listed
    assert load(rewards, decided).tracking_code not in listed  # it waits for an approver
    assert "已提交" in listed
    assert str(load(rewards, waiting).nominee["phone"])[-11:] not in listed  # phones masked

    page = submit(
        browser, _page(waiting), "review", recommend="yes", tier="merit", reason="两名证人"
    )
    assert "已推荐，待公示" in page
    assert 'id="form-skip_notice"' in page and 'id="form-review"' not in page
    page = submit(browser, _page(waiting), "skip_notice", reason="当事人担心报复")
    assert "待审批" in page
    assert load(rewards, waiting).reviewer_id == "reviewer-zhang"


def test_a_reviewer_who_also_approves_is_not_offered_his_own_review(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    signed_in_as(browser, "reviewer-zhang")  # a reviewer first: the first of his two roles
    submit(browser, _page(nomination_id), "review", recommend="no", reason="事实不清")
    assert "审批人" in _switch_to(browser, "approver")

    page = text(browser.get(_page(nomination_id)))
    assert "待审批" in page
    for action in ("approve", "reject", "honour"):
        assert f'id="form-{action}"' not in page
    assert 'id="withheld"' in page and "须由另一位审批人决定" in page

    forged = browser.post(
        f"{_page(nomination_id)}/actions/reject",
        data={"csrf_token": csrf_of(browser.get(_page(nomination_id))), "reason": "我自己审的"},
        follow_redirects=True,
    )
    assert forged.status_code == 200
    refusal = text(forged)
    assert 'role="alert"' in refusal and "须由另一位审批人决定" in refusal
    assert "not the reviewer" in refusal  # the API's own words, beside the sentence
    assert load(rewards, nomination_id).status == "awaiting_approval"


def test_another_approver_sees_the_buttons_and_decides(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=True, tier="merit", reason="witnesses")
    act(rewards, nomination_id, "skip_notice", reason="safety")
    signed_in_as(browser, "approver-li")
    assert load(rewards, nomination_id).tracking_code in text(browser.get("/rewards/nominations"))

    page = text(browser.get(_page(nomination_id)))
    assert 'id="form-approve"' in page and 'id="form-reject"' in page
    assert 'id="withheld"' not in page
    page = submit(browser, _page(nomination_id), "approve", tier="commendation")
    assert "已批准" in page
    assert load(rewards, nomination_id).tier == "commendation"


def test_a_missing_reason_is_named_on_its_form(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    signed_in_as(browser, "reviewer-zhang")
    page = submit(browser, _page(nomination_id), "review", recommend="yes", tier="merit")
    assert "请更正表单：理由: Missing data for required field." in page
    assert 'class="field-error"' in page
    assert load(rewards, nomination_id).status == "submitted"


def test_a_stale_form_says_what_state_the_nomination_is_in_now(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=False, reason="unclear")
    signed_in_as(browser, "approver-li")
    page = browser.get(_page(nomination_id))
    act(rewards, nomination_id, "reject", by=APPROVER, reason="no witness")  # someone was quicker
    answer = browser.post(
        f"{_page(nomination_id)}/actions/reject",
        data={"csrf_token": csrf_of(page), "reason": "同上"},
        follow_redirects=True,
    )
    assert "该推荐现在为“未通过”" in text(answer)


def test_an_objection_is_answered_by_choosing_it(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=True, tier="merit", reason="witnesses")
    act(rewards, nomination_id, "publish_notice")
    act(rewards, nomination_id, "object", text="他当时不在场")
    signed_in_as(browser, "reviewer-zhang")
    page = text(browser.get(_page(nomination_id)))
    assert "他当时不在场" in page and "尚未答复" in page
    assert '<label for="answer_objection-objection">' in page
    objection = load(rewards, nomination_id).objections[0].id
    page = submit(
        browser, _page(nomination_id), "answer_objection", objection=str(objection), answer="有监控"
    )
    assert "有监控" in page
    assert load(rewards, nomination_id).objections[0].answer == "有监控"


def test_a_role_one_does_not_hold_is_refused(browser: FlaskClient) -> None:
    signed_in_as(browser, "approver-li")
    page = browser.get("/rewards/nominations")
    assert 'id="switch-role"' not in text(page)  # one role: nothing to switch to
    answer = browser.post("/rewards/role", data={"csrf_token": csrf_of(page), "role": "finance"})
    assert answer.status_code == 400
    assert "您没有“finance”这个角色" in text(answer)


def test_a_nomination_that_is_not_there_is_a_404_with_words(browser: FlaskClient) -> None:
    signed_in_as(browser, "approver-li")
    answer = browser.get(_page(uuid.uuid4()))
    assert answer.status_code == 404
    assert "没有这项推荐" in text(answer)


def test_finance_pays_an_approved_award_from_its_queue(
    browser: FlaskClient, rewards: RewardsRuntime
) -> None:
    nomination_id = approved_brave_act(rewards, tier="commendation")
    signed_in_as(browser, "finance-zhou")
    assert load(rewards, nomination_id).tracking_code in text(browser.get("/rewards/nominations"))
    page = submit(browser, _page(nomination_id), "pay")
    assert "已发放" in page and "200.00 元" in page
    assert load(rewards, nomination_id).status == "paid"


def test_switching_role_lands_on_the_new_roles_first_page(browser: FlaskClient) -> None:
    signed_in_as(browser, "reviewer-zhang")
    page = browser.get("/rewards/nominations")

    answer = browser.post(
        "/rewards/role",
        data={"csrf_token": csrf_of(page), "role": "approver"},
        follow_redirects=True,
    )

    assert answer.status_code == 200
    assert [r.headers["Location"] for r in answer.history] == ["/", "/rewards/nominations"]
    assert "<h1>奖励推荐：等您处理</h1>" in text(answer)
