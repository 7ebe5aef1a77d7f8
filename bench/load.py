"""Concurrent HTTP clients: a few processes with threads each, POSTing a bounded load.

Processes rather than threads alone because one Python process tops out (the GIL) below
what a bare Flask app under gunicorn serves, which would make the baseline look slower.
This module imports no service code: every client process re-imports it when spawned.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import httpx

REQUEST_TIMEOUT_SECONDS = 10.0
START_TIMEOUT_SECONDS = 30.0
RESULT_SLACK_SECONDS = REQUEST_TIMEOUT_SECONDS + 20.0


@dataclass(frozen=True)
class Load:
    url: str
    headers: dict[str, str]
    bodies: list[bytes]  # serialised once: the clients share the CPUs with the server
    requests: int
    concurrency: int
    duration: float
    # Each request to a URL of its own instead of `url` (a staff step on a row of its own):
    # the first `concurrency` are the clients' unmeasured first requests, then one a request.
    urls: tuple[str, ...] = ()
    accepted_status: int = 202  # what an accepted request answers


@dataclass(frozen=True)
class LoadResult:
    accepted: int  # answered 202
    refused: int  # answered anything else
    errors: int  # no answer (timeout, refused connection)
    seconds: float
    processes: int
    server_cpu_seconds: float = 0.0  # the server's processes, if measured (bench.cpu)

    @property
    def rate(self) -> float:
        """Accepted requests per second."""
        return self.accepted / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """The server's CPU milliseconds per accepted request (0 if not measured)."""
        return 1000 * self.server_cpu_seconds / self.accepted if self.accepted else 0.0


def split(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal whole shares."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_load(load: Load) -> LoadResult:
    """POST `load.requests` bodies with `load.concurrency` clients, for at most `load.duration`."""
    processes = max(1, min(load.concurrency, os.cpu_count() or 1))
    threads = split(load.concurrency, processes)
    # Each thread gets a share of the requests; a process gets its threads' shares.
    per_thread = split(load.requests, load.concurrency)
    quotas, at = [], 0
    for count in threads:
        quotas.append(sum(per_thread[at : at + count]))
        at += count
    # Where each process's clients and requests start, so no two requests share an index.
    first_clients = [sum(threads[:n]) for n in range(processes)]
    first_requests = [load.concurrency + sum(quotas[:n]) for n in range(processes)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results: Queue[LoadResult] = context.Queue()
    children = [
        context.Process(
            target=client_process,
            args=(load, count, quota, (first_client, first_request), barrier, results),
            daemon=True,
        )
        for count, quota, first_client, first_request in zip(
            threads, quotas, first_clients, first_requests, strict=True
        )
    ]
    for child in children:
        child.start()
    try:
        # Everyone starts the clock together, once all clients have connected.
        barrier.wait(timeout=START_TIMEOUT_SECONDS)
        outcomes = [results.get(timeout=load.duration + RESULT_SLACK_SECONDS) for _ in children]
    except BaseException:
        for child in children:  # interrupted or failed: the clients stop now, not at the deadline
            child.terminate()
        raise
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join(timeout=5)
    return LoadResult(
        accepted=sum(o.accepted for o in outcomes),
        refused=sum(o.refused for o in outcomes),
        errors=sum(o.errors for o in outcomes),
        seconds=max(o.seconds for o in outcomes),
        processes=processes,
    )


def client_process(
    load: Load,
    threads: int,
    quota: int,
    first: tuple[int, int],
    barrier: Barrier,
    results: Queue[LoadResult],
) -> None:
    """One client process: `threads` keep-alive clients sharing `quota` requests.

    `first` is the index of its first client and of its first request among all processes'.
    """
    first_client, first_request = first
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a run stops
    counter = itertools.count()
    lock = threading.Lock()

    def take() -> int | None:
        with lock:
            index = next(counter)
        return first_request + index if index < quota else None

    clients = [
        httpx.Client(
            headers={**load.headers, "Content-Type": "application/json"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        for _ in range(threads)
    ]
    try:
        for n, client in enumerate(clients):  # opens each connection before the clock starts
            _post(client, load, first_client + n)
        barrier.wait(timeout=START_TIMEOUT_SECONDS)
        started = time.monotonic()
        deadline = started + load.duration
        with ThreadPoolExecutor(max_workers=threads) as pool:
            tallies = list(pool.map(lambda c: _drive(c, load, take, deadline), clients))
        seconds = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
    results.put(
        LoadResult(
            accepted=sum(t[0] for t in tallies),
            refused=sum(t[1] for t in tallies),
            errors=sum(t[2] for t in tallies),
            seconds=seconds,
            processes=1,
        )
    )


def _post(client: httpx.Client, load: Load, index: int) -> int | None:
    """The status of one POST, or None if there was no answer."""
    url = load.urls[index] if load.urls else load.url
    try:
        return client.post(url, content=load.bodies[index % len(load.bodies)]).status_code
    except httpx.HTTPError:
        return None


def _drive(
    client: httpx.Client, load: Load, take: Callable[[], int | None], deadline: float
) -> tuple[int, int, int]:
    """POST until the shares run out or the deadline passes: (accepted, refused, errors)."""
    accepted = refused = errors = 0
    while time.monotonic() < deadline and (index := take()) is not None:
        status = _post(client, load, index)
        if status == load.accepted_status:
            accepted += 1
        elif status is None:
            errors += 1
        else:
            refused += 1
    return accepted, refused, errors
