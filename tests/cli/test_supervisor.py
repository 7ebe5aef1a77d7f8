"""The supervisor behind `make run`: restarts what dies, gives up on what keeps dying, stops.

The children are real processes (small Python programs), killed for real.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from services.cli.run import Child, Process, RestartPolicy, Supervisor, plan
from tests import infra
from tests.cli import slow_worker

QUICK = RestartPolicy(backoff_seconds=(0.2, 0.4, 0.8), stable_after_seconds=30, give_up_after=3)
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def program(source: str) -> list[str]:
    return [sys.executable, "-c", source]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped running all the same.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def supervise_until(supervisor: Supervisor, condition: Callable[[], bool], timeout: float) -> None:
    """Run the supervisor's checks until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.check()
        time.sleep(0.05)


@pytest.fixture
def supervised() -> Iterator[Callable[..., Supervisor]]:
    made: list[Supervisor] = []

    def make(*processes: Process, **options: object) -> Supervisor:
        supervisor = Supervisor(list(processes), policy=QUICK, **options)  # type: ignore[arg-type]
        supervisor.start()
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop()


def child(supervisor: Supervisor, name: str) -> Child:
    return next(c for c in supervisor.children if c.name == name)


def pid_of(supervisor: Supervisor, name: str) -> int:
    popen = child(supervisor, name).popen
    assert popen is not None
    return popen.pid


def test_a_process_that_dies_is_started_again_after_a_wait(
    supervised: Callable[..., Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = supervised(Process("worker", SLEEPER), Process("api", SLEEPER))
    first, api = pid_of(supervisor, "worker"), pid_of(supervisor, "api")

    os.kill(first, signal.SIGKILL)
    died = time.monotonic()
    worker = child(supervisor, "worker")
    supervise_until(supervisor, lambda: worker.alive() and pid_of(supervisor, "worker") != first, 5)

    assert time.monotonic() - died >= QUICK.backoff_seconds[0]
    assert pid_of(supervisor, "api") == api  # the others were left alone
    err = capsys.readouterr().err
    assert f"worker exited with {-signal.SIGKILL}" in err
    assert "restarting it in 0.2 s" in err


def test_a_process_that_keeps_dying_is_given_up_with_growing_waits(
    supervised: Callable[..., Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = supervised(
        Process("crasher", program("raise SystemExit(3)")), Process("api", SLEEPER)
    )

    supervise_until(supervisor, lambda: child(supervisor, "crasher").given_up, 10)
    time.sleep(1.0)
    supervisor.check()  # no restart is pending any more

    err = capsys.readouterr().err
    assert err.count("started crasher") == QUICK.give_up_after
    assert "restarting it in 0.2 s" in err
    assert "restarting it in 0.4 s" in err
    assert "giving up on it" in err
    assert "exited with 3" in err
    assert child(supervisor, "api").alive()
    assert not child(supervisor, "crasher").alive()


def test_what_a_dead_process_left_running_is_stopped_before_it_starts_again(
    supervised: Callable[..., Supervisor], tmp_path: Path
) -> None:
    # Like a Celery worker's pool child when its main process is killed.
    pid_file = tmp_path / "grandchild.pid"
    parent = program(
        "import pathlib, subprocess, sys, time\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(grandchild.pid))\n"
        "time.sleep(120)\n"
    )
    supervisor = supervised(Process("worker", parent))
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())

    os.kill(pid_of(supervisor, "worker"), signal.SIGKILL)
    supervise_until(supervisor, lambda: not alive(grandchild), 5)


def test_stop_waits_for_a_graceful_exit_and_kills_only_after_the_grace(
    supervised: Callable[..., Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    stubborn = program(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(120)\n"
    )
    supervisor = supervised(
        Process("graceful", SLEEPER), Process("stubborn", stubborn), stop_grace_seconds=1.0
    )
    time.sleep(0.5)  # let the stubborn one install its handler

    started = time.monotonic()
    supervisor.stop()

    assert time.monotonic() - started < 5
    assert not any(c.alive() for c in supervisor.children)
    err = capsys.readouterr().err
    assert "stubborn did not stop in time; killing it" in err
    assert "graceful did not stop" not in err
    assert "all stopped" in err


def test_a_worker_busy_past_the_grace_hands_its_task_back_and_stops_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The notify worker overran the grace with a task that would not end: hurried, not killed."""
    server = infra.PrivateRedis(port=infra.free_port(), folder=tmp_path)
    server.start()
    try:
        marker = tmp_path / "started"
        monkeypatch.setenv("SLOW_WORKER_BROKER_URL", server.url)
        monkeypatch.setenv("SLOW_WORKER_MARKER", str(marker))
        worker = next(p for p in plan() if p.name == "notify-worker")
        argv = [
            word if word != "services.notify.worker" else "tests.cli.slow_worker"
            for word in worker.argv
        ]
        supervisor = Supervisor([replace(worker, argv=argv)], stop_grace_seconds=10.0)
        supervisor.start()
        try:
            slow_worker.celery_on(server.url).send_task(slow_worker.TASK)
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert time.monotonic() < deadline, "the worker never started the task"
                assert child(supervisor, "notify-worker").alive()
                time.sleep(0.1)
        finally:
            started = time.monotonic()
            supervisor.stop()
            took = time.monotonic() - started

        err = capsys.readouterr().err
        assert "notify-worker is still stopping; hurrying it" in err
        assert "did not stop in time" not in err
        assert took < 10.0
        # Handed back: the message waits in its queue for the next worker.
        client = redis.Redis.from_url(server.url)
        assert client.llen(slow_worker.QUEUE) == 1
        client.close()
    finally:
        server.stop()
