"""Per-agency rate limits, shared by every intake process: 429 with Retry-After."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.intake.ratelimit import (
    DatabaseRateLimiter,
    OnFirstUse,
    RateLimiter,
    RedisRateLimiter,
    rate_limiter,
)
from services.intake.rules import IntakeRules
from services.intake.runtime import IntakeRuntime, build_for_api
from tests import factories
from tests.intake.client import client_for


def limited(intake: IntakeRuntime, rule: str) -> IntakeRuntime:
    return replace(intake, rules=IntakeRules(rate_limit=rule))


def test_an_agency_over_its_rate_gets_429_with_retry_after(intake: IntakeRuntime) -> None:
    runtime = limited(intake, "3/minute")
    assert isinstance(runtime.rate_limiter.limiter(), RedisRateLimiter)  # Redis is the broker
    key = factories.agency_key(runtime)
    headers = {"Authorization": f"Bearer {key}"}
    client = client_for(runtime)

    answers: list[Any] = [client.get("/v1/reports", headers=headers) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert "rate limit" in answers[3].json["message"]


def test_one_agencys_rate_leaves_others_alone(intake: IntakeRuntime) -> None:
    runtime = limited(intake, "1/minute")
    client = client_for(runtime)
    busy, quiet = factories.agency_key(runtime), factories.agency_key(runtime)

    client.get("/v1/reports", headers={"Authorization": f"Bearer {busy}"})
    over = client.get("/v1/reports", headers={"Authorization": f"Bearer {busy}"})
    other = client.get("/v1/reports", headers={"Authorization": f"Bearer {quiet}"})

    assert (over.status_code, other.status_code) == (429, 200)


def test_two_processes_share_one_count(intake: IntakeRuntime) -> None:
    first, second = limited(intake, "2/minute"), limited(intake, "2/minute")
    assert first.rate_limiter is not second.rate_limiter
    headers = {"Authorization": f"Bearer {factories.agency_key(intake)}"}

    client_for(first).get("/v1/reports", headers=headers)
    client_for(second).get("/v1/reports", headers=headers)

    assert client_for(first).get("/v1/reports", headers=headers).status_code == 429


def test_the_database_limiter_counts_fixed_windows(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    limiter = DatabaseRateLimiter("2/minute", intake.db)
    subject = f"agency:{uuid.uuid4()}"
    clock.advance(timedelta(seconds=60 - clock.now().second))  # the start of a minute

    verdicts = [limiter.hit(subject, clock.now()) for _ in range(3)]
    clock.advance(timedelta(seconds=20))
    still_over = limiter.hit(subject, clock.now())
    clock.advance(timedelta(seconds=40))
    next_window = limiter.hit(subject, clock.now())

    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[2].retry_after == 60
    assert (still_over.allowed, still_over.retry_after) == (False, 40)
    assert next_window.allowed


def test_an_unreachable_redis_lets_requests_through(intake: IntakeRuntime) -> None:
    from tests import infra

    limiter = RedisRateLimiter("1/minute", f"redis://127.0.0.1:{infra.free_port()}/0")

    verdicts = [limiter.hit("agency:x", intake.clock.now()) for _ in range(3)]

    assert all(v.allowed for v in verdicts)


@pytest.mark.parametrize("store", ["database", "redis"])
def test_several_windows_must_each_allow_and_peeking_counts_nothing(
    intake: IntakeRuntime, clock: FrozenClock, store: str
) -> None:
    redis_url = intake.settings.redis_url if store == "redis" else None
    limiter = rate_limiter("2/minute;3/hour", redis_url=redis_url, db=intake.db)
    subject = f"code:{uuid.uuid4()}"
    clock.advance(timedelta(seconds=60 - clock.now().second))  # the start of a minute

    peeked = [limiter.peek(subject, clock.now()).allowed for _ in range(5)]
    first_minute = [limiter.hit(subject, clock.now()).allowed for _ in range(3)]

    assert peeked == [True] * 5
    assert first_minute == [True, True, False]
    assert not limiter.peek(subject, clock.now()).allowed


def test_the_longer_window_holds_when_the_shorter_has_moved_on(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    limiter = rate_limiter("2/minute;3/hour", redis_url=None, db=intake.db)
    subject = f"code:{uuid.uuid4()}"
    clock.advance(timedelta(seconds=60 - clock.now().second))
    for _ in range(3):
        limiter.hit(subject, clock.now())
    clock.advance(timedelta(minutes=1))

    over = limiter.hit(subject, clock.now())

    assert not over.allowed  # the hour's three are used up
    assert over.retry_after > 60


def test_a_limiter_on_first_use_is_built_once_by_whichever_thread_asks_first(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    builds: list[RateLimiter] = []
    start = threading.Barrier(8)

    def build() -> RateLimiter:
        builds.append(DatabaseRateLimiter("100/minute", intake.db))
        return builds[-1]

    limiter = OnFirstUse(build)
    assert not limiter.built  # nothing is built, and `limits` need not be loaded, until used

    def ask() -> None:
        start.wait()
        limiter.peek("agency:x", clock.now())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(builds) == 1
    assert limiter.limiter() is builds[0]


def test_the_worker_builds_its_limiters_when_first_used_and_the_api_at_start(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    worker = limited(intake, "2/minute")
    assert not worker.status_answer_limiter.built
    verdicts = [worker.status_answer_limiter.hit("status:x", clock.now()) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]  # the 3/day default

    api = build_for_api(intake.settings, clock)
    try:
        limiters = [
            api.rate_limiter,
            api.lookup_address_limiter,
            api.lookup_code_limiter,
            api.status_answer_limiter,
        ]
        assert all(limiter.built for limiter in limiters)
    finally:
        api.db.dispose()


def test_a_bad_rule_stops_the_apis_start(intake: IntakeRuntime) -> None:
    bad = replace(intake, rules=IntakeRules(status_answer_limit="three a day"))
    with pytest.raises(ValueError, match="three a day"):
        bad.build_limiters()
