"""`fengqiao run`: the whole system in the foreground, as `make run` starts it.

Four APIs under gunicorn, one Celery worker per service consuming only its own queue, and
the beat scheduler. Ctrl-C (or SIGTERM) stops all of it; if any process dies, all stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

import click
from environs import Env

from services.common.celery_app import worker_queues
from services.common.config import SERVICES

DEFAULT_PORTS = {"intake": 5001, "mediation": 5002, "rewards": 5003, "notify": 5004}
STOP_GRACE_SECONDS = 20.0


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]


def port_of(service: str, env: Env | None = None) -> int:
    """The port a service's API listens on (`<SERVICE>_PORT` overrides the default)."""
    return (env or Env()).int(f"{service.upper()}_PORT", DEFAULT_PORTS[service])


def plan(env: Env | None = None) -> list[Process]:
    """Every process of the system, with its command line."""
    env = env or Env()
    python = sys.executable
    host = env.str("FENGQIAO_HOST", "127.0.0.1")
    embedded = not (env.str("BROKER_URL", "") or env.str("REDIS_URL", ""))
    web_workers = env.int("WEB_CONCURRENCY", 2)
    worker_concurrency = env.int("WORKER_CONCURRENCY", 1)
    processes: list[Process] = []
    for service in SERVICES:
        options = (
            f"--bind {host}:{port_of(service, env)} --workers {web_workers} --threads 4"
            " --graceful-timeout 10 --no-control-socket"
        )
        gunicorn = [python, "-m", "gunicorn", *options.split(), f"services.{service}:create_app()"]
        processes.append(Process(f"{service}-api", gunicorn))
    for service in SERVICES:
        options = (
            f"worker --queues {','.join(worker_queues(service))} --hostname {service}@%h"
            f" --concurrency {worker_concurrency} --loglevel INFO"
        )
        if embedded:  # the filesystem transport has no use for worker chatter
            options += " --without-gossip --without-mingle --without-heartbeat"
        celery = [python, "-m", "celery", "-A", f"services.{service}.worker", *options.split()]
        processes.append(Process(f"{service}-worker", celery))
    beat = [python, "-m", "celery", "-A", "services.beat", "beat", "--loglevel", "WARNING"]
    processes.append(Process("beat", beat))
    return processes


class Supervisor:
    """Starts the processes, forwards a stop to all of them, and stops all if one dies."""

    def __init__(self, processes: list[Process]) -> None:
        self.processes = processes
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self) -> None:
        for process in self.processes:
            # Own session: a terminal's Ctrl-C reaches only the supervisor, which then
            # stops the children in order instead of all of them at once.
            self.running[process.name] = subprocess.Popen(process.argv, start_new_session=True)
            click.echo(f"started {process.name} (pid {self.running[process.name].pid})", err=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def wait(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        exit_code = 0
        while not self.stopping:
            for name, popen in self.running.items():
                if popen.poll() is not None:
                    click.echo(f"{name} exited with {popen.returncode}; stopping all", err=True)
                    self.stopping, exit_code = True, 1
                    break
            time.sleep(0.2)
        self.stop()
        return exit_code

    def stop(self) -> None:
        # SIGTERM to each main process only: gunicorn and Celery then stop their own
        # workers gracefully (a Celery pool child finishes its task). The whole group is
        # killed only if that does not happen in time.
        for popen in self.running.values():
            if popen.poll() is None:
                popen.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, popen in self.running.items():
            try:
                popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                click.echo(f"{name} did not stop in time; killing it", err=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()
        click.echo("all stopped", err=True)


@click.command()
@click.option("--skip-migrate", is_flag=True, help="Do not migrate or seed before starting.")
def run(skip_migrate: bool) -> None:
    """Start the whole system in the foreground; Ctrl-C stops it."""
    from services.cli import bootstrap_service

    if not skip_migrate:
        for service in SERVICES:
            bootstrap_service(service)
    supervisor = Supervisor(plan())
    supervisor.start()
    for service in SERVICES:
        click.echo(f"{service} API on http://127.0.0.1:{port_of(service)}", err=True)
    sys.exit(supervisor.wait())
