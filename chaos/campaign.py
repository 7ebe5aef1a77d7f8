"""One campaign: its own Redis and PostgreSQL, the system on them, then the faults one at a time.

Each row runs the steady load, injects its fault, and then watches the history until
every report is finished or the row's time is up. Everything started is stopped however
the campaign ends (an error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis

from bench.backends import RULES_OFF
from bench.environment import free_ports, overridden, python_path
from chaos.broker import held_unacknowledged
from chaos.history import History, HistoryReader, ProviderLog
from chaos.load import Outcome, SteadyLoad
from chaos.reports import ReportBodies
from chaos.servers import OwnPostgres, OwnRedis
from chaos.system import HOST, System
from services.cli.agency import create_agency_with_key
from services.common.config import SERVICES

POLL_SECONDS = 1.0
SLOW_RECOVERY_SECONDS = 10.0  # a recovery this slow is explained by what it waited for
HELD_SECONDS = 30.0  # a message unacknowledged this long is not merely in progress
LOAD_AGENCY = "混沌演练 load"
RACE_AGENCY = "混沌演练 race"


def say(message: str) -> None:
    """Progress on stderr; stdout is left to the results."""
    print(f"chaos: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timing:
    """How long each part of a row lasts; every row is bounded by these."""

    warmup: float = 5.0  # load before the fault
    after: float = 5.0  # load after the fault is over
    settle: float = 60.0  # longest wait, once the load stops, for everything to finish
    outage: float = 60.0  # Redis down
    postgres_down: float = 5.0  # between PostgreSQL's stop and its start
    supervisor_grace: float = 15.0  # a killed worker's restart is left to the supervisor this long
    catch: float = 20.0  # longest wait for a worker to block mid-task
    rate: float = 2.0  # reports a second: headroom on two shared CPUs, so backlogs drain
    clients: int = 3
    racers: int = 20  # concurrent requests with one Idempotency-Key
    total: float = 570.0  # the whole campaign, startup included


QUICK = Timing(warmup=2.0, after=3.0, settle=30.0, catch=15.0, total=240.0)


@dataclass
class Injection:
    """What a fault did: when it ended, and what the row should know about it."""

    repaired_at: float  # time.monotonic(): the kill, or when the server or system was back
    postgres_down: tuple[float, float] | None = None  # 5xx in this window are excused
    outcomes: list[Outcome] = field(default_factory=list)  # answers the fault itself got
    duplicates: int = 0  # found by the fault's own check (reports beyond the one expected)
    measures_recovery: bool = True
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # the row's own expectations not met


@dataclass(frozen=True)
class Fault:
    name: str
    key: str
    inject: Callable[[Campaign], Injection]
    budget: float  # seconds the fault itself may take, on a busy machine
    under_load: bool = True
    # The row's own longest wait for everything to finish, when the timing's is too short
    # for how the system heals this fault (a redelivery after the visibility timeout).
    settle: float | None = None

    def settle_seconds(self, timing: Timing) -> float:
        return timing.settle if self.settle is None else max(self.settle, timing.settle)


@dataclass(frozen=True)
class RowResult:
    fault: str
    accepted: int  # reports answered 202 during the row
    lost: int  # reports still unfinished when the row's time was up (new in this row)
    duplicated: int  # reports with something twice (new in this row)
    server_errors: int  # 5xx answers, excused ones included
    excused_errors: int  # … of which while PostgreSQL was down
    recovered: float | None  # seconds from the repair until all was well again
    measured: bool  # False: recovery does not apply to this fault
    notes: list[str]
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.server_errors > self.excused_errors
            or self.failures
            or (self.measured and self.recovered is None)
        )


@dataclass(frozen=True)
class CampaignResult:
    rows: list[RowResult]
    reports: int  # stored in all
    lost: dict[str, list[str]]  # at the very end, over every report
    duplicated: dict[str, list[str]]
    dead_letters: dict[str, int]
    started_at: datetime
    seconds: float
    ports: dict[str, int]  # what listened: "redis", "postgres" and each service's API


class Campaign:
    """What the rows share: the servers, the system, the load and the history."""

    def __init__(
        self,
        *,
        timing: Timing,
        redis: OwnRedis,
        postgres: OwnPostgres,
        system: System,
        urls: dict[str, str],
        load: SteadyLoad,
        bodies: ReportBodies,
        race_key: str,
        history: HistoryReader,
    ) -> None:
        self.timing = timing
        self.redis = redis
        self.postgres = postgres
        self.system = system
        self.urls = urls
        self.load = load
        self.bodies = bodies
        self.race_key = race_key
        self.history = history
        self.reported_lost: set[str] = set()
        self.reported_duplicated: set[str] = set()
        self.reported_held: Counter[str] = Counter()
        self.deadline = float("inf")  # the campaign's end: no row waits past it
        self.last: History | None = None

    @property
    def ports(self) -> dict[str, int]:
        return {"redis": self.redis.port, "postgres": self.postgres.port, **self.system.ports}

    def read_history(self) -> History | None:
        """The history now, or None while PostgreSQL cannot be read."""
        try:
            self.last = self.history.read()
        except psycopg.Error:
            return None
        return self.last

    def run_row(self, fault: Fault) -> RowResult:
        say(f"row: {fault.name}")
        row_started = time.monotonic()
        recovery = _Recovery(self)
        if fault.under_load:
            with self.load.running():
                time.sleep(self.timing.warmup)
                injection = fault.inject(self)
                recovery.watch(injection)
                # From the end of the fault: a restart returns once the system is ready.
                load_until = time.monotonic() + self.timing.after
                while time.monotonic() < load_until:
                    recovery.poll()
                    time.sleep(POLL_SECONDS)
        else:
            injection = fault.inject(self)
            recovery.watch(injection)
        settle_until = min(time.monotonic() + fault.settle_seconds(self.timing), self.deadline)
        while not recovery.all_finished() and time.monotonic() < settle_until:
            time.sleep(POLL_SECONDS)
            recovery.poll()
        return self._result(fault, row_started, injection, recovery)

    def _result(
        self, fault: Fault, row_started: float, injection: Injection, recovery: _Recovery
    ) -> RowResult:
        outcomes = self.load.outcomes(since=row_started) if fault.under_load else []
        outcomes += injection.outcomes
        history = self.last
        lost: set[str] = set()
        duplicated: set[str] = set()
        notes = list(injection.notes)
        failures = list(injection.failures)
        if history is None:
            failures.append("the history could not be read")
        else:
            answered = {o.report_id for o in self.load.outcomes() if o.report_id}
            lost = set(history.lost(set(history.reports) | answered)) - self.reported_lost
            duplicated = set(history.duplicated()) - self.reported_duplicated
            if history.dead_letters and any(history.dead_letters.values()):
                failures.append(f"dead letters: {history.dead_letters}")
        for report_id in sorted(lost)[:3]:
            gaps = history.lost({report_id})[report_id] if history else []
            notes.append(f"lost {report_id}: {', '.join(gaps)}")
        for report_id in sorted(duplicated)[:3]:
            extra = history.duplicated()[report_id] if history else []
            notes.append(f"duplicated {report_id}: {', '.join(extra)}")
        self.reported_lost |= lost
        self.reported_duplicated |= duplicated
        errors = [o for o in outcomes if o.status is not None and o.status >= 500]
        down = injection.postgres_down
        excused = [o for o in errors if down is not None and o.overlaps(*down)]
        statuses = Counter(o.status for o in outcomes)
        others = {s: n for s, n in statuses.items() if s != 202}
        if others:
            described = ", ".join(
                f"{n} × {'no answer' if s is None else s}"
                for s, n in sorted(others.items(), key=str)
            )
            notes.append(f"answers other than 202: {described}")
        recovered, lacked = recovery.result(lost) if injection.measures_recovery else (None, "")
        if injection.measures_recovery and recovered is None:
            notes.append("not recovered before the row's time was up")
        elif recovered is not None and recovered >= SLOW_RECOVERY_SECONDS and lacked:
            notes.append(f"the last report to finish had lacked: {lacked}")
        try:
            now_held = held_unacknowledged(self.redis.url(), older_than=HELD_SECONDS)
        except redis.RedisError:
            now_held = Counter()
        held = now_held - self.reported_held  # what an earlier row reported is not news
        self.reported_held |= now_held
        if held:
            names = ", ".join(f"{n} × {task}" for task, n in sorted(held.items()))
            notes.append(
                f"left unacknowledged in Redis over {HELD_SECONDS:.0f} s (handed out again only"
                f" after the visibility timeout): {names}"
            )
        accepted = {o.report_id for o in outcomes if o.status == 202 and o.report_id}
        return RowResult(
            fault=fault.name,
            accepted=len(accepted),
            lost=len(lost),
            duplicated=len(duplicated) + injection.duplicates,
            server_errors=len(errors),
            excused_errors=len(excused),
            recovered=recovered,
            measured=injection.measures_recovery,
            notes=notes,
            failures=failures,
        )


class _Recovery:
    """Watches the history after a repair, noting when each report was first seen finished.

    Recovered: intake answered 202 to a request sent after the repair, and every report
    accepted before the repair has finished (owned, acknowledged once, sent), the lost
    ones aside: they are counted as lost, and the recovery is that of the rest.
    """

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.injection: Injection | None = None
        self.repaired_wall: datetime | None = None
        self.finished_at: dict[str, float] = {}  # report -> when first seen finished
        self.lacked: dict[str, list[str]] = {}  # report -> what it lacked when last unfinished

    def watch(self, injection: Injection) -> None:
        self.injection = injection
        ago = time.monotonic() - injection.repaired_at
        self.repaired_wall = datetime.now(UTC) - timedelta(seconds=ago)
        self.poll()

    def poll(self) -> None:
        history = self.campaign.read_history()
        if history is None:
            return
        now = time.monotonic()
        unfinished = history.lost()
        for report_id in history.reports:
            if report_id in unfinished:
                self.lacked[report_id] = unfinished[report_id]
            else:
                self.finished_at.setdefault(report_id, now)

    def all_finished(self) -> bool:
        """Every report stored (and every 202) finished, none twice."""
        history = self.campaign.last
        if history is None or self.injection is None:
            return False
        # What an earlier row already counted is not waited for again.
        answered = {o.report_id for o in self.campaign.load.outcomes() if o.report_id}
        wanted = (set(history.reports) | answered) - self.campaign.reported_lost
        twice = set(history.duplicated()) - self.campaign.reported_duplicated
        return not history.lost(wanted) and not twice

    def result(self, lost: set[str]) -> tuple[float | None, str]:
        """Seconds from the repair to recovery (None: never), and what the last to finish
        had lacked."""
        history, injection = self.campaign.last, self.injection
        if history is None or injection is None or self.repaired_wall is None:
            return None, ""
        repaired_at = injection.repaired_at
        load = self.campaign.load.outcomes()
        answered = [o.answered for o in load if o.status == 202 and o.sent >= repaired_at]
        if not answered:
            return None, ""
        before = {o.report_id for o in load if o.report_id and o.sent < repaired_at}
        before |= {r for r, h in history.reports.items() if h.created_at <= self.repaired_wall}
        before -= lost | self.campaign.reported_lost
        if any(report_id not in self.finished_at for report_id in before):
            return None, ""
        last = max(before, key=lambda r: self.finished_at[r], default=None)
        done = self.finished_at[last] if last is not None else repaired_at
        lacked = ", ".join(self.lacked.get(last, [])) if last is not None else ""
        return max(0.0, max(done, min(answered)) - repaired_at), lacked


@contextlib.contextmanager
def _shielded_from_ctrl_c() -> Iterator[None]:
    """Cleaning up is not interrupted by a second Ctrl-C (the main thread only has signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_campaign(
    *,
    workdir: Path,
    faults: list[Fault],
    timing: Timing,
    extra_env: dict[str, str | None] | None = None,
) -> CampaignResult:
    """Start everything under `workdir`, run `faults` in order, stop everything."""
    started, started_at = time.monotonic(), datetime.now(UTC)
    deadline = started + timing.total
    stack = contextlib.ExitStack()
    try:
        campaign = _set_up(stack, workdir, timing, extra_env or {})
        campaign.deadline = deadline
        rows = []
        for fault in faults:
            longest = timing.warmup + timing.after + fault.settle_seconds(timing) + fault.budget
            if time.monotonic() + longest > deadline:
                say(f"skipping {fault.name}: it could overrun the campaign's bound")
                rows.append(_not_run(fault, timing))
                continue
            try:
                rows.append(campaign.run_row(fault))
            except Exception as exc:  # the row's failure is a result; the next row may run
                say(f"{fault.name} failed: {type(exc).__name__}: {exc}")
                rows.append(_failed(fault, f"the row failed: {type(exc).__name__}: {exc}"))
                if not campaign.system.running:
                    campaign.system.start()
        history = campaign.read_history() or campaign.last
        answered = {o.report_id for o in campaign.load.outcomes() if o.report_id}
        return CampaignResult(
            rows=rows,
            reports=len(history.reports) if history else 0,
            lost=history.lost(set(history.reports) | answered) if history else {},
            duplicated=history.duplicated() if history else {},
            dead_letters=history.dead_letters if history else {},
            started_at=started_at,
            seconds=time.monotonic() - started,
            ports=campaign.ports,
        )
    finally:
        with _shielded_from_ctrl_c():
            say("stopping everything the campaign started")
            stack.close()


def _not_run(fault: Fault, timing: Timing) -> RowResult:
    return _failed(fault, f"not run: it could overrun the campaign's {timing.total:.0f} s bound")


def _failed(fault: Fault, why: str) -> RowResult:
    return RowResult(
        fault=fault.name,
        accepted=0,
        lost=0,
        duplicated=0,
        server_errors=0,
        excused_errors=0,
        recovered=None,
        measured=False,
        notes=[],
        failures=[why],
    )


def _set_up(
    stack: contextlib.ExitStack, workdir: Path, timing: Timing, extra_env: dict[str, str | None]
) -> Campaign:
    redis_port, postgres_port, *service_ports = free_ports(2 + len(SERVICES))
    ports = dict(zip(SERVICES, service_ports, strict=True))
    (workdir / "redis").mkdir()
    (workdir / "var").mkdir()
    redis = OwnRedis(port=redis_port, folder=workdir / "redis")
    stack.callback(redis.stop)
    redis.start()
    postgres = OwnPostgres(port=postgres_port, log_folder=workdir)
    stack.callback(postgres.remove)
    postgres.init()
    postgres.start()
    urls = {service: postgres.url(f"chaos_{service}") for service in SERVICES}
    postgres.create_databases([f"chaos_{service}" for service in SERVICES])
    say(f"Redis on port {redis_port}, PostgreSQL on port {postgres_port}; logs in {workdir}")
    stack.enter_context(
        overridden(
            {
                "FENGQIAO_VAR_DIR": str(workdir / "var"),
                "BROKER_URL": None,
                "REDIS_URL": redis.url(),
                **{f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
                **{f"{s.upper()}_PORT": str(p) for s, p in ports.items()},
                "FENGQIAO_HOST": HOST,
                "PYTHONPATH": python_path(),
                "SMS_PROVIDER": "log",
                "SMS_PROVIDERS": None,
                # The kill-child-notify fault kills one of notify's pool processes, which
                # only the prefork pool has (notify's default is threads, record 0030).
                "NOTIFY_WORKER_POOL": "prefork",
                "NOTIFY_WORKER_CONCURRENCY": "1",
                **RULES_OFF,
                **extra_env,
            }
        )
    )
    system = System(workdir=workdir, ports=ports)
    stack.callback(system.stop)
    seconds = system.start(migrate=True)
    say(f"the system is ready after {seconds:.1f} s")
    bodies = ReportBodies()
    load = SteadyLoad(
        url=f"{system.url('intake')}/v1/reports",
        key=create_agency_with_key(LOAD_AGENCY, "grid"),
        bodies=bodies,
        rate=timing.rate,
        clients=timing.clients,
    )
    return Campaign(
        timing=timing,
        redis=redis,
        postgres=postgres,
        system=system,
        urls=urls,
        load=load,
        bodies=bodies,
        race_key=create_agency_with_key(RACE_AGENCY, "grid"),
        history=HistoryReader(urls, ProviderLog(system.log_path)),
    )
