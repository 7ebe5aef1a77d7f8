"""A Celery worker with the services' settings and one task that outlasts any grace period.

`celery_launch -A tests.cli.slow_worker worker`, on the broker in `SLOW_WORKER_BROKER_URL`; the
task writes `started` into `SLOW_WORKER_MARKER` once it runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Celery

from services.common.celery_app import create_celery
from services.common.config import Settings

QUEUE = "notify"
TASK = "notify.slow_test_task"


def celery_on(broker_url: str) -> Celery:
    """The project's Celery settings, on the given broker."""
    return create_celery(Settings(service="notify", database_url="", broker_url=broker_url))


app = celery_on(os.environ.get("SLOW_WORKER_BROKER_URL", "memory://"))


# shared=False: Celery would otherwise add the task to every app in the process.
@app.task(name=TASK, shared=False)
def slow() -> None:
    """Runs for two minutes, like a provider call that never answers."""
    Path(os.environ["SLOW_WORKER_MARKER"]).write_text("started")
    time.sleep(120)
