"""The broker baseline: a Celery app with one task that records when it ran."""

from __future__ import annotations

import dataclasses
import time

from celery import Celery

from services.common.celery_app import create_celery
from services.common.config import SCHEDULER, load_settings

QUEUE = "bench"
STAMP_TASK = f"{QUEUE}.stamp"
HOP_TASK = f"{QUEUE}.hop"


def create_app() -> Celery:
    """A Celery app on the system's broker, configured by the services' own factory.

    Same broker, transport options (the filesystem polling interval), acks_late and
    prefetch as every service, so the baseline differs from the system only in the work.
    """
    settings = dataclasses.replace(load_settings(SCHEDULER), service=QUEUE)
    app = create_celery(settings)

    @app.task(name=STAMP_TASK)
    def stamp(sample: int, path: str) -> None:
        """Append "<sample> <wall-clock seconds>" to `path` as soon as the task runs."""
        ran_at = time.time()
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{sample} {ran_at:.6f}\n")

    @app.task(name=HOP_TASK)
    def hop(sample: int, path: str, hops: int) -> None:
        """One hop of a chain: send the next hop, or, the last one, stamp as `stamp` does."""
        if hops > 1:
            app.send_task(HOP_TASK, args=[sample, path, hops - 1])
        else:
            stamp(sample, path)

    return app
