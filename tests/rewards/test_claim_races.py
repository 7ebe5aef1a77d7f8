"""Claims acted on at once, on PostgreSQL: the caps and the claim's own status hold."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.common.transitions import TransitionRefused
from services.rewards.claims.models import HazardClaim, ReporterMonth
from services.rewards.ledger.models import Payout
from services.rewards.runtime import RewardsRuntime
from tests.factories import fresh_number
from tests.races import run_together
from tests.rewards.claims_helpers import act, caller, open_claim, verify
from tests.rewards.ledger_helpers import move_to_own_month


@pytest.fixture(autouse=True)
def own_month(clock: FrozenClock) -> str:
    return move_to_own_month(clock)


def test_verifications_racing_at_the_cap_leave_one_inside_it(
    rewards: RewardsRuntime, own_month: str
) -> None:
    phone = fresh_number()
    for _ in range(9):
        verify(rewards, open_claim(rewards, phone=phone), "low")
    racing = [open_claim(rewards, phone=phone) for _ in range(6)]
    verifier = caller(rewards, "verifier")  # read before the race, so the threads meet

    results = run_together(*[partial(verify, rewards, c, "low", by=verifier) for c in racing])

    assert all(isinstance(r, HazardClaim) for r in results), results  # every thread finished
    assert sorted(r.status for r in results) == ["approved"] + ["awaiting_leader"] * 5
    with rewards.db.sessions() as session:
        tally = session.get_one(ReporterMonth, (phone, own_month))
        statuses = session.scalars(
            select(HazardClaim.status).where(HazardClaim.reporter_phone == phone)
        ).all()
    assert (tally.envelopes, tally.amount_fen) == (10, 5000)
    assert sorted(statuses).count("approved") == 10


def test_two_verifiers_on_one_claim_one_wins_the_other_gets_409(rewards: RewardsRuntime) -> None:
    claim_id = open_claim(rewards)

    verifier = caller(rewards, "verifier")
    results = run_together(
        lambda: verify(rewards, claim_id, "high", by=verifier),
        lambda: act(rewards, claim_id, "verify", by=verifier, confirmed=False, reason="x"),
    )

    [won] = [r for r in results if isinstance(r, HazardClaim)]
    [lost] = [r for r in results if isinstance(r, TransitionRefused)]
    assert won.status in ("approved", "rejected") and lost.status == 409
    assert lost.current == won.status  # the loser saw the winner's result


def test_finance_paying_twice_at_once_pays_once(rewards: RewardsRuntime) -> None:
    claim_id = open_claim(rewards)
    verify(rewards, claim_id, "medium")

    finance = caller(rewards, "finance")
    results = run_together(*[lambda: act(rewards, claim_id, "pay", by=finance) for _ in range(3)])

    paid = [r for r in results if isinstance(r, HazardClaim)]
    refused = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(paid) == 1 and [r.status for r in refused] == [409, 409], results
    with rewards.db.sessions() as session:
        payouts = session.scalars(select(Payout).where(Payout.subject_id == str(claim_id))).all()
    assert len(payouts) == 1 and payouts[0].id == paid[0].payout_id
