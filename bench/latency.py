"""End-to-end latency samples: the system's acknowledgement SMS, and a bare Celery round trip.

What is measured, and why:

* System: from the 202 (this process's wall clock, just after the answer arrived) to the
  acknowledgement's `sms_messages.sent_at` in notify's database. `sent_at` is notify's
  wall clock when its delivery task ran (it is also the `at` of the `sms_sent` timeline
  entry), read after the fact, so polling adds no delay or load to the measurement. It
  stops just short of the delivery's commit; polling `GET /v1/reports/{id}` instead would
  add a poll interval, load on intake and a third hop (notify telling intake).
* Baseline: from `send_task()` returning (the message is on the broker, as intake's
  messages are by its 202) to the moment the bare task starts, on the worker's clock.

Both sides run on this machine, so the two wall clocks are the same clock. The two are
sampled interleaved, half a period apart, so both see the same minute of a noisy machine.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from celery import Celery

from bench.bare_celery import STAMP_TASK
from bench.probes import Probes

WARMUP_SAMPLES = 3  # sent first and left out: connections and caches are cold then
COLLECT_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.1


class SampleError(Exception):
    """A sample could not be taken."""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `q`% of values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    seconds: list[float]
    missing: int  # samples that had not completed when the collection timed out

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 50)

    @property
    def p99(self) -> float:
        return percentile(self.seconds, 99)


def paced(count: int, rate: float, send: Callable[[int], None]) -> None:
    """Call `send(i)` for i in range(count), at `rate` calls per second on a fixed schedule."""
    started = time.monotonic()
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send(i)


@dataclass
class SystemSampler:
    """Submits reports; knows when each was accepted (the 202, on this clock)."""

    client: httpx.Client
    bodies: list[bytes]
    accepted: dict[uuid.UUID, datetime] = field(default_factory=dict)
    order: list[uuid.UUID] = field(default_factory=list)

    def send(self, i: int) -> None:
        answer = self.client.post("/v1/reports", content=self.bodies[i % len(self.bodies)])
        at = datetime.now(UTC)
        if answer.status_code != 202:
            raise SampleError(f"POST /v1/reports answered {answer.status_code}: {answer.text}")
        report_id = uuid.UUID(answer.json()["id"])
        self.accepted[report_id] = at
        self.order.append(report_id)

    @property
    def measured(self) -> list[uuid.UUID]:
        return self.order[WARMUP_SAMPLES:]

    def collect(self, probes: Probes) -> Latencies:
        """Each measured report's 202 → its acknowledgement's `sent_at`."""
        sent = probes.acks_sent(self.order, COLLECT_TIMEOUT_SECONDS)
        seconds = [(sent[r] - self.accepted[r]).total_seconds() for r in self.measured if r in sent]
        return Latencies(seconds, missing=len(self.measured) - len(seconds))


@dataclass
class CelerySampler:
    """Sends the bare stamp task; knows when each send returned (this clock)."""

    app: Celery
    stamps: Path
    sent: dict[int, float] = field(default_factory=dict)

    def send(self, i: int) -> None:
        # Timed from before the publish, as a report is timed from its 202, which goes
        # out before its message is handed to the broker (and a fast worker may run the
        # task before send_task returns).
        self.sent[i] = time.time()
        self.app.send_task(STAMP_TASK, args=[i, str(self.stamps)])

    def collect(self) -> Latencies:
        """Each measured task's send → the moment it ran."""
        ran = read_stamps(self.stamps, len(self.sent), COLLECT_TIMEOUT_SECONDS)
        measured = [i for i in self.sent if i >= WARMUP_SAMPLES]
        seconds = [ran[i] - self.sent[i] for i in measured if i in ran]
        return Latencies(seconds, missing=len(measured) - len(seconds))


def sample_both(system: SystemSampler, bare: CelerySampler, samples: int, rate: float) -> None:
    """`samples` of each (after the warm-up) at `rate` per second each, interleaved."""

    def send(j: int) -> None:
        (system.send if j % 2 == 0 else bare.send)(j // 2)

    paced(2 * (WARMUP_SAMPLES + samples), 2 * rate, send)


def wait_worker(app: Celery, stamps: Path, timeout: float) -> float:
    """Send one stamp and wait until it has run: the worker is consuming. Returns seconds."""
    started = time.monotonic()
    app.send_task(STAMP_TASK, args=[-1, str(stamps)])
    if -1 not in read_stamps(stamps, 1, timeout):
        raise SampleError(f"the bare Celery worker ran nothing within {timeout:.0f} s")
    stamps.unlink()
    return time.monotonic() - started


def read_stamps(stamps: Path, expected: int, timeout: float) -> dict[int, float]:
    """Sample → wall-clock time it ran, waiting until `expected` samples have run."""
    deadline = time.monotonic() + timeout
    while True:
        ran: dict[int, float] = {}
        if stamps.exists():
            # Only whole lines: one still being written could hold half of its time.
            for line in stamps.read_text(encoding="utf-8").split("\n")[:-1]:
                sample, _, at = line.partition(" ")
                ran[int(sample)] = float(at)
        if len(ran) >= expected or time.monotonic() > deadline:
            return ran
        time.sleep(POLL_SECONDS)


def timelines_with_sms(client: httpx.Client, report_ids: list[uuid.UUID], timeout: float) -> int:
    """How many of the reports show `sms_sent` in their timeline, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    pending = list(report_ids)
    while pending:
        still = []
        for report_id in pending:
            answer = client.get(f"/v1/reports/{report_id}")
            timeline = answer.json()["timeline"] if answer.status_code == 200 else []
            if "sms_sent" not in {entry["event"] for entry in timeline}:
                still.append(report_id)
        pending = still
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return len(report_ids) - len(pending)
