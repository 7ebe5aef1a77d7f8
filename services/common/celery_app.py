"""The Celery app factory: one configuration for every service's worker and publisher.

A task named "<service>.<action>" is routed to the queue named after its service, so a
publisher needs only the task's name (`send_task`). A service's workers also consume its
periodic queue (`<service>_periodic`, where beat sends relays, scans and purges, so a
backlog of messages never holds them back) and any queue a task has of its own.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from services.common.config import SERVICES, Settings

# Tasks with a queue of their own, still consumed by their service's workers. Sending a
# recorded SMS must not wait behind a backlog of requests to record more.
OWN_QUEUE = {"notify.deliver_sms": "notify_deliver"}

# The longest a task waits before it runs again, by what makes it wait. A worker holds a
# message with a countdown unacknowledged until it has run, so the broker's visibility
# timeout below is derived from the longest of these; a test ties every task to it.
RETRY_BACKOFF_MAX_SECONDS = 300  # between two tries of a message (consumers, callbacks)
COUNTDOWNS_SECONDS = {"retry backoff": RETRY_BACKOFF_MAX_SECONDS}
# The longest a task may take once it runs (a provider call, a callback POST, a big purge).
LONGEST_RUN_SECONDS = 600
# Redis hands a message no worker acknowledged in this time to another worker.
VISIBILITY_TIMEOUT_SECONDS = max(COUNTDOWNS_SECONDS.values()) + LONGEST_RUN_SECONDS
# A message handled once may come again within this time (a redelivery after the visibility
# timeout, plus its countdown); processed message ids must be kept longer than this.
LONGEST_REDELIVERY_SECONDS = VISIBILITY_TIMEOUT_SECONDS + max(COUNTDOWNS_SECONDS.values())


def service_of(task_name: str) -> str:
    """The service a task belongs to: the first part of its name."""
    service = task_name.split(".", 1)[0]
    if service not in SERVICES:
        raise ValueError(f"task {task_name!r} names no service")
    return service


def queue_of(task_name: str) -> str:
    """The queue a task is routed to: its own, or the service part of its name."""
    if task_name in OWN_QUEUE:
        return OWN_QUEUE[task_name]
    return service_of(task_name)


def periodic_queue(service: str) -> str:
    """The queue beat sends a service's periodic tasks to."""
    return f"{service}_periodic"


def worker_queues(service: str) -> list[str]:
    """Every queue a service's workers consume."""
    own = {queue for task, queue in OWN_QUEUE.items() if task.split(".", 1)[0] == service}
    return [service, *sorted(own), periodic_queue(service)]


def create_celery(settings: Settings) -> Celery:
    """A Celery app for one service, with the reliability settings every task relies on."""
    for key in ("data_folder_in", "control_folder"):
        if key in settings.broker_transport_options:
            Path(settings.broker_transport_options[key]).mkdir(parents=True, exist_ok=True)
    app = Celery(f"fengqiao.{settings.service}", broker=settings.broker_url)
    if settings.embedded_broker:
        app.conf.broker_transport = "services.common.filesystem_broker:Transport"
    app.conf.update(
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            **settings.broker_transport_options,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        # Tasks are idempotent, so a message is acknowledged only after its work is done
        # and is redelivered if the worker dies mid-task.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.service,
        # Tried in order: tasks with a queue of their own first, then by service name.
        task_routes=[
            {task: {"queue": queue} for task, queue in OWN_QUEUE.items()},
            {f"{s}.*": {"queue": s} for s in SERVICES},
        ],
        task_create_missing_queues=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app
