"""The rewards digest: each verifier, reviewer and approver hears what waits, once per interval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.common.clock import FrozenClock
from services.rewards.digests import send_digests, waiting
from services.rewards.runtime import RewardsRuntime
from services.rewards.scheduled import SCHEDULE, SEND_DIGESTS
from tests.outbox import outbox_where
from tests.rewards.claims_helpers import open_claim
from tests.rewards.nominations_helpers import open_nomination

VERIFIER, REVIEWER, OFFICER = "+8613951900031", "+8613951900041", "+8613951900011"


def digests_to(rewards: RewardsRuntime, phone: str) -> list[dict[str, Any]]:
    rows = outbox_where(rewards, "recipient", equals=phone)
    return [body for _, body in rows if body["template"] == "rewards_digest"]


def test_what_waits_is_told_to_its_roles_once_per_interval(
    rewards: RewardsRuntime, clock: FrozenClock
) -> None:
    before = waiting(rewards)
    open_claim(rewards)
    open_nomination(rewards)
    counts = waiting(rewards)
    assert counts["to_verify"] == before["to_verify"] + 1
    assert counts["to_review"] == before["to_review"] + 1

    send_digests(rewards)
    send_digests(rewards)  # the same window: no second digest
    clock.advance(timedelta(hours=1))
    send_digests(rewards)

    [verifier] = {d["idempotency_key"]: d for d in digests_to(rewards, VERIFIER)}.values()
    assert verifier["params"] == {"to_verify": counts["to_verify"], "to_review": 0, "to_approve": 0}
    [reviewer] = {d["idempotency_key"]: d for d in digests_to(rewards, REVIEWER)}.values()
    assert reviewer["params"] == {"to_verify": 0, "to_review": counts["to_review"], "to_approve": 0}
    assert digests_to(rewards, OFFICER) == []  # nothing of rewards waits for an officer

    clock.advance(rewards.rules.digest_interval)
    send_digests(rewards)
    keys = {d["idempotency_key"] for d in digests_to(rewards, VERIFIER)}
    assert len(keys) == 2  # the next interval's digest


def test_the_digest_is_on_the_beat() -> None:
    from services.beat import beat_schedule

    entry = beat_schedule(5.0)[SEND_DIGESTS]
    assert SCHEDULE[SEND_DIGESTS]["task"] == "rewards.send_digests"
    assert entry["options"]["queue"] == "rewards_periodic"
