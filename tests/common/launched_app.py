"""A Celery app with the services' settings and a probe task, for the launcher to start.

`python -m services.common.celery_launch -A tests.common.launched_app worker`, on the broker
in `LAUNCHED_BROKER_URL`; the probe writes into `LAUNCHED_REPORT` how and where it ran.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from celery import Celery

from services.common.celery_app import create_celery
from services.common.config import Settings

# The `celery` command and what it loads for commands a worker never runs (shell, flower).
CELERY_CLI_ONLY = (
    "celery.bin",
    "click_repl",
    "prompt_toolkit",
    "flower",
    "tornado",
    "prometheus_client",
)
# One per service whose worker is started with it: the name routes it to that queue.
PROBES = {"intake": "intake.launch_probe", "notify": "notify.launch_probe"}


def celery_on(broker_url: str) -> Celery:
    """The project's Celery settings, on the given broker."""
    return create_celery(Settings(service="intake", database_url="", broker_url=broker_url))


app = celery_on(os.environ.get("LAUNCHED_BROKER_URL", "memory://"))


def probe(task: Any) -> None:
    report = {
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
        "hostname": task.request.hostname,
        "queue": task.request.delivery_info.get("routing_key"),
        "loaded": [name for name in CELERY_CLI_ONLY if name in sys.modules],
    }
    Path(os.environ["LAUNCHED_REPORT"]).write_text(json.dumps(report))


for task_name in PROBES.values():
    # shared=False: Celery would otherwise add the task to every app in the process.
    app.task(name=task_name, bind=True, shared=False)(probe)
