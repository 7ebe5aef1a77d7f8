"""Fixtures: real PostgreSQL databases and Redis, runtimes on them, a clock per test.

Every test has its own data and its own clock, whatever ran before it and in whatever order
(the suite runs in random order, see README):

- `clock` is a new `FrozenClock` at `NOW` for each test; tests move it, never share one.
- The service databases are created, migrated and seeded once per session. After each test
  that used one of them (through `make_runtime`, `intake`, `mediation`, `rewards`, `notify`
  or `pg_urls`) each database it used is emptied and the station seeded again, as
  `bootstrap` seeds it; after each test that used Redis (`redis_url` or a runtime) the test
  Redis database is flushed. So a test starts from a freshly bootstrapped station and an
  empty broker, and may count rows and queued messages exactly.
- Each test's runtimes keep their files (the staff secret) in a folder of the test's own.

New tests get all of this by asking for these fixtures; a test that reaches the databases
or Redis some other way must ask for `pg_urls` or `redis_url` so that it is cleaned up after.
Module-scoped systems (tests/e2e) run on databases and a Redis of their own.
"""

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
from services.common.config import Settings
from services.common.runtime import Runtime
from services.common.station import load_station
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
def service_databases(
    _redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[infra.ServiceDatabases]:
    """One PostgreSQL database per service for the session, bootstrapped as a deployment is."""
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    var_dir = tmp_path_factory.mktemp("bootstrap")
    with infra.postgres_databases("fq_test") as urls:
        for service, (build, seed) in BUILDERS.items():
            runtime = build(_settings(service, urls[service], _redis_server, var_dir))
            bootstrap(runtime, seed)
            runtime.db.dispose()
        databases = infra.ServiceDatabases(
            urls,
            seeders={service: seed for service, (_, seed) in BUILDERS.items()},
            station=load_station(runtime.settings.station_file),
        )
        yield databases
        databases.dispose()


@pytest.fixture(scope="session")
def _redis_server() -> Iterator[str]:
    """The tests' own Redis database, emptied before and after the session."""
    if not infra.redis_reachable():
        infra.unavailable("Redis")
    client = redis.Redis.from_url(infra.REDIS_URL)
    client.flushdb()
    yield infra.REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def _used(service_databases: infra.ServiceDatabases, _redis_server: str) -> Iterator[set[str]]:
    """The services whose databases this test used; after it, those are emptied and re-seeded
    and the Redis database flushed."""
    used: set[str] = set()
    yield used
    with redis.Redis.from_url(_redis_server) as client:
        client.flushdb()
    failures = []
    for service in sorted(used):
        try:
            service_databases.reset(service)
        except RuntimeError as exc:  # reset the others all the same
            failures.append(str(exc))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture
def pg_urls(service_databases: infra.ServiceDatabases, _used: set[str]) -> dict[str, str]:
    """Each service's database URL; all of them are emptied and re-seeded after the test."""
    _used.update(service_databases.urls)
    return dict(service_databases.urls)


@pytest.fixture
def _migrated(pg_urls: dict[str, str]) -> None:
    """For tests that build runtimes of their own on `pg_urls`: the databases are migrated
    and seeded (and, as with `pg_urls`, emptied and re-seeded after the test)."""


@pytest.fixture(scope="session")
def session_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the files of runtimes a test builds itself (the staff secret)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture
def redis_url(_redis_server: str, _used: set[str]) -> str:
    """The tests' Redis database, flushed after the test."""
    return _redis_server


@pytest.fixture
def clock() -> FrozenClock:
    """A clock of the test's own, standing at `NOW` until the test moves it."""
    return FrozenClock(NOW)


BUILDERS: dict[str, tuple[Callable[..., Any], Seeder]] = {
    "intake": (intake_runtime.build, intake_service.seed_station),
    "mediation": (mediation_runtime.build, mediation_service.seed_station),
    "rewards": (rewards_runtime.build, rewards_service.seed_station),
    "notify": (notify_runtime.build, notify_service.seed_station),
}


def _settings(service: str, database_url: str, broker_url: str, var_dir: Path) -> Settings:
    return infra.settings_for(
        service, database_url=database_url, broker_url=broker_url, var_dir=var_dir
    )


@pytest.fixture
def make_runtime(
    service_databases: infra.ServiceDatabases,
    _used: set[str],
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    clock: FrozenClock,
) -> Iterator[Callable[[str], Any]]:
    """Builds a service's runtime on the session's PostgreSQL and Redis, with the test clock."""
    made: list[Runtime] = []
    var_dir = tmp_path_factory.mktemp("var")

    def make(service: str) -> Any:
        _used.add(service)
        settings = _settings(service, service_databases.urls[service], redis_url, var_dir)
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
