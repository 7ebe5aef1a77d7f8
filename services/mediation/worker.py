"""The mediation worker: `celery_launch -A services.mediation.worker worker -Q mediation`."""

from services.common.worker import worker_app
from services.mediation import runtime, scheduled, tasks

app = worker_app("mediation", runtime.build, tasks.register, scheduled.register)
