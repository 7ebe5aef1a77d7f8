"""Every step of a claim reaches the partner's timeline, partner-safe, and moves the report."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.common.clock import FrozenClock
from services.common.contracts import RECORD_REPORT_EVENT
from services.intake.runtime import IntakeRuntime
from services.rewards.ledger import service as ledger
from services.rewards.runtime import RewardsRuntime
from tests.intake.test_timeline import new_report, read, record
from tests.outbox import outbox_where
from tests.rewards.claims_helpers import act, load, open_claim, verify
from tests.rewards.ledger_helpers import move_to_own_month


@pytest.fixture(autouse=True)
def own_month(clock: FrozenClock) -> str:
    return move_to_own_month(clock)


def forward(rewards: RewardsRuntime, intake: IntakeRuntime, report_id: uuid.UUID) -> list[str]:
    """Hand rewards' timeline messages for the report to intake, as the broker would."""
    sent = outbox_where(rewards, "report_id", equals=str(report_id))
    timeline = [body for task, body in sent if task == RECORD_REPORT_EVENT.task]
    for body in timeline:
        record(intake, RECORD_REPORT_EVENT.load(body))
    return [body["detail"] for body in timeline]


def test_a_paid_envelope_makes_the_report_rewarded_and_tells_no_amount_or_phone(
    rewards: RewardsRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    agency_id, report_id = new_report(intake)
    claim_id = open_claim(rewards, report_id=report_id)
    statuses = []
    for action, by, fields in (
        ("verify", "verifier", {"confirmed": True, "severity": "high"}),
        ("pay", "finance", {}),
    ):
        clock.advance(timedelta(minutes=5))
        act(rewards, claim_id, action, by=by, **fields)
        forward(rewards, intake, report_id)
        statuses.append(read(intake, agency_id, report_id).status)

    assert statuses == ["in_progress", "rewarded"]
    report = read(intake, agency_id, report_id)
    assert [e.event for e in report.events][-3:] == [
        "hazard_claim_opened",
        "claim_verified",
        "reward_paid",
    ]
    claim = load(rewards, claim_id)
    for event in report.events:
        assert "20" not in event.detail and "CNY" not in event.detail, event.detail
        assert claim.reporter_phone[-8:] not in event.detail and "王小明" not in event.detail


def test_a_claim_not_confirmed_closes_the_report(
    rewards: RewardsRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    agency_id, report_id = new_report(intake)
    claim_id = open_claim(rewards, report_id=report_id)
    clock.advance(timedelta(minutes=5))  # each step at its own instant: the timeline's order
    act(rewards, claim_id, "verify", by="verifier", confirmed=False, reason="no hazard found")

    details = forward(rewards, intake, report_id)

    assert read(intake, agency_id, report_id).status == "closed"
    assert details[-1] == "not confirmed by the grid officer"  # the reason stays inside


def test_a_duplicate_claim_makes_the_report_a_duplicate(
    rewards: RewardsRuntime, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    earlier = open_claim(rewards)
    clock.advance(timedelta(minutes=5))
    agency_id, report_id = new_report(intake)
    claim_id = open_claim(rewards, report_id=report_id)
    act(rewards, claim_id, "verify", by="verifier", confirmed=True, duplicate_of=str(earlier))

    forward(rewards, intake, report_id)

    assert read(intake, agency_id, report_id).status == "duplicate"


def test_over_a_cap_the_leader_approves_and_the_report_goes_on(
    rewards: RewardsRuntime, intake: IntakeRuntime, own_month: str, clock: FrozenClock
) -> None:
    with rewards.db.transaction() as session:
        ledger.grant_budget(
            session, month=own_month, amount_fen=100, by="finance-zhou", now=rewards.clock.now()
        )
    agency_id, report_id = new_report(intake)
    claim_id = open_claim(rewards, report_id=report_id)
    clock.advance(timedelta(minutes=5))  # each step at its own instant: the timeline's order
    assert verify(rewards, claim_id, "low").status == "awaiting_leader"
    clock.advance(timedelta(minutes=5))
    act(rewards, claim_id, "decide", by="leader", decision="approve", reason="worth it")

    details = forward(rewards, intake, report_id)

    assert read(intake, agency_id, report_id).status == "in_progress"
    assert details[-2:] == [
        "verified by a grid officer (low severity); the envelope awaits the leader "
        "(over a cap or the budget)",
        "the leader approved the red envelope",
    ]
