"""The month's budget, taken by the last statement of each approval, is never overspent.

Approvals read the budget without a lock and take their envelope as their transaction's
last statement (`claims/limits.py`); these tests race them, and make a read go stale on
purpose, on PostgreSQL.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.rewards.claims import limits, service
from services.rewards.claims.models import EnvelopeMonth, HazardClaim
from services.rewards.ledger import service as ledger
from services.rewards.runtime import RewardsRuntime
from tests.races import errors_in, run_together
from tests.rewards.claims_helpers import act, caller, context, open_claim, verify
from tests.rewards.ledger_helpers import move_to_own_month

MEDIUM_FEN = 1000  # the rules' default medium envelope


@pytest.fixture(autouse=True)
def own_month(clock: FrozenClock) -> str:
    return move_to_own_month(clock)


def _grant(rewards: RewardsRuntime, month: str, fen: int) -> None:
    with rewards.db.transaction() as session:
        ledger.grant_budget(
            session, month=month, amount_fen=fen, by="leader-cheng", now=rewards.clock.now()
        )


def _month(rewards: RewardsRuntime, month: str) -> EnvelopeMonth:
    with rewards.db.sessions() as session:
        return session.get_one(EnvelopeMonth, month)


def _statuses(rewards: RewardsRuntime, claims: list[uuid.UUID]) -> list[str]:
    with rewards.db.sessions() as session:
        return sorted(
            session.scalars(select(HazardClaim.status).where(HazardClaim.id.in_(claims))).all()
        )


def _take_step(rewards: RewardsRuntime, claim_id: uuid.UUID, by: Any) -> dict[str, Any]:
    """A confirmed medium verification as the API takes it (in a transaction of its own,
    again if the budget went meanwhile)."""
    return service.take_step(
        rewards.messaging,
        ctx=context(rewards),
        caller=by,
        claim_id=claim_id,
        body={"action": "verify", "confirmed": True, "severity": "medium"},
        key=None,
        render=lambda view: {"status": view["status"], "over_limits": view["over_limits"]},
    )


def test_verifications_racing_for_the_budget_approve_only_what_it_holds(
    rewards: RewardsRuntime, own_month: str
) -> None:
    _grant(rewards, own_month, 3 * MEDIUM_FEN)
    racing = [open_claim(rewards) for _ in range(8)]  # each from a reporter of its own
    verifier = caller(rewards, "verifier")

    results = run_together(*[partial(_take_step, rewards, c, verifier) for c in racing])

    assert not errors_in(results), results
    assert sorted(r["status"] for r in results) == ["approved"] * 3 + ["awaiting_leader"] * 5
    for waiting in (r for r in results if r["status"] == "awaiting_leader"):
        assert waiting["over_limits"] == [f"the budget of {own_month} has 0 CNY left"]
    assert _statuses(rewards, racing).count("approved") == 3
    month = _month(rewards, own_month)
    assert (month.reserved_fen, month.approved_fen) == (3 * MEDIUM_FEN, 3 * MEDIUM_FEN)


def test_a_read_gone_stale_across_a_payout_takes_no_more_than_is_left(
    rewards: RewardsRuntime, own_month: str
) -> None:
    """Two steps read the budget (1,000 of 2,000 left, 1,000 reserved), then the reserved
    envelope is paid: the month still has 1,000, and only one of the two may take it.

    Checked against `reserved_fen` alone, both would pass: the payout lowered it by as much
    as the stale reads had not yet seen paid."""
    _grant(rewards, own_month, 2 * MEDIUM_FEN)
    paid = open_claim(rewards)
    assert verify(rewards, paid, "medium").status == "approved"
    first, second = rewards.db.sessions(), rewards.db.sessions()
    reads = []
    for session in (first, second):
        session.begin()
        reads.append(limits.read_budget(session, period=own_month, rules=rewards.rules))
    assert [r.left_fen for r in reads] == [MEDIUM_FEN, MEDIUM_FEN]

    act(rewards, paid, "pay", by="finance")  # reserved 1,000 → paid 1,000

    for session, read in zip((first, second), reads, strict=True):
        limits.take_at_commit(session, budget=read, period=own_month, amount_fen=MEDIUM_FEN)
    first.commit()
    with pytest.raises(limits.BudgetTaken):
        second.commit()
    first.close()
    second.close()
    month = _month(rewards, own_month)
    assert (month.reserved_fen, month.approved_fen) == (MEDIUM_FEN, 2 * MEDIUM_FEN)
    with rewards.db.sessions() as session:
        assert ledger.budget_left(session, month=own_month) == MEDIUM_FEN  # paid 1,000 of it
        locked = limits.lock_month(session, period=own_month)
        assert limits.available(session, month=locked, rules=rewards.rules) == 0


def test_a_step_whose_budget_went_meanwhile_is_taken_again_and_waits_for_the_leader(
    rewards: RewardsRuntime, own_month: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grant(rewards, own_month, MEDIUM_FEN)
    ours, theirs = open_claim(rewards), open_claim(rewards)
    read_budget = limits.read_budget
    reads: list[limits.Budget] = []

    def read_then_lose_the_budget(session: Any, **kw: Any) -> limits.Budget:
        budget = read_budget(session, **kw)
        reads.append(budget)
        if len(reads) == 1:  # another approval commits between our read and our commit
            assert verify(rewards, theirs, "medium").status == "approved"
        return budget

    monkeypatch.setattr(limits, "read_budget", read_then_lose_the_budget)

    answer = _take_step(rewards, ours, caller(rewards, "verifier"))

    assert [r.left_fen for r in reads] == [MEDIUM_FEN, MEDIUM_FEN, 0]  # ours, theirs, ours again
    assert answer == {
        "status": "awaiting_leader",
        "over_limits": [f"the budget of {own_month} has 0 CNY left"],
    }
    with rewards.db.sessions() as session:
        history = session.get_one(HazardClaim, ours).history
    assert [h.to_status for h in history][-1:] == ["awaiting_leader"]  # the first try left none
    assert _month(rewards, own_month).reserved_fen == MEDIUM_FEN


def test_the_leader_approves_beyond_the_budget(rewards: RewardsRuntime, own_month: str) -> None:
    _grant(rewards, own_month, MEDIUM_FEN)
    verify(rewards, open_claim(rewards), "medium")
    waiting = open_claim(rewards)
    assert verify(rewards, waiting, "medium").status == "awaiting_leader"

    decided = act(rewards, waiting, "decide", by="leader", decision="approve", reason="urgent")

    assert decided.status == "approved"
    month = _month(rewards, own_month)
    assert (month.reserved_fen, month.approved_fen) == (2 * MEDIUM_FEN, 2 * MEDIUM_FEN)
