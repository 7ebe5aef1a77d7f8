"""Builds a service's Celery worker app: its consumers plus the outbox relay task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from celery import Celery
from celery.signals import worker_process_shutdown, worker_shutdown

from services.common.logging import configure_logging
from services.common.runtime import Runtime
from services.common.scheduling import register_relay_task

R = TypeVar("R", bound=Runtime)


def worker_app(service: str, build: Callable[[], R], *registrars: Callable[[R], None]) -> Celery:
    """The Celery app `celery_launch -A services.<service>.worker worker -Q <service>` runs."""
    configure_logging(f"{service}-worker")
    runtime = build()

    # A worker's hops mark what they sent in batches, one statement for many (records 0035,
    # 0036); the last ones are written as a worker or a pool process stops.
    def flush_marks(**_: Any) -> None:  # a stopping worker (or pool process) marks its last
        runtime.messaging.flush_marks()

    worker_process_shutdown.connect(flush_marks, weak=False)
    worker_shutdown.connect(flush_marks, weak=False)
    register_relay_task(runtime.messaging)
    for register in registrars:
        register(runtime)
    return runtime.celery
