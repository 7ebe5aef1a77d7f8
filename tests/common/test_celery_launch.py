"""The launcher starts workers and beat as `fengqiao run` runs them, on the real Redis.

Each process is started from the command line `plan()` gives it, then stopped with SIGTERM
as a supervisor or Docker stops it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from services.cli.run import plan
from services.common.celery_launch import UsageError, beat_options, parse, worker_options
from services.common.config import SERVICES
from tests.common import launched_app

START_SECONDS = 60.0  # a cold start on the busy machine
STOP_SECONDS = 30.0


def planned_argv(name: str) -> list[str]:
    return next(process.argv for process in plan() if process.name == name)


def environment(**extra: str) -> dict[str, str]:
    """This environment without any service's broker or database, plus `extra`."""
    unset = {"BROKER_URL", "REDIS_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    return {**env, **extra}


def wait_for(condition: Any, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not condition():
        assert process.poll() is None, f"exited with {process.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{what} not in time:\n{log.read_text()}"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as `fengqiao run` and Docker stop a process; its exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("service", "pool"),
    [("intake", "prefork"), ("notify", "threads")],
    ids=["processes", "threads"],
)
def test_a_launched_worker_consumes_a_task_and_shuts_down_warm_on_sigterm(
    service: str, pool: str, redis_url: str, tmp_path: Path
) -> None:
    argv = [
        "tests.common.launched_app" if word == f"services.{service}.worker" else word
        for word in planned_argv(f"{service}-worker")
    ]
    assert argv[argv.index("--pool") + 1] == pool
    report, log = tmp_path / "report.json", tmp_path / "worker.log"
    env = environment(LAUNCHED_BROKER_URL=redis_url, LAUNCHED_REPORT=str(report))
    with log.open("wb") as output:
        worker = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        launched_app.celery_on(redis_url).send_task(launched_app.PROBES[service])
        wait_for(report.exists, worker, log, "the probe task")
    finally:
        code = stop(worker)

    ran = json.loads(report.read_text())
    assert ran["queue"] == service
    assert ran["hostname"].startswith(f"{service}@")  # --hostname service@%h
    if pool == "prefork":  # in a pool process, not in the worker's main one
        assert ran["pid"] != worker.pid
    else:  # in one of the main process's threads
        assert (ran["pid"], ran["thread"] != "MainThread") == (worker.pid, True)
    assert ran["loaded"] == [], "the rest of the celery command came along"
    assert code == 0
    assert "Warm shutdown" in log.read_text()
    with redis.Redis.from_url(redis_url) as client:  # acknowledged, not handed back
        assert client.llen(service) == 0
        assert client.hlen("unacked") == 0


def test_launched_beat_keeps_its_schedule_file_and_sends_periodic_tasks(
    redis_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "beat.log"
    env = environment(REDIS_URL=redis_url, FENGQIAO_VAR_DIR=str(tmp_path))
    client = redis.Redis.from_url(redis_url)
    with log.open("wb") as output:
        beat = subprocess.Popen(planned_argv("beat"), env=env, stdout=output, stderr=output)
    try:
        # Every outbox relay runs each second, on its service's periodic queue.
        wait_for(lambda: client.llen("intake_periodic") > 0, beat, log, "a periodic task")
    finally:
        code = stop(beat)
        client.close()

    assert code == 0
    assert list(tmp_path.glob("celerybeat-schedule*")), "no schedule file in FENGQIAO_VAR_DIR"


@pytest.mark.parametrize(
    "argv",
    [[], ["worker"], ["-A", "services.beat"], ["-A", "services.beat", "flower"], ["--app"]],
)
def test_anything_but_an_app_then_worker_or_beat_is_refused(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(argv)


def test_the_command_line_is_split_as_celery_splits_it() -> None:
    assert parse(["-A", "services.beat", "beat", "--loglevel", "WARNING"]) == (
        "services.beat",
        "beat",
        ["--loglevel", "WARNING"],
    )
    assert parse(["--app=m", "worker", "-Q", "a,b"]) == ("m", "worker", ["-Q", "a,b"])


def test_the_workers_options_are_read_as_celery_worker_reads_them() -> None:
    argv = planned_argv("notify-worker")
    planned = argv[argv.index("worker") + 1 :]
    options = worker_options([*planned, "-E", "--prefetch-multiplier=4"])
    assert options["queues"] == ["notify", "notify_deliver", "notify_periodic"]
    assert (options["pool"], options["concurrency"]) == ("threads", 8)
    assert (options["hostname"], options["loglevel"]) == ("notify@%h", "INFO")
    assert (options["task_events"], options["prefetch_multiplier"]) == (True, 4)
    # Left to the app's settings (prefetch 1, no events), as `celery worker` leaves them.
    unset = worker_options([])
    assert unset["prefetch_multiplier"] is unset["task_events"] is unset["concurrency"] is None


def test_beats_options_are_read_as_celery_beat_reads_them() -> None:
    assert beat_options(["--loglevel", "warning", "-s", "var/beat-schedule"]) == {
        "loglevel": "WARNING",
        "schedule": "var/beat-schedule",
        "scheduler": None,
        "max_interval": None,
    }


@pytest.mark.parametrize(
    "options",
    [
        ["--autoscale", "4,1"],
        ["--loglevel", "LOUD"],
        ["--queue", "notify"],  # an abbreviation of --queues
        ["--pool", "greenlets"],
        ["--concurrency", "-1"],
    ],
)
def test_an_option_the_launcher_does_not_know_stops_it(options: list[str]) -> None:
    """Not ignored: a worker must not run with a setting other than the one written."""
    with pytest.raises(SystemExit) as stopped:
        worker_options(options)
    assert stopped.value.code == 2
