"""`fengqiao run`: the whole system in the foreground, as `make run` starts it.

Four APIs under gunicorn, one Celery worker per service consuming only its own queue, and
the beat scheduler. A process that dies is started again, after a wait that grows while it
keeps dying; Ctrl-C (or SIGTERM) stops all of it.
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
from services.common.config import SERVICES, load_settings

DEFAULT_PORTS = {
    "console": 5000,
    "intake": 5001,
    "mediation": 5002,
    "rewards": 5003,
    "notify": 5004,
}
STOP_GRACE_SECONDS = 20.0
# Notify's tasks mostly wait on an SMS provider's API: one process with a pool of threads
# sends several times what as many processes would, in the memory of one (record 0025,
# measured by `python -m bench --only drain`). The other workers keep Celery's processes.
WORKER_POOLS = {"notify": ("threads", 8)}
# Intake's worker takes two timeline events of every report, each a short transaction whose
# commit it waits for: one process waited through each commit and spent more on handing
# tasks to its pool process than on some of them (record 0035, measured by draining 600
# events: 5.4-6.0 ms of CPU a task and 65-80 a second; 4 threads 3.8-4.2 ms and 145-175).
# Only where the database locks rows (PostgreSQL): on SQLite's files, threads writing the
# same report at once would fail and retry each other's transactions.
ROW_LOCKING_POOLS = {"intake": ("threads", 4)}
# Runs Celery's `worker` or `beat` command without the rest of `celery`, which each worker
# would otherwise hold in memory for its life (decision record 0031).
CELERY_LAUNCHER = ["-m", "services.common.celery_launch"]


# Stopping: SIGTERM, then `Process.hurry` to what still runs this long before the grace is
# over (a Celery cold shutdown takes a few seconds on a busy machine), then SIGKILL.
HURRY_BEFORE_END_SECONDS = 5.0


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    # A second signal for a process still stopping late in the grace period. A Celery
    # worker's SIGTERM waits for its running tasks however long they take; SIGQUIT (its
    # cold shutdown) hands them back to the broker (acks_late) and exits.
    hurry: signal.Signals | None = None


def port_of(service: str, env: Env | None = None) -> int:
    """The port a service's API listens on (`<SERVICE>_PORT` overrides the default)."""
    return (env or Env()).int(f"{service.upper()}_PORT", DEFAULT_PORTS[service])


def worker_pool(service: str, env: Env | None = None) -> tuple[str, int]:
    """A service worker's Celery pool and its size: `<SERVICE>_WORKER_POOL`/`_CONCURRENCY`.

    Without them, notify runs its threads (`WORKER_POOLS`), intake its threads on PostgreSQL
    (`ROW_LOCKING_POOLS`), and the others `WORKER_CONCURRENCY` processes.
    """
    env = env or Env()
    processes = ("prefork", env.int("WORKER_CONCURRENCY", 1))
    pool, concurrency = WORKER_POOLS.get(service, processes)
    if service in ROW_LOCKING_POOLS and _locks_rows(load_settings(service, env).database_url):
        pool, concurrency = ROW_LOCKING_POOLS[service]
    prefix = service.upper()
    return (
        env.str(f"{prefix}_WORKER_POOL", pool),
        env.int(f"{prefix}_WORKER_CONCURRENCY", concurrency),
    )


def _locks_rows(database_url: str) -> bool:
    return database_url.startswith(("postgresql", "postgres:"))


def plan(env: Env | None = None) -> list[Process]:
    """Every process of the system, with its command line."""
    env = env or Env()
    python = sys.executable
    host = env.str("FENGQIAO_HOST", "127.0.0.1")
    embedded = not (env.str("BROKER_URL", "") or env.str("REDIS_URL", ""))
    web_workers = env.int("WEB_CONCURRENCY", 2)
    web_threads = env.int("WEB_THREADS", 4)  # chosen by measurement: decision record 0026
    processes: list[Process] = []
    for service in SERVICES:
        options = (
            f"--bind {host}:{port_of(service, env)} --workers {web_workers} --threads {web_threads}"
            " --graceful-timeout 10 --no-control-socket"
            " --config python:services.common.gunicorn_config"  # logs through the masking
        )
        gunicorn = [python, "-m", "gunicorn", *options.split(), f"services.{service}:create_app()"]
        processes.append(Process(f"{service}-api", gunicorn))
    # The staff console: a web app over the APIs, with no broker work (record 0023).
    console = (
        f"--bind {host}:{port_of('console', env)} --workers {web_workers} --threads {web_threads}"
        " --graceful-timeout 10 --no-control-socket"
        " --config python:services.common.gunicorn_config"
    )
    processes.append(
        Process(
            "console", [python, "-m", "gunicorn", *console.split(), "services.console:create_app()"]
        )
    )
    for service in SERVICES:
        pool, concurrency = worker_pool(service, env)
        options = (
            f"worker --queues {','.join(worker_queues(service))} --hostname {service}@%h"
            f" --pool {pool} --concurrency {concurrency} --loglevel INFO"
        )
        if embedded:  # the filesystem transport has no use for worker chatter
            options += " --without-gossip --without-mingle --without-heartbeat"
        celery = [python, *CELERY_LAUNCHER, "-A", f"services.{service}.worker", *options.split()]
        processes.append(Process(f"{service}-worker", celery, hurry=signal.SIGQUIT))
    beat = [python, *CELERY_LAUNCHER, "-A", "services.beat", "beat", "--loglevel", "WARNING"]
    processes.append(Process("beat", beat))
    return processes


@dataclass(frozen=True)
class RestartPolicy:
    """How the supervisor restarts a process that dies (decision record 0013)."""

    # Waits before each restart in a row of quick deaths; the last one repeats.
    backoff_seconds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    # A process that ran this long before dying was working: its next death starts afresh.
    stable_after_seconds: float = 30.0
    # This many quick deaths in a row and the process is left down, said so in the log.
    give_up_after: int = 5

    def delay(self, quick_deaths: int) -> float:
        return self.backoff_seconds[min(max(quick_deaths, 1), len(self.backoff_seconds)) - 1]


@dataclass
class Child:
    """One supervised process: its current incarnation and its record of dying."""

    process: Process
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    given_up: bool = False

    @property
    def name(self) -> str:
        return self.process.name

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def kill_group(pid: int) -> None:
    """SIGKILL what is left of a child's process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class Supervisor:
    """Starts the processes, restarts one that dies (with backoff), and stops all on a signal.

    A process that keeps dying soon after it starts is left down after a few tries, and the
    log says so; the rest keep running (intake still accepts reports without a worker).
    """

    def __init__(
        self,
        processes: list[Process],
        *,
        policy: RestartPolicy | None = None,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.children = [Child(process) for process in processes]
        self.policy = policy or RestartPolicy()
        self.stop_grace_seconds = stop_grace_seconds
        self.stopping = False

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        # Own session: a terminal's Ctrl-C reaches only the supervisor, which then stops the
        # children in order instead of all of them at once.
        child.popen = subprocess.Popen(child.process.argv, start_new_session=True)
        child.started_at, child.restart_at = time.monotonic(), None
        click.echo(f"started {child.name} (pid {child.popen.pid})", err=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def wait(self) -> int:
        """Supervise until a signal; 0 if every process was running to the end, else 1."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        while not self.stopping:
            self.check()
            time.sleep(0.2)
        self.stop()
        return 1 if any(child.given_up for child in self.children) else 0

    def check(self) -> None:
        """Notice deaths and start the restarts that are due."""
        now = time.monotonic()
        for child in self.children:
            if child.popen is not None and child.popen.poll() is not None:
                self._died(child, now)
            elif child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)

    def _died(self, child: Child, now: float) -> None:
        assert child.popen is not None
        code, ran = child.popen.returncode, now - child.started_at
        kill_group(child.popen.pid)  # a Celery pool child must not outlive its parent
        child.popen = None
        quick = ran < self.policy.stable_after_seconds
        child.quick_deaths = child.quick_deaths + 1 if quick else 0
        if child.quick_deaths >= self.policy.give_up_after:
            child.given_up = True
            click.echo(
                f"{child.name} exited with {code} after {ran:.1f} s, {child.quick_deaths} times"
                " in a row soon after starting; giving up on it (the rest keeps running)",
                err=True,
            )
            return
        delay = self.policy.delay(child.quick_deaths)
        child.restart_at = now + delay
        click.echo(
            f"{child.name} exited with {code} after {ran:.1f} s; restarting it in {delay:g} s",
            err=True,
        )

    def stop(self) -> None:
        """SIGTERM to every main process, a hurry later on, SIGKILL when the grace is over."""
        # To each main process only: gunicorn and Celery then stop their own workers
        # gracefully (a Celery pool child finishes its task). The whole group is killed only
        # if that does not happen in time.
        running = [child for child in self.children if child.alive()]
        for child in running:
            assert child.popen is not None
            child.popen.terminate()
        started = time.monotonic()
        hurry_at = started + max(0.0, self.stop_grace_seconds - HURRY_BEFORE_END_SECONDS)
        deadline = started + self.stop_grace_seconds
        hurried: set[str] = set()
        while any(child.alive() for child in running) and time.monotonic() < deadline:
            late = time.monotonic() >= hurry_at
            for child in running:
                if late and child.alive() and child.process.hurry and child.name not in hurried:
                    assert child.popen is not None
                    click.echo(f"{child.name} is still stopping; hurrying it", err=True)
                    child.popen.send_signal(child.process.hurry)
                    hurried.add(child.name)
            time.sleep(0.05)
        for child in running:
            assert child.popen is not None
            if child.popen.poll() is None:
                click.echo(f"{child.name} did not stop in time; killing it", err=True)
                kill_group(child.popen.pid)
                child.popen.wait()
        click.echo("all stopped", err=True)


def _console_first_start() -> None:
    """Migrate the console's database; on the demo station's first start, print its passwords."""
    from datetime import UTC, datetime

    from services.console.settings import load_console_settings
    from services.console.setup import demo_passwords, migrate

    settings = load_console_settings()
    migrate(settings)
    made = demo_passwords(settings, now=datetime.now(UTC))
    if made:
        click.echo("Demo console passwords (shown once; change with `fengqiao staff password`):")
        for staff_id, password in made.items():
            click.echo(f"  {staff_id:16} {password}")


def prepare() -> None:
    """Migrate and seed every database; on the demo station's first start, print passwords."""
    from services.cli import bootstrap_service

    for service in SERVICES:
        bootstrap_service(service)
    _console_first_start()


def _prepare_in_a_child() -> None:
    # In a process of its own: migrating loads every service's code and models, which the
    # supervisor, left running for as long as the system does, has no use for.
    code = "from services.cli.run import prepare; prepare()"
    subprocess.run([sys.executable, "-c", code], check=True)


@click.command()
@click.option("--skip-migrate", is_flag=True, help="Do not migrate or seed before starting.")
def run(skip_migrate: bool) -> None:
    """Start the whole system in the foreground; Ctrl-C stops it."""
    if not skip_migrate:
        try:
            _prepare_in_a_child()
        except subprocess.CalledProcessError as exc:
            raise click.ClickException(
                f"migrating the databases failed (exit code {exc.returncode}); see above"
            ) from exc
    supervisor = Supervisor(plan())
    supervisor.start()
    for service in SERVICES:
        click.echo(f"{service} API on http://127.0.0.1:{port_of(service)}", err=True)
    click.echo(f"staff console on http://127.0.0.1:{port_of('console')}", err=True)
    sys.exit(supervisor.wait())
