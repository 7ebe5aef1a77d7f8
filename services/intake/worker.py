"""The intake worker: `celery -A services.intake.worker worker -Q intake`."""

from __future__ import annotations

from services.common.logging import configure_logging
from services.intake import runtime as intake_runtime
from services.intake import scheduled, tasks

configure_logging("intake-worker")
runtime = intake_runtime.build()
tasks.register(runtime)
scheduled.register(runtime)
app = runtime.celery
