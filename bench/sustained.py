"""The whole path, sustained: finished reports a second at a steady offered rate, beside bare
Celery tasks taking the same hops (`bench.bare_path`), in the same run.

`fengqiao run` starts the whole system on fresh Redis and PostgreSQL databases, with the
fake SMS provider (`SMS_PROVIDER=fake`, 50 ms an SMS, as `--only drain` uses it). A report
is finished when its owner's record is open (the case, the hazard claim or the
nomination; a duplicate hazard has no owner) and its acknowledgement is sent: read from
the owners' and notify's own databases (`created_at`, `sent_at`), so polling adds no hop.

The baseline runs one worker for each service whose worker runs a hop of the path
(mediation, rewards, notify), each with that service's pool and concurrency as
`fengqiao run` starts it; intake's worker runs no hop before a report is finished (it
records the timeline afterwards) and has no counterpart. Its messages go to the broker
from this process, as intake's API hands them over after its 202; the system's figure
includes the API's own work, the POST and the report's writes, which the baseline has
none of.

Each side climbs a ladder of rates (`bench.steady`); their steps alternate, so both see
the same minutes of a busy machine. The ratio is the system's highest sustained rate of
finished reports over the baseline's.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import redis
from sqlalchemy import select

from bench import bare_path
from bench.latency import paced
from bench.probes import ACK_TEMPLATES, Probes
from bench.processes import Child, ProcessError
from bench.runner import say
from bench.steady import Ladder, Step, judge
from bench.system import start_system
from services.cli.demo import demo_key, seed_stories
from services.cli.run import plan, worker_pool
from services.common.celery_app import worker_queues
from services.common.config import SERVICES, load_settings
from services.common.db import Database
from services.intake.models import Report
from services.mediation.models import Case
from services.notify.models import SmsMessage
from services.rewards.claims.models import HazardClaim
from services.rewards.nominations.models import Nomination

READY_TIMEOUT_SECONDS = 180.0
WORKER_STOP_SECONDS = 15.0
SETTLE_SECONDS = 3.0  # after the last offer, before the step is judged: commits land
DRAIN_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.5
CLIENTS = 16  # threads POSTing the system's offers: a slow answer must not delay the next
MESSAGES_PER_REPORT = {"system": 5, "bare": 3}  # tasks each report makes (timeline included)
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")  # kombu's Redis priority lists
FAKE_PROVIDER: dict[str, str | None] = {"SMS_PROVIDERS": None, "SMS_PROVIDER": "fake"}
BARE_SERVICES = tuple(bare_path.QUEUES)


@dataclass(frozen=True)
class Side:
    name: str
    steps: list[Step]

    @property
    def best(self) -> Step | None:
        return max((s for s in self.steps if s.sustained), key=lambda s: s.rate, default=None)

    @property
    def sustained_rate(self) -> float:
        """Finished reports a second at the highest rate sustained (0 if none was)."""
        best = self.best
        return best.finished_rate if best else 0.0


@dataclass(frozen=True)
class Sustained:
    step_seconds: float
    factor: float
    provider_delay_ms: float
    pools: dict[str, str]  # service → "pool:concurrency", the same for both sides
    system: Side
    bare: Side

    @property
    def ratio(self) -> float | None:
        bare = self.bare.sustained_rate
        return self.system.sustained_rate / bare if bare > 0 else None


class Stepper(Protocol):
    name: str

    def step(self, rate: float, seconds: float) -> Step: ...


def steady_reports(stories: list[dict[str, Any]], start: int, count: int) -> list[dict[str, Any]]:
    """`count` reports cycling through `stories`, every phone in each one its own.

    The reporter's own number keeps the per-number SMS limits out of the way; the parties'
    and nominee's keep each report's lookups (a dispute's earlier cases between the same
    parties) as small at the end of the run as at its start.
    """
    reports = []
    for i in range(start, start + count):
        story = stories[i % len(stories)]
        report = {**story, "reporter": {**story["reporter"], "phone": f"+86137{i:08d}"}}
        if story.get("parties"):
            report["parties"] = [
                {**p, "phone": f"+8613{8 + n % 2}{i:08d}"} for n, p in enumerate(story["parties"])
            ]
        if story.get("nominee"):
            report["nominee"] = {**story["nominee"], "phone": f"+86136{i:08d}"}
        reports.append(report)
    return reports


class QueueDepth:
    """Messages waiting on the broker's queues, sampled in the background while a step runs."""

    def __init__(self, client: redis.Redis, queues: list[str]) -> None:
        self.client = client
        self.keys = [q + suffix for q in queues for suffix in PRIORITY_SUFFIXES]
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in self.keys:
            pipe.llen(key)
        return sum(int(n) for n in pipe.execute())

    @contextlib.contextmanager
    def sampling(self) -> Iterator[None]:
        self.samples, self._stop = [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self.now()))
            self._stop.wait(POLL_SECONDS)


def _ladder_steps(steppers: list[tuple[Stepper, Ladder]], seconds: float) -> None:
    """Advance the ladders in turn, one step each, until every one is done."""
    pending = list(steppers)
    while pending:
        for stepper, ladder in list(pending):
            rate = ladder.next_rate()
            if rate is None:
                pending.remove((stepper, ladder))
                continue
            say(f"sustained: {stepper.name}, {rate:.1f} reports/s for {seconds:g} s")
            step = stepper.step(rate, seconds)
            ladder.record(step)
            verdict = "sustained" if step.sustained else "; ".join(step.reasons)
            drained = f"{step.drained_seconds:.0f} s" if step.drained_seconds is not None else "no"
            say(
                f"sustained: {stepper.name} at {rate:.1f}/s: finished {step.finished_rate:.1f}/s,"
                f" backlog low {step.backlog_middle} → {step.backlog_last},"
                f" p50 {step.p50_seconds:.2f} s;"
                f" drained: {drained}; {verdict}"
            )
            if step.drained_seconds is None:  # what follows would start on a backlog
                pending.remove((stepper, ladder))


def _wait_until(done: Callable[[], bool], timeout: float) -> float | None:
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            return None
        time.sleep(POLL_SECONDS)
    return time.monotonic() - started


class PathProbe:
    """When each report finished: its owner's record opened and its acknowledgement sent."""

    def __init__(self) -> None:
        self.dbs = {s: Database(load_settings(s).database_url) for s in SERVICES}

    def close(self) -> None:
        for db in self.dbs.values():
            db.dispose()

    def _rows(self, service: str, query: Any) -> dict[uuid.UUID, datetime]:
        with self.dbs[service].sessions() as session:
            return {rid: at for rid, at in session.execute(query) if rid is not None}

    def finished(self, since: datetime) -> dict[uuid.UUID, float]:
        """Reports accepted since `since` that have finished → when (epoch seconds)."""
        owners: dict[uuid.UUID, datetime] = {}
        for service, model in (("mediation", Case), ("rewards", HazardClaim)):
            owners |= self._rows(
                service, select(model.report_id, model.created_at).where(model.created_at >= since)
            )
        owners |= self._rows(
            "rewards",
            select(Nomination.report_id, Nomination.created_at).where(
                Nomination.created_at >= since
            ),
        )
        duplicates = self._rows(
            "intake",
            select(Report.id, Report.created_at).where(
                Report.created_at >= since, Report.duplicate_of_id.is_not(None)
            ),
        )
        sent = self._rows(
            "notify",
            select(SmsMessage.report_id, SmsMessage.sent_at).where(
                SmsMessage.created_at >= since,
                SmsMessage.template.in_(ACK_TEMPLATES),
                SmsMessage.sent_at.is_not(None),
            ),
        )
        finished = {}
        for report_id, sent_at in sent.items():
            if report_id in owners:
                finished[report_id] = max(sent_at, owners[report_id]).timestamp()
            elif report_id in duplicates:
                finished[report_id] = sent_at.timestamp()
        return finished


@dataclass
class SystemStepper:
    """Offers reports to intake's API; reads when each finished from the services' databases."""

    intake_url: str
    headers: dict[str, str]
    probe: PathProbe
    timeline: Probes
    depth: QueueDepth
    stories: list[dict[str, Any]]
    name: str = "system"
    offered: int = 0
    _local: threading.local = field(default_factory=threading.local)

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.intake_url, headers=self.headers, timeout=30.0)
            self._local.client = client
        return client

    def step(self, rate: float, seconds: float) -> Step:
        count = max(1, round(rate * seconds))
        bodies = [
            json.dumps(r, ensure_ascii=False).encode()
            for r in steady_reports(self.stories, self.offered, count)
        ]
        self.offered += count
        accepted: dict[uuid.UUID, float] = {}
        lock = threading.Lock()

        def post(i: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                answer = self._client().post("/v1/reports", content=bodies[i])
                if answer.status_code == 202:
                    at = time.time()
                    with lock:
                        accepted[uuid.UUID(answer.json()["id"])] = at

        since = datetime.now(UTC) - timedelta(seconds=1)
        started = time.time()
        with self.depth.sampling(), ThreadPoolExecutor(CLIENTS) as pool:

            def offer(i: int) -> None:
                pool.submit(post, i)

            paced(count, rate, offer)
            pool.shutdown(wait=True)
            time.sleep(max(0.0, started + seconds + SETTLE_SECONDS - time.time()))
        finished = {r: t for r, t in self.probe.finished(since).items() if r in accepted}
        step = judge(
            rate=rate,
            seconds=seconds,
            started=started,
            offered=count,
            accepted_at=accepted,
            finished_at=finished,
            queued=self.depth.samples,
            messages_per_report=MESSAGES_PER_REPORT["system"],
        )

        def drained() -> bool:
            done = self.probe.finished(since)
            return (
                all(r in done for r in accepted)
                and self.depth.now() == 0
                and self.timeline.unfinished_reports() == 0
            )

        return _with_drain(step, _wait_until(drained, DRAIN_TIMEOUT_SECONDS))


def _with_drain(step: Step, seconds: float | None) -> Step:
    """The step with how long its backlog took to work off; not sustained if it was not."""
    figures = asdict(step)
    figures["drained_seconds"] = seconds
    if seconds is None:
        figures["reasons"] = [*step.reasons, f"not worked off in {DRAIN_TIMEOUT_SECONDS:g} s"]
    return Step(**figures)


@dataclass
class BareStepper:
    """Sends each report's messages to the bare path's queues; reads the workers' stamps."""

    app: Any
    workdir: Path
    depth: QueueDepth
    stories: list[dict[str, Any]]
    name: str = "bare Celery, same hops"
    steps: int = 0

    def step(self, rate: float, seconds: float) -> Step:
        count = max(1, round(rate * seconds))
        reports = steady_reports(self.stories, 0, count)
        self.steps += 1
        stamps = self.workdir / f"bare-stamps-{self.steps}.txt"
        accepted: dict[int, float] = {}

        def send(i: int) -> None:
            bare_path.offer(self.app, i, reports[i], str(stamps))
            accepted[i] = time.time()

        started = time.time()
        with self.depth.sampling():
            paced(count, rate, send)
            time.sleep(max(0.0, started + seconds + SETTLE_SECONDS - time.time()))
        needed = {i: bare_path.branches(r) for i, r in enumerate(reports)}
        step = judge(
            rate=rate,
            seconds=seconds,
            started=started,
            offered=count,
            accepted_at=accepted,
            finished_at=read_finished(stamps, needed),
            queued=self.depth.samples,
            messages_per_report=MESSAGES_PER_REPORT["bare"],
        )

        def drained() -> bool:
            return len(read_finished(stamps, needed)) == count and self.depth.now() == 0

        return _with_drain(step, _wait_until(drained, DRAIN_TIMEOUT_SECONDS))


def read_finished(stamps: Path, needed: dict[int, int]) -> dict[int, float]:
    """Report → when its last branch ran, for reports whose every branch has run."""
    if not stamps.exists():
        return {}
    ran: dict[int, list[float]] = {}
    # Only whole lines: the last one may still be being written.
    for line in stamps.read_text(encoding="utf-8").split("\n")[:-1]:
        report, _branch, at = line.split(" ")
        ran.setdefault(int(report), []).append(float(at))
    return {r: max(times) for r, times in ran.items() if len(times) >= needed.get(r, 2)}


def bare_worker_argv(service: str) -> list[str]:
    """The service's worker as `fengqiao run` starts it, running the bare path's queues."""
    argv = next(p.argv for p in plan() if p.name == f"{service}-worker")
    argv = _replace(argv, "-A", "bench.bare_path_worker")
    argv = _replace(argv, "--queues", ",".join(bare_path.QUEUES[service]))
    return _replace(argv, "--hostname", f"bare-{service}@%h")


def _replace(argv: list[str], flag: str, value: str) -> list[str]:
    at = argv.index(flag)
    return [*argv[: at + 1], value, *argv[at + 2 :]]


def _wait_bare_workers(app: Any, workdir: Path, workers: list[Child]) -> None:
    """One message through each bare queue, and wait until each has run: all consuming."""
    stamps = workdir / "bare-ready.txt"
    queues = [q for qs in bare_path.QUEUES.values() for q in qs]
    for n, queue in enumerate(queues):
        bare_path.send(app, n, bare_path.OWNER, [queue], str(stamps), {})

    def ready() -> bool:
        for worker in workers:
            worker.check_alive()
        return len(read_finished(stamps, dict.fromkeys(range(len(queues)), 1))) == len(queues)

    if _wait_until(ready, READY_TIMEOUT_SECONDS) is None:
        raise ProcessError(f"the bare path's workers ran nothing in {READY_TIMEOUT_SECONDS:g} s")


def run(
    *,
    seconds: float,
    system_start: float,
    bare_start: float,
    max_steps: int,
    workdir: Path,
    redis_url: str,
    postgres_url: str,
) -> Sustained:
    """Start the system and the bare workers, climb both ladders in turn, stop everything."""
    with contextlib.ExitStack() as stack:
        running = start_system(
            stack,
            part="sustained",
            workdir=workdir,
            redis_url=redis_url,
            postgres_url=postgres_url,
            env=FAKE_PROVIDER,
            spare_port_variable="CONSOLE_PORT",
        )
        system = running.process
        app = bare_path.create_app()
        stack.callback(app.close)
        workers = []
        for service in BARE_SERVICES:
            worker = Child(
                f"bare {service} worker", bare_worker_argv(service), workdir / f"bare-{service}.log"
            )
            worker.start()
            stack.callback(worker.stop, WORKER_STOP_SECONDS)
            workers.append(worker)
        _wait_bare_workers(app, workdir, workers)
        client = redis.Redis.from_url(redis_url)
        stack.callback(client.close)
        system_queues = [
            q for s in SERVICES for q in worker_queues(s) if not q.endswith("_periodic")
        ]
        bare_queues = [q for qs in bare_path.QUEUES.values() for q in qs]
        probe = PathProbe()
        stack.callback(probe.close)
        timeline = stack.enter_context(contextlib.closing(Probes()))
        stories = seed_stories(datetime.now(UTC))
        system_side = SystemStepper(
            intake_url=running.url("intake"),
            headers={"Authorization": f"Bearer {demo_key()}", "Content-Type": "application/json"},
            probe=probe,
            timeline=timeline,
            depth=QueueDepth(client, system_queues),
            stories=stories,
        )
        bare_side = BareStepper(
            app=app, workdir=workdir, depth=QueueDepth(client, bare_queues), stories=stories
        )
        system_ladder = Ladder(system_start, max_steps=max_steps)
        bare_ladder = Ladder(bare_start, max_steps=max_steps)
        try:
            _ladder_steps([(bare_side, bare_ladder), (system_side, system_ladder)], seconds)
        finally:
            for worker in workers:
                worker.check_alive()
            system.check_alive()
        pools = {s: ":".join(map(str, worker_pool(s))) for s in BARE_SERVICES}
        return Sustained(
            step_seconds=seconds,
            factor=system_ladder.factor,
            provider_delay_ms=bare_path.provider_delay_seconds() * 1000,
            pools=pools,
            system=Side("system", system_ladder.steps),
            bare=Side("bare", bare_ladder.steps),
        )
    raise AssertionError("unreachable")  # for type checkers: the block returns or raises


def _step_line(step: Step) -> str:
    drained = f"{step.drained_seconds:4.0f} s" if step.drained_seconds is not None else "   no"
    verdict = "sustained" if step.sustained else "; ".join(step.reasons)
    return (
        f"    {step.rate:6.1f}/s  accepted {step.accepted_rate:6.1f}/s"
        f"  finished {step.finished_rate:6.1f}/s"
        f"  backlog low {step.backlog_middle:5d} → {step.backlog_last:5d}"
        f"  queued low {step.queued_middle:5d} → {step.queued_last:5d}"
        f"  p50 {step.p50_seconds:6.2f} s  p90 {step.p90_seconds:6.2f} s"
        f"  drained {drained}  {verdict}"
    )


def render(result: Sustained) -> str:
    """Each side's steps, its highest sustained rate, and the ratio."""
    pools = ", ".join(f"{s} {p}" for s, p in result.pools.items())
    lines = [
        f"whole path, sustained: reports offered at a steady rate, {result.step_seconds:g} s"
        f" a step (×{result.factor:g} until the backlog grows); finished = owner's record open"
        f" and acknowledgement sent; fake provider {result.provider_delay_ms:g} ms",
        f"  workers (both sides): {pools}",
    ]
    for side, title in (
        (result.system, "system (`fengqiao run`, POST /v1/reports)"),
        (result.bare, "bare Celery, the same hops (owner ‖ send_sms → deliver_sms)"),
    ):
        lines.append(f"  {title}")
        lines += [_step_line(step) for step in side.steps]
    ratio = result.ratio
    lines.append(
        f"  sustained: system {result.system.sustained_rate:.1f} reports/s,"
        f" bare {result.bare.sustained_rate:.1f} reports/s,"
        f" ratio {f'{ratio:.2f}' if ratio is not None else 'n/a'}"
    )
    return "\n".join(lines)


def record(result: Sustained) -> dict[str, Any]:
    """The figures as JSON-ready data."""

    def side(s: Side) -> dict[str, Any]:
        best = s.best
        return {
            "sustained_finished_per_second": round(s.sustained_rate, 2),
            "sustained_offered_rate": round(best.rate, 2) if best else None,
            "steps": [{**asdict(step), "sustained": step.sustained} for step in s.steps],
        }

    ratio = result.ratio
    return {
        "step_seconds": result.step_seconds,
        "factor": result.factor,
        "provider_delay_ms": result.provider_delay_ms,
        "pools": result.pools,
        "system": side(result.system),
        "bare_same_hops": side(result.bare),
        "ratio": round(ratio, 3) if ratio is not None else None,
    }
