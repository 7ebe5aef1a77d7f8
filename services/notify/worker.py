"""The notify worker: `celery_launch -A services.notify.worker worker -Q notify`."""

from services.common.worker import worker_app
from services.notify import runtime, scheduled, tasks

app = worker_app("notify", runtime.build, tasks.register, scheduled.register)
