"""The shape of the system: services apart, every contract consumed, models match migrations."""

from __future__ import annotations

import ast
import importlib
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import services
from services.common.config import SERVICES
from services.common.contracts import ALL_CONTRACTS
from services.common.migrations import upgrade
from services.common.scheduling import relay_task_name
from tests import infra
from tests.races import errors_in, run_together

ROOT = Path(services.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("service", [*SERVICES, "common"])
def test_a_service_imports_no_other_service(service: str) -> None:
    others = {f"services.{s}" for s in SERVICES if s != service}
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / service).rglob("*.py")
        for module in imported_modules(path)
        if any(module == o or module.startswith(o + ".") for o in others)
    ]
    assert offenders == []


def registered_tasks(service: str, tmp_path: Path) -> set[str]:
    """The task names a service's worker registers (built on an embedded configuration)."""
    runtime_module: Any = importlib.import_module(f"services.{service}.runtime")
    tasks_module: Any = importlib.import_module(f"services.{service}.tasks")
    settings = infra.settings_for(
        service,
        database_url=f"sqlite:///{tmp_path / service}.sqlite3",
        broker_url="filesystem://localhost/",
        var_dir=tmp_path,
    )
    runtime = runtime_module.build(settings)
    tasks_module.register(runtime)
    return {name for name in runtime.celery.tasks if not name.startswith("celery.")}


def test_every_contract_is_consumed_by_the_service_it_names(tmp_path: Path) -> None:
    consumed = {service: registered_tasks(service, tmp_path) for service in SERVICES}
    missing = [c.task for c in ALL_CONTRACTS if c.task not in consumed[c.queue]]
    assert missing == []


def test_task_names_say_their_service(tmp_path: Path) -> None:
    for service in SERVICES:
        names = registered_tasks(service, tmp_path)
        assert all(name.startswith(f"{service}.") for name in names), names


def test_relay_task_names_follow_the_convention() -> None:
    assert [relay_task_name(s) for s in SERVICES] == [f"{s}.relay_outbox" for s in SERVICES]


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_exactly_the_models(service: str) -> None:
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    url = infra.create_database(f"fq_migrations_{service}")
    try:
        upgrade(service, url)
        models: Any = importlib.import_module(f"services.{service}.models")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": f"alembic_version_{service}"}
            )
            diff = compare_metadata(context, models.Base.metadata)
        engine.dispose()
        assert diff == []
    finally:
        infra.drop_database(url)


@pytest.mark.timeout(60)  # without the lock, concurrent DDL deadlocks or fails
def test_replicas_bootstrapping_together_migrate_and_seed_once(tmp_path: Path) -> None:
    """What `docker compose up --scale intake-api=3` does to a new database."""
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    from services.common.bootstrap import bootstrap
    from services.mediation import runtime as mediation_runtime
    from services.mediation import service as mediation_service

    url = infra.create_database("fq_bootstrap")
    try:
        settings = infra.settings_for(
            "mediation", database_url=url, broker_url="filesystem://localhost/", var_dir=tmp_path
        )
        runtimes = [mediation_runtime.build(settings) for _ in range(3)]
        try:
            added = run_together(
                *[
                    partial(bootstrap, runtime, mediation_service.seed_station)
                    for runtime in runtimes
                ]
            )
        finally:
            for runtime in runtimes:
                runtime.db.dispose()
        assert errors_in(added) == []
        first, *others = sorted(added, reverse=True)
        assert first > 0 and others == [0, 0]  # one seeded the station, the others found it
    finally:
        infra.drop_database(url)


def test_every_periodic_task_is_run_by_the_worker_of_its_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imports each worker module as `celery -A services.<s>.worker` does."""
    import logging

    from services.beat import beat_schedule

    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("BROKER_URL", raising=False)
    handlers = logging.getLogger().handlers[:]
    scheduled = {entry["task"] for entry in beat_schedule(1.0).values()}
    try:
        for service in SERVICES:
            monkeypatch.setenv(
                f"{service.upper()}_DATABASE_URL", f"sqlite:///{tmp_path / service}.sqlite3"
            )
            module = importlib.import_module(f"services.{service}.worker")
            worker: Any = importlib.reload(module)
            mine = {task for task in scheduled if task.startswith(f"{service}.")}
            assert mine, f"{service} has no periodic task (its outbox relay at least)"
            assert mine <= set(worker.app.tasks), mine - set(worker.app.tasks)
    finally:
        logging.getLogger().handlers[:] = handlers  # the workers set up their own logging


def test_recorded_sms_are_sent_from_a_queue_of_their_own() -> None:
    from services.common.celery_app import queue_of, worker_queues
    from services.notify.delivery import DELIVER_SMS

    assert queue_of(DELIVER_SMS.task) == "notify_deliver" != queue_of("notify.send_sms")
    assert worker_queues("notify") == ["notify", "notify_deliver", "notify_periodic"]
    assert worker_queues("intake") == ["intake", "intake_periodic"]


def test_periodic_tasks_go_to_a_queue_their_service_alone_consumes() -> None:
    """A backlog of messages never holds back a relay, a deadline scan or a retry."""
    from services.beat import beat_schedule
    from services.common.celery_app import periodic_queue, queue_of, worker_queues

    for name, entry in beat_schedule(1.0).items():
        service = entry["task"].split(".", 1)[0]
        queue = entry["options"]["queue"]
        assert queue == periodic_queue(service) == f"{service}_periodic", name
        assert queue in worker_queues(service), name
        assert queue != queue_of(entry["task"]), name  # not behind the service's messages
        assert all(queue not in worker_queues(other) for other in SERVICES if other != service)
