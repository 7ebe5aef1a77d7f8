"""The baselines beside the bare ones: the same writes over HTTP, the same hops over Celery.

* Same writes (`bench.bare_writes`): a bare Flask endpoint making one report's inserts in
  one transaction on the same database server, under the intake API's gunicorn settings.
  Intake's throughput over it is what the service's own work costs, beside the writes
  any implementation must make.
* Same hops (`bench.bare_celery.hop`): a chain of bare tasks as long as the system's path
  from the 202 to the SMS recorded: intake's outbox → notify's `send_sms`, notify's
  outbox → `deliver_sms`, which records `sent_at` (HOPS_TO_SMS). Each hop sends the next
  from inside the task, as the system's consumers hand on their messages.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from psycopg import sql

from bench import backends
from bench.bare_celery import HOP_TASK
from bench.bare_writes import metadata
from bench.latency import WARMUP_SAMPLES, CelerySampler, paced
from services.common.db import make_engine

HOPS_TO_SMS = 2  # intake → notify.send_sms → notify.deliver_sms (records sent_at)


@contextlib.contextmanager
def same_writes_database(postgres_url: str | None, var_dir: Path) -> Iterator[str]:
    """A database for the same-writes baseline, its tables made; dropped afterwards.

    With `postgres_url` (redis mode) a new database on that server, the one the services'
    databases are on; else (embedded) a SQLite file in `var_dir`, as the system keeps its own.
    """
    if postgres_url is None:
        url = f"sqlite:///{var_dir / 'bench-writes.sqlite3'}"
        _create_tables(url)
        yield url
        return
    name = f"fengqiao_bench_writes_{secrets.token_hex(4)}"
    with backends._admin(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
        _create_tables(url)
        yield url
    finally:
        backends._drop(postgres_url, [name])


def _create_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


@dataclass
class ChainSampler(CelerySampler):
    """Sends a chain of `hops` bare tasks; the last one stamps when it ran."""

    hops: int = HOPS_TO_SMS

    def send(self, i: int) -> None:
        self.sent[i] = time.time()  # before the publish, as CelerySampler.send says
        self.app.send_task(HOP_TASK, args=[i, str(self.stamps), self.hops])


class Sampler(Protocol):
    def send(self, i: int) -> None: ...


def sample_interleaved(samplers: Sequence[Sampler], samples: int, rate: float) -> None:
    """`samples` of each sampler (after the warm-up) at `rate` per second each, in turn.

    Each one's sends are spread evenly between the others', so all of them see the same
    minute of a noisy machine.
    """
    count = len(samplers)
    sends: list[Callable[[int], None]] = [s.send for s in samplers]

    def send(j: int) -> None:
        sends[j % count](j // count)

    paced(count * (WARMUP_SAMPLES + samples), count * rate, send)
