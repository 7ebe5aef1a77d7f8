"""`python -m bench.profile_intake`: where one POST /v1/reports spends its time.

Intake's app in this process on a PostgreSQL database made for the run (and a Redis
database of its own), `--requests` POSTs in one thread through Flask's test client, under
cProfile. Prints the top entries by cumulative and by own time, and per request: the
milliseconds (wall clock, and this process's CPU: on a shared machine the
second is the steadier), the database round trips (statements, BEGIN/COMMIT included) and commits.
The after-response relay runs as it does under gunicorn (the test client closes the
response), so its transaction is counted too.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import backends
from bench.environment import overridden
from bench.runner import distinct_reporters
from services.common import outbox_marks


@contextmanager
def _intake(redis_url: str, postgres_url: str) -> Iterator[Any]:
    """Intake's runtime and app on fresh backends, bootstrapped, with a demo key."""
    with (
        tempfile.TemporaryDirectory(prefix="fengqiao-profile-") as tmp,
        backends.redis_postgres(Path(tmp), redis_url, postgres_url) as backend,
        overridden(backend.env),
    ):
        # Imported late: the services read the environment set just above.
        from services.cli.demo import demo_key, seed_stories
        from services.common.bootstrap import bootstrap
        from services.intake import create_app
        from services.intake import runtime as intake_runtime
        from services.intake.service import seed_station

        runtime = intake_runtime.build()
        bootstrap(runtime, seed_station)
        runtime.db.dispose()
        key = demo_key()
        app = create_app()
        bodies = distinct_reporters(seed_stories(datetime.now(UTC)), 500)
        try:
            yield app, key, bodies
        finally:
            outbox_marks.flush_all()  # while the database is still there
            app.extensions["fengqiao"].db.dispose()


def _autocommit(conn: Any) -> bool:
    # From the options, not get_isolation_level(): that asks the server, a round trip.
    return bool(conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT")


class Counter:
    """Round trips to the database through an engine, and the commits among them.

    A statement, a BEGIN, a COMMIT or a ROLLBACK each, and a pre-ping. An autocommit
    connection sends no BEGIN, and SQLAlchemy's "begin" event still fires for it, so
    BEGINs are counted only outside autocommit. A write on an autocommit connection is a
    transaction of its own, so it counts as a commit too.
    """

    def __init__(self) -> None:
        self.round_trips = 0
        self.commits = 0

    def watch(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        ping = engine.dialect.do_ping

        def counted_ping(dbapi_conn: Any) -> bool:
            self._one()
            return bool(ping(dbapi_conn))

        engine.dialect.do_ping = counted_ping

    def _one(self, *_args: Any) -> None:
        self.round_trips += 1

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.round_trips += 1
        if _autocommit(conn) and not statement.lstrip().upper().startswith("SELECT"):
            self.commits += 1

    def _begin(self, conn: Any) -> None:
        if not _autocommit(conn):
            self.round_trips += 1

    def _rollback(self, conn: Any) -> None:
        if not _autocommit(conn):
            self.round_trips += 1

    def _commit(self, conn: Any) -> None:
        if not _autocommit(conn):
            self.commits += 1
            self.round_trips += 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_intake")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", help="also write the raw profile here (for snakeviz, pstats)")
    parser.add_argument(
        "--no-cprofile",
        action="store_true",
        help="time without cProfile (its overhead hides where the time goes): for a"
        " sampling profiler, `py-spy record -- python -m bench.profile_intake --no-cprofile`",
    )
    parser.add_argument(
        "--idempotency-keys", action="store_true", help="send a new Idempotency-Key with each"
    )
    options = parser.parse_args(argv)
    with _intake(options.redis_url, options.postgres_url) as (app, key, bodies):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        client = app.test_client()
        for body in bodies[:20]:  # warm: connections, caches, first-use imports
            client.post("/v1/reports", data=body, headers=headers).close()
        counter = Counter()
        counter.watch(app.extensions["fengqiao"].db.engine)
        profile = cProfile.Profile()
        started, cpu_started = time.perf_counter(), time.process_time()
        if not options.no_cprofile:
            profile.enable()
        for i in range(options.requests):
            keyed = {"Idempotency-Key": f"profile-{i}"} if options.idempotency_keys else {}
            answer = client.post(
                "/v1/reports", data=bodies[i % len(bodies)], headers={**headers, **keyed}
            )
            answer.close()  # runs the after-response relay, as the WSGI server does
            if answer.status_code != 202:
                raise SystemExit(f"POST answered {answer.status_code}: {answer.get_data()!r}")
        profile.disable()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    n = options.requests
    with_key = " with Idempotency-Key" if options.idempotency_keys else ""
    what = f"{n} POST /v1/reports{with_key}"
    print(per_request(what, n, seconds, cpu_seconds, counter, profiled=not options.no_cprofile))
    if not options.no_cprofile:
        print_top(profile, options.top, options.out)
    return 0


def per_request(
    what: str, n: int, seconds: float, cpu_seconds: float, counter: Counter, *, profiled: bool
) -> str:
    """The line a profiler prints: time, CPU, round trips and commits a request."""
    return (
        f"{what} in one thread: {seconds / n * 1000:.1f} ms a request,"
        f" {cpu_seconds / n * 1000:.1f} ms of it on this process's CPU"
        f" ({'under' if profiled else 'without'} cProfile);"
        f" {counter.round_trips / n:.1f} database round trips"
        f" and {counter.commits / n:.1f} commits a request"
    )


def print_top(profile: cProfile.Profile, top: int, out: str | None) -> None:
    """The `top` entries by cumulative and by own time; the raw profile to `out` if given."""
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(order).print_stats(top)
        print(f"\n== top {top} by {order} ==")
        print(text.getvalue().split("\n\n", 2)[-1].rstrip())
    if out:
        profile.dump_stats(out)


if __name__ == "__main__":
    raise SystemExit(main())
