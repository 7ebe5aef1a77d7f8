"""The rewards worker: `celery_launch -A services.rewards.worker worker -Q rewards`."""

from services.common.worker import worker_app
from services.rewards import runtime, scheduled, tasks

app = worker_app("rewards", runtime.build, tasks.register, scheduled.register)
