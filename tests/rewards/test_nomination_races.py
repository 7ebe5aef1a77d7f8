"""Staff acting on one nomination at once on PostgreSQL: one wins, the others get a 409."""

from __future__ import annotations

from services.common.transitions import TransitionRefused
from services.rewards.runtime import RewardsRuntime
from tests.races import run_together
from tests.rewards.nominations_helpers import (
    APPROVER,
    FINANCE,
    act,
    approved_brave_act,
    load,
    open_nomination,
)


def status_or_refusal(call: object) -> object:
    if isinstance(call, TransitionRefused):
        return call.status
    return call


def test_approve_and_reject_at_once_one_wins_the_other_gets_409(rewards: RewardsRuntime) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=True, tier="merit", reason="seen")
    act(rewards, nomination_id, "skip_notice", reason="the actor's safety")

    results = run_together(
        lambda: act(rewards, nomination_id, "approve", by=APPROVER).status,
        lambda: act(rewards, nomination_id, "reject", by=APPROVER, reason="no").status,
        lambda: act(rewards, nomination_id, "approve", by=APPROVER).status,
    )

    got = [status_or_refusal(r) for r in results]
    assert sorted(got, key=str)[:2] == [409, 409], got
    [winner] = [g for g in got if g != 409]
    nomination = load(rewards, nomination_id)
    assert nomination.status == winner
    decisions = [h.action for h in nomination.history if h.action in ("approve", "reject")]
    assert len(decisions) == 1


def test_two_payments_at_once_pay_once(rewards: RewardsRuntime) -> None:
    nomination_id = approved_brave_act(rewards)

    results = run_together(*[lambda: act(rewards, nomination_id, "pay", by=FINANCE).status] * 3)

    got = [status_or_refusal(r) for r in results]
    assert sorted(got, key=str) == [409, 409, "paid"], got
    assert [h.action for h in load(rewards, nomination_id).history].count("pay") == 1
