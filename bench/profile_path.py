"""`python -m bench.profile_path`: where the workers' time goes, task by task, along the path.

Every service's worker app in this process, on PostgreSQL databases made for the run (and
a Redis database of its own); `--reports` reports POSTed through intake's app, then each
message of the path handed to its task in this one thread, under cProfile, stage by stage
as the path runs: the owners' and notify's requests (intake's outbox), the deliveries
(notify's outbox), the timeline events (the owners' and notify's outboxes). Each task is
called as a worker calls it (`Task.__call__`, so the consumer's transaction, its record of
processed ids and its relay after the commit all run); the broker's part of a worker
(receiving, acknowledging) is the bare baseline's too and is not here.

Prints per task: milliseconds a call (wall clock, and this process's CPU), database round
trips (BEGIN and COMMIT included); and the top entries by own time over all of them. The
fake provider answers at once here (`SMS_FAKE_DELAY_MS=0`): its wait holds no CPU.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from bench import backends
from bench.environment import overridden
from bench.sustained import steady_reports
from services.common import outbox_marks
from services.common.config import SERVICES

WARM_UP_REPORTS = 20
# Each stage: the services whose outbox it reads, and the tasks it runs from them.
STAGES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (
        ("intake",),
        (
            "mediation.open_case",
            "rewards.open_hazard_claim",
            "rewards.open_nomination",
            "notify.send_sms",
        ),
    ),
    (("notify",), ("notify.deliver_sms",)),
    (("mediation", "rewards", "notify"), ("intake.record_report_event",)),
]


@dataclass
class Tally:
    calls: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    round_trips: int = 0


@dataclass
class RoundTrips:
    """Statements, BEGINs and COMMITs on every engine in this process, while counting."""

    counting: bool = False
    count: int = 0

    def watch(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._one)
        event.listen(Engine, "begin", self._one)
        event.listen(Engine, "commit", self._one)

    def _one(self, *_args: Any) -> None:
        if self.counting:
            self.count += 1


@dataclass
class MessagePath:
    workers: dict[str, Any]  # service → its worker's Celery app
    outboxes: dict[str, tuple[Any, Any]]  # service → (its Database, its outbox model)
    done: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def messages(self, services: tuple[str, ...], tasks: tuple[str, ...]) -> list[tuple[str, Any]]:
        """(task, message) of the outbox rows not yet handed on, oldest first."""
        found = []
        for service in services:
            db, outbox = self.outboxes[service]
            with db.sessions() as session:
                rows = session.execute(
                    select(outbox.id, outbox.task, outbox.payload)
                    .where(outbox.task.in_(tasks))
                    .order_by(outbox.created_at)
                ).all()
            for row_id, task, payload in rows:
                if row_id not in self.done[service]:
                    self.done[service].add(row_id)
                    found.append((task, payload))
        return found

    def call(self, task: str, message: Any) -> None:
        self.workers[task.split(".", 1)[0]].tasks[task](message=message)


@contextmanager
def _system(redis_url: str, postgres_url: str) -> Iterator[tuple[Any, str, MessagePath]]:
    """Every service bootstrapped on fresh backends; intake's app, a key, the workers."""
    with (
        tempfile.TemporaryDirectory(prefix="fengqiao-profile-") as tmp,
        backends.redis_postgres(Path(tmp), redis_url, postgres_url) as backend,
        overridden(
            {**backend.env, "SMS_PROVIDERS": None, "SMS_PROVIDER": "fake", "SMS_FAKE_DELAY_MS": "0"}
        ),
    ):
        # Imported late: the services read the environment set just above.
        from services.cli import bootstrap_service
        from services.cli.demo import demo_key
        from services.common.config import load_settings
        from services.common.db import Database
        from services.intake import create_app

        for service in SERVICES:
            bootstrap_service(service)
        key = demo_key()
        app = create_app()
        workers = {s: importlib.import_module(f"services.{s}.worker").app for s in SERVICES}
        outboxes = {
            s: (
                Database(load_settings(s).database_url),
                importlib.import_module(f"services.{s}.models").OutboxMessage,
            )
            for s in SERVICES
        }
        try:
            yield app, key, MessagePath(workers, outboxes)
        finally:
            outbox_marks.flush_all()  # while the databases are still there
            for db, _ in outboxes.values():
                db.dispose()


def _post(client: Any, headers: dict[str, str], bodies: list[bytes]) -> None:
    for body in bodies:
        answer = client.post("/v1/reports", data=body, headers=headers)
        answer.close()  # runs the after-response relay, as the WSGI server does
        if answer.status_code != 202:
            raise SystemExit(f"POST answered {answer.status_code}: {answer.get_data()!r}")


def _run_path(
    path: MessagePath, profiles: dict[str, cProfile.Profile] | None, tallies: Any
) -> None:
    """Every message of every stage to its task; profiled and tallied if asked."""
    trips: RoundTrips = tallies["_trips"] if tallies is not None else RoundTrips()
    for services, tasks in STAGES:
        for task, message in path.messages(services, tasks):
            if profiles is None:
                path.call(task, message)
                continue
            tally, profile = tallies[task], profiles.setdefault(task, cProfile.Profile())
            trips.count, trips.counting = 0, True
            started, cpu = time.perf_counter(), time.process_time()
            profile.enable()
            path.call(task, message)
            profile.disable()
            tally.seconds += time.perf_counter() - started
            tally.cpu_seconds += time.process_time() - cpu
            trips.counting = False
            tally.calls += 1
            tally.round_trips += trips.count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_path")
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", help="also write the raw profile here (for snakeviz, pstats)")
    options = parser.parse_args(argv)
    from services.cli.demo import seed_stories

    reports = steady_reports(seed_stories(datetime.now(UTC)), 0, WARM_UP_REPORTS + options.reports)
    bodies = [json.dumps(r, ensure_ascii=False).encode() for r in reports]
    with _system(options.redis_url, options.postgres_url) as (app, key, path):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        client = app.test_client()
        _post(client, headers, bodies[:WARM_UP_REPORTS])
        _run_path(path, None, None)  # warm: connections, caches, first-use imports
        _post(client, headers, bodies[WARM_UP_REPORTS:])
        trips = RoundTrips()
        trips.watch()
        tallies: Any = defaultdict(Tally)
        tallies["_trips"] = trips
        profiles: dict[str, cProfile.Profile] = {}
        _run_path(path, profiles, tallies)
    del tallies["_trips"]
    n = options.reports
    print(f"{n} reports' messages, each handed to its task in one thread (under cProfile):")
    total = Tally()
    for task, t in sorted(tallies.items()):
        print(
            f"  {task:30} {t.calls:5d} calls  {t.seconds / t.calls * 1000:6.1f} ms a call,"
            f" {t.cpu_seconds / t.calls * 1000:6.1f} ms CPU,"
            f" {t.round_trips / t.calls:5.1f} round trips"
        )
        total.seconds += t.seconds
        total.cpu_seconds += t.cpu_seconds
        total.round_trips += t.round_trips
    print(
        f"  a report's worker tasks together: {total.seconds / n * 1000:.1f} ms,"
        f" {total.cpu_seconds / n * 1000:.1f} ms CPU, {total.round_trips / n:.1f} round trips"
    )
    stats = pstats.Stats(*profiles.values(), stream=io.StringIO())
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(options.top)
        print(f"\n== all tasks: top {options.top} by {order} ==")
        print(out.getvalue().split("\n\n", 2)[-1].rstrip())
    if options.out:
        stats.dump_stats(options.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
