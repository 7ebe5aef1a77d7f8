"""Degrade, don't fail: database and broker outages answer 503 or degrade, and log once.

The database goes away for real: each runtime here reaches PostgreSQL through a proxy the
test cuts (every connection dropped, new ones refused) and restores. The broker is a Redis
port where nothing listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from celery.beat import ScheduleEntry
from celery.schedules import schedule
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from werkzeug.test import TestResponse

from services import intake as intake_service
from services import mediation, notify, rewards
from services.common import outages
from services.common.beat_scheduler import QuietScheduler
from services.common.celery_app import create_celery
from services.common.clock import FrozenClock
from services.common.config import SCHEDULER, SERVICES, Settings
from services.common.contracts import OPEN_CASE
from services.common.outages import run_quietly
from services.intake.runtime import IntakeRuntime
from services.intake.runtime import build as build_intake
from services.intake.service import SubmitReport
from tests import factories, infra, messages
from tests.tcp_proxy import TcpProxy

APPS: dict[str, Callable[..., Flask]] = {
    "intake": intake_service.create_app,
    "mediation": mediation.create_app,
    "rewards": rewards.create_app,
    "notify": notify.create_app,
}
OUTAGE_LOGGER = "services.common.outages"


@pytest.fixture(autouse=True)
def no_outage_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with both dependencies known to be up in this process."""
    monkeypatch.setattr(outages.DATABASE, "_down", False)
    monkeypatch.setattr(outages.BROKER, "_down", False)


@pytest.fixture
def database_proxy(pg_urls: dict[str, str]) -> Iterator[TcpProxy]:
    server = urlsplit(pg_urls["intake"])
    proxy = TcpProxy((server.hostname or "127.0.0.1", server.port or 5432))
    proxy.start()
    yield proxy
    proxy.cut()


@pytest.fixture
def app_through(
    _migrated: None,
    pg_urls: dict[str, str],
    redis_url: str,
    session_var_dir: Path,
    clock: FrozenClock,
    database_proxy: TcpProxy,
) -> Callable[..., Flask]:
    """A service's API app whose database is behind the proxy (and broker as given)."""

    def make(service: str, *, broker_url: str | None = None) -> Flask:
        settings = infra.settings_for(
            service,
            database_url=database_proxy.url_for(pg_urls[service]),
            broker_url=broker_url or redis_url,
            var_dir=session_var_dir,
        )
        app = APPS[service](settings, clock)
        app.testing = False  # errors go through the handlers, as in production

        # Every service's database, touched on every service's app: mediation and rewards
        # have no route of their own that reads it yet.
        @app.get("/touch-database")
        def touch() -> str:
            app.extensions["fengqiao"].db.ping()
            return "ok"

        return app

    return make


def json_of(answer: TestResponse) -> dict[str, Any]:
    body = answer.get_json()
    assert isinstance(body, dict), answer.text
    return body


def dead_broker_url() -> str:
    return f"redis://127.0.0.1:{infra.free_port()}/0"


def outage_lines(caplog: pytest.LogCaptureFixture, what: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == OUTAGE_LOGGER and record.getMessage().startswith(what)
    ]


# --- the database away: 503 with Retry-After, never a 500 ---------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_a_database_outage_is_503_with_retry_after_on_every_service(
    service: str,
    app_through: Callable[..., Flask],
    database_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = app_through(service).test_client()
    assert client.get("/touch-database").status_code == 200

    database_proxy.cut()
    with caplog.at_level(logging.WARNING):
        answers = [client.get("/touch-database") for _ in range(3)]

    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
        assert "database is unreachable" in json_of(answer)["message"]
    assert len(outage_lines(caplog, "database unreachable")) == 1  # one warning, no traceback
    assert not [r for r in caplog.records if r.exc_info]

    database_proxy.restore()
    with caplog.at_level(logging.WARNING):
        assert client.get("/touch-database").status_code == 200
    assert outage_lines(caplog, "database is back") == ["database is back"]


def test_intake_answers_a_report_with_503_while_its_database_is_away(
    app_through: Callable[..., Flask], database_proxy: TcpProxy, intake: IntakeRuntime
) -> None:
    client = app_through("intake").test_client()
    headers = {"Authorization": f"Bearer {factories.agency_key(intake)}"}
    database_proxy.cut()

    answer = client.post("/v1/reports", json=factories.dispute(), headers=headers)

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)


# --- readiness: intake degrades without a broker, fails without a database -----------------


def test_intake_stays_ready_without_a_broker_and_says_so(
    app_through: Callable[..., Flask],
) -> None:
    ready = app_through("intake", broker_url=dead_broker_url()).test_client().get("/readyz")

    assert ready.status_code == 200
    assert json_of(ready)["status"] == "accepting, broker degraded"
    assert json_of(ready)["checks"]["database"] == "ok"
    assert json_of(ready)["checks"]["broker"].startswith("unreachable")


@pytest.mark.parametrize("service", ["mediation", "rewards", "notify"])
def test_the_other_services_are_not_ready_without_a_broker(
    service: str, app_through: Callable[..., Flask]
) -> None:
    ready = app_through(service, broker_url=dead_broker_url()).test_client().get("/readyz")

    assert ready.status_code == 503
    assert json_of(ready)["status"] == "failing: broker"


def test_intake_is_not_ready_without_its_database(
    app_through: Callable[..., Flask], database_proxy: TcpProxy
) -> None:
    client = app_through("intake", broker_url=dead_broker_url()).test_client()
    database_proxy.cut()

    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert json_of(ready)["status"] == "failing: database, broker"


# --- periodic jobs: one warning when the database goes, one when it is back ----------------


@pytest.mark.usefixtures("_migrated")
def test_a_periodic_job_logs_a_database_outage_once_and_its_end_once(
    pg_urls: dict[str, str],
    redis_url: str,
    session_var_dir: Path,
    clock: FrozenClock,
    database_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = infra.settings_for(
        "intake",
        database_url=database_proxy.url_for(pg_urls["intake"]),
        broker_url=redis_url,
        var_dir=session_var_dir,
    )
    runtime = build_intake(settings, clock)
    try:
        assert run_quietly(runtime.messaging.relay, name="intake.relay_outbox") is not None
        database_proxy.cut()
        with caplog.at_level(logging.INFO):
            runs = [run_quietly(runtime.messaging.relay, name="intake.relay_outbox") for _ in "abc"]
            database_proxy.restore()
            after = run_quietly(runtime.messaging.relay, name="intake.relay_outbox")
    finally:
        runtime.db.dispose()

    assert runs == [None, None, None]
    assert after is not None
    assert len(outage_lines(caplog, "database unreachable while intake.relay_outbox")) == 1
    assert len(outage_lines(caplog, "database is back")) == 1
    assert not [r for r in caplog.records if r.exc_info]


def test_a_bug_in_a_periodic_job_is_not_taken_for_an_outage() -> None:
    def broken() -> Any:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        run_quietly(broken, name="broken")


def test_database_errors_never_show_sql_parameters(intake: IntakeRuntime) -> None:
    # SQLAlchemy shortens long parameters in its messages, which cut a phone to a prefix
    # that no masking recognises; the parameters are not in the message at all.
    with intake.db.engine.connect() as conn, pytest.raises(DBAPIError) as failed:
        conn.execute(text("SELECT :phone FROM no_such_table"), {"phone": "13800138000 x" * 20})

    assert "1380013" not in str(failed.value)
    assert "parameters hidden" in str(failed.value)


def test_a_report_cut_off_by_a_database_outage_frees_its_key_within_the_lease(
    app_through: Callable[..., Flask],
    database_proxy: TcpProxy,
    intake: IntakeRuntime,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = app_through("intake").test_client()
    headers = {"Authorization": f"Bearer {factories.agency_key(intake)}", "Idempotency-Key": "k1"}
    body = factories.dispute(summary=f"cut off {clock.now().timestamp()} {id(client)}")
    real_run = SubmitReport.run

    def database_goes_away(self: SubmitReport, *args: Any, **kwargs: Any) -> Any:
        database_proxy.cut()  # after the key was locked, before the report is stored
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(SubmitReport, "run", database_goes_away)
    cut_off = client.post("/v1/reports", json=body, headers=headers)
    monkeypatch.setattr(SubmitReport, "run", real_run)
    database_proxy.restore()

    assert cut_off.status_code == 503
    # The key could not be released while the database was away: it is still locked,
    # and only for the short lease.
    assert client.post("/v1/reports", json=body, headers=headers).status_code == 409
    clock.advance(intake.rules.idempotency_lease)
    retried = client.post("/v1/reports", json=body, headers=headers)
    assert retried.status_code == 202
    assert client.post("/v1/reports", json=body, headers=headers).get_json() == retried.get_json()
    assert intake.rules.idempotency_lease.total_seconds() <= 5


# --- the broker away: the relay and beat say so once ----------------------------------------


@pytest.mark.usefixtures("_migrated")
def test_the_relay_logs_a_broker_outage_once_and_its_end_once(
    pg_urls: dict[str, str],
    session_var_dir: Path,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def intake_on(broker_url: str) -> IntakeRuntime:
        settings = infra.settings_for(
            "intake", database_url=pg_urls["intake"], broker_url=broker_url, var_dir=session_var_dir
        )
        return build_intake(settings, clock)

    away, server = intake_on(dead_broker_url()), infra.PrivateRedis(infra.free_port(), tmp_path)
    with away.db.transaction() as session:
        message_id = away.messaging.publish(
            session, OPEN_CASE, messages.report(factories.dispute())
        )
    server.start()
    back = intake_on(server.url)
    try:
        with caplog.at_level(logging.INFO):
            sent_while_away = [away.messaging.relay(ids=[message_id]) for _ in range(2)]
            sent_when_back = back.messaging.relay(ids=[message_id])
    finally:
        away.db.dispose()
        back.db.dispose()
        server.stop()

    assert (sent_while_away, sent_when_back) == ([0, 0], 1)
    assert len(outage_lines(caplog, "broker unreachable while publishing mediation.open_case")) == 1
    assert outage_lines(caplog, "broker is back") == ["broker is back"]


def test_beat_says_once_that_the_broker_is_away_not_a_traceback_a_tick(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_celery(Settings(service=SCHEDULER, database_url="", broker_url=dead_broker_url()))
    scheduler = QuietScheduler(app=app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    entry = ScheduleEntry(
        name="intake.relay_outbox", task="intake.relay_outbox", schedule=schedule(1.0), app=app
    )

    with caplog.at_level(logging.INFO):
        for _ in range(3):
            scheduler.apply_entry(entry)

    assert len(outage_lines(caplog, "broker unreachable while sending intake.relay_outbox")) == 1
    assert not [r for r in caplog.records if r.exc_info or "Message Error" in r.getMessage()]
