"""The intake worker: `celery_launch -A services.intake.worker worker -Q intake`."""

from services.common.worker import worker_app
from services.intake import runtime, scheduled, tasks

app = worker_app("intake", runtime.build, tasks.register, scheduled.register)
