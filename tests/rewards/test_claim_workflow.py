"""The claim workflow: verification, the caps and the budget, the leader, payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.common.clock import STATION_TZ, FrozenClock
from services.common.transitions import TransitionRefused
from services.rewards.claims.models import ReporterMonth
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import LedgerEntry, Payout
from services.rewards.runtime import RewardsRuntime
from tests.factories import fresh_number
from tests.outbox import outbox_where
from tests.rewards.claims_helpers import act, load, open_claim, verify
from tests.rewards.ledger_helpers import move_to_own_month


@pytest.fixture(autouse=True)
def own_month(clock: FrozenClock) -> str:
    return move_to_own_month(clock)


@pytest.mark.parametrize(("severity", "fen"), [("low", 500), ("medium", 1000), ("high", 2000)])
def test_a_confirmed_hazard_earns_its_envelope_and_is_paid_once(
    rewards: RewardsRuntime, own_month: str, severity: str, fen: int
) -> None:
    claim_id = open_claim(rewards)

    approved = verify(rewards, claim_id, severity)
    assert (approved.status, approved.amount_fen, approved.period) == ("approved", fen, own_month)
    paid = act(rewards, claim_id, "pay", by="finance")

    assert paid.status == "paid"
    assert [(h.action, h.from_status, h.to_status, h.by) for h in paid.history] == [
        ("verify", "awaiting_verification", "approved", "grid-wang"),
        ("pay", "approved", "paid", "finance-zhou"),
    ]
    with rewards.db.sessions() as session:
        [payout] = session.scalars(select(Payout).where(Payout.subject_id == str(claim_id))).all()
        assert (payout.amount_fen, payout.period, payout.status) == (fen, own_month, "ordered")
        assert paid.payout_id == payout.id
        assert ledger.budget_left(session, month=own_month) == -fen  # no grant: default budget
    with pytest.raises(TransitionRefused) as again:
        act(rewards, claim_id, "pay", by="finance")
    assert again.value.status == 409 and again.value.allowed == []


def test_every_step_reaches_the_partner_and_the_reporter(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    claim_id = open_claim(rewards)
    claim = load(rewards, claim_id)
    # A second between steps: the outbox is read in time order, and two rows of one
    # instant come back in either order.
    clock.advance(timedelta(seconds=1))
    verify(rewards, claim_id, "high")
    clock.advance(timedelta(seconds=1))
    act(rewards, claim_id, "pay", by="finance")

    sent = outbox_where(rewards, "report_id", equals=str(claim.report_id))
    events = [m["event"] for task, m in sent if task == "intake.record_report_event"]
    assert events == ["hazard_claim_opened", "claim_verified", "reward_paid"]
    details = " ".join(m["detail"] for task, m in sent if task == "intake.record_report_event")
    assert "20" not in details and claim.reporter_phone[-4:] not in details  # no amount, no phone
    sms = [m for task, m in sent if task == "notify.send_sms"]
    assert [(m["template"], m["params"].get("amount"), m["recipient"]) for m in sms] == [
        ("claim_approved", "20", claim.reporter_phone),
        ("claim_paid", "20", claim.reporter_phone),
    ]


def test_not_confirmed_needs_a_reason_and_is_rejected(rewards: RewardsRuntime) -> None:
    claim_id = open_claim(rewards)
    with pytest.raises(TransitionRefused) as refused:
        act(rewards, claim_id, "verify", by="verifier", confirmed=False)
    assert refused.value.status == 422 and "reason" in refused.value.problems.fields

    rejected = act(rewards, claim_id, "verify", by="verifier", confirmed=False, reason="no wires")
    assert rejected.status == "rejected" and rejected.history[-1].note == "no wires"


def test_validation_gathers_every_problem(rewards: RewardsRuntime) -> None:
    claim_id = open_claim(rewards)
    with pytest.raises(TransitionRefused) as refused:
        act(rewards, claim_id, "verify", by="verifier", confirmed="yes", severity="huge", x=1)
    assert refused.value.status == 422
    assert set(refused.value.problems.fields) == {"confirmed", "severity", "x"}
    with pytest.raises(TransitionRefused) as wrong_role:
        act(rewards, claim_id, "verify", by="finance", confirmed=True, severity="low")
    assert wrong_role.value.status == 403
    with pytest.raises(TransitionRefused) as wrong_state:
        act(rewards, claim_id, "pay", by="finance")
    assert wrong_state.value.status == 409 and wrong_state.value.body()["allowed"] == []


def test_one_envelope_per_hazard_a_later_report_is_a_duplicate(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    first = open_claim(rewards)
    clock.advance(timedelta(hours=1))
    second = open_claim(rewards)

    with pytest.raises(TransitionRefused) as backwards:
        act(rewards, first, "verify", by="verifier", confirmed=True, duplicate_of=str(second))
    assert "duplicate_of" in backwards.value.problems.fields
    duplicate = act(
        rewards, second, "verify", by="verifier", confirmed=True, duplicate_of=str(first)
    )

    assert (duplicate.status, duplicate.duplicate_of, duplicate.amount_fen) == (
        "duplicate",
        first,
        None,
    )


def test_the_tenth_envelope_is_inside_the_cap_the_eleventh_waits_for_the_leader(
    rewards: RewardsRuntime, own_month: str
) -> None:
    phone = fresh_number()
    for _ in range(10):
        assert verify(rewards, open_claim(rewards, phone=phone), "low").status == "approved"
    over = verify(rewards, open_claim(rewards, phone=phone), "low")

    assert over.status == "awaiting_leader"
    assert over.over_limits == [f"the reporter has 10 envelopes in {own_month} (at most 10)"]
    approved = act(rewards, over.id, "decide", by="leader", decision="approve", reason="brave")
    assert approved.status == "approved"
    with rewards.db.sessions() as session:
        tally = session.get_one(ReporterMonth, (phone, own_month))
    assert (tally.envelopes, tally.amount_fen) == (11, 5500)


def test_100_cny_a_month_is_the_most_a_reporter_gets_without_the_leader(
    rewards: RewardsRuntime,
) -> None:
    phone = fresh_number()
    for _ in range(5):
        assert verify(rewards, open_claim(rewards, phone=phone), "high").status == "approved"
    over = verify(rewards, open_claim(rewards, phone=phone), "low")
    assert over.status == "awaiting_leader" and "100 CNY" in over.over_limits[0]
    rejected = act(rewards, over.id, "decide", by="leader", decision="reject", reason="cap")
    assert rejected.status == "rejected"


def test_a_claim_over_the_budget_waits_for_the_leader(
    rewards: RewardsRuntime, own_month: str
) -> None:
    with rewards.db.transaction() as session:
        ledger.grant_budget(
            session, month=own_month, amount_fen=1500, by="leader-cheng", now=rewards.clock.now()
        )
    assert verify(rewards, open_claim(rewards), "medium").status == "approved"
    over = verify(rewards, open_claim(rewards), "medium")  # 5 CNY left, 10 asked
    assert over.status == "awaiting_leader"
    assert over.over_limits == [f"the budget of {own_month} has 5 CNY left"]
    assert verify(rewards, open_claim(rewards), "low").status == "approved"  # 5 fits


def test_a_test_claim_is_never_paid_money(rewards: RewardsRuntime, own_month: str) -> None:
    claim_id = open_claim(rewards, test=True)
    verify(rewards, claim_id, "high")
    paid = act(rewards, claim_id, "pay", by="finance")

    assert paid.status == "paid" and paid.payout_id is None
    with rewards.db.sessions() as session:
        assert (
            session.scalars(
                select(LedgerEntry).where(LedgerEntry.subject_id == str(claim_id))
            ).all()
            == []
        )
        assert ledger.budget_left(session, month=own_month) == 0


def test_the_month_of_the_caps_turns_at_midnight_station_time(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    phone = fresh_number()
    last_minute_of_february = datetime(2027, 2, 28, 23, 50, tzinfo=STATION_TZ)
    clock.advance(last_minute_of_february - clock.now())
    for _ in range(10):
        assert verify(rewards, open_claim(rewards, phone=phone), "low").status == "approved"
    eleventh_in_february = open_claim(rewards, phone=phone)
    clock.advance(timedelta(minutes=11))  # 00:01 on 1 March at the station; still 28 Feb in UTC
    assert clock.now().astimezone(UTC).month == 2
    first_in_march = open_claim(rewards, phone=phone)

    assert verify(rewards, eleventh_in_february, "low").status == "awaiting_leader"
    assert verify(rewards, first_in_march, "low").status == "approved"
    assert [load(rewards, c).period for c in (eleventh_in_february, first_in_march)] == [
        "2027-02",
        "2027-03",
    ]
