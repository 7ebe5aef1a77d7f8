"""A steady load of reports over HTTP, every answer recorded with when it was asked for.

Steady rather than flat out: the campaign shares two CPUs with the system it breaks, and
what it measures is what happens to each report, not how many fit in a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from chaos.reports import ReportBodies

REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    sent: float  # time.monotonic() when the request went out
    answered: float  # … and when its answer (or its failure) came back
    status: int | None  # None: no answer (refused, reset, timed out)
    report_id: str | None  # from a 202

    def overlaps(self, start: float, end: float) -> bool:
        """True if the request was in flight at some moment of [start, end]."""
        return self.sent <= end and self.answered >= start


class SteadyLoad:
    """`clients` threads POSTing to intake, together about `rate` requests a second."""

    def __init__(
        self, *, url: str, key: str, bodies: ReportBodies, rate: float, clients: int
    ) -> None:
        self.url = url
        self.key = key
        self.bodies = bodies
        self.rate = rate
        self.clients = clients
        self._outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def outcomes(self, since: float = 0.0) -> list[Outcome]:
        """Every answer to a request sent at or after `since` (monotonic seconds)."""
        with self._lock:
            return [o for o in self._outcomes if o.sent >= since]

    @contextmanager
    def running(self) -> Iterator[None]:
        """The load runs for the block; every request in flight is answered before it ends."""
        stop = threading.Event()
        threads = [
            threading.Thread(target=self._client, args=(stop, i), name=f"load-{i}", daemon=True)
            for i in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)

    def _client(self, stop: threading.Event, index: int) -> None:
        interval = self.clients / self.rate
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        # Staggered, so the clients' requests spread over each interval.
        if stop.wait(interval * index / self.clients):
            return
        with httpx.Client(headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            next_at = time.monotonic()
            while not stop.is_set():
                self._record(self._post(client))
                next_at = max(next_at + interval, time.monotonic())
                stop.wait(max(0.0, next_at - time.monotonic()))

    def _post(self, client: httpx.Client) -> Outcome:
        sent = time.monotonic()
        try:
            answer = client.post(self.url, content=self.bodies.next())
        except httpx.HTTPError:
            return Outcome(sent, time.monotonic(), None, None)
        report_id = None
        if answer.status_code == 202:
            try:
                report_id = str(answer.json()["id"])
            except (ValueError, KeyError, TypeError):
                report_id = "(a 202 without an id)"
        return Outcome(sent, time.monotonic(), answer.status_code, report_id)

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)
