"""One report of each kind travels through all four services, over HTTP and the broker.

The system runs as `make run` runs it: in the embedded default (SQLite, filesystem broker),
on Redis + PostgreSQL, and on each mix of the two.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.common.config import SERVICES
from tests import factories, infra
from tests.e2e.system import RunningSystem, wait_for

pytestmark = pytest.mark.e2e

OWNER_EVENT = {
    "dispute": "case_opened",
    "hazard": "hazard_claim_opened",
    "brave_act": "nomination_opened",
    "good_deed": "nomination_opened",
}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    system = RunningSystem(tmp_path_factory.mktemp("embedded"))
    system.start()
    yield system
    system.stop()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.PrivateRedis]:
    server = infra.PrivateRedis(port=infra.free_port(), folder=tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def on_servers(
    tmp_path_factory: pytest.TempPathFactory, private_redis: infra.PrivateRedis
) -> Iterator[RunningSystem]:
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    with infra.postgres_databases("fq_e2e") as urls:
        env = {"REDIS_URL": private_redis.url}
        env.update({f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()})
        system = RunningSystem(tmp_path_factory.mktemp("servers"), env)
        system.start()
        yield system
        system.stop()


def new_key(system: RunningSystem) -> str:
    created = system.cli("agency", "create", f"grid-{secrets.token_hex(3)}", "--kind", "grid")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("fq_")
    return key


def with_own_reporter(body: dict[str, Any]) -> dict[str, Any]:
    """A reporter no other report has: one SMS a minute per number is the rule."""
    return {**body, "reporter": {"name": "测试", "phone": factories.fresh_number()}}


def timeline_has(client: httpx.Client, location: str, *events: str) -> dict[str, Any] | None:
    report: dict[str, Any] = client.get(location).json()
    seen = {entry["event"] for entry in report["timeline"]}
    return report if set(events) <= seen else None


def drive_every_kind(system: RunningSystem) -> None:
    """Submit one report of each kind; each is routed, owned, acknowledged by SMS."""
    headers = {"Authorization": f"Bearer {new_key(system)}"}
    bodies = [
        with_own_reporter(factories.dispute()),
        with_own_reporter(factories.hazard()),
        with_own_reporter(factories.nomination("brave_act")),
        with_own_reporter(factories.nomination("good_deed")),
    ]
    with httpx.Client(base_url=system.url("intake"), headers=headers, timeout=10) as client:
        accepted, body_of = [], {}
        for body in bodies:
            answer = client.post("/v1/reports", json=body)
            assert answer.status_code == 202, answer.text
            assert answer.json()["status"] == "received"
            accepted.append((body["kind"], answer.headers["Location"]))
            body_of[answer.headers["Location"]] = body
        for kind, location in accepted:
            report = wait_for(
                lambda: timeline_has(client, location, OWNER_EVENT[kind], "sms_sent"),  # noqa: B023
                30,
                f"{kind} routed and acknowledged",
                system,
            )
            assert report["status"] == "routed"
            events = [entry["event"] for entry in report["timeline"]]
            assert events[0] == "received"
            assert events.count("sms_sent") == 1
            reporter = body_of[location]["reporter"]["phone"]
            assert all(reporter[3:] not in entry["detail"] for entry in report["timeline"])
            # The reporter follows it too, without a key, by its code and his phone's end.
            pair = {"tracking_code": report["tracking_code"], "phone_last4": reporter[-4:]}
            seen = httpx.post(system.url("intake") + "/v1/lookup", json=pair, timeout=10)
            assert seen.status_code == 200, seen.text
            assert (seen.json()["status"], seen.json()["timeline"][0]["event"]) == (
                "routed",
                "received",
            )


def test_every_kind_travels_through_the_embedded_system(embedded: RunningSystem) -> None:
    drive_every_kind(embedded)


def test_every_kind_travels_through_redis_and_postgresql(on_servers: RunningSystem) -> None:
    drive_every_kind(on_servers)
    url = on_servers.env["MEDIATION_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    with engine.connect() as conn:
        owners = conn.execute(text("SELECT DISTINCT owner_id FROM cases")).scalars().all()
    engine.dispose()
    assert owners == ["officer-guo"]  # the dispute was in weicun-3


def test_the_demo_plays_the_seed_stories(embedded: RunningSystem) -> None:
    played = embedded.cli("demo", "--url", embedded.url("intake"))
    assert played.returncode == 0, played.stderr + played.stdout
    assert played.stdout.count("sms_sent") == 4
    assert "魏村三组" in played.stdout  # the brothers' dispute went to weicun-3's officer
    assert "close           → closed" in played.stdout  # and all the way round
    taken = [line.split() for line in played.stdout.splitlines() if "→" in line]
    assert [step[1:] for step in taken if step[0] in ("grid-wang", "approver-li")] == [
        ["verify", "→", "approved"],
        ["approve", "→", "approved"],
    ]
    paid = [step[0] for step in taken if step[1:] == ["pay", "→", "paid"]]
    assert paid == ["finance-zhou", "finance-zhou"]  # the envelope and the award
    assert "reviewer-zhang skip_notice     → awaiting_approval" in played.stdout


def test_every_service_is_healthy_and_ready(embedded: RunningSystem) -> None:
    for service in SERVICES:
        assert httpx.get(f"{embedded.url(service)}/healthz").json()["service"] == service
        ready = httpx.get(f"{embedded.url(service)}/readyz").json()
        checks = {k: v for k, v in ready["checks"].items() if k != "calendar"}  # mediation's note
        assert checks == {"database": "ok", "broker": "ok", "dead_letters": "0 waiting"}


def test_a_report_accepted_while_the_broker_is_down_is_routed_when_it_is_back(
    on_servers: RunningSystem, private_redis: infra.PrivateRedis
) -> None:
    headers = {"Authorization": f"Bearer {new_key(on_servers)}"}
    with httpx.Client(base_url=on_servers.url("intake"), headers=headers, timeout=10) as client:
        private_redis.stop()
        try:
            # Still accepting, so a load balancer keeps sending reports.
            degraded = client.get("/readyz")
            assert degraded.status_code == 200
            assert degraded.json()["status"] == "accepting, broker degraded"
            assert httpx.get(f"{on_servers.url('mediation')}/readyz").status_code == 503

            started = time.monotonic()
            answer = client.post("/v1/reports", json=with_own_reporter(factories.dispute()))
            assert answer.status_code == 202
            # Stored and answered without waiting on the broker (a wait would take seconds).
            assert time.monotonic() - started < 2.0
            location = answer.headers["Location"]
            assert timeline_has(client, location, "case_opened") is None
        finally:
            private_redis.start()

        wait_for(
            lambda: timeline_has(client, location, "case_opened", "sms_sent"),
            90,
            "the report to be routed after the broker came back",
            on_servers,
        )


def test_ctrl_c_stops_the_whole_system(tmp_path: Path) -> None:
    system = RunningSystem(tmp_path)
    system.start()

    assert system.stop() == 0

    for service in SERVICES:
        assert not system.ready(service)
    assert "all stopped" in system.log()


def drive_one_report(system: RunningSystem) -> None:
    """A dispute is accepted, routed to mediation and acknowledged by SMS."""
    headers = {"Authorization": f"Bearer {new_key(system)}"}
    with httpx.Client(base_url=system.url("intake"), headers=headers, timeout=10) as client:
        answer = client.post("/v1/reports", json=with_own_reporter(factories.dispute()))
        assert answer.status_code == 202, answer.text
        location = answer.headers["Location"]
        wait_for(
            lambda: timeline_has(client, location, "case_opened", "sms_sent"),
            60,
            "the dispute routed and acknowledged",
            system,
        )


def started_pid(system: RunningSystem, name: str) -> int:
    """The pid `fengqiao run` last reported for `name` ("started <name> (pid <n>)")."""
    whole = system.log_path.read_text(errors="replace")
    pids = re.findall(rf"^started {re.escape(name)} \(pid (\d+)\)$", whole, re.M)
    assert pids, f"{name} was not started:\n{system.log()}"
    return int(pids[-1])


def test_redis_with_sqlite_files_and_a_worker_that_dies_is_started_again(
    tmp_path: Path,
) -> None:
    server = infra.PrivateRedis(port=infra.free_port(), folder=tmp_path)
    server.start()
    system = RunningSystem(tmp_path / "var", {"REDIS_URL": server.url})  # no database URLs
    try:
        system.start()
        first = started_pid(system, "notify-worker")
        os.kill(first, signal.SIGKILL)  # its main process, as the OOM killer would
        wait_for(
            lambda: started_pid(system, "notify-worker") != first,
            30,
            "the notify worker started again",
            system,
        )
        assert "notify-worker exited with -9" in system.log_path.read_text(errors="replace")

        drive_one_report(system)  # the SMS went through the new worker
    finally:
        assert system.stop() == 0
        server.stop()


def test_postgresql_with_the_file_broker(tmp_path: Path) -> None:
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    with infra.postgres_databases("fq_e2e_files") as urls:
        env = {f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()}  # no REDIS_URL
        system = RunningSystem(tmp_path, env)
        try:
            system.start()
            drive_one_report(system)
        finally:
            assert system.stop() == 0
