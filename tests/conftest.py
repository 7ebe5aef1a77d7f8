"""Fixtures: real PostgreSQL databases per test session, a Redis test database, runtimes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from services.common.bootstrap import Seeder, bootstrap
from services.common.clock import FrozenClock
from services.common.runtime import Runtime
from services.intake import runtime as intake_runtime
from services.intake import service as intake_service
from services.intake.runtime import IntakeRuntime
from services.mediation import runtime as mediation_runtime
from services.mediation import service as mediation_service
from services.mediation.runtime import MediationRuntime
from services.notify import runtime as notify_runtime
from services.notify import service as notify_service
from services.notify.runtime import NotifyRuntime
from services.rewards import runtime as rewards_runtime
from services.rewards import service as rewards_service
from services.rewards.runtime import RewardsRuntime
from tests import infra

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)  # 12:00 at the station

# The tests' callback receivers listen on 127.0.0.1, which production refuses.
os.environ.setdefault("INTAKE_CALLBACKS_ALLOW_PRIVATE", "true")


@pytest.fixture(scope="session")
def pg_urls() -> Iterator[dict[str, str]]:
    """One migrated, seeded PostgreSQL database per service for the whole session."""
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    with infra.postgres_databases("fq_test") as urls:
        yield urls


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database of the tests' own, emptied before and after."""
    if not infra.redis_reachable():
        infra.unavailable("Redis")
    client = redis.Redis.from_url(infra.REDIS_URL)
    client.flushdb()
    yield infra.REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture(scope="session")
def session_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


BUILDERS: dict[str, tuple[Callable[..., Any], Seeder]] = {
    "intake": (intake_runtime.build, intake_service.seed_station),
    "mediation": (mediation_runtime.build, mediation_service.seed_station),
    "rewards": (rewards_runtime.build, rewards_service.seed_station),
    "notify": (notify_runtime.build, notify_service.seed_station),
}


@pytest.fixture(scope="session")
def _migrated(pg_urls: dict[str, str], redis_url: str, session_var_dir: Path) -> None:
    """Migrate and seed every service's database once."""
    for service, (build, seed) in BUILDERS.items():
        settings = infra.settings_for(
            service, database_url=pg_urls[service], broker_url=redis_url, var_dir=session_var_dir
        )
        runtime = build(settings)
        bootstrap(runtime, seed)
        runtime.db.dispose()


@pytest.fixture
def make_runtime(
    _migrated: None,
    pg_urls: dict[str, str],
    redis_url: str,
    session_var_dir: Path,
    clock: FrozenClock,
) -> Iterator[Callable[[str], Any]]:
    """Builds a service's runtime on the session's PostgreSQL and Redis, with the test clock."""
    made: list[Runtime] = []

    def make(service: str) -> Any:
        settings = infra.settings_for(
            service, database_url=pg_urls[service], broker_url=redis_url, var_dir=session_var_dir
        )
        runtime: Runtime = BUILDERS[service][0](settings, clock)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.db.dispose()


@pytest.fixture
def intake(make_runtime: Callable[[str], IntakeRuntime]) -> IntakeRuntime:
    return make_runtime("intake")


@pytest.fixture
def mediation(make_runtime: Callable[[str], MediationRuntime]) -> MediationRuntime:
    return make_runtime("mediation")


@pytest.fixture
def rewards(make_runtime: Callable[[str], RewardsRuntime]) -> RewardsRuntime:
    return make_runtime("rewards")


@pytest.fixture
def notify(make_runtime: Callable[[str], NotifyRuntime]) -> NotifyRuntime:
    return make_runtime("notify")
