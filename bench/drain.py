"""How fast notify's workers drain a backlog of SMS, with 1, 2 and 4 processes and a thread pool.

Each run starts from nothing: a fresh Redis database and PostgreSQL databases, `N` requests
to send an SMS (each to its own number, as intake's relay hands them over) queued before
any worker runs, and then one notify worker as `fengqiao run` starts it, with only its
pool changed. The provider is the fake one, which answers after `SMS_FAKE_DELAY_MS`: the
work is I/O-bound, so more processes (or threads) should mean proportionally more SMS.

The rate is taken between the 10th and the 90th percentile of `sent_at`, so a pool's
processes starting one after another and the last few messages do not count. Every run
also checks what must hold however fast it goes: every request became one SMS, sent once.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench import backends
from bench.environment import overridden, python_path
from bench.processes import Child, ProcessError
from services.cli.run import plan
from services.common.celery_app import create_celery
from services.common.config import load_settings
from services.common.contracts import SEND_SMS
from services.common.db import Database
from services.notify.models import SmsMessage

POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 20.0
# The slowest run measured here (one process) drains about 15 SMS a second; anything far
# slower than that is a failure to report, not a run to wait out.
SLOWEST_RATE_PER_SECOND = 3.0
START_SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class Pool:
    kind: str  # "prefork", "threads", "gevent"
    concurrency: int

    @property
    def label(self) -> str:
        return f"--pool {self.kind} --concurrency {self.concurrency}"


@dataclass(frozen=True)
class Drain:
    pool: Pool
    messages: int
    rate: float  # SMS sent per second, 10th to 90th percentile
    seconds: float  # first to last SMS sent
    sent: int
    sent_more_than_once: int  # messages handed to the provider more than once
    missing: int  # requests that became no SMS, or whose SMS was not sent in time


def _notify_worker_argv(pool: Pool) -> list[str]:
    """The notify worker `fengqiao run` starts, with this pool instead of its own."""
    argv = next(p.argv for p in plan() if p.name == "notify-worker")
    argv = _set_option(argv, "--concurrency", str(pool.concurrency))
    return _set_option(argv, "--pool", pool.kind)


def _set_option(argv: list[str], flag: str, value: str) -> list[str]:
    if flag in argv:
        at = argv.index(flag)
        return [*argv[: at + 1], value, *argv[at + 2 :]]
    return [*argv, flag, value]


def _queue_requests(count: int) -> None:
    """`count` SMS requests on notify's queue, each to its own number, as intake sends them."""
    app = create_celery(load_settings("notify"))
    now = datetime.now(UTC)
    try:
        with app.producer_or_acquire() as producer:
            for i in range(count):
                message_id = uuid.uuid4()
                body = SEND_SMS.dump(
                    {
                        "message_id": message_id,
                        "version": SEND_SMS.version,
                        "sent_at": now,
                        "idempotency_key": f"bench-drain:{message_id}",
                        "recipient": f"+86139{i:08d}",
                        "template": "report_received",
                        "params": {"tracking_code": f"BENCH-{i:05d}"},
                        "priority": "normal",
                    }
                )
                app.send_task(
                    SEND_SMS.task,
                    kwargs={"message": body},
                    task_id=str(message_id),
                    producer=producer,
                )
    finally:
        app.close()


@contextlib.contextmanager
def _fresh_system(workdir: Path, options_redis: str, options_postgres: str) -> Iterator[None]:
    """Empty databases and broker, notify migrated, the environment pointing at them."""
    var_dir = workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    with (
        backends.redis_postgres(var_dir, options_redis, options_postgres) as backend,
        overridden(
            {
                **backend.env,
                "PYTHONPATH": python_path(),
                "SMS_PROVIDERS": None,
                "SMS_PROVIDER": "fake",
            }
        ),
    ):
        from services.cli import bootstrap_service

        bootstrap_service("notify")
        yield


def _sent_times(db: Database) -> list[datetime]:
    with db.sessions() as session:
        times = session.scalars(
            select(SmsMessage.sent_at)
            .where(SmsMessage.sent_at.is_not(None))
            .order_by(SmsMessage.sent_at)
        ).all()
    return [t for t in times if t is not None]


def _count_sent(db: Database) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(SmsMessage).where(SmsMessage.status == "sent")
            )
            or 0
        )


def _sent_more_than_once(db: Database) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(SmsMessage).where(SmsMessage.attempts > 1)
            )
            or 0
        )


def steady_rate(times: list[datetime]) -> float:
    """Messages a second between the 10th and the 90th percentile of their send times."""
    if len(times) < 10:
        return 0.0
    low, high = len(times) // 10, len(times) * 9 // 10
    seconds = (times[high] - times[low]).total_seconds()
    return (high - low) / seconds if seconds > 0 else 0.0


def measure(
    pool: Pool,
    *,
    messages: int,
    workdir: Path,
    redis_url: str,
    postgres_url: str,
) -> Drain:
    """Drain `messages` SMS with one notify worker running `pool`."""
    run_dir = workdir / f"drain-{pool.kind}-{pool.concurrency}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with _fresh_system(run_dir, redis_url, postgres_url):
        _queue_requests(messages)
        db = Database(load_settings("notify").database_url)
        worker = Child(
            f"notify worker, {pool.label}", _notify_worker_argv(pool), run_dir / "worker.log"
        )
        worker.start()
        try:
            deadline = time.monotonic() + START_SLACK_SECONDS + messages / SLOWEST_RATE_PER_SECOND
            while (sent := _count_sent(db)) < messages:
                worker.check_alive()
                if time.monotonic() > deadline:
                    break
                time.sleep(POLL_SECONDS)
            times = _sent_times(db)
            twice = _sent_more_than_once(db)
        finally:
            if not worker.stop(STOP_GRACE_SECONDS):
                raise ProcessError(f"{worker.name} did not stop in {STOP_GRACE_SECONDS:g} s")
            db.dispose()
    return Drain(
        pool=pool,
        messages=messages,
        rate=steady_rate(times),
        seconds=(times[-1] - times[0]).total_seconds() if times else 0.0,
        sent=sent,
        sent_more_than_once=twice,
        missing=messages - sent,
    )


def run(
    pools: list[tuple[str, int]], *, messages: int, workdir: Path, redis_url: str, postgres_url: str
) -> list[Drain]:
    """One drain per pool, one after another, each on fresh databases."""
    drains = []
    for kind, concurrency in pools:
        pool = Pool(kind, concurrency)
        print(f"bench: drain: {messages} SMS, {pool.label}", file=sys.stderr, flush=True)
        drains.append(
            measure(
                pool,
                messages=messages,
                workdir=workdir,
                redis_url=redis_url,
                postgres_url=postgres_url,
            )
        )
    return drains


def render(drains: list[Drain]) -> str:
    """The drain rates, each beside the rate of one prefork process."""
    base = next((d.rate for d in drains if d.pool == Pool("prefork", 1)), 0.0)
    lines = [f"notify draining a backlog of SMS (fake provider), {os.cpu_count()} CPUs"]
    for d in drains:
        ratio = f"  x{d.rate / base:.2f} of one process" if base > 0 else ""
        lines.append(
            f"  {d.pool.label:34} {d.rate:6.1f} SMS/s{ratio};"
            f" {d.sent}/{d.messages} sent in {d.seconds:.1f} s,"
            f" {d.sent_more_than_once} sent twice, {d.missing} missing"
        )
    return "\n".join(lines)
