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

# How long a worker may hold a message, and so how soon Redis hands out again one whose
# worker died. A retry waits in the database (the consumer's outbox, `due_at`), never as a
# countdown; the one countdown left waits out a database that cannot take that row.
RETRY_BACKOFF_MAX_SECONDS = 300  # between two tries of a message, waited in the database
DATABASE_AWAY_RETRY_SECONDS = 15  # a retry the database could not store stays on the broker
COUNTDOWNS_SECONDS = {"database away": DATABASE_AWAY_RETRY_SECONDS}
# The longest a task may run. At the soft limit the task gets SoftTimeLimitExceeded (a
# consumer stores a retry); at the hard one its pool process is killed and the message goes
# back to the queue. Provider calls, callback POSTs and purges stop well before.
TASK_SOFT_TIME_LIMIT_SECONDS = 40
TASK_TIME_LIMIT_SECONDS = 45
# Redis hands a message no worker acknowledged in this time to another worker. A worker
# holds one: waiting out a countdown, then behind the task its pool process is running
# (prefetched), then while it runs; the visibility timeout outlasts all three.
VISIBILITY_TIMEOUT_SECONDS = max(COUNTDOWNS_SECONDS.values()) + 2 * TASK_TIME_LIMIT_SECONDS
# Each worker looks for messages held longer than that every few seconds (kombu's default
# is 10 s times a throttle of 10); the lock for that sweep expires soon if its holder dies.
UNACKED_RESTORE_INTERVAL_SECONDS = 5
UNACKED_MUTEX_EXPIRE_SECONDS = 30
# A message whose worker died is handed out again within this time of its delivery.
REDELIVERED_WITHIN_SECONDS = VISIBILITY_TIMEOUT_SECONDS + UNACKED_RESTORE_INTERVAL_SECONDS
# A message handled once may come again within this time (a redelivery after the visibility
# timeout, plus a stored retry's backoff); processed ids must be kept longer than this.
LONGEST_REDELIVERY_SECONDS = REDELIVERED_WITHIN_SECONDS + RETRY_BACKOFF_MAX_SECONDS


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
    # No fixups: Celery's one built-in fixup is Django's, which does nothing without
    # DJANGO_SETTINGS_MODULE but imports `celery.worker` into every process that builds an
    # app, API processes and beat included (docs/capacity.md, memory).
    app = Celery(f"fengqiao.{settings.service}", broker=settings.broker_url, fixups=[])
    if settings.embedded_broker:
        app.conf.broker_transport = "services.common.filesystem_broker:Transport"
    app.conf.update(
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "unacked_restore_interval": UNACKED_RESTORE_INTERVAL_SECONDS,
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": UNACKED_MUTEX_EXPIRE_SECONDS,
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
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT_SECONDS,
        task_time_limit=TASK_TIME_LIMIT_SECONDS,
        task_acks_on_timeout=False,  # killed at the hard limit: back to the queue
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
