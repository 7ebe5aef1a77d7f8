"""The one beat scheduler: `python -m services.common.celery_launch -A services.beat beat`.

It only sends periodic tasks, by name, to each service's periodic queue (`<service>_periodic`),
where no backlog of messages holds them back; that service's workers run them. Run exactly
one beat per deployment.
"""

from __future__ import annotations

from typing import Any

from services.common.celery_app import create_celery
from services.common.config import SCHEDULER, SERVICES, load_settings
from services.common.logging import configure_logging
from services.common.scheduling import on_periodic_queues, relay_schedule
from services.intake import scheduled as intake_scheduled
from services.mediation import scheduled as mediation_scheduled
from services.notify import scheduled as notify_scheduled
from services.rewards import scheduled as rewards_scheduled

# Each service's own periodic jobs; beat imports only these schedules, never handlers.
SERVICE_SCHEDULES = (
    intake_scheduled.SCHEDULE,
    mediation_scheduled.SCHEDULE,
    notify_scheduled.SCHEDULE,
    rewards_scheduled.SCHEDULE,
)


def beat_schedule(relay_seconds: float) -> dict[str, dict[str, Any]]:
    """Every periodic task of the system."""
    schedule: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        schedule.update(relay_schedule(service, relay_seconds))
    for service_schedule in SERVICE_SCHEDULES:
        schedule.update(service_schedule)
    return on_periodic_queues(schedule)


configure_logging("beat")
settings = load_settings(SCHEDULER)
settings.var_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule file there
app = create_celery(settings)
app.conf.beat_schedule = beat_schedule(settings.outbox_relay_seconds)
app.conf.beat_scheduler = "services.common.beat_scheduler:QuietScheduler"
app.conf.beat_schedule_filename = str(settings.var_dir / "celerybeat-schedule")
