"""Staff transitions: one step of each staff workflow beside a bare endpoint doing its writes.

The steps measured are the first a staff member takes on everything that comes in, so the
most common of each workflow: every case is accepted before anything else happens to it,
and every hazard claim is verified, most of them confirmed:

* mediation: `POST /v1/cases/{id}/transitions` `{"action": "accept", "risk_grade": "B"}`
  on a case awaiting acceptance, by its owner (the officer of its village);
* rewards: `POST /v1/claims/{id}/transitions`
  `{"action": "verify", "confirmed": true, "severity": "medium"}` on a claim awaiting
  verification, by a grid officer (verifier), within the month's budget, so approved.

`fengqiao run` starts the whole system on fresh Redis and PostgreSQL databases. Before any
load, cases and claims are opened through the services' own code (`bench.staff_rows`):
each request acts on a row of its own, and each client's first, unmeasured request (which
opens its connection) too. The load is intake's (`bench.load`: `--concurrency` clients in
up to one process per CPU, `--requests`, at most `--duration` seconds), with a valid staff
token. For each step, after the workers have worked off what the previous load left:
the same-writes baseline (`bench.bare_transitions`: the step's writes in one transaction
through SQLAlchemy Core, on a database of its own on the same server, under the APIs'
gunicorn settings); the service with its workers and beat paused, as the baseline runs
(the ratio); and the service again with them running, working off the first run's
messages. Each with the CPU its server's processes spent per accepted step (`bench.cpu`),
which moves less with the machine's other work than a rate does.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from psycopg import sql

from bench import backends, staff_rows
from bench.bare_transitions import DATABASE_VARIABLE, add_rows, create_tables
from bench.cpu import with_server_cpu
from bench.environment import HOST, overridden
from bench.load import Load, LoadResult, run_load
from bench.options import Options
from bench.planned import planned
from bench.processes import Child, paused, wait_ready
from bench.runner import say
from bench.system import start_system
from services.common.db import make_engine

CHILD_STOP_SECONDS = 15.0
QUIET_TIMEOUT_SECONDS = 180.0  # for the workers to work off a seeding or a load
QUIET_POLL_SECONDS = 1.0
ACCEPTED = 200  # a step taken answers 200 with the thing as it now is
# Every verification here is within the month's budget, so each one is approved and its
# envelope counted against the reporter's month and reserved in the budget.
RULES = {"REWARDS_MONTHLY_BUDGET_FEN": str(10**9)}


@dataclass(frozen=True)
class Step:
    """One step measured: the service's endpoint and the same-writes endpoint."""

    name: str  # "mediation accept"
    endpoint: str
    system: LoadResult  # the workers and beat paused, as the baseline runs
    busy: LoadResult  # the workers running, working off the first run's messages
    same_writes: LoadResult
    waited_seconds: float  # for the workers to go quiet before this pair of loads
    backlog_left: int  # messages still queued when the wait ended

    @property
    def ratio(self) -> float | None:
        rate = self.same_writes.rate
        return self.system.rate / rate if rate > 0 else None

    @property
    def cpu_ratio(self) -> float | None:
        """The baseline's CPU per step over the service's: 0.5 is twice the baseline's."""
        cpu = self.system.cpu_ms_per_request
        return self.same_writes.cpu_ms_per_request / cpu if cpu > 0 else None


@dataclass(frozen=True)
class Staff:
    requests: int
    concurrency: int
    duration: float
    web_workers: str
    web_threads: str
    steps: list[Step]


UNACKED = b"unacked"  # kombu's hash of the messages workers hold and have not finished


def _queued(client: redis.Redis) -> int:
    """Messages in the broker, waiting or being worked: every queue (a list) in the run's
    own Redis database, and the messages workers have taken and not yet acknowledged."""
    total = int(client.hlen(UNACKED))
    for key in client.scan_iter(count=500):
        if client.type(key) == b"list":
            total += int(client.llen(key))
    return total


def wait_quiet(redis_url: str, timeout: float) -> tuple[float, int]:
    """Wait until the broker holds no message, or `timeout`: (seconds waited, messages left)."""
    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    try:
        while (left := _queued(client)) and time.monotonic() - started < timeout:
            time.sleep(QUIET_POLL_SECONDS)
    finally:
        client.close()
    return time.monotonic() - started, left


@contextlib.contextmanager
def bare_database(postgres_url: str) -> Iterator[str]:
    """A new database for the baseline on the services' server; dropped afterwards."""
    name = f"fengqiao_bench_steps_{secrets.token_hex(4)}"
    with backends._admin(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    finally:
        backends._drop(postgres_url, [name])


def _prepare_bare(url: str, case_ids: list[uuid.UUID], claim_ids: list[uuid.UUID]) -> None:
    engine = make_engine(url)
    try:
        create_tables(engine)
        add_rows(engine, case_ids=case_ids, claim_ids=claim_ids)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Target:
    """One step to load: where the system and the baseline take it, and as whom."""

    name: str
    path: str  # "/v1/cases/{id}/transitions"
    system_base: str
    api: str  # its process in `fengqiao run`
    bare_base: str
    token: str
    body: dict[str, Any]
    ids: list[uuid.UUID]

    def load(
        self, base: str, options: Options, headers: dict[str, str], ids: list[uuid.UUID]
    ) -> Load:
        return Load(
            url=base,
            headers=headers,
            bodies=[json.dumps(self.body).encode()],
            requests=options.requests,
            concurrency=options.concurrency,
            duration=options.duration,
            urls=tuple(base + self.path.format(id=i) for i in ids),
            accepted_status=ACCEPTED,
        )


def _measure(
    target: Target, options: Options, system: Child, bare: Child
) -> tuple[LoadResult, LoadResult, LoadResult]:
    """The baseline's load, the system's alone, the system's busy: each on rows of its own."""
    auth = {"Authorization": f"Bearer {target.token}"}
    rows = options.requests + options.concurrency
    first, second = target.ids[:rows], target.ids[rows:]
    say(f"{target.name}, same writes: {options.requests} POSTs, {options.concurrency} clients")
    bare_load = target.load(target.bare_base, options, {}, first)
    same_writes = with_server_cpu(bare.pid, lambda: run_load(bare_load))
    children = system.running_children()
    api = children[target.api]
    background = [p for n, p in children.items() if n.endswith("-worker") or n == "beat"]
    say(f"{target.name}, workers paused: {options.requests} POSTs")
    with paused(background):
        alone_load = target.load(target.system_base, options, auth, first)
        alone = with_server_cpu(api, lambda: run_load(alone_load))
    say(f"{target.name}, workers running: {options.requests} POSTs")
    busy_load = target.load(target.system_base, options, auth, second)
    busy = with_server_cpu(api, lambda: run_load(busy_load))
    return same_writes, alone, busy


def run(options: Options, workdir: Path) -> Staff:
    """Start the system and the baseline, seed, measure each step, and stop everything."""
    rows = options.requests + options.concurrency
    seeded = 2 * rows  # the system is loaded twice (workers paused, then running)
    plan = planned()
    with contextlib.ExitStack() as stack:
        running = start_system(
            stack,
            part="staff",
            workdir=workdir,
            redis_url=options.redis_url,
            postgres_url=options.postgres_url,
            env=RULES,
        )
        system, ports, bare_port = running.process, running.ports, running.spare_port
        say(f"staff: opening {seeded} cases and {seeded} claims")
        case_ids, claim_ids = staff_rows.open_cases(seeded), staff_rows.open_claims(seeded)
        bare_url = stack.enter_context(bare_database(options.postgres_url))
        _prepare_bare(bare_url, case_ids[:rows], claim_ids[:rows])
        stack.enter_context(overridden({DATABASE_VARIABLE: bare_url}))
        bare = Child(
            "same-writes Flask",
            plan.gunicorn(f"{HOST}:{bare_port}", "bench.bare_transitions:app"),
            workdir / "bare-transitions.log",
        )
        bare.start()
        stack.callback(bare.stop, CHILD_STOP_SECONDS)
        wait_ready([f"http://{HOST}:{bare_port}/readyz"], [bare], 60.0)
        bare_base = f"http://{HOST}:{bare_port}"
        targets = [
            Target(
                name="mediation accept",
                path="/v1/cases/{id}/transitions",
                system_base=f"http://{HOST}:{ports['mediation']}",
                api="mediation-api",
                bare_base=bare_base,
                token=staff_rows.token(*staff_rows.ACCEPTING_OFFICER),
                body=staff_rows.ACCEPT,
                ids=case_ids,
            ),
            Target(
                name="rewards verify",
                path="/v1/claims/{id}/transitions",
                system_base=f"http://{HOST}:{ports['rewards']}",
                api="rewards-api",
                bare_base=bare_base,
                token=staff_rows.token(*staff_rows.VERIFIER),
                body=staff_rows.VERIFY,
                ids=claim_ids,
            ),
        ]
        steps = []
        for target in targets:
            waited, left = wait_quiet(options.redis_url, QUIET_TIMEOUT_SECONDS)
            say(f"staff: the broker was quiet after {waited:.0f} s ({left} messages left)")
            same_writes, measured, busy = _measure(target, options, system, bare)
            system.check_alive()
            bare.check_alive()
            steps.append(
                Step(
                    name=target.name,
                    endpoint=f"POST {target.path} {target.body['action']}",
                    system=measured,
                    busy=busy,
                    same_writes=same_writes,
                    waited_seconds=waited,
                    backlog_left=left,
                )
            )
    return Staff(
        requests=options.requests,
        concurrency=options.concurrency,
        duration=options.duration,
        web_workers=plan.web_workers,
        web_threads=plan.web_threads,
        steps=steps,
    )


def _two(ratio: float | None) -> str:
    return f"{ratio:.2f}" if ratio is not None else "n/a"


def _answered(load: LoadResult, asked: int) -> str:
    text = f"{load.accepted}/{asked} in {load.seconds:.1f} s"
    if load.refused or load.errors:
        text += f" ({load.refused} refused, {load.errors} unanswered)"
    return text


def render(staff: Staff) -> str:
    """One line per step: the system's and the baseline's accepted steps a second, the ratio."""
    lines = [
        f"staff transitions: gunicorn --workers {staff.web_workers} --threads"
        f" {staff.web_threads} (the APIs' and the baseline's), {staff.concurrency} clients,"
        f" {staff.requests} POSTs (at most {staff.duration:g} s) per side,"
        " each on a row of its own",
    ]
    for s in staff.steps:
        lines += [
            f"  {s.name:18} {s.system.rate:7.1f} steps/s   same writes {s.same_writes.rate:7.1f}"
            f" steps/s   ratio {_two(s.ratio)}   (workers paused)",
            f"  {'':18} {s.busy.rate:7.1f} steps/s with the workers running",
            f"  {'':18} API CPU per step {s.system.cpu_ms_per_request:6.2f} ms"
            f"   same writes {s.same_writes.cpu_ms_per_request:6.2f} ms"
            f"   ratio {_two(s.cpu_ratio)}",
            f"  {'':18} workers paused {_answered(s.system, staff.requests)};"
            f" running {_answered(s.busy, staff.requests)};"
            f" same writes {_answered(s.same_writes, staff.requests)};"
            f" broker quiet after {s.waited_seconds:.0f} s ({s.backlog_left} left)",
        ]
    return "\n".join(lines)


def _load_figures(load: LoadResult) -> dict[str, Any]:
    return {
        "accepted_per_second": round(load.rate, 1),
        "accepted": load.accepted,
        "refused": load.refused,
        "unanswered": load.errors,
        "seconds": round(load.seconds, 2),
        "processes": load.processes,
        "server_cpu_ms_per_request": round(load.cpu_ms_per_request, 3),
    }


def record(staff: Staff) -> dict[str, Any]:
    """The figures and ratios for `--json`."""
    return {
        "settings": {
            "web_workers": staff.web_workers,
            "web_threads": staff.web_threads,
            "requests": staff.requests,
            "concurrency": staff.concurrency,
            "duration": staff.duration,
        },
        "steps": {
            s.name.replace(" ", "_"): {
                "endpoint": s.endpoint,
                "workers_paused": _load_figures(s.system),
                "workers_running": _load_figures(s.busy),
                "same_writes": _load_figures(s.same_writes),
                "ratio_to_same_writes": round(s.ratio, 3) if s.ratio is not None else None,
                "cpu_ratio_to_same_writes": (
                    round(s.cpu_ratio, 3) if s.cpu_ratio is not None else None
                ),
                "waited_for_quiet_seconds": round(s.waited_seconds, 1),
                "backlog_left": s.backlog_left,
            }
            for s in staff.steps
        },
    }
