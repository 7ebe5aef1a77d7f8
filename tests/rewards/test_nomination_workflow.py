"""A nomination's steps: review, public notice and objections, four eyes, 复核, pay, honour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.common.staff_auth import Caller, Role
from services.common.transitions import TransitionRefused
from services.rewards.ledger.models import LedgerEntry, Payout
from services.rewards.nominations.commands import allowed_actions
from services.rewards.nominations.models import Nomination
from services.rewards.nominations.scheduled import sweep_nominations
from services.rewards.runtime import RewardsRuntime
from tests.outbox import outbox_where
from tests.rewards.nominations_helpers import (
    APPROVER,
    BOTH,
    FINANCE,
    LEADER,
    act,
    approved_brave_act,
    load,
    open_nomination,
    partner_events,
)


def refused(runtime: RewardsRuntime, *args: object, **kwargs: object) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as raised:
        act(runtime, *args, **kwargs)  # type: ignore[arg-type]
    return raised.value


def sms_to(runtime: RewardsRuntime, phone: str) -> list[dict[str, object]]:
    return [m for _, m in outbox_where(runtime, "recipient", equals=phone)]


def test_a_brave_act_goes_through_notice_and_objection_to_approval_and_is_paid(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=True, tier="merit", reason="two witnesses")
    noticed = act(rewards, nomination_id, "publish_notice")
    assert (noticed.status, noticed.due_kind) == ("in_public_notice", "notice_end")
    assert noticed.due_at == clock.now() + timedelta(days=7)

    act(rewards, nomination_id, "object", by=LEADER, text="他当时并不在场")
    early = refused(rewards, nomination_id, "approve", by=APPROVER)
    assert early.status == 409 and early.allowed == ["extend"]

    clock.advance(timedelta(days=7))
    sweep_nominations(rewards)
    ended = load(rewards, nomination_id)
    assert ended.status == "awaiting_approval" and ended.due_kind == "decision"
    unanswered = refused(rewards, nomination_id, "approve", by=APPROVER)
    assert unanswered.status == 422 and "action" in unanswered.problems.fields

    [objection] = ended.objections
    act(rewards, nomination_id, "answer_objection", objection=objection.id, answer="监控证实在场")
    approved = act(rewards, nomination_id, "approve", by=APPROVER)
    assert (approved.status, approved.tier, approved.amount_fen) == ("approved", "merit", 50_000)

    paid = act(rewards, nomination_id, "pay", by=FINANCE)
    assert paid.status == "paid" and paid.due_at is None
    assert [(h.action, h.from_status, h.to_status) for h in paid.history] == [
        ("nominate", None, "submitted"),
        ("review", "submitted", "under_review"),
        ("publish_notice", "under_review", "in_public_notice"),
        ("object", "in_public_notice", "in_public_notice"),
        ("end_notice", "in_public_notice", "awaiting_approval"),
        ("answer_objection", "awaiting_approval", "awaiting_approval"),
        ("approve", "awaiting_approval", "approved"),
        ("pay", "approved", "paid"),
    ]
    assert [h.by for h in paid.history][-4:] == [
        "system",
        "reviewer-zhang",
        "approver-li",
        "finance-zhou",
    ]
    with rewards.db.sessions() as session:
        [payout] = session.scalars(
            select(Payout).where(Payout.subject_id == str(nomination_id))
        ).all()
        [entry] = session.scalars(
            select(LedgerEntry).where(LedgerEntry.subject_id == str(nomination_id))
        ).all()
    assert (payout.amount_fen, payout.recipient_phone) == (50_000, paid.nominee["phone"])
    assert (entry.subject_kind, entry.amount_fen) == ("award", 50_000)

    # One event per step (the frozen clock gives several steps one instant: no order here).
    events = partner_events(rewards, paid.report_id)
    assert sorted(events) == sorted(
        [
            "nomination_opened",
            "nomination_under_review",
            "notice_published",
            "objection_filed",
            "notice_ended",
            "objection_answered",
            "award_approved",
            "reward_paid",
        ]
    )
    nominee, nominator = (
        sms_to(rewards, paid.nominee["phone"]),
        sms_to(rewards, paid.nominator["phone"]),
    )
    [award] = [m for m in nominee if m["template"] == "award_paid"]
    assert award["params"]["amount"] == "500"  # type: ignore[index]
    assert all("amount" not in m["params"] for m in nominator)  # type: ignore[operator]
    steps = [m["params"]["step"] for m in nominee if m["template"] == "nomination_step"]  # type: ignore[index]
    assert len(steps) == 5  # opened, reviewed, noticed, notice over, approved (+ award_paid)
    assert any("不收取任何费用" in str(step) for step in steps)
    # The nominator hears every step (intake acknowledged the nomination), no amount.
    told = sorted(str(m["params"]["step"]) for m in nominator)  # type: ignore[index]
    assert told == sorted([*(str(s) for s in steps if "不收取" not in str(s)), "奖励已发放"])


def test_paying_twice_is_refused_and_pays_once(rewards: RewardsRuntime) -> None:
    nomination_id = approved_brave_act(rewards, tier="commendation")
    act(rewards, nomination_id, "pay", by=FINANCE)

    again = refused(rewards, nomination_id, "pay", by=FINANCE)

    assert again.status == 409 and again.current == "paid"
    with rewards.db.sessions() as session:
        payouts = session.scalars(select(Payout).where(Payout.subject_id == str(nomination_id)))
        assert [p.amount_fen for p in payouts] == [20_000]


def test_a_test_nomination_is_marked_paid_and_no_money_moves(rewards: RewardsRuntime) -> None:
    nomination_id = approved_brave_act(rewards)
    with rewards.db.transaction() as session:
        found = session.get(Nomination, nomination_id)
        assert found is not None
        found.test = True  # as if sent with a partner's test key

    paid = act(rewards, nomination_id, "pay", by=FINANCE)

    assert paid.status == "paid" and "no money" in paid.history[-1].note
    with rewards.db.sessions() as session:
        assert (
            session.scalars(select(Payout).where(Payout.subject_id == str(nomination_id))).all()
            == []
        )


def test_the_reviewer_may_not_approve_what_they_reviewed(rewards: RewardsRuntime) -> None:
    nomination_id = open_nomination(rewards)
    both = Caller(member=BOTH, role=Role.REVIEWER)
    act(rewards, nomination_id, "review", by=both, recommend=True, tier="merit", reason="seen")
    act(rewards, nomination_id, "skip_notice", by=both, reason="the actor's safety")
    as_approver = Caller(member=BOTH, role=Role.APPROVER)

    self_approval = refused(rewards, nomination_id, "approve", by=as_approver)
    offered = allowed_actions(caller=as_approver, nomination=load(rewards, nomination_id))

    assert self_approval.status == 403 and "someone else" in self_approval.message
    assert offered == ["extend"]
    assert act(rewards, nomination_id, "approve", by=APPROVER).status == "approved"


def test_fields_are_checked_together_and_a_tier_must_be_configured(
    rewards: RewardsRuntime,
) -> None:
    nomination_id = open_nomination(rewards)

    bad = refused(rewards, nomination_id, "review", recommend=True, tier="gold", x=1)
    missing = refused(rewards, nomination_id, "review", recommend=True, reason="ok")
    wrong_role = refused(rewards, nomination_id, "review", by=FINANCE, recommend=False, reason="-")

    assert bad.status == 422 and set(bad.problems.fields) == {"reason", "x"}
    assert missing.status == 422 and "tier" in missing.problems.fields
    assert wrong_role.status == 403 and "reviewer" in wrong_role.message
    gold = refused(rewards, nomination_id, "review", recommend=True, tier="gold", reason="ok")
    assert "commendation" in gold.problems.fields["tier"][0]


def test_a_rejection_may_be_appealed_within_fifteen_days_once(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    first, second = open_nomination(rewards), open_nomination(rewards)
    for nomination_id in (first, second):
        act(rewards, nomination_id, "review", recommend=False, reason="no witness")
        rejected = act(rewards, nomination_id, "reject", by=APPROVER, reason="no witness")
    assert (rejected.due_kind, rejected.due_at) == (
        "appeal_window",
        clock.now() + timedelta(days=15),
    )

    clock.advance(timedelta(days=15))
    appealed = act(rewards, first, "appeal", by=LEADER, reason="a new witness came forward")
    assert (appealed.status, appealed.due_kind) == ("under_appeal", "appeal_decision")
    assert appealed.due_at == clock.now() + timedelta(days=30)
    upheld = act(rewards, first, "decide_appeal", by=LEADER, outcome="upheld", reason="checked")
    assert upheld.status == "rejected" and upheld.due_at is None  # final: 复核 is asked once
    assert refused(rewards, first, "appeal", by=LEADER, reason="again").status == 422

    clock.advance(timedelta(seconds=1))
    late = refused(rewards, second, "appeal", by=LEADER, reason="too late")
    assert late.status == 422 and "复核 was open until" in late.problems.fields["action"][0]


def test_an_overturned_appeal_is_decided_afresh(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=False, reason="unclear")
    act(rewards, nomination_id, "reject", by=APPROVER, reason="unclear")
    clock.advance(timedelta(days=10))
    act(rewards, nomination_id, "appeal", by=("officer-mo", "officer"), reason="video found")
    clock.advance(timedelta(days=25))

    overturned = act(
        rewards, nomination_id, "decide_appeal", by=LEADER, outcome="overturned", reason="video"
    )
    approved = act(rewards, nomination_id, "approve", by=APPROVER, tier="outstanding")

    assert overturned.status == "awaiting_approval" and overturned.decided_by is None
    assert (overturned.due_kind, overturned.due_at) == (
        "decision",
        clock.now() + timedelta(days=30),
    )
    assert (approved.status, approved.amount_fen) == ("approved", 100_000)


def test_the_decision_may_be_extended_once_by_thirty_days(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)

    extended = act(rewards, nomination_id, "extend", by=APPROVER, reason="a witness is abroad")
    twice = refused(rewards, nomination_id, "extend", by=LEADER, reason="again")

    assert extended.decide_by == clock.now() + timedelta(days=60)
    assert extended.due_at == extended.decide_by and extended.extended
    assert twice.status == 422


def test_a_good_deed_is_reviewed_and_honoured_never_paid(rewards: RewardsRuntime) -> None:
    nomination_id = open_nomination(rewards, "good_deed")
    reviewed = act(rewards, nomination_id, "review", recommend=True, reason="the village agrees")
    assert allowed_actions(caller=Caller(member=BOTH, role=Role.APPROVER), nomination=reviewed) == [
        "extend"
    ]

    honoured = act(rewards, nomination_id, "honour", by=APPROVER)
    no_notice = refused(rewards, open_nomination(rewards, "good_deed"), "publish_notice")

    assert honoured.status == "honoured" and honoured.honoured_at is not None
    assert honoured.amount_fen is None and honoured.due_at is None
    assert no_notice.status == 409


def test_a_nomination_more_than_a_year_after_the_act_is_refused_at_once(
    rewards: RewardsRuntime,
) -> None:
    nomination_id = open_nomination(rewards, occurred_at="2025-11-01T10:00:00+08:00")

    late = load(rewards, nomination_id)

    assert (late.status, late.decided_by, late.due_kind) == ("rejected", "system", "appeal_window")
    events = partner_events(rewards, late.report_id)
    assert sorted(events) == ["nomination_opened", "nomination_rejected"]
