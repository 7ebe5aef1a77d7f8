"""One benchmark run: start the system and its baselines, measure side by side, stop all."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import backends
from bench.bare_celery import QUEUE, create_app
from bench.bare_writes import DATABASE_VARIABLE
from bench.baselines import ChainSampler, same_writes_database, sample_interleaved
from bench.cpu import with_server_cpu
from bench.environment import HOST, free_ports, overridden, python_path
from bench.latency import (
    CelerySampler,
    Latencies,
    SystemSampler,
    timelines_with_sms,
    wait_worker,
)
from bench.load import Load, LoadResult, run_load
from bench.options import Options
from bench.planned import Planned, planned
from bench.probes import Backlog, Probes
from bench.processes import Child, ProcessError, kill_group, paused, wait_ready
from services.cli.demo import demo_key, seed_stories
from services.common.config import SERVICES

READY_TIMEOUT_SECONDS = 120.0  # migrations, then nine processes starting on two busy CPUs
SYSTEM_STOP_SECONDS = 40.0  # `fengqiao run` itself gives its processes 20 s
CHILD_STOP_SECONDS = 15.0
BACKLOG_WINDOW_SECONDS = 10.0
TIMELINE_TIMEOUT_SECONDS = 20.0
WORKER_READY_SECONDS = 60.0


@dataclass(frozen=True)
class Result:
    options: Options
    backend: backends.Backend
    planned: Planned
    system_latency: Latencies
    bare_latency: Latencies
    chain_latency: Latencies  # a bare Celery chain of the path's hops
    timelines_with_sms: int
    bare_load: LoadResult
    writes_load: LoadResult  # a bare endpoint doing one report's writes
    alone_load: LoadResult  # intake with the workers and beat paused, as the baselines run
    system_load: LoadResult  # intake while the workers work off what came before
    backlog: Backlog


BODIES = 500  # distinct reporters: one SMS a minute per number would hold samples back


def distinct_reporters(stories: list[dict[str, Any]], count: int) -> list[bytes]:
    """`count` serialised reports cycling through `stories`, each from its own number."""
    bodies = []
    for i in range(count):
        story = stories[i % len(stories)]
        reporter = {**story["reporter"], "phone": f"+86137{i:08d}"}
        bodies.append(json.dumps({**story, "reporter": reporter}, ensure_ascii=False).encode())
    return bodies


def say(message: str) -> None:
    """Progress on stderr; stdout is left to the results."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def fengqiao_command() -> list[str]:
    """`fengqiao run`, from the environment this benchmark runs in."""
    script = Path(sys.executable).with_name("fengqiao")
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-c", "from services.cli import main; main()", "run"]


def _backend(
    options: Options, var_dir: Path
) -> contextlib.AbstractContextManager[backends.Backend]:
    if options.mode == "redis":
        return backends.redis_postgres(var_dir, options.redis_url, options.postgres_url)
    return backends.embedded(var_dir)


def _stop_system(system: Child) -> None:
    say("stopping the system")
    if not system.stop(SYSTEM_STOP_SECONDS):
        # `fengqiao run` was killed before it stopped its processes, which run in sessions
        # of their own: stop those it reported starting.
        for pid in system.started_pids():
            kill_group(pid)


@contextlib.contextmanager
def _running(child: Child, grace: float) -> Iterator[Child]:
    """`child` running for the block, stopped however the block ends."""
    child.start()
    try:
        yield child
    finally:
        child.stop(grace)


@dataclass
class Bench:
    """What the measurements share: the options, the running system and how to reach it."""

    options: Options
    workdir: Path
    intake_url: str
    bare_port: int
    plan: Planned
    probes: Probes
    headers: dict[str, str]
    bodies: list[bytes]

    def latency(self) -> tuple[Latencies, Latencies, Latencies, int]:
        """System, bare Celery and same-hops chain latency, sampled interleaved; and timelines
        showing the SMS."""
        app = create_app()
        stamps = self.workdir / "stamps.txt"
        worker = Child(
            "bare Celery worker",
            self.plan.celery_worker("bench.bare_worker", QUEUE),
            self.workdir / "bare-celery.log",
        )
        with (
            contextlib.closing(app),
            _running(worker, CHILD_STOP_SECONDS),
            httpx.Client(base_url=self.intake_url, headers=self.headers, timeout=10.0) as client,
        ):
            try:
                wait_worker(app, stamps, WORKER_READY_SECONDS)
            finally:
                worker.check_alive()
            rate, samples = self.options.rate, self.options.samples
            say(
                f"latency: {samples} reports, {samples} bare tasks and {samples} bare chains,"
                f" {rate:g}/s each"
            )
            system, bare = SystemSampler(client, self.bodies), CelerySampler(app, stamps)
            chain = ChainSampler(app, self.workdir / "chain-stamps.txt")
            sample_interleaved([system, bare, chain], samples, rate)
            system_latency, bare_latency = system.collect(self.probes), bare.collect()
            chain_latency = chain.collect()
            with_sms = timelines_with_sms(client, system.measured, TIMELINE_TIMEOUT_SECONDS)
        return system_latency, bare_latency, chain_latency, with_sms

    def _load(self, url: str) -> Load:
        return Load(
            url=url,
            headers=self.headers,
            bodies=self.bodies,
            requests=self.options.requests,
            concurrency=self.options.concurrency,
            duration=self.options.duration,
        )

    def _bare_run(self, name: str, app: str, log: str) -> LoadResult:
        """`app` under gunicorn with intake's settings, loaded as intake is, then stopped."""
        child = Child(name, self.plan.gunicorn(f"{HOST}:{self.bare_port}", app), self.workdir / log)
        with _running(child, CHILD_STOP_SECONDS):
            wait_ready([f"http://{HOST}:{self.bare_port}/readyz"], [child], 60.0)
            say(f"{name}: {self.options.requests} POSTs, {self.options.concurrency} clients")
            load = self._load(f"http://{HOST}:{self.bare_port}/v1/reports")
            return with_server_cpu(child.pid, lambda: run_load(load))

    def same_writes(self) -> LoadResult:
        """A bare endpoint making one report's inserts in one transaction, accepted POSTs/s."""
        postgres = self.options.postgres_url if self.options.mode == "redis" else None
        with (
            same_writes_database(postgres, self.workdir / "var") as url,
            overridden({DATABASE_VARIABLE: url}),
        ):
            return self._bare_run("same-writes Flask", "bench.bare_writes:app", "bare-writes.log")

    def throughput(self, system: Child) -> tuple[LoadResult, LoadResult, LoadResult]:
        """Accepted POSTs per second of bare Flask, of intake alone, and of intake while
        the workers run: (bare, alone, busy).

        The baselines run with nothing else on the machine, so intake is measured that way
        too: its workers and beat paused (`paused`), the messages waiting on the broker.
        Then again with them running, on the two CPUs the workers share with the APIs,
        working off the first run's reports meanwhile.
        """
        # The bare app goes first, while the system is idle (as the bare app is while
        # the system is measured) and before the system's load leaves a backlog behind.
        bare = self._bare_run("bare Flask", "bench.bare_flask:app", "bare-flask.log")
        load = self._load(f"{self.intake_url}/v1/reports")
        children = system.running_children()
        api = children["intake-api"]
        background = [
            pid for name, pid in children.items() if name.endswith("-worker") or name == "beat"
        ]
        say(f"intake, workers paused: {self.options.requests} POSTs")
        with paused(background):
            alone = with_server_cpu(api, lambda: run_load(load))
        say(f"intake, workers running: {self.options.requests} POSTs")
        busy = with_server_cpu(api, lambda: run_load(load))
        return bare, alone, busy


def run(options: Options, workdir: Path) -> Result:
    """Start everything under `workdir`, measure, and stop everything, even on error."""
    var_dir = workdir / "var"
    # Beat keeps its schedule file there; with Redis nothing else creates the directory.
    var_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        backend = stack.enter_context(_backend(options, var_dir))
        *service_ports, bare_port = free_ports(len(SERVICES) + 1)
        ports = dict(zip(SERVICES, service_ports, strict=True))
        stack.enter_context(
            overridden(
                {
                    **backend.env,
                    **{f"{s.upper()}_PORT": str(p) for s, p in ports.items()},
                    "FENGQIAO_HOST": HOST,
                    "PYTHONPATH": python_path(),
                }
            )
        )
        say(f"starting the system ({backend.description}), logs in {workdir}")
        system = Child("fengqiao run", fengqiao_command(), workdir / "system.log")
        system.start()
        stack.callback(_stop_system, system)
        try:
            ready = [f"http://{HOST}:{port}/readyz" for port in ports.values()]
            seconds = wait_ready(ready, [system], READY_TIMEOUT_SECONDS)
            say(f"all four APIs ready after {seconds:.1f} s")
            probes = stack.enter_context(contextlib.closing(Probes()))
            bench = Bench(
                options=options,
                workdir=workdir,
                intake_url=f"http://{HOST}:{ports['intake']}",
                bare_port=bare_port,
                plan=planned(),
                probes=probes,
                headers={
                    "Authorization": f"Bearer {demo_key()}",
                    "Content-Type": "application/json",
                },
                bodies=distinct_reporters(seed_stories(datetime.now(UTC)), BODIES),
            )
            # Latency first, on an idle system: the load leaves a backlog behind it.
            system_latency, bare_latency, chain_latency, with_sms = bench.latency()
            system.check_alive()
            writes_load = bench.same_writes()  # while the system is idle, as bare Flask is
            bare_load, alone_load, system_load = bench.throughput(system)
            say(f"watching the workers work off the backlog for {BACKLOG_WINDOW_SECONDS:g} s")
            backlog = probes.watch_backlog(BACKLOG_WINDOW_SECONDS)
            system.check_alive()
        except Exception as exc:
            if not system.alive():  # the system stopping is the news, not what failed next
                raise ProcessError(
                    f"`fengqiao run` stopped during the benchmark:\n{system.failure()}"
                ) from exc
            raise
        return Result(
            options=options,
            backend=backend,
            planned=bench.plan,
            system_latency=system_latency,
            bare_latency=bare_latency,
            chain_latency=chain_latency,
            timelines_with_sms=with_sms,
            bare_load=bare_load,
            writes_load=writes_load,
            alone_load=alone_load,
            system_load=system_load,
            backlog=backlog,
        )
    raise AssertionError("unreachable")  # for type checkers: the block returns or raises
