"""The nominations' sweep: each reached deadline is acted on once."""

from __future__ import annotations

import threading
from datetime import timedelta

from services.common.clock import FrozenClock
from services.rewards.nominations.scheduled import sweep_nominations
from services.rewards.runtime import RewardsRuntime
from services.rewards.scheduled import SCHEDULE, SWEEP_NOMINATIONS
from tests.outbox import outbox_where
from tests.rewards.nominations_helpers import APPROVER, act, load, open_nomination, partner_events

LEADER_PHONE = "13951900001"  # leader-cheng of the demo station


def overdue_sms(runtime: RewardsRuntime, tracking_code: str) -> list[str]:
    return [
        m["recipient"]
        for _, m in outbox_where(runtime, "params", "tracking_code", equals=tracking_code)
        if m["template"] == "nomination_overdue"
    ]


def test_an_overdue_decision_tells_the_leader_once(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)
    code = load(rewards, nomination_id).tracking_code
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    sweep_nominations(rewards)
    assert overdue_sms(rewards, code) == []

    clock.advance(timedelta(seconds=1))
    sweep_nominations(rewards)
    sweep_nominations(rewards)

    assert overdue_sms(rewards, code) == [LEADER_PHONE]
    nomination = load(rewards, nomination_id)
    assert [h.action for h in nomination.history] == ["nominate", "deadline_breached"]
    assert nomination.status == "submitted"
    events = partner_events(rewards, nomination.report_id)
    assert events[-1] == "deadline_breached"


def test_an_extended_decision_is_watched_again_at_its_new_date(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)
    code = load(rewards, nomination_id).tracking_code
    clock.advance(timedelta(days=30))
    sweep_nominations(rewards)

    act(rewards, nomination_id, "extend", by=APPROVER, reason="waiting for the hospital")
    sweep_nominations(rewards)
    assert overdue_sms(rewards, code) == [LEADER_PHONE]
    clock.advance(timedelta(days=30))
    sweep_nominations(rewards)

    assert overdue_sms(rewards, code) == [LEADER_PHONE, LEADER_PHONE]


def test_two_sweeps_at_once_end_a_notice_once(rewards: RewardsRuntime, clock: FrozenClock) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=True, tier="merit", reason="ok")
    act(rewards, nomination_id, "publish_notice")
    clock.advance(timedelta(days=7))
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            sweep_nominations(rewards)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(t.is_alive() for t in threads) and errors == []
    nomination = load(rewards, nomination_id)
    assert nomination.status == "awaiting_approval"
    assert [h.action for h in nomination.history].count("end_notice") == 1


def test_the_appeal_window_closing_is_noted_once(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    nomination_id = open_nomination(rewards)
    act(rewards, nomination_id, "review", recommend=False, reason="no witness")
    act(rewards, nomination_id, "reject", by=APPROVER, reason="no witness")
    clock.advance(timedelta(days=15))

    sweep_nominations(rewards)
    sweep_nominations(rewards)

    actions = [h.action for h in load(rewards, nomination_id).history]
    assert actions.count("appeal_window_closed") == 1


def test_the_sweep_is_on_the_beat() -> None:
    from services.beat import beat_schedule

    assert SCHEDULE[SWEEP_NOMINATIONS]["task"] == "rewards.sweep_nominations"
    entry = beat_schedule(5.0)[SWEEP_NOMINATIONS]
    assert entry["task"] == SWEEP_NOMINATIONS and entry["schedule"] == 300.0
    assert entry["options"]["queue"] == "rewards_periodic"  # with the service's other jobs
