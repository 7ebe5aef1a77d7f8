"""`python -m bench.profile_staff`: where one staff transition spends its time.

Mediation's or rewards' app (`--service`) in this process on PostgreSQL databases made for
the run (and a Redis database of its own), migrated and seeded as `fengqiao run` does;
rows opened through the service's own code (`bench.staff_rows`), then one step on each,
`bench.staff`'s (mediation `accept`, rewards `verify`), in one thread through Flask's test
client with a staff token, under cProfile. Prints the top entries by cumulative and by own
time, and per request: the milliseconds (wall clock, and this process's CPU), the database
round trips (statements, BEGIN/COMMIT included) and commits. The after-response relay runs
as under gunicorn (the test client closes the response), so its transaction counts too.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import backends, staff_rows
from bench.environment import overridden
from bench.profile_intake import Counter, per_request, print_top
from bench.staff import RULES
from services.common import outbox_marks

WARM_UP = 20  # steps before profiling: connections, caches, first-use imports


@dataclass(frozen=True)
class Step:
    """The step profiled: where it is posted, its body, who takes it, how rows are opened."""

    path: str
    body: dict[str, Any]
    staff: tuple[str, str]
    open_rows: Callable[[int], list[uuid.UUID]]


STEPS = {
    "mediation": Step(
        "/v1/cases/{id}/transitions",
        staff_rows.ACCEPT,
        staff_rows.ACCEPTING_OFFICER,
        staff_rows.open_cases,
    ),
    "rewards": Step(
        "/v1/claims/{id}/transitions",
        staff_rows.VERIFY,
        staff_rows.VERIFIER,
        staff_rows.open_claims,
    ),
}


def _app(name: str) -> Any:
    """The service's app, its database migrated and seeded first."""
    from services.common.bootstrap import bootstrap

    if name == "mediation":
        from services import mediation
        from services.mediation import runtime as mediation_runtime
        from services.mediation import service as mediation_service

        rt: Any = mediation_runtime.build()
        bootstrap(rt, mediation_service.seed_station)
        rt.db.dispose()
        return mediation.create_app()
    from services import rewards
    from services.rewards import runtime as rewards_runtime
    from services.rewards import service as rewards_service

    rt = rewards_runtime.build()
    bootstrap(rt, rewards_service.seed_station)
    rt.db.dispose()
    return rewards.create_app()


@contextmanager
def _service(name: str, redis_url: str, postgres_url: str) -> Iterator[Any]:
    """The service's app on fresh backends (the environment stays set for the block)."""
    with (
        tempfile.TemporaryDirectory(prefix="fengqiao-profile-") as tmp,
        backends.redis_postgres(Path(tmp), redis_url, postgres_url) as backend,
        overridden({**backend.env, **RULES}),
    ):
        app = _app(name)  # imported here: the services read the environment set above
        try:
            yield app
        finally:
            outbox_marks.flush_all()  # while the database is still there
            app.extensions["fengqiao"].db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_staff")
    parser.add_argument("--service", choices=sorted(STEPS), default="mediation")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", help="also write the raw profile here (for snakeviz, pstats)")
    parser.add_argument(
        "--plain", action="store_true", help="time the steps without cProfile (its cost aside)"
    )
    options = parser.parse_args(argv)
    step = STEPS[options.service]
    n = options.requests
    with _service(options.service, options.redis_url, options.postgres_url) as app:
        ids = step.open_rows(WARM_UP + n)
        token = staff_rows.token(*step.staff)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps(step.body)
        client = app.test_client()

        def take(row: uuid.UUID) -> None:
            answer = client.post(step.path.format(id=row), data=body, headers=headers)
            answer.close()  # runs the after-response relay, as the WSGI server does
            if answer.status_code != 200:
                raise SystemExit(f"POST answered {answer.status_code}: {answer.get_data()!r}")

        for row in ids[:WARM_UP]:
            take(row)
        counter = Counter()
        counter.watch(app.extensions["fengqiao"].db.engine)
        profile = cProfile.Profile()
        started, cpu_started = time.perf_counter(), time.process_time()
        if not options.plain:
            profile.enable()
        for row in ids[WARM_UP:]:
            take(row)
        profile.disable()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    what = f"{n} POST {step.path} {step.body['action']}"
    print(per_request(what, n, seconds, cpu_seconds, counter, profiled=not options.plain))
    if not options.plain:
        print_top(profile, options.top, options.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
